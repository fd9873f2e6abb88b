"""Reference computations the tests share, written independently of nblib (not nblib.gradcheck)."""
import numpy as np


def numeric_grad(f, a, eps=1e-6):
    """Central differences (f(a + eps) - f(a - eps)) / 2eps of the scalar f() for every element of
    `a`, which is changed in place and restored."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        fp = f()
        a[i] = old - eps
        fm = f()
        a[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def relative_error(a, b):
    """|a - b| / (|a| + |b|) with Euclidean norms (0 when both are zero)."""
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)

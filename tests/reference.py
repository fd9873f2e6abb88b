"""Reference computations the tests share, written independently of nblib (not nblib.gradcheck),
and the notebooks' loop versions of convolution (16) and max pooling (17).

The loop versions are not exported into nblib: notebooks 18 and 19 keep them as the references
their layers are checked against. The copies below must stay identical to the notebooks' cells
(`notebook_function_differs` checks it); they read their arguments with nblib's `int_pair`."""
import ast
import json
from pathlib import Path

import numpy as np

from nblib.layers import int_pair

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


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


def _functions(source):
    return {node.name: ast.dump(node) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def notebook_function_differs(notebook, name):
    """'' if the function `name` here is defined identically in a code cell of notebooks/`notebook`,
    else a message saying what is wrong."""
    found = {}
    for cell in json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code" and f"def {name}(" in "".join(cell["source"]):
            found.update(_functions("".join(cell["source"])))
    if name not in found:
        return f"{notebook} defines no function {name}"
    here = _functions(Path(__file__).read_text(encoding="utf-8"))
    return "" if found[name] == here[name] else f"tests/reference.py's {name} differs from {notebook}'s"


# ---- copied from notebooks/18_convolution.ipynb, section 4 ----

def conv2d_naive(x, W, b, stride=1, padding=0):
    """Cross-correlation y = W * x + b by a loop over output positions: slow, written to be read."""
    (sh, sw), (ph, pw) = int_pair("conv2d_naive", "stride", stride), int_pair("conv2d_naive", "padding", padding, 0)
    O, C, kh, kw = W.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    Ho, Wo = (x_pad.shape[2] - kh) // sh + 1, (x_pad.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], O, Ho, Wo), x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]        # (N, C, kh, kw)
            y[:, :, i, j] = np.einsum("ncuv,ocuv->no", window, W) + b           # (N, O)
    return y


def conv2d_naive_backward(x, W, grad_y, stride=1, padding=0):
    """(dL/dx, dL/dW, dL/db) of conv2d_naive, by the same loop: each window sends its share back."""
    (sh, sw), (ph, pw) = int_pair("conv2d_naive", "stride", stride), int_pair("conv2d_naive", "padding", padding, 0)
    O, C, kh, kw = W.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    grad_x_pad, grad_W = np.zeros_like(x_pad), np.zeros_like(W)
    for i in range(grad_y.shape[2]):
        for j in range(grad_y.shape[3]):
            g = grad_y[:, :, i, j]                                              # (N, O)
            window = x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]        # (N, C, kh, kw)
            grad_W += np.einsum("no,ncuv->ocuv", g, window)
            grad_x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("no,ocuv->ncuv", g, W)
    grad_b = grad_y.sum(axis=(0, 2, 3))
    return grad_x_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], grad_W, grad_b


# ---- copied from notebooks/19_pooling.ipynb, section 3 ----

def max_pool2d_naive(x, kernel_size, stride=None):
    """Max pooling by a loop over output positions: slow, written to be read."""
    (kh, kw) = int_pair("max_pool2d_naive", "kernel_size", kernel_size)
    (sh, sw) = (kh, kw) if stride is None else int_pair("max_pool2d_naive", "stride", stride)
    N, C, H, W = x.shape
    y = np.empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1), x.dtype)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            y[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return y


def max_pool2d_naive_backward(x, grad_y, kernel_size, stride=None):
    """dL/dx of max_pool2d_naive: each window's gradient goes to its first maximum (row-major)."""
    (kh, kw) = int_pair("max_pool2d_naive", "kernel_size", kernel_size)
    (sh, sw) = (kh, kw) if stride is None else int_pair("max_pool2d_naive", "stride", stride)
    N, C = x.shape[:2]
    n, c = np.indices((N, C))
    grad_x = np.zeros(x.shape, grad_y.dtype)
    for i in range(grad_y.shape[2]):
        for j in range(grad_y.shape[3]):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(N, C, kh * kw)
            u, v = np.divmod(window.argmax(axis=2), kw)        # argmax: the first maximum
            grad_x[n, c, i * sh + u, j * sw + v] += grad_y[:, :, i, j]
    return grad_x

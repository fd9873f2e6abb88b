"""Toy data sets for the first notebooks (hand-written, not taught in a notebook): float32 inputs,
int64 labels (float32 targets for regression), the same for the same `seed`."""
import numpy as np

from nblib.layers import positive_int

__all__ = ["make_a_greater_b", "make_a_approx_b", "make_xor", "make_spirals", "make_sine"]


def make_a_greater_b(n=200, margin=0.05, seed=0):
    """Points (a, b) in the unit square, label 1 where a > b, none within `margin` of the line a = b:
    a straight line separates the classes with room to spare."""
    positive_int("make_a_greater_b", "n", n)
    rng = np.random.default_rng(seed)
    points = np.empty((0, 2))
    while len(points) < n:
        p = rng.uniform(0, 1, size=(2 * n, 2))
        points = np.concatenate([points, p[np.abs(p[:, 0] - p[:, 1]) > margin]])
    x = points[:n].astype(np.float32)
    return x, (x[:, 0] > x[:, 1]).astype(np.int64)


def make_a_approx_b(n=200, tol=0.15, seed=0):
    """Points (a, b) in the unit square, label 1 where |a - b| < tol: a band, not linearly separable."""
    positive_int("make_a_approx_b", "n", n)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 2)).astype(np.float32)
    return x, (np.abs(x[:, 0] - x[:, 1]) < tol).astype(np.int64)


def make_xor(n=200, noise=0.15, seed=0):
    """Four blobs at (+-1, +-1); label 1 where the two coordinates have the same sign."""
    positive_int("make_xor", "n", n)
    rng = np.random.default_rng(seed)
    centers = rng.choice([-1.0, 1.0], size=(n, 2))
    x = (centers + noise * rng.standard_normal((n, 2))).astype(np.float32)
    return x, (centers[:, 0] == centers[:, 1]).astype(np.int64)


def make_spirals(n=300, classes=3, noise=0.2, seed=0):
    """`classes` interleaved spiral arms (CS231n's data set), n points in all."""
    positive_int("make_spirals", "n", n)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = (np.arange(n) // classes) / max(1, (n - 1) // classes)
    theta = y * 2 * np.pi / classes + 4 * r + noise * rng.standard_normal(n)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1).astype(np.float32)
    return x, y.astype(np.int64)


def make_sine(n=200, noise=0.1, low=-3.0, high=3.0, seed=0):
    """Regression: x uniform in [low, high], target sin(x) + x + noise; both of shape (n, 1)."""
    positive_int("make_sine", "n", n)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=(n, 1)), axis=0)
    y = np.sin(x) + x + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)

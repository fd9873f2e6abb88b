"""Reference solutions to the exercises of notebook 21: try first, then compare."""
import numpy as np


def flat_index(n, i, j, grid):
    """After the margin, image n's cell of Hg x Wg positions, then row i (Wg long), then column j."""
    return grid["before"] + n * grid["Hg"] * grid["Wg"] + i * grid["Wg"] + j


def max_pool_2x2(x):
    """(N, C, H, W) -> (N, C, H/2, 2, W/2, 2), a view: axes 3 and 5 run inside each window; max over them."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


# ReLU(mean) = max(0, 0) = 0, but mean(ReLU) = (1 + 0 + 0 + 0) / 4 = 0.25: ReLU then pooling is the larger
# (Jensen's inequality: ReLU is convex, so ReLU(mean) <= mean of ReLU).
x_counter = np.array([[[[1.0, -1.0], [-1.0, 0.0]]]], np.float32)

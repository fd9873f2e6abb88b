"""Reference solutions to the exercises of notebook 19: try first, then compare."""
import numpy as np


def max_pool_backward_split(x, grad_y, k):
    """dL/dx of a k x k max pool (stride k) when each window's G is split equally between its tied maxima."""
    N, C, Ho, Wo = grad_y.shape
    blocks = x[:, :, :Ho * k, :Wo * k].reshape(N, C, Ho, k, Wo, k)           # blocks[n, c, i, u, j, v]
    is_max = blocks == blocks.max(axis=(3, 5), keepdims=True)
    share = grad_y[:, :, :, None, :, None] / is_max.sum(axis=(3, 5), keepdims=True)
    grad_x = np.zeros(x.shape, grad_y.dtype)                                  # pixels in no window: 0
    grad_x[:, :, :Ho * k, :Wo * k] = (is_max * share).reshape(N, C, Ho * k, Wo * k)
    return grad_x


def avg_pool_weights(C, k):
    """W (C, C, k, k) of the Conv2D(C, C, k, stride=k) equal to AvgPool2D(k): 1 / k^2 from channel c to c only."""
    W = np.zeros((C, C, k, k))
    W[np.arange(C), np.arange(C)] = 1 / k**2
    return W


# (max(h, 0, 0, 0) - max(-h, 0, 0, 0)) / (2 h) = (h - 0) / (2 h): every pixel of an all-zero window
tie_slope = 0.5

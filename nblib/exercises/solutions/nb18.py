"""Reference solutions to the exercises of notebook 18: try first, then compare."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_weight_grad(x, grad_y, k, stride=1, padding=0):
    """dL/dW[o, c, u, v] = sum over n, i, j of G[n, o, i, j] x̂[n, c, s i + u, s j + v]; dL/db = G summed but o."""
    p, s = padding, stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))                          # x̂
    Ho, Wo = grad_y.shape[2:]
    windows = sliding_window_view(x_pad, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]   # (N, C, Ho, Wo, k, k)
    dW = np.einsum("noij,ncijuv->ocuv", grad_y, windows)
    db = grad_y.sum(axis=(0, 2, 3))
    return dW, db


def pointwise_conv(x, W, b):
    """Conv2D(C, O, 1): every pixel's C channels through Dense(C, O), as one product."""
    N, C, H, Wd = x.shape
    O = W.shape[0]
    pixels = x.transpose(0, 2, 3, 1).reshape(-1, C)                              # (N*H*W, C)
    y = pixels @ W.reshape(O, C).T + b                                           # (N*H*W, O)
    return y.reshape(N, H, Wd, O).transpose(0, 3, 1, 2)                          # (N, O, H, W)


# -1 on the left column, +1 on the right: brighter on the right (a stroke's left edge) is positive; rows
# in proportion, so it is blind to horizontal edges; adds up to 0, so flat regions give 0 (a negative sum
# would do too: the ReLU cuts negative outputs to 0)
left_edge_kernel = np.array([[-1.0, 0.0, 1.0],
                             [-2.0, 0.0, 2.0],
                             [-1.0, 0.0, 1.0]])

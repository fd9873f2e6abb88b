"""Reference solutions to the exercises of notebook 24: try first, then compare."""
import numpy as np

from nblib.batchnorm import BatchNorm1D
from nblib.layers import Dense


def batch_norm_backward(g, x, gamma, eps=1e-5):
    """dL/dx, dL/dgamma, dL/dbeta of batch normalisation in training, along the six steps of the graph."""
    m = len(x)
    mu = x.mean(axis=0)
    c = x - mu
    v = np.mean(c ** 2, axis=0)
    s = 1 / np.sqrt(v + eps)
    x_hat = c * s
    dgamma, dbeta = np.sum(g * x_hat, axis=0), np.sum(g, axis=0)   # step 1
    h = gamma * g                                                    # dL/dx_hat
    ds = np.sum(h * c, axis=0)                                       # step 2
    dv = -0.5 * s ** 3 * ds                                          # step 3
    dc = h * s + 2 * c / m * dv                                      # step 4: two paths
    dmu = -np.sum(dc, axis=0)                                        # step 5
    dx = dc + dmu / m                                                # step 6: two paths
    return dx, dgamma, dbeta


def update_running(running_mean, running_var, x, momentum=0.1):
    """One training step's update of the running statistics, as PyTorch: the unbiased variance, momentum the new value's weight."""
    axes = (0,) + tuple(range(2, x.ndim))          # every axis but the features' (channels') axis 1
    m = x.size // x.shape[1]                       # values per feature: N, or N * H * W
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var = (1 - momentum) * running_var + momentum * var * (m / (m - 1))
    return running_mean, running_var


def fold_batch_norm(dense, bn):
    """(W, b) of one Dense layer equal to dense followed by bn in evaluation: y = (x W + b - mean) * scale + beta."""
    scale = bn.params["gamma"] / np.sqrt(bn.running_var + bn.eps)   # one factor per output feature
    W = dense.params["W"] * scale                                    # scales W's columns
    b = (dense.params["b"] - bn.running_mean) * scale + bn.params["beta"]
    return W, b


def _bias_before_batch_norm():
    """Dense(5, 3) then BatchNorm1D(3) in training: the gradient reaching the Dense layer's bias."""
    rng = np.random.default_rng(0)
    dense, bn = Dense(5, 3, rng=rng), BatchNorm1D(3)
    bn.forward(dense.forward(rng.standard_normal((8, 5)).astype(np.float32)))
    dense.backward(bn.backward(rng.standard_normal((8, 3)).astype(np.float32)))
    return dense.grads["b"]


bias_before_batch_norm = _bias_before_batch_norm()

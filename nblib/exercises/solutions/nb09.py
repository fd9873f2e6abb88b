"""Reference solutions to the exercises of notebook 09: try first, then compare."""
import numpy as np


def sgd_step(p, g, lr, weight_decay=0.0):
    """theta_t = theta_{t-1} - lr (g_t + lambda theta_{t-1}); Python floats keep float32 arrays float32."""
    lr, weight_decay = float(lr), float(weight_decay)
    return p - lr * (g + weight_decay * p)


def minibatch_variance(grads, batch_size):
    """Var of the mean of batch_size distinct examples: sigma^2 / |B| times (N - |B|) / (N - 1)."""
    N = len(grads)
    sigma2 = grads.var(axis=0)   # the population variance of one example's gradient
    return sigma2 / batch_size * (N - batch_size) / (N - 1)


largest_stable_lr = 2 / (20 + 0.5)   # every curvature becomes h_i + lambda: lr < 2 / (h_max + lambda)

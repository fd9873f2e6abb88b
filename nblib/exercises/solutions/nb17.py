"""Reference solutions to the exercises of notebook 17: try first, then compare."""
import numpy as np


def kaiming_normal_(W, rng):
    """He's normal init: W (fan_in, fan_out) filled in place with N(0, 2 / fan_in); returns W."""
    W[...] = rng.normal(0.0, np.sqrt(2.0 / W.shape[0]), W.shape)
    return W


def output_stds(model, x):
    """The std of every layer's output in one training forward pass, recorded by a forward hook."""
    stds = []
    hook = lambda i, layer, a: stds.append(float(np.std(a)))
    model.forward_hooks.append(hook)
    model.forward(x)
    model.forward_hooks.remove(hook)
    return stds


def glorot_limit(fan_in, fan_out):
    """Uniform on [-a, a] has variance a^2 / 3 = 2 / (fan_in + fan_out), so a = sqrt(6 / (fan_in + fan_out))."""
    return np.sqrt(6.0 / (fan_in + fan_out))

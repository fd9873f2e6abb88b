"""Reference solutions to the exercises of notebook 12: try first, then compare."""
import numpy as np


def rmsprop_step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2, divide by sqrt(v) (or sqrt(v - m^2)) + eps."""
    g = g + weight_decay * p
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    if centered:
        m = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
        v = np.maximum(v - m * m, 0)   # the variance estimate (clipped: rounding can dip below 0)
    step = g / (np.sqrt(v) + eps)
    if momentum:
        step = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + step
    return p - lr * step


def rmsprop_debiased_step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8):
    """RMSprop with v_hat = v_t / (1 - alpha^t), t = state["step"]: the first step is lr g / |g|."""
    state["step"] = t = state.get("step", 0) + 1
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    v_hat = v / (1 - alpha ** t)
    return p - lr * g / (np.sqrt(v_hat) + eps)


rmsprop_recovery = 762   # alpha^k (63.4 - 0.01) = 0.03: k = ln(0.03 / 63.4) / ln(0.99), about 7.6 memories

rmsprop_rosenbrock_lr = 0.005   # ends about 0.04 from the minimum; 0.001 is too slow, 0.02 circles

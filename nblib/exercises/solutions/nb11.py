"""Reference solutions to the exercises of notebook 11: try first, then compare."""
import numpy as np


def adagrad_step(p, g, state, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    """torch.optim.Adagrad: s_t = s_{t-1} + g^2 (s_0 = tau), theta -= lr_t g / (sqrt(s_t) + eps)."""
    state["step"] = t = state.get("step", 0) + 1
    s = state.setdefault("sum", np.full_like(p, initial_accumulator_value))
    g = g + weight_decay * p
    s += g * g
    eta_t = lr / (1 + (t - 1) * lr_decay)
    return p - eta_t * g / (np.sqrt(s) + eps)


def adagrad_first_step(g, lr, initial_accumulator_value=0.0, eps=1e-10):
    """theta_1 - theta_0 = -lr g / (sqrt(tau + g^2) + eps): -lr sign(g) when tau = eps = 0."""
    return -lr * g / (np.sqrt(initial_accumulator_value + g * g) + eps)

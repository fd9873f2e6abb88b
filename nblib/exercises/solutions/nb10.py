"""Reference solutions to the exercises of notebook 10: try first, then compare."""
import numpy as np


def sgd_momentum_step(p, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """torch.optim.SGD: weight decay into g, then the velocity b (b_1 = g_1), then theta -= lr * step."""
    g = g + weight_decay * p
    if momentum:
        if "momentum_buffer" not in state:
            b = g.copy()                                      # b_1 = g_1
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    return p - lr * g


def sutskever_step(p, g, state, lr, momentum):
    """Sutskever et al.: v_t = mu v_{t-1} + lr g_t (v_0 = 0), theta_t = theta_{t-1} - v_t."""
    v = state["v"] = momentum * state.get("v", np.zeros_like(p)) + lr * g
    return p - v


largest_momentum_lr = 2 * (1 + 0.9) / 20   # stable while eta h_max < 2 (1 + mu)

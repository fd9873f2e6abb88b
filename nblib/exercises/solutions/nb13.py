"""Reference solutions to the exercises of notebook 13: try first, then compare."""
import numpy as np


def adadelta_step(theta, g, v, u, lr, rho, eps):
    """One Adadelta step: v_t, then Delta_t = sqrt(u_(t-1) + eps) / sqrt(v_t + eps) * g_t, then u_t; -> (theta_t, v_t, u_t)."""
    v = rho * v + (1 - rho) * g * g
    delta = np.sqrt((u + eps) / (v + eps)) * g
    u = rho * u + (1 - rho) * delta * delta
    return theta - lr * delta, v, u


def flush_denormals_float32(a):
    """Zero, in place, the values of a float32 array below the smallest normal float32; float64 untouched."""
    if a.dtype == np.float32:
        a[np.abs(a) < np.finfo(np.float32).tiny] = 0.0
    return a


adadelta_stable_curvature = 8.0   # theta_t = (1 - lr h) theta_(t-1) grows once h > 2 / lr = 2 / 0.25

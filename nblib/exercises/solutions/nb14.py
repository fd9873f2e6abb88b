"""Reference solutions to the exercises of notebook 14: try first, then compare."""
import numpy as np


def adamw_step(theta, g, m, v, t, lr, betas, eps, weight_decay):
    """One AdamW step at step t (from 1): decay theta, then Adam's bias-corrected step; -> (theta, m, v)."""
    beta1, beta2 = betas
    theta = theta - lr * weight_decay * theta
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamax_step(theta, g, m, u, t, lr, betas, eps):
    """One Adamax step: u_t = max(beta2 u_(t-1), |g_t| + eps), theta -= lr m_t / ((1 - beta1^t) u_t); -> (theta, m, u)."""
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    u = np.maximum(beta2 * u, np.abs(g) + eps)
    return theta - lr * m / ((1 - beta1 ** t) * u), m, u


adam_step_after_silence = (1 - 0.8) / np.sqrt(1 - 0.999)   # m_t = 1 - beta1, v_t = 1 - beta2: 6.32

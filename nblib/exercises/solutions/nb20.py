"""Reference solutions to the exercises of notebook 20: try first, then compare."""
import numpy as np


def dropout_std(x, p):
    """Var(y_i) = E[y_i^2] - x_i^2 = x_i^2 / (1 - p) - x_i^2 = x_i^2 p / (1 - p); the std is its root."""
    return np.abs(x) * np.sqrt(p / (1 - p))


def early_stop(values, patience, min_delta):
    """(best epoch, epochs run) of early stopping on the validation losses `values`, epochs counted from 1."""
    best, best_epoch = None, None
    for epoch, v in enumerate(values, start=1):
        if best is None or v < best - min_delta:
            best, best_epoch = v, epoch
        elif epoch - best_epoch == patience:
            return best_epoch, epoch
    return best_epoch, len(values)

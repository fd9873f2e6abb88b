"""Reference solutions to the exercises of notebook 16: try first, then compare."""
import math

import numpy as np

from nblib.schedules import LRScheduler


class PolynomialLR(LRScheduler):
    """eta_t = eta_0 (1 - min(t, total_iters) / total_iters) ** power."""

    def __init__(self, optimizer, total_iters=5, power=1.0):
        self.total_iters, self.power = total_iters, power   # before super().__init__, which calls get_lr
        super().__init__(optimizer)

    def get_lr(self):
        return self.base_lr * (1 - min(self.last_epoch, self.total_iters) / self.total_iters) ** self.power


def warmup_cosine(t, W, T):
    """The factor of eta_0 at step t: linear warm-up over W steps, then a half cosine to 0 at step T."""
    if t < W:
        return t / W
    return (1 + math.cos(math.pi * (t - W) / (T - W))) / 2


def steepest_rate(lrs, losses):
    """The rate at which the loss decreases fastest per decade of learning rate."""
    return lrs[np.argmin(np.gradient(losses, np.log10(lrs)))]

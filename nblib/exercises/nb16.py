"""The exercises of notebook 16 (learning-rate schedules)."""
import math

import numpy as np

from nblib.exercises import Exercise


# ---- exercise 1: PolynomialLR -----------------------------------------------------------------------------

class _Optimizer:
    """A stand-in optimizer: schedulers only read and set `lr` (this one accepts anything, even the stub's None)."""

    def __init__(self, lr):
        self.lr = lr


def polynomial_cases(rng):
    """(base lr, total_iters, power, steps): past total_iters, powers below and above 1, the default power 1."""
    return [(0.1, 8, 2.0, 12), (0.5, 5, 1.0, 9), (1.0, 10, 0.5, 14), (0.03, 1, 3.0, 4), (2.0, 20, 1.5, 25)]


def polynomial_run(PolynomialLR, case):
    """The rates at steps 0..steps-1 of the reader's class: built at step 0, then `step()` after each."""
    lr, total_iters, power, steps = case
    optimizer = _Optimizer(lr)
    try:
        scheduler = PolynomialLR(optimizer, total_iters=total_iters, power=power)
    except AttributeError as error:
        raise AttributeError(f"{error}. The base class's __init__ already calls get_lr (step 0): set total_iters "
                             "and power BEFORE calling super().__init__(optimizer)") from None
    out = []
    for _ in range(steps):
        if optimizer.lr is None:
            return None
        out.append(float(optimizer.lr))
        scheduler.step()
    return np.array(out)


def polynomial_expected(case):
    """PyTorch's closed form, eta_0 (1 - min(t, N) / N) ** p."""
    lr, total_iters, power, steps = case
    return np.array([lr * (1 - min(t, total_iters) / total_iters) ** power for t in range(steps)])


def _polynomial(no_min=False, no_power=False, shifted=False):
    from nblib.schedules import LRScheduler

    class Wrong(LRScheduler):
        def __init__(self, optimizer, total_iters=5, power=1.0):
            self.total_iters, self.power = total_iters, power
            super().__init__(optimizer)

        def get_lr(self):
            t = self.last_epoch + (1 if shifted else 0)
            t = t if no_min else min(t, self.total_iters)
            return self.base_lr * (1 - t / self.total_iters) ** (1.0 if no_power else self.power)

    return Wrong


# ---- exercise 2: warm-up then cosine ---------------------------------------------------------------------

def warmup_cases(rng):
    """(W, T): several warm-up lengths, one of a single step."""
    return [(10, 50), (3, 20), (1, 7), (25, 100)]


def warmup_run(answer, case):
    W, T = case
    out = [answer(t, W, T) for t in range(T + 1)]
    if any(a is None for a in out):
        return None
    return np.array(out, dtype=float)


def warmup_expected(case):
    W, T = case
    return np.array([t / W if t < W else (1 + math.cos(math.pi * (t - W) / (T - W))) / 2 for t in range(T + 1)])


def _warmup(shifted=False, phase_from_0=False, length_T=False):
    def factor(t, W, T):
        if t < W:
            return (t + 1) / W if shifted else t / W
        phase = (t if phase_from_0 else t - W) / (T if length_T else T - W)
        return (1 + math.cos(math.pi * phase)) / 2
    return factor


# ---- exercise 3: the steepest fall of a range test ------------------------------------------------------

def steepest_cases(rng):
    """(lrs, losses, c) on geometric grids: a smooth fall centred at 10^c, then a rise 1.5 decades later;
    noise-free, so the steepest point is known: u = c, where the slope of -tanh(u - c) is most negative."""
    cases = []
    for c, lo, hi, n in [(-3.0, -6, 0, 61), (-4.5, -7, 1, 81), (-2.0, -5, 1, 31), (-1.2, -4, 1, 51)]:
        lrs = np.logspace(lo, hi, n)
        u = np.log10(lrs)
        cases.append((lrs, 1.5 - np.tanh(u - c) + 5 * np.maximum(0, u - (c + 1.5)) ** 2, c))
    return cases


def steepest_run(answer, case):
    lrs, losses, c = case
    return answer(lrs.copy(), losses.copy())


def steepest_expected(case):
    """The grid's rate nearest 10^c."""
    lrs, losses, c = case
    return float(lrs[np.argmin(np.abs(np.log10(lrs) - c))])


def _steepest_lowest(lrs, losses):
    return float(lrs[np.argmin(losses)])


def _steepest_linear(lrs, losses):
    return float(lrs[np.argmin(np.gradient(losses, lrs))])


def _steepest_rise(lrs, losses):
    return float(lrs[np.argmax(np.gradient(losses, np.log10(lrs)))])


EXERCISES = [
    Exercise(
        name="PolynomialLR",
        notebook="16_lr_schedules",
        title="PolynomialLR as PyTorch defines it, a subclass of LRScheduler",
        cases=polynomial_cases,
        run=polynomial_run,
        expected=polynomial_expected,
        mistakes=[
            ("right up to total_iters, wrong after: use min(t, total_iters), so that the rate stays at 0",
             _polynomial(no_min=True)),
            ("the power is missing: (1 - t / N) ** power", _polynomial(no_power=True)),
            ("off by one step: at t = 0 (right after construction) the rate is eta_0 itself; t is last_epoch",
             _polynomial(shifted=True)),
        ],
        rtol=1e-12, atol=1e-15,
    ),
    Exercise(
        name="warmup_cosine",
        notebook="16_lr_schedules",
        title="Linear warm-up, then half a cosine to zero: the factor of a LambdaLR",
        cases=warmup_cases,
        run=warmup_run,
        expected=warmup_expected,
        mistakes=[
            ("the warm-up gives t / W: 0 at t = 0, (W - 1) / W just before the cosine starts", _warmup(shifted=True)),
            ("at t = W the factor should be 1 (the top of the cosine): measure its phase from W, pi (t - W) / (T - W)",
             _warmup(phase_from_0=True)),
            ("at t = T the factor should be 0: the cosine runs over T - W steps, not T", _warmup(length_T=True)),
        ],
        rtol=0, atol=1e-12,
    ),
    Exercise(
        name="steepest_rate",
        notebook="16_lr_schedules",
        title="The range test's rate where the loss falls fastest against log(rate)",
        cases=steepest_cases,
        run=steepest_run,
        expected=steepest_expected,
        mistakes=[
            ("that is the lowest loss's rate, not the steepest fall: take the most negative slope", _steepest_lowest),
            ("the slope must be against log10(rate), the plot's axis, not against the rate itself", _steepest_linear),
            ("the steepest *fall* is the most negative slope (argmin), not the largest one", _steepest_rise),
        ],
        rtol=0.3, atol=0,   # one grid point either side (a factor of 10^0.1) is as good
        describe=lambda case: f"(a range test of {len(case[0])} rates from {case[0][0]:.0e} to {case[0][-1]:.0e})",
    ),
]

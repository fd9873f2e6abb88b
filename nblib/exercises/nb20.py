"""The exercises of notebook 20 (regularization)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.model import EarlyStopping

# ---- 1. dropout_std ------------------------------------------------------------------------------


def dropout_std_cases(rng):
    """(x, p): inputs of both signs and exact zeros, in float64, for p from 0.1 to 0.9."""
    cases = []
    for shape, p in [((6,), 0.5), ((3, 4), 0.1), ((5,), 0.9), ((2, 2, 3), 0.25)]:
        x = rng.standard_normal(shape) * 3
        x.flat[::4] = 0.0
        cases.append((x, p))
    return cases


def dropout_std_expected(case):
    """From the two moments over the coin m (P(m = 1) = 1 - p): E[y] = x, E[y^2] = (1 - p) (x / (1 - p))^2."""
    x, p = case
    second_moment = (1 - p) * (x / (1 - p)) ** 2 + p * 0.0 ** 2
    return np.sqrt(np.maximum(second_moment - x ** 2, 0.0))


# ---- 2. early_stop -------------------------------------------------------------------------------

def early_stop_cases(rng):
    """(values, patience, min_delta): a curve that turns up, a flat one (ties are no improvement), a rebound
    that must not reset the count, the notebook's scripted run, a curve that improves to the end, small
    improvements below min_delta, noisy curves that bottom out."""
    cases = [([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 2, 0.0),
             ([0.5] * 8, 3, 0.0),
             ([1.0, 0.5, 0.7, 0.6, 0.65, 0.62, 0.61], 3, 0.0),
             ([0.9, 0.7, 0.5, 0.6, 0.48, 0.7, 0.3, 0.2], 3, 0.05),
             ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], 2, 0.0),
             ([1.0, 0.99, 0.985, 0.98, 0.975, 0.97, 0.5, 0.4], 4, 0.01)]
    for patience, min_delta in [(3, 0.0), (5, 0.02), (1, 0.0), (10, 0.001)]:
        epochs = np.arange(40)
        curve = 1 / (1 + 0.3 * epochs) + 0.004 * epochs + 0.03 * rng.standard_normal(40)   # down, then up
        cases.append(([round(float(v), 4) for v in curve], patience, min_delta))
    return cases


def early_stop_expected(case):
    """nblib's EarlyStopping (tested in tests/test_regularization.py), fed the values one epoch at a time."""
    values, patience, min_delta = case
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, restore_best=False)
    for epoch in range(len(values)):
        if stopper(None, epoch, {"val_loss": list(values[:epoch + 1])}):
            return stopper.best_epoch, epoch + 1
    return stopper.best_epoch, len(values)


def _early_stop(min_delta_used=True, against_previous=False, late=False, ties_improve=False):
    def answer(values, patience, min_delta):
        delta = min_delta if min_delta_used else 0.0
        best, best_epoch, waited, previous = None, None, 0, None
        for epoch, v in enumerate(values, start=1):
            reference = previous if (against_previous and previous is not None) else best
            improved = best is None or (v <= reference - delta if ties_improve else v < reference - delta)
            previous = v
            if improved:
                waited = 0
                if best is None or v < best:
                    best, best_epoch = v, epoch
            else:
                waited += 1
                if waited > patience if late else waited == patience:
                    return best_epoch, epoch
        return best_epoch, len(values)
    return answer


EXERCISES = [
    Exercise(
        name="dropout_std",
        notebook="20_regularization",
        title="How noisy is a unit under dropout? The standard deviation of y_i over the mask",
        cases=dropout_std_cases, expected=dropout_std_expected,
        mistakes=[
            ("that is the variance x^2 p / (1 - p): the standard deviation is its square root",
             lambda x, p: x ** 2 * p / (1 - p)),
            ("a standard deviation is never negative: use |x|",
             lambda x, p: x * np.sqrt(p / (1 - p))),
            ("the survivors are scaled by 1 / (1 - p): that is the std of m x, without the scaling",
             lambda x, p: np.abs(x) * np.sqrt(p * (1 - p))),
            ("p / (1 - p) upside down: more dropout (p near 1) must mean more noise",
             lambda x, p: np.abs(x) * np.sqrt((1 - p) / p)),
        ],
        rtol=1e-9, atol=1e-12,
    ),
    Exercise(
        name="early_stop",
        notebook="20_regularization",
        title="Early stopping's rule on a list of validation losses: the best epoch and the epochs run",
        cases=early_stop_cases, expected=early_stop_expected,
        describe=lambda c: f"({len(c[0])} values starting {c[0][:4]}..., patience={c[1]}, min_delta={c[2]})",
        mistakes=[
            ("an epoch counts as an improvement only if it beats the best by more than min_delta",
             _early_stop(min_delta_used=False)),
            ("compare each value with the best so far, not with the epoch before: a small rebound must not reset the count",
             _early_stop(against_previous=True)),
            ("one epoch late: stop as soon as `patience` epochs in a row have not improved (count == patience)",
             _early_stop(late=True)),
            ("a tie is not an improvement: the value must be strictly below best - min_delta",
             _early_stop(ties_improve=True)),
        ],
        rtol=0.0, atol=0.0,
    ),
]

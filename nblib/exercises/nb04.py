"""The exercises of notebook 04 (Leaky ReLU)."""
import numpy as np

from nblib.activations import LeakyReLU
from nblib.exercises import Exercise
from nblib.gradcheck import gradcheck


def leaky(x, alpha):
    return np.where(x > 0, x, alpha * x)


def prelu_cases(rng):
    """Shapes of a batch, a few exact zeros (the kink) and alphas below and above 1."""
    cases = []
    for shape, alpha in [((5,), 0.01), ((4, 3), 0.25), ((2, 3, 4), 0.5), ((6, 2), 1.7)]:
        x = rng.standard_normal(shape)
        x.flat[::5] = 0.0  # the kink: f'(0) = alpha, as PyTorch
        cases.append((x, alpha, rng.standard_normal(shape)))
    return cases


def prelu_expected(case, h=1e-6):
    """Central differences of the forward pass: exact for a piecewise-linear function away from
    its kink (|x| > h); at x = 0 the course's convention f'(0) = alpha."""
    x, alpha, G = case
    slope = np.where(x == 0, alpha, (leaky(x + h, alpha) - leaky(x - h, alpha)) / (2 * h))
    d_alpha = (leaky(x, alpha + h) - leaky(x, alpha - h)) / (2 * h)
    return G * slope, np.sum(G * d_alpha)


def kink_cases(rng):
    """Slopes from ReLU's 0 to the identity's 1 (the first one, 0.01, tells every mistake apart)."""
    return [(alpha,) for alpha in (0.01, 0.1, 0.25, 0.5, 0.0, 1.0, 2.0)]


def kink_expected(case):
    """What the notebook's gradcheck reports for LeakyReLU(alpha) at x = 0."""
    (alpha,) = case
    return gradcheck(LeakyReLU(alpha), np.array([0.0]))


EXERCISES = [
    Exercise(
        name="prelu_backward",
        notebook="04_leaky_relu",
        title="PReLU's backward pass: the gradients for x and for the learned slope alpha",
        cases=prelu_cases,
        expected=prelu_expected,
        mistakes=[
            ("dL/dalpha sums G * x over the inputs where x <= 0 only: the mask is missing",
             lambda x, alpha, G: (np.where(x > 0, G, alpha * G), np.sum(G * x))),
            ("alpha is one number for the whole layer, so dL/dalpha is one number: sum over every element",
             lambda x, alpha, G: (np.where(x > 0, G, alpha * G), G * np.where(x > 0, 0.0, x))),
            ("at x = 0 the slope is alpha (f'(0) = alpha, as PyTorch and notebook 04), not 1: use x > 0",
             lambda x, alpha, G: (np.where(x >= 0, G, alpha * G), np.sum(G * np.where(x >= 0, 0.0, x)))),
            ("on the negative side dL/dx is alpha * G: the slope, not the input, multiplies G",
             lambda x, alpha, G: (np.where(x > 0, G, x * G), np.sum(G * np.where(x > 0, 0.0, x)))),
        ],
        rtol=1e-6, atol=1e-8,
    ),
    Exercise(
        name="leaky_kink_error",
        notebook="04_leaky_relu",
        title="The relative error gradcheck reports for LeakyReLU at the kink x = 0",
        cases=kink_cases,
        expected=kink_expected,
        mistakes=[
            ("gradcheck reports a relative error, |a - n| / (|a| + |n|): divide the difference by the sum of the sizes",
             lambda alpha: abs(alpha - (1 + alpha) / 2)),
            ("the code tests x > 0, so at x = 0 backward returns alpha (the analytic value), not 1",
             lambda alpha: abs(1 - (1 + alpha) / 2) / (1 + abs(1 + alpha) / 2)),
            ("the denominator is |a| + |n|, the analytic and the numerical value together",
             lambda alpha: abs(alpha - (1 + alpha) / 2) / abs((1 + alpha) / 2)),
        ],
        rtol=1e-6, atol=1e-8,
    ),
]

"""The exercises of notebook 04 (Leaky ReLU)."""
import numpy as np

from nblib.exercises import Exercise


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
]

"""The exercises of notebook 05 (Tanh)."""
import math

import numpy as np

from nblib.exercises import Exercise, number_judge


# ---- Exercise 1: hard-tanh's backward pass --------------------------------------------------------

def hardtanh(x):
    return np.clip(x, -1.0, 1.0)


def hardtanh_cases(rng):
    """Shapes of a batch (a batch of 1 too), float64 and float32, with exact -1, 0 and 1 (the kinks)."""
    cases = []
    for shape, dtype in [((6,), np.float64), ((4, 3), np.float64), ((2, 3, 4), np.float32), ((1, 5), np.float32)]:
        x = 2 * rng.standard_normal(shape)
        x.flat[::4] = np.resize([-1.0, 0.0, 1.0], x.flat[::4].size)   # the kinks, and 0
        cases.append((x.astype(dtype), rng.standard_normal(shape).astype(dtype)))
    return cases


def hardtanh_expected(case, h=1e-6):
    """Central differences of the forward pass in float64 (exact for a piecewise-linear function away from
    its kinks); at x = -1 and x = 1 PyTorch's convention, a slope of 0."""
    x, G = case
    x64 = x.astype(np.float64)
    slope = (hardtanh(x64 + h) - hardtanh(x64 - h)) / (2 * h)
    slope = np.where(np.abs(x64) == 1, 0.0, np.round(slope))  # exactly 0 or 1
    return (G.astype(np.float64) * slope).astype(x.dtype)


# ---- Exercise 2: a tanh that never overflows and keeps its digits near 0 ------------------------------

def stable_tanh_cases(rng):
    return [
        (rng.uniform(-4, 4, 8),),                                             # ordinary inputs
        (np.array([-1000.0, -710.0, -20.0, -0.5, 0.0, 0.5, 20.0, 710.0, 1000.0]),),   # overflow of e^x
        (np.array([1e-10, -1e-10, 3e-9, -2.5e-12, 1e-300, 0.0]),),               # cancellation near 0
        (5 * rng.standard_normal((3, 4)),),
    ]


def stable_tanh_expected(case):
    """Python's math.tanh, element by element: an independent implementation."""
    (x,) = case
    return np.vectorize(math.tanh, otypes=[np.float64])(x)


def _quiet(f):
    """A mistake run without NumPy's overflow warnings (the reader's own code would show them)."""
    def run(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return run


# ---- Exercise 3: where tanh saturates ----------------------------------------------------------------

SATURATION = math.atanh(math.sqrt(0.99))  # 1 - tanh(x)^2 = 0.01  <=>  tanh(x) = sqrt(0.99)


saturation_judge = number_judge(
    SATURATION, "the x > 0 where the slope is 0.01", rtol=0, atol=1e-4,
    wrong=[(-SATURATION, "tanh' is even, so -x works too, but the question asks for the positive threshold"),
           (math.atanh(0.99), "that is where tanh x = 0.99; the slope is 1 - tanh^2 x, so it is 0.01 where tanh^2 x = 0.99")]
    + [(x, "that is where tanh x is small, not where its slope is: solve 1 - tanh^2 x = 0.01 for x")
       for x in (math.atanh(0.01), math.atanh(math.sqrt(0.01)))],
    otherwise=lambda value: (f"{value:.6g} is not it: at that x the slope 1 - tanh^2 x is "
                             f"{1 - math.tanh(value) ** 2:.4g}, not 0.01. Solve for tanh x first, then use np.arctanh"))


EXERCISES = [
    Exercise(
        name="hardtanh_backward",
        notebook="05_tanh",
        title="Hard-tanh's backward pass: clip(x, -1, 1), as torch.nn.Hardtanh",
        cases=hardtanh_cases,
        expected=hardtanh_expected,
        mistakes=[
            ("at x = -1 and x = 1 exactly, hard-tanh's slope is taken as 0 (as PyTorch): the gradient passes only "
             "where -1 < x < 1, strict inequalities",
             lambda x, G: np.where(np.abs(x) <= 1, G, 0).astype(x.dtype)),
            ("outside [-1, 1] the output is constant, so the gradient there is 0: the mask is missing",
             lambda x, G: G.copy()),
            ("backward multiplies G by the slope (1 inside, 0 outside), not by the output clip(x, -1, 1)",
             lambda x, G: G * np.clip(x, -1, 1)),
            ("float32 in, float32 out: np.where(mask, 1.0, 0.0) is a float64 array and turns G into float64; "
             "use np.where(mask, grad_y, 0) or multiply by the boolean mask",
             lambda x, G: G * np.where((x > -1) & (x < 1), 1.0, 0.0)),
        ],
        rtol=1e-6, atol=1e-7, check_dtype=True,
    ),
    Exercise(
        name="stable_tanh",
        notebook="05_tanh",
        title="tanh from one exponential that cannot overflow, accurate near 0 too",
        cases=stable_tanh_cases,
        expected=stable_tanh_expected,
        mistakes=[
            ("near 0 your formula subtracts two numbers close to 1 (such as 1 - e^(-2|x|)) and loses about 9 of "
             "its 16 digits at x = 1e-10, the cancellation of section 2: compute 1 - e^(-2|x|) as -np.expm1(-2|x|)",
             lambda x: np.sign(x) * (1 - np.exp(-2 * np.abs(x))) / (1 + np.exp(-2 * np.abs(x)))),
            ("2 sigma(2x) - 1 is tanh x, but near 0 the final - 1 cancels: about 9 of the 16 digits are lost at "
             "x = 1e-10. Write tanh|x| = (1 - e) / (1 + e) with e = e^(-2|x|) and 1 - e = -np.expm1(-2|x|)",
             _quiet(lambda x: 2 / (1 + np.exp(-2 * x)) - 1)),
            ("(e^x - e^-x) / (e^x + e^-x) is the textbook formula: e^x overflows above 709.8 and gives inf / inf = "
             "NaN. Use only e^(-2|x|), which lies in (0, 1]",
             _quiet(lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)))),
            ("for negative x, e^(-2x) overflows (x = -1000 gives NaN): compute with |x|, then put the sign back "
             "(tanh is odd)",
             _quiet(lambda x: -np.expm1(-2 * x) / (2 + np.expm1(-2 * x)))),
            ("tanh is odd, tanh(-x) = -tanh(x): the formula with |x| gives tanh|x|, so multiply by np.sign(x)",
             lambda x: -np.expm1(-2 * np.abs(x)) / (2 + np.expm1(-2 * np.abs(x)))),
        ],
        rtol=1e-13, atol=0.0,
    ),
    Exercise(
        name="tanh_saturation",
        notebook="05_tanh",
        title="The x > 0 where tanh's slope falls to 0.01, in closed form",
        judge=saturation_judge,
        mistakes=[
            ("tanh x = 0.99", math.atanh(0.99)),
            ("not where its slope is", 0.01),
            ("positive threshold", -SATURATION),
        ],
    ),
]

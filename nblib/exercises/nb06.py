"""The exercises of notebook 06 (Sigmoid)."""
import math

import numpy as np

from nblib.exercises import Exercise, NotAttempted


def _quiet(f):
    """A mistake run without NumPy's overflow warnings (the reader's own code would show them)."""
    def run(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return run


def reference_sigmoid(x):
    """sigma(x) = (1 + tanh(x / 2)) / 2, from NumPy's tanh: independent of nblib's two-branch formula."""
    return 0.5 * (1 + np.tanh(x / 2))


# ---- Exercise 1: log sigma(x), finite and exact for any x -----------------------------------------------

def log_sigmoid_cases(rng):
    return [
        (rng.uniform(-4, 4, 8),),                                  # ordinary inputs
        (np.array([-720.0, -710.0, -100.0, -3.0, 0.5, 3.0]),),      # e^-x overflows below -709.8
        (np.array([-1000.0, -800.0, -750.0, 0.0]),),                 # sigma(x) underflows to 0
        (np.array([30.0, 37.0, 40.0, 50.0, 100.0, 1000.0]),),        # sigma(x) rounds to 1, log sigma(x) = -e^-x
        (8 * rng.standard_normal((3, 4)),),
    ]


def log_sigmoid_expected(case):
    """-log(1 + e^-x) from NumPy's logaddexp(0, -x), an independent implementation."""
    (x,) = case
    return -np.logaddexp(0.0, -x)


# ---- Exercise 2: SiLU's backward pass --------------------------------------------------------------------

def silu_cases(rng):
    cases = []
    for shape, dtype, scale in [((6,), np.float64, 3.0), ((4, 3), np.float64, 10.0), ((2, 3, 4), np.float32, 3.0),
                                ((1, 5), np.float32, 3.0)]:
        x = scale * rng.standard_normal(shape)
        x.flat[0] = 0.0
        cases.append((x.astype(dtype), rng.standard_normal(shape).astype(dtype)))
    cases.append((np.array([-40.0, -20.0, -1.2785, 20.0, 40.0]), np.ones(5)))   # the tails, and silu's minimum
    return cases


def silu_expected(case, h=1e-6):
    """Central differences of x * sigma(x) in float64, times G, in the dtype of x."""
    x, G = case
    x64 = x.astype(np.float64)
    silu = lambda v: v * reference_sigmoid(v)
    return (G.astype(np.float64) * (silu(x64 + h) - silu(x64 - h)) / (2 * h)).astype(x.dtype)


def _s(x):
    return reference_sigmoid(x).astype(x.dtype)


# ---- Exercise 3: where float32's sigmoid reaches exactly 1 and 0 ---------------------------------------------

ONE_FROM = 24 * math.log(2)    # e^-x below half an ulp of 1 (2^-24): 1 + e^-x rounds to 1
ZERO_BELOW = -150 * math.log(2)  # e^x below half the smallest subnormal (2^-149 / 2): it rounds to 0


def limits_judge(answer):
    if answer is None:
        raise NotAttempted
    try:
        one, zero = (float(v) for v in answer)
    except (TypeError, ValueError):
        return "give two numbers, (x_one, x_zero): from where sigmoid is exactly 1.0, and below where it is 0.0"
    hints = []
    if abs(one - 53 * math.log(2)) < 0.1 or abs(zero + 1075 * math.log(2)) < 0.5:
        return "those are float64's limits (36.7 and -745.1): do it again for float32, with 24 bits and 2^-149"
    if abs(one - ONE_FROM) >= 0.02:
        if abs(one - 23 * math.log(2)) < 0.05:
            hints.append("1 + e rounds to 1 once e is below half the gap between 1 and the next float32, "
                         "2^-24, not below machine epsilon 2^-23")
        else:
            hints.append(f"x_one = {one:.4g} is off: sigmoid gives exactly 1.0 once 1 + e^-x rounds to 1 in float32")
    if abs(zero - ZERO_BELOW) >= 0.02:
        if abs(zero + 126 * math.log(2)) < 0.1:
            hints.append("float32 goes below its smallest normal number 2^-126 with subnormals, down to 2^-149")
        elif abs(zero + 149 * math.log(2)) < 0.05:
            hints.append("e^x rounds to 0 only below half the smallest subnormal, 2^-150, not below 2^-149 itself")
        else:
            hints.append(f"x_zero = {zero:.4g} is off: sigmoid gives exactly 0.0 once e^x underflows to 0 in float32")
    return "; ".join(hints) or None


EXERCISES = [
    Exercise(
        name="log_sigmoid",
        notebook="06_sigmoid",
        title="log sigma(x), finite and accurate for every float64 x",
        cases=log_sigmoid_cases,
        expected=log_sigmoid_expected,
        mistakes=[
            ("np.log(1 + a) rounds 1 + a to 1 when a = e^-|x| is tiny (x = 40: log sigma(x) is -4e-18, not 0): "
             "use np.log1p(a)",
             lambda x: np.minimum(x, 0) - np.log(1 + np.exp(-np.abs(x)))),
            ("sigma(x) underflows to 0 below about -745 and log 0 = -inf: never take the log of the probability; "
             "write log sigma(x) = min(x, 0) - log1p(e^-|x|)",
             _quiet(lambda x: np.log(reference_sigmoid(x)))),
            ("-log(1 + e^-x) needs e^-x, which overflows for x < -709.8: use e^-|x| and add min(x, 0)",
             _quiet(lambda x: -np.log1p(np.exp(-x)))),
            ("for x < 0, log sigma(x) = x - log1p(e^x): the term min(x, 0) is missing",
             lambda x: -np.log1p(np.exp(-np.abs(x)))),
        ],
        rtol=1e-12, atol=0.0,
    ),
    Exercise(
        name="silu_backward",
        notebook="06_sigmoid",
        title="The backward pass of SiLU (Swish), x * sigma(x)",
        cases=silu_cases,
        expected=silu_expected,
        mistakes=[
            ("x * sigma(x) is a product of two functions of x: the product rule gives sigma(x) + x sigma'(x)",
             lambda x, G: G * _s(x)),
            ("that is G * sigma'(x), the sigmoid's own slope: SiLU's is sigma(x) + x sigma(x)(1 - sigma(x))",
             lambda x, G: G * _s(x) * (1 - _s(x))),
            ("the second term of the product rule is x times sigma'(x): the factor x is missing",
             lambda x, G: G * (_s(x) + _s(x) * (1 - _s(x)))),
            ("the first term of the product rule, sigma(x) (the slope of x times sigma), is missing",
             lambda x, G: G * x * _s(x) * (1 - _s(x))),
        ],
        rtol=1e-5, atol=1e-7, check_dtype=True,
    ),
    Exercise(
        name="sigmoid_float32_limits",
        notebook="06_sigmoid",
        title="From which x float32's sigmoid is exactly 1.0, and below which exactly 0.0",
        judge=limits_judge,
        mistakes=[
            ("float64's limits", (53 * math.log(2), -1075 * math.log(2))),
            ("not below machine epsilon", (23 * math.log(2), ZERO_BELOW)),
            ("subnormals", (ONE_FROM, -126 * math.log(2))),
            ("half the smallest subnormal", (ONE_FROM, -149 * math.log(2))),
        ],
    ),
]

"""The exercises of notebook 07 (Softmax)."""
import math

import numpy as np

from nblib.exercises import Exercise, number_judge


def _quiet(f):
    """A mistake run without NumPy's overflow warnings (the reader's own code would show them)."""
    def run(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return run


def reference_log_softmax(x):
    """x - log sum_j e^(x_j) along the last axis, in float64, with NumPy's logaddexp (independent of the layer)."""
    x64 = np.asarray(x, dtype=np.float64)
    return x64 - np.logaddexp.reduce(x64, axis=-1, keepdims=True)


def stable_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- Exercise 1: log-softmax ------------------------------------------------------------------------------

def log_softmax_cases(rng):
    far_below = rng.standard_normal(5)
    far_below[2] -= 800                                                  # a logit 800 below the others
    return [
        (3 * rng.standard_normal((3, 4)),),
        (far_below,),
        (np.array([[1e4, 1e4 - 1, 1e4 + 2], [-1e4, -1e4 - 3, -1e4 + 0.5]]),),   # logits of +-1e4
        (3 * rng.standard_normal((2, 3, 4)).astype(np.float32),),
        (rng.standard_normal((1, 6)),),                                   # a batch of 1
    ]


def log_softmax_expected(case):
    (x,) = case
    return reference_log_softmax(x).astype(x.dtype)


# ---- Exercise 2: log-softmax's backward pass --------------------------------------------------------------

def log_softmax_backward_cases(rng):
    return [
        (3 * rng.standard_normal((3, 5)), rng.standard_normal((3, 5))),
        (rng.standard_normal(4), rng.standard_normal(4)),
        (3 * rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))),
        (np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1000.5]]), rng.standard_normal((2, 3))),
        (rng.standard_normal((1, 6)).astype(np.float32), rng.standard_normal((1, 6)).astype(np.float32)),
    ]


def log_softmax_backward_expected(case):
    """J^T G with the Jacobian of log s_i built entry by entry, J_ij = delta_ij - s_j, row by row in float64."""
    x, G = case
    K = x.shape[-1]
    s = np.exp(reference_log_softmax(x)).reshape(-1, K)
    rows = G.astype(np.float64).reshape(-1, K)
    out = np.empty_like(rows)
    for n in range(len(rows)):
        J = np.array([[(i == j) - s[n, j] for j in range(K)] for i in range(K)])
        out[n] = J.T @ rows[n]
    return out.reshape(x.shape).astype(x.dtype)


# ---- Exercise 3: the temperature of a coin toss ---------------------------------------------------------------

LOGITS = (2.0, 1.0, 0.1, -1.0)


def top_probability(T):
    e = [math.exp(z / T) for z in LOGITS]
    return e[0] / math.fsum(e)


def _half_temperature():
    """Bisection on T in [1, 100]: the top probability falls as T grows."""
    low, high = 1.0, 100.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if top_probability(middle) > 0.5 else (low, middle)
    return low


T_HALF = _half_temperature()


def temperature_hint(T):
    if T <= 0:
        return "a temperature is positive"
    p = top_probability(T)
    direction = "raise T to flatten the distribution" if p > 0.5 else "lower T to sharpen the distribution"
    return f"at T = {T:.4g} the cat's probability is {p:.4f}, not 0.5: {direction}"


temperature_judge = number_judge(
    T_HALF, "the temperature T", otherwise=temperature_hint,
    wrong=[(1 / T_HALF, "that is 1 / T: the logits are divided by the temperature, softmax(z / T)")])


EXERCISES = [
    Exercise(
        name="log_softmax",
        notebook="07_softmax",
        title="Log-softmax along the last axis, finite for any finite logits",
        cases=log_softmax_cases,
        expected=log_softmax_expected,
        mistakes=[
            ("a logit 800 below the others has a probability that underflows to 0, and log 0 = -inf: do not take "
             "the log of the softmax, subtract log sum_j e^(x_j - m) from x - m",
             _quiet(lambda x: np.log(stable_softmax(x)))),
            ("e^x overflows for logits above 709.8 (here 1e4): subtract the row maximum m first, "
             "log s_i = x_i - m - log sum_j e^(x_j - m)",
             _quiet(lambda x: x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True)))),
            ("each row (each slice along the last axis) has its own normaliser: sum along axis=-1 with "
             "keepdims=True, not over the whole array",
             lambda x: x - x.max() - np.log(np.sum(np.exp(x - x.max())))),
            ("each row (each slice along the last axis) has its own maximum and normaliser: axis=-1, not axis=0",
             lambda x: x - x.max(axis=0, keepdims=True)
             - np.log(np.sum(np.exp(x - x.max(axis=0, keepdims=True)), axis=0, keepdims=True))),
            ("log sum_j e^(x_j) = m + log sum_j e^(x_j - m): the maximum m must be subtracted from x_i too",
             lambda x: x - np.log(np.sum(np.exp(x - x.max(axis=-1, keepdims=True)), axis=-1, keepdims=True))),
        ],
        rtol=1e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="log_softmax_backward",
        notebook="07_softmax",
        title="Log-softmax's backward pass, G - softmax(x) * sum_i G_i",
        cases=log_softmax_backward_cases,
        expected=log_softmax_backward_expected,
        mistakes=[
            ("G - softmax(x) is right only when the entries of G sum to 1 in each row: the derivative of log s_i "
             "is delta_ij - s_j, so dL/dx_j = G_j - s_j sum_i G_i",
             lambda x, G: G - stable_softmax(x)),
            ("s * (G - <G, s>) is the backward of softmax itself (section 2); for log s_i the Jacobian is "
             "delta_ij - s_j, which gives G - s * sum_i G_i",
             lambda x, G: stable_softmax(x) * (G - np.sum(G * stable_softmax(x), axis=-1, keepdims=True))),
            ("sum_i G_i is one number per row: sum along axis=-1 with keepdims=True, not over the whole array",
             lambda x, G: G - stable_softmax(x) * np.sum(G)),
            ("sum_i G_i runs over the classes, the last axis: axis=-1 (with keepdims=True), not axis=0",
             lambda x, G: G - stable_softmax(x) * np.sum(G, axis=0, keepdims=True)),
            ("e^x overflows for logits around 1000: compute the softmax with the maximum subtracted "
             "(the layer Softmax, or np.exp of your log_softmax)",
             _quiet(lambda x, G: G - np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
                    * np.sum(G, axis=-1, keepdims=True))),
        ],
        rtol=1e-5, atol=1e-7, check_dtype=True,
    ),
    Exercise(
        name="temperature_for_half",
        notebook="07_softmax",
        title="The temperature at which the top class gets exactly one half",
        judge=temperature_judge,
        mistakes=[
            ("raise T", 1.0),
            ("divided by the temperature", 1 / T_HALF),
            ("lower T", 10.0),
        ],
    ),
]

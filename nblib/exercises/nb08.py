"""The exercises of notebook 08 (Losses)."""
import math

import numpy as np

from nblib.exercises import Exercise, number_judge


def _as_pair(output):
    """(loss as a Python float, gradient array), or None while the answer is the stub."""
    if output is None:
        return None
    loss, grad = output
    return float(loss), grad


# ---- Exercise 1: PyTorch's SmoothL1Loss(beta) ------------------------------------------------------------------

def smooth_l1_cases(rng):
    cases = []
    for shape, beta, dtype in [((6,), 1.0, np.float64), ((4, 3), 0.5, np.float64), ((2, 3, 4), 2.0, np.float32),
                               ((1, 1), 0.1, np.float64), ((5, 2), 0.25, np.float64)]:
        target = rng.standard_normal(shape)
        d = 2 * beta * rng.standard_normal(shape)
        d.flat[::5] = np.resize([0.0, beta, -beta], d.flat[::5].size)     # the target hit, and the switch at |d| = beta
        cases.append(((target + d).astype(dtype), target.astype(dtype), beta))
    return cases


def smooth_l1_expected(case):
    """A loop over the elements, in float64: the per-element penalty and its slope, then the mean."""
    pred, target, beta = case
    penalties, slopes = [], []
    for p, t in zip(pred.astype(np.float64).flat, target.astype(np.float64).flat):
        d = p - t
        penalties.append(0.5 * d * d / beta if abs(d) < beta else abs(d) - 0.5 * beta)
        slopes.append(d / beta if abs(d) < beta else math.copysign(1.0, d))
    S = pred.size
    return math.fsum(penalties) / S, (np.array(slopes).reshape(pred.shape) / S).astype(pred.dtype)


def smooth_l1_run(answer, case):
    return _as_pair(answer(*case))


def _huber(pred, target, beta):
    d = pred - target
    a = np.abs(d)
    loss = np.mean(np.where(a <= beta, 0.5 * d ** 2, beta * (a - 0.5 * beta)))
    return loss, np.clip(d, -beta, beta) / d.size


def _smooth_l1(pred, target, beta, mean=True, over_beta=True):
    d = pred - target
    a = np.abs(d)
    loss = np.mean(np.where(a < beta, 0.5 * d ** 2 / beta, a - 0.5 * beta))
    inside = d / beta if over_beta else d
    grad = np.where(a < beta, inside, np.sign(d))
    return loss, grad / d.size if mean else grad


# ---- Exercise 2: cross-entropy with label smoothing -------------------------------------------------------------

def smoothing_cases(rng):
    cases = []
    for (n, k), eps in [((4, 3), 0.1), ((1, 5), 0.2), ((6, 10), 0.05), ((3, 2), 0.0), ((5, 4), 0.1)]:
        cases.append((2 * rng.standard_normal((n, k)), rng.integers(0, k, n), eps))
    cases.append((np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 999.0]]), np.array([1, 2]), 0.1))   # large logits
    return cases


def _smoothed_loss(z, labels, eps):
    """The mean over rows of -sum_k y_k log p_k, by a loop with math, y = (1 - eps) one-hot + eps / K."""
    n, k = z.shape
    total = []
    for row, label in zip(z, labels):
        m = max(row)
        log_sum = m + math.log(math.fsum(math.exp(v - m) for v in row))
        y = [(1 - eps) * (j == label) + eps / k for j in range(k)]
        total.append(-math.fsum(y[j] * (row[j] - log_sum) for j in range(k)))
    return math.fsum(total) / n


def smoothing_expected(case, h=1e-5):
    """The loss by a loop, and its gradient by central differences of that loop."""
    z, labels, eps = case
    grad = np.zeros_like(z)
    for index in np.ndindex(*z.shape):
        plus, minus = z.copy(), z.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (_smoothed_loss(plus, labels, eps) - _smoothed_loss(minus, labels, eps)) / (2 * h)
    return _smoothed_loss(z, labels, eps), grad


def smoothing_run(answer, case):
    return _as_pair(answer(*case))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _smoothing(z, labels, y, divide=True):
    """(loss, gradient) of the cross-entropy of logits z against target rows y."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(z)
    grad = _softmax(z) * y.sum(axis=1, keepdims=True) - y
    return -np.sum(y * log_p) / n, grad / n if divide else grad


def _over_k_minus_1(z, labels, eps):
    k = z.shape[1]
    one_hot = np.eye(k)[labels]
    return _smoothing(z, labels, (1 - eps) * one_hot + eps / (k - 1) * (1 - one_hot))


def _naive_smoothing(z, labels, eps):
    k = z.shape[1]
    y = (1 - eps) * np.eye(k)[labels] + eps / k
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.sum(y * np.log(p), axis=1)), (p - y) / len(z)


def _quiet(f):
    """A mistake run without NumPy's overflow warnings (the reader's own code would show them)."""
    def run(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return run


# ---- Exercise 3: where Huber puts a constant ---------------------------------------------------------------------

VALUES = (1.0, 2.0, 3.0, 4.0, 100.0)


def huber_slope(c, delta=10.0):
    return sum(max(-delta, min(delta, c - t)) for t in VALUES)


def _huber_minimum(delta=10.0):
    """Bisection on the slope sum_s clip(c - t_s, -delta, delta), which grows with c."""
    low, high = 0.0, 100.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if huber_slope(middle, delta) < 0 else (low, middle)
    return (low + high) / 2


HUBER_C = _huber_minimum()


huber_judge = number_judge(
    HUBER_C, "the constant c", rtol=0, atol=1e-2,
    wrong=[(3.0, "3 is the median, where the constant lands for a small delta; with delta = 10 the four close "
                 "values all lie within delta of c and pull in proportion to their distance"),
           (22.0, "22 is the mean, MSE's answer; Huber caps the outlier's pull at delta = 10, "
                  "so 100 pulls no harder than a point 10 away")],
    otherwise=lambda c: (f"at c = {c:.4g} the slope sum_s clip(c - t_s, -10, 10) is {huber_slope(c):+.3g}, not 0: "
                         "find where the clipped pulls balance"))


EXERCISES = [
    Exercise(
        name="smooth_l1",
        notebook="08_losses",
        title="PyTorch's SmoothL1Loss(beta): the loss and its gradient",
        cases=smooth_l1_cases,
        expected=smooth_l1_expected,
        run=smooth_l1_run,
        mistakes=[
            ("that is Huber(delta=beta); SmoothL1Loss is Huber divided by beta: 0.5 d^2 / beta for |d| < beta, "
             "|d| - beta / 2 beyond, and its slope is d / beta inside, sign(d) outside",
             _huber),
            ("inside |d| < beta the penalty is 0.5 d^2 / beta, whose slope is d / beta: the division by beta "
             "is missing from the gradient",
             lambda p, t, beta: _smooth_l1(p, t, beta, over_beta=False)),
            ("the loss is a mean over all S elements, so each element's slope is divided by S (pred.size)",
             lambda p, t, beta: _smooth_l1(p, t, beta, mean=False)),
            ("the loss is a mean over all S elements, not a sum: np.mean for the value, and each slope divided by S",
             lambda p, t, beta: (_smooth_l1(p, t, beta)[0] * p.size, _smooth_l1(p, t, beta, mean=False)[1])),
        ],
        rtol=1e-5, atol=1e-8, check_dtype=True,
    ),
    Exercise(
        name="label_smoothing_cross_entropy",
        notebook="08_losses",
        title="Cross-entropy with label smoothing: the loss and its gradient with respect to the logits",
        cases=smoothing_cases,
        expected=smoothing_expected,
        run=smoothing_run,
        mistakes=[
            ("PyTorch's label_smoothing spreads eps over all K classes: y = (1 - eps) one-hot + eps / K "
             "(the right class gets 1 - eps + eps / K), not eps / (K - 1) over the wrong ones",
             _over_k_minus_1),
            ("the smoothed target must still sum to 1: scale the one-hot by (1 - eps) before adding eps / K",
             lambda z, labels, eps: _smoothing(z, labels, np.eye(z.shape[1])[labels] + eps / z.shape[1])),
            ("the loss is a mean over the N examples: divide the gradient by N (CrossEntropy's backward does)",
             lambda z, labels, eps: _smoothing(
                 z, labels, (1 - eps) * np.eye(z.shape[1])[labels] + eps / z.shape[1], divide=False)),
            ("logits of +-1000 overflow e^z: use CrossEntropy, or subtract each row's maximum before exp "
             "(the log-sum-exp shift of section 4)",
             _quiet(_naive_smoothing)),
        ],
        rtol=1e-6, atol=1e-8,
    ),
    Exercise(
        name="huber_constant",
        notebook="08_losses",
        title="The constant that minimises Huber(delta=10) on [1, 2, 3, 4, 100]",
        judge=huber_judge,
        mistakes=[("the median", 3.0), ("the mean", 22.0), ("not 0", 4.0)],
    ),
]

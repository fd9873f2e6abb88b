"""The exercises of notebook 03 (ReLU)."""
import math

import numpy as np

from nblib.activations import ReLU
from nblib.datasets import make_a_approx_b
from nblib.exercises import Exercise, NotAttempted
from nblib.layers import Dense
from nblib.model import Sequential


# ---- 1. the two-unit network of section 1, weights set by hand ----------------------------------

def band_points():
    """The notebook's 400 points and a 101 x 101 grid of the unit square, without the points within
    0.002 of the band's edges |a - b| = 0.15 (where rounding could decide), with their labels."""
    x, y = make_a_approx_b(n=400, seed=0)
    a, b = np.meshgrid(np.linspace(0, 1, 101), np.linspace(0, 1, 101))
    grid = np.stack([a.ravel(), b.ravel()], axis=1)
    points = np.concatenate([x.astype(np.float64), grid])
    gap = np.abs(points[:, 0] - points[:, 1])
    keep = np.abs(gap - 0.15) > 0.002
    return points[keep], (gap[keep] < 0.15).astype(int)


def band_judge(answer):
    """None when Dense(2, H) -> ReLU -> Dense(H, 2) with these weights puts every point in its class."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        return "give the four arrays as a tuple (W1, b1, W2, b2)"
    if any(a is None for a in answer):
        raise NotAttempted
    W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in answer)
    if W1.ndim != 2 or W1.shape[0] != 2 or b1.shape != (W1.shape[1],) or W2.shape != (W1.shape[1], 2) \
            or b2.shape != (2,):
        return (f"the shapes should be W1 (2, H), b1 (H,), W2 (H, 2), b2 (2,) for H hidden units; got "
                f"{W1.shape}, {b1.shape}, {W2.shape}, {b2.shape}")
    x, y = band_points()
    scores = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    wrong = scores.argmax(axis=1) != y   # a tie counts as class 0, as argmax does
    if not wrong.any():
        return None
    if wrong.all():
        return "every point is in the wrong class: the two columns of W2 and b2 are swapped (class 1 is column 1)"
    if np.all(scores.argmax(axis=1) == 0):
        return ("class 0 wins everywhere: class 1's score must be higher when |a - b| < 0.15, "
                "e.g. 0.15 - h1 - h2 against 0 (is the 0.15 in b2?)")
    a_side = x[wrong, 0] > x[wrong, 1]
    if a_side.all() or not a_side.any():
        side = "a - b" if a_side.all() else "b - a"
        return (f"points where {side} >= 0.15 are called class 1: no unit sees {side}, "
                f"the two hidden units should compute max(a - b, 0) and max(b - a, 0)")
    first = x[wrong][0]
    return (f"{wrong.sum()} of {len(x)} points are in the wrong class, e.g. (a, b) = ({first[0]:.2f}, {first[1]:.2f}), "
            f"class {y[wrong][0]}")


BAND_UNITS = np.array([[1.0, -1.0], [-1.0, 1.0]])   # h1 = max(a - b, 0), h2 = max(b - a, 0)


# ---- 2. backward through Dense -> ReLU -> Dense to the first layer's parameters ------------------

def relu_net_cases(rng):
    """(x, W1, b1, W2, G): a square first layer first (where W2 untransposed still runs); in each case
    one hidden unit with zero weights and bias (pre-activation exactly 0, the kink) and one that is
    negative on every input (dead); a batch of 1; float32 and float64."""
    cases = []
    for (n, d, h, m), dtype in [((6, 3, 3, 3), np.float64), ((5, 2, 6, 2), np.float64),
                                ((1, 3, 4, 2), np.float64), ((10, 4, 5, 3), np.float32)]:
        x = rng.standard_normal((n, d))
        W1, b1 = rng.standard_normal((d, h)), rng.standard_normal(h) * 0.5
        W1[:, 0], b1[0] = 0.0, 0.0                       # unit 0: z = 0 on every input
        W1[:, 1], b1[1] = 0.01 * W1[:, 1], -5.0          # unit 1: dead
        W2, G = rng.standard_normal((h, m)), rng.standard_normal((n, m))
        cases.append(tuple(a.astype(dtype) for a in (x, W1, b1, W2, G)))
    return cases


def relu_net_expected(case):
    """The notebook's Dense, ReLU and Dense layers (tested on their own), in float64."""
    x, W1, b1, W2, G = (a.astype(np.float64) for a in case)
    model = Sequential([Dense(*W1.shape), ReLU(), Dense(*W2.shape)]).astype(np.float64)
    model.layers[0].params["W"][...], model.layers[0].params["b"][...] = W1, b1
    model.layers[2].params["W"][...] = W2
    model.forward(x)
    model.backward(G)
    return model.layers[0].grads["W"].copy(), model.layers[0].grads["b"].copy()


def relu_net_with(mask, W2_of=lambda W2: W2.T):
    """A backward pass that multiplies by mask(z) at the ReLU and by W2_of(W2) through the second layer."""
    def backward(x, W1, b1, W2, G):
        grad_z = (G @ W2_of(W2)) * mask(x @ W1 + b1)
        return x.T @ grad_z, grad_z.sum(axis=0)
    return backward


# ---- 5. softplus, the smooth ReLU, with its gradient ----------------------------------------------

def softplus_cases(rng):
    """x with zeros, tiny, moderate and huge values (e^x overflows float64 beyond 709, float32 beyond
    88), in float64 and float32, of several shapes; and G of the same shape."""
    cases = []
    for shape, dtype, big in [((9,), np.float64, 800.0), ((3, 4), np.float64, 50.0), ((2, 3, 4), np.float32, 100.0),
                              ((1, 6), np.float32, 30.0)]:
        x = rng.standard_normal(shape) * 3
        x.flat[:5] = [0.0, 1e-3, -big, big, -40.0]
        cases.append((x.astype(dtype), rng.standard_normal(shape).astype(dtype)))
    return cases


def softplus_expected(case):
    """Element by element with Python's math: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), and its
    derivative 1 / (1 + e^-x), written as e^x / (1 + e^x) for x < 0 (nothing overflows)."""
    x, G = case
    y = np.array([max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in x.ravel().tolist()]).reshape(x.shape)
    s = np.array([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                  for v in x.ravel().tolist()]).reshape(x.shape)
    return y.astype(x.dtype), (G * s).astype(x.dtype)


def softplus_naive(x, G):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.log(1 + np.exp(x)), G * np.exp(x) / (1 + np.exp(x))


def softplus_no_log1p(x, G):
    s = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    return np.maximum(x, 0) + np.log(1 + np.exp(-np.abs(x))), (G * s).astype(x.dtype)


def softplus_relu_grad(x, G):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))), G * (x > 0)


EXERCISES = [
    Exercise(
        name="relu_band_weights",
        notebook="03_relu",
        title="Weights by hand for a two-unit ReLU network that answers a ≈ b exactly",
        judge=band_judge,
        mistakes=[
            ("the two columns of W2 and b2 are swapped",
             (BAND_UNITS, np.zeros(2), np.array([[-1.0, 0.0], [-1.0, 0.0]]), np.array([0.15, 0.0]))),
            ("is the 0.15 in b2?",
             (BAND_UNITS, np.zeros(2), np.array([[0.0, -1.0], [0.0, -1.0]]), np.zeros(2))),
            ("no unit sees b - a",
             (np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2), np.array([[0.0, -1.0], [0.0, -1.0]]),
              np.array([0.0, 0.15]))),
        ],
    ),
    Exercise(
        name="relu_net_backward",
        notebook="03_relu",
        title="Backward through Dense -> ReLU -> Dense to the first layer's weights and bias",
        cases=relu_net_cases,
        expected=relu_net_expected,
        mistakes=[
            ("the ReLU's mask is missing: the gradient passes only where z = x W1 + b1 > 0, G ⊙ [z > 0]",
             relu_net_with(lambda z: 1.0)),
            ("at the kink z = 0 the course takes f'(0) = 0, as PyTorch: the mask is z > 0, not z >= 0",
             relu_net_with(lambda z: z >= 0)),
            ("the gradient reaching the hidden layer is G W2^T (Dense's dL/dx): W2 transposed",
             relu_net_with(lambda z: z > 0, W2_of=lambda W2: W2)),
        ],
        rtol=1e-5, atol=1e-6,
    ),
    Exercise(
        name="softplus",
        notebook="03_relu",
        title="Softplus log(1 + e^x), the smooth ReLU, and its gradient, finite for every input",
        cases=softplus_cases,
        expected=softplus_expected,
        mistakes=[
            ("e^x overflows for large x (inf, then inf / inf = nan): write softplus(x) = max(x, 0) + "
             "log1p(e^-|x|), where e only ever sees -|x| <= 0", softplus_naive),
            ("log(1 + e^-|x|) loses e^-|x| when it is below 1e-16 (1 + tiny rounds to 1): np.log1p(t) "
             "computes log(1 + t) without forming 1 + t", softplus_no_log1p),
            ("softplus' is 1 / (1 + e^-x), smooth, not ReLU's step [x > 0]: the gradient is G times it",
             softplus_relu_grad),
        ],
        rtol=1e-5, atol=0.0, check_dtype=True,
    ),
]

"""The exercises of notebook 19 (pooling)."""
import numpy as np

from nblib.exercises import Exercise, number_judge
from nblib.layers import AvgPool2D, Conv2D, MaxPool2D

# ---- 1. max_pool_backward_split -----------------------------------------------------------------


def split_cases(rng):
    """(x, grad_y, k): small integers (many ties), ReLU'd maps (windows of zeros), random floats (no
    ties), sizes the floor cuts (pixels in no window); float32 and float64."""
    cases = []
    for (N, C, H, W), k, kind, dtype in [((2, 2, 4, 4), 2, "integers", np.float64),
                                         ((1, 3, 6, 6), 3, "relu", np.float32),
                                         ((2, 1, 5, 7), 2, "integers", np.float32),
                                         ((3, 2, 6, 4), 2, "floats", np.float64),
                                         ((1, 1, 4, 4), 4, "zeros", np.float64)]:
        if kind == "integers":
            x = rng.integers(0, 3, (N, C, H, W))
        elif kind == "relu":
            x = np.maximum(rng.standard_normal((N, C, H, W)) - 0.5, 0)
        elif kind == "zeros":
            x = np.zeros((N, C, H, W))
        else:
            x = rng.standard_normal((N, C, H, W))
        G = rng.standard_normal((N, C, H // k, W // k))
        cases.append((x.astype(dtype), G.astype(dtype), k))
    return cases


def split_expected(case):
    """A loop over windows: the window's gradient divided by its number of maxima, to each maximum."""
    x, G, k = case
    grad_x = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(G.shape[2]):
                for j in range(G.shape[3]):
                    window = x[n, c, k * i:k * i + k, k * j:k * j + k]
                    tied = window == window.max()
                    grad_x[n, c, k * i:k * i + k, k * j:k * j + k] += tied * (G[n, c, i, j] / tied.sum())
    return grad_x.astype(G.dtype)


def _split(rule):
    def answer(x, G, k):
        if rule == "first":
            pool = MaxPool2D(k)
            pool.forward(x)
            return pool.backward(G)
        N, C, Ho, Wo = G.shape
        grad_x = np.zeros(x.shape, G.dtype)
        blocks = x[:, :, :Ho * k, :Wo * k].reshape(N, C, Ho, k, Wo, k)
        tied = blocks == blocks.max(axis=(3, 5), keepdims=True)
        count = tied.sum(axis=(3, 5), keepdims=True)
        share = {"full": 1, "k2": k * k, "split": count, "upcast": count}[rule]
        grad_x[:, :, :Ho * k, :Wo * k] = (tied * (G[:, :, :, None, :, None] / share)).reshape(N, C, Ho * k, Wo * k)
        return grad_x.astype(np.float64) if rule == "upcast" else grad_x
    return answer


# ---- 2. avg_pool_weights ------------------------------------------------------------------------

def avg_cases(rng):
    return [(3, 2, rng.standard_normal((2, 3, 6, 6))), (2, 3, rng.standard_normal((1, 2, 9, 7))),
            (4, 2, rng.standard_normal((3, 4, 4, 5))), (1, 4, rng.standard_normal((2, 1, 8, 8)))]


def avg_run(answer, case):
    """Conv2D(C, C, k, stride=k) with the reader's weights (bias 0), on x."""
    C, k, x = case
    W = answer(C, k)
    if W is None:
        return None
    W = np.asarray(W, dtype=np.float64)
    if W.shape != (C, C, k, k):
        raise ValueError(f"the weights of Conv2D({C}, {C}, {k}) have shape {(C, C, k, k)}, got {W.shape} "
                         f"(fill every tap: multiply by np.ones((k, k)))")
    conv = Conv2D(C, C, k, stride=k).astype(np.float64)
    conv.params["W"][...], conv.params["b"][...] = W, 0.0
    return conv.forward(x)


def avg_expected(case):
    """nblib's AvgPool2D (tested against a loop and finite differences in tests/test_pooling.py)."""
    C, k, x = case
    return AvgPool2D(k).forward(x)


# ---- 3. tie_slope (a judged number) ------------------------------------------------------------

tie_judge = number_judge(
    0.5, "the slope", rtol=0, atol=1e-9,
    wrong=[(0.25, "0.25 is the split rule's share, a choice; the central difference computes "
                  "(max(h, 0, 0, 0) - max(-h, 0, 0, 0)) / (2 h): work it out"),
           (1.0, "1 is the slope from above only (nudging the pixel up makes it the maximum); nudged down, the max "
                 "stays 0: the central difference averages the two one-sided slopes"),
           (0.0, "0 is the slope from below only: the central difference averages it with the slope from above")],
    otherwise=lambda value: f"{value} is not (max(h, 0, 0, 0) - max(-h, 0, 0, 0)) / (2 h): work it out for a small h")


EXERCISES = [
    Exercise(
        name="max_pool_backward_split",
        notebook="19_pooling",
        title="Max pooling's backward pass with ties split equally",
        cases=split_cases, expected=split_expected,
        describe=lambda c: f"(x {c[0].shape} {c[0].dtype}{', all zero' if not c[0].any() else ''}, k={c[2]})",
        mistakes=[
            ("that is MaxPool2D's rule, the first maximum takes all: here every tied maximum gets an equal share",
             _split("first")),
            ("each of the m tied maxima gets G / m: giving each the whole G counts the window's gradient m times",
             _split("full")),
            ("divide by the number of maxima of the window, not by its size k * k (that is average pooling's share)",
             _split("k2")),
            ("keep grad_y's dtype: float32 stays float32 (np.zeros(x.shape) is float64; pass dtype=grad_y.dtype)",
             _split("upcast")),
        ],
        rtol=1e-6, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="avg_pool_weights",
        notebook="19_pooling",
        title="The weights of the Conv2D that is AvgPool2D(k)",
        cases=avg_cases, run=avg_run, expected=avg_expected,
        describe=lambda c: f"(C={c[0]}, k={c[1]}, x {c[2].shape})",
        mistakes=[
            ("output channel o must see input channel o only: W[o, c] is 0 for c != o, or the channels get mixed",
             lambda C, k: np.full((C, C, k, k), 1 / k**2)),
            ("that sums each window: the mean divides by the k * k pixels, so each weight is 1 / k^2",
             lambda C, k: np.eye(C)[:, :, None, None] * np.ones((k, k))),
            ("a k x k window has k^2 pixels, not k: each weight is 1 / k^2",
             lambda C, k: np.eye(C)[:, :, None, None] * np.full((k, k), 1 / k)),
        ],
        rtol=1e-9, atol=1e-12,
    ),
    Exercise(
        name="tie_slope",
        notebook="19_pooling",
        title="What finite differences see at a tie",
        judge=tie_judge,
        mistakes=[("the split rule's share", 0.25), ("the slope from above only", 1.0),
                  ("the slope from below only", 0.0)],
    ),
]

"""The exercises of notebook 24 (batch normalisation)."""
import copy

import numpy as np

from nblib.batchnorm import BatchNorm1D
from nblib.exercises import Exercise, NotAttempted
from nblib.layers import Dense

NOTEBOOK = "24_batch_norm"


# ---- 1. the backward pass, against finite differences ----------------------------------------------

def bn_forward(x, gamma, eps):
    """Batch normalisation in training, (m, F), written out once more for the finite differences."""
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps)


def backward_cases(rng):
    """(g, x, gamma, eps): several batch sizes (2, the smallest), gamma negative too, a feature with a
    variance (1e-4) close to eps, where leaving eps out shows, and an eps other than the default."""
    cases = []
    for (m, F), loc, scale, eps in [((7, 4), 2.0, 3.0, 1e-5), ((2, 3), 0.0, 1.0, 1e-5),
                                    ((16, 1), -5.0, 0.5, 1e-3), ((5, 6), 1.0, 0.01, 1e-5)]:
        x = rng.normal(loc, scale, (m, F))
        gamma = rng.uniform(0.5, 2.0, F) * rng.choice([-1.0, 1.0], F)
        cases.append((rng.standard_normal((m, F)), x, gamma, eps))
    return cases


def backward_expected(case):
    """Central differences of L = sum(g * y) for every element of x and gamma (steps scaled to each
    feature's spread); dL/dbeta = sum of g exactly, beta being added."""
    g, x, gamma, eps = case
    L = lambda x, gamma: np.sum(g * bn_forward(x, gamma, eps))
    dx, dgamma = np.zeros_like(x), np.zeros_like(gamma)
    steps = 1e-5 * x.std(axis=0)
    for i, f in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i, f] = steps[f]
        dx[i, f] = (L(x + e, gamma) - L(x - e, gamma)) / (2 * steps[f])
    for f in range(len(gamma)):
        e = np.zeros_like(gamma)
        e[f] = 1e-6
        dgamma[f] = (L(x, gamma + e) - L(x, gamma - e)) / 2e-6
    return dx, dgamma, g.sum(axis=0)


def _pieces(g, x, gamma, eps):
    m = len(x)
    c = x - x.mean(axis=0)
    s = 1 / np.sqrt((c ** 2).mean(axis=0) + eps)
    return m, c, s, c * s, gamma * g


def no_mu_path(g, x, gamma, eps=1e-5):
    m, c, s, x_hat, h = _pieces(g, x, gamma, eps)
    dv = -0.5 * s ** 3 * np.sum(h * c, axis=0)
    return h * s + 2 * c / m * dv, np.sum(g * x_hat, axis=0), g.sum(axis=0)


def no_var_path(g, x, gamma, eps=1e-5):
    m, c, s, x_hat, h = _pieces(g, x, gamma, eps)
    return s * (h - h.mean(axis=0)), np.sum(g * x_hat, axis=0), g.sum(axis=0)


def compact(g, x, gamma, eps, with_gamma=True, with_eps=True):
    m, c, s, x_hat, h = _pieces(g, x, gamma, eps if with_eps else 0.0)
    scale = gamma * s if with_gamma else s
    dx = scale * (g - g.mean(axis=0) - x_hat * np.mean(g * x_hat, axis=0))
    return dx, np.sum(g * x_hat, axis=0), g.sum(axis=0)


def dgamma_with_x(g, x, gamma, eps=1e-5):
    dx, _, dbeta = compact(g, x, gamma, eps)
    return dx, np.sum(g * x, axis=0), dbeta


# ---- 2. the running statistics, over several training steps ------------------------------------------

def running_cases(rng):
    """(batches, momentum): (N, F) and (N, C, H, W) batches in float32 (the layer's dtype) and float64,
    a batch of two, momentum 0.1 (the default), 0.5 and 1 (keep only the last batch)."""
    cases = []
    for shape, dtype, momentum, steps in [((16, 4), np.float32, 0.1, 5), ((2, 3), np.float64, 0.5, 4),
                                          ((4, 3, 5, 6), np.float32, 0.1, 3), ((3, 2, 2, 2), np.float64, 1.0, 2)]:
        F = shape[1]
        loc = rng.uniform(-3, 3, F).reshape([1, F] + [1] * (len(shape) - 2))
        scale = rng.uniform(0.5, 4, F).reshape(loc.shape)
        cases.append(([(loc + scale * rng.standard_normal(shape)).astype(dtype) for _ in range(steps)], momentum))
    return cases


def running_run(answer, case):
    """Start from running_mean = 0 and running_var = 1, as the layer does, and apply the reader's update
    once per batch: the trajectory of the two arrays."""
    batches, momentum = case
    F, dtype = batches[0].shape[1], batches[0].dtype
    running_mean, running_var = np.zeros(F, dtype), np.ones(F, dtype)
    trajectory = []
    for x in batches:
        result = answer(running_mean.copy(), running_var.copy(), x, momentum)
        if result is None:
            raise NotAttempted
        running_mean, running_var = (np.asarray(a) for a in result)
        trajectory += [running_mean.copy(), running_var.copy()]
    return trajectory


def running_expected(case):
    """torch.nn.BatchNorm1d/2d's documented update, one feature at a time in float64, with np.var(ddof=1)."""
    batches, momentum = case
    F, dtype = batches[0].shape[1], batches[0].dtype
    running_mean, running_var = np.zeros(F), np.ones(F)
    trajectory = []
    for x in batches:
        for f in range(F):
            values = x[:, f].astype(np.float64).ravel()          # every value of feature (channel) f
            running_mean[f] = (1 - momentum) * running_mean[f] + momentum * values.mean()
            running_var[f] = (1 - momentum) * running_var[f] + momentum * values.var(ddof=1)
        trajectory += [running_mean.astype(dtype), running_var.astype(dtype)]
    return trajectory


def _statistics(x):
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.var(axis=axes), x.size // x.shape[1]


def running_biased(running_mean, running_var, x, momentum=0.1):
    mean, var, m = _statistics(x)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def running_swapped(running_mean, running_var, x, momentum=0.1):
    mean, var, m = _statistics(x)
    return (momentum * running_mean + (1 - momentum) * mean,
            momentum * running_var + (1 - momentum) * var * m / (m - 1))


def running_batch_size(running_mean, running_var, x, momentum=0.1):
    mean, var, m = _statistics(x)
    N = len(x)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var * N / (N - 1)


# ---- 3. folding BatchNorm1D into the Dense layer before it (evaluation mode) ------------------------------

def fold_cases(rng):
    """(dense, bn, x): float64 layers, a Dense bias that is not zero, gamma and beta random, running
    statistics far from 0 and 1 after 20 training steps; one layer with eps = 0.01 and small variances."""
    cases = []
    for n_in, n_out, eps, spread in [(6, 4, 1e-5, 3.0), (3, 1, 1e-5, 1.0), (10, 7, 1e-2, 0.05)]:
        dense = Dense(n_in, n_out, rng=rng).astype(np.float64)
        bn = BatchNorm1D(n_out, eps=eps).astype(np.float64)
        dense.params["b"][...] = rng.standard_normal(n_out)
        bn.params["gamma"][...] = rng.uniform(0.5, 2, n_out) * rng.choice([-1.0, 1.0], n_out)
        bn.params["beta"][...] = rng.standard_normal(n_out)
        for _ in range(20):
            bn.forward(dense.forward(rng.normal(1.0, spread, (32, n_in))))
        cases.append((dense, bn, rng.normal(1.0, spread, (10, n_in))))
    return cases


def fold_run(answer, case):
    """x @ W + b with the reader's (W, b), on copies of the layers (an answer may change them in place)."""
    dense, bn, x = case
    result = answer(copy.deepcopy(dense), copy.deepcopy(bn))
    if result is None:
        raise NotAttempted
    W, b = result
    return x @ np.asarray(W) + np.asarray(b)


def fold_expected(case):
    """The two layers themselves, the BatchNorm1D in evaluation (both tested in tests/)."""
    dense, bn, x = case
    return copy.deepcopy(bn).forward(copy.deepcopy(dense).forward(x), training=False)


def _fold(dense, bn, eps=True, sqrt=True, dense_bias=True):
    var = bn.running_var + (bn.eps if eps else 0.0)
    scale = bn.params["gamma"] / (np.sqrt(var) if sqrt else var)
    b = (dense.params["b"] if dense_bias else 0.0) - bn.running_mean
    return dense.params["W"] * scale, b * scale + bn.params["beta"]


def describe_fold(case):
    dense, bn, x = case
    return f"({dense!r}, {bn!r} with eps={bn.eps:g}, x of shape {x.shape})"


# ---- 4. the bias of a layer followed by batch normalisation ------------------------------------------

def judge_grad_b(grad_b):
    b = np.asarray(grad_b, dtype=float)
    if b.shape != (3,):
        return (f"grad_b should have the shape (3,), one number per feature (dense.grads['b']), "
                f"got {b.shape}")
    if np.abs(b).max() > 1e-4:
        return ("grad_b is far from 0: did you call bn.forward with training=False? In evaluation the "
                "running statistics are constants and the bias does matter; in training it does not")
    return None


EXERCISES = [
    Exercise(
        name="batch_norm_backward",
        notebook=NOTEBOOK,
        title="Batch normalisation's backward in training, step by step along the graph",
        cases=backward_cases,
        expected=backward_expected,
        mistakes=[
            ("the path through mu is missing: each column of dx must sum to 0 (step 5: dL/dmu = -sum of "
             "dL/dc; step 6 adds dL/dmu / m to every dL/dx_i)", no_mu_path),
            ("the path through the variance is missing (steps 3 and 4: dL/dv = -1/2 s^3 sum h c, and "
             "dL/dc_i gets 2 c_i / m * dL/dv)", no_var_path),
            ("gamma is missing from dx: the gradient reaching x_hat is h = gamma * g, not g",
             lambda g, x, gamma, eps=1e-5: compact(g, x, gamma, eps, with_gamma=False)),
            ("eps is missing: s = 1 / sqrt(v + eps), the same s the forward pass divided by",
             lambda g, x, gamma, eps=1e-5: compact(g, x, gamma, eps, with_eps=False)),
            ("dgamma multiplies g by x: it is the sum over the batch of g * x_hat (y = gamma * x_hat + beta)",
             dgamma_with_x),
        ],
        rtol=1e-5, atol=1e-6,
    ),
    Exercise(
        name="update_running",
        notebook=NOTEBOOK,
        title="The running mean and variance, updated as torch.nn.BatchNorm1d/2d",
        cases=running_cases,
        run=running_run,
        expected=running_expected,
        describe=lambda case: (f"({len(case[0])} batches of shape {case[0][0].shape} {case[0][0].dtype}, "
                               f"momentum={case[1]})"),
        mistakes=[
            ("the running variance stores the UNBIASED variance, m/(m-1) times the biased one the batch is "
             "normalised with", running_biased),
            ("momentum is the weight of the NEW value: (1 - momentum) * running + momentum * batch statistic",
             running_swapped),
            ("for images m counts every value of a channel, N * H * W, not the batch size N: use m/(m-1) "
             "with m = x.size // C", running_batch_size),
        ],
        rtol=1e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="fold_batch_norm",
        notebook=NOTEBOOK,
        title="Fold an evaluation-mode BatchNorm1D into the Dense layer before it",
        cases=fold_cases,
        run=fold_run,
        expected=fold_expected,
        describe=describe_fold,
        mistakes=[
            ("eps is missing: the standard deviation is sqrt(running_var + eps)",
             lambda dense, bn: _fold(dense, bn, eps=False)),
            ("the variance needs its square root: scale by gamma / sqrt(running_var + eps)",
             lambda dense, bn: _fold(dense, bn, sqrt=False)),
            ("the Dense layer's own bias is missing from b: b = (b_dense - running_mean) * scale + beta",
             lambda dense, bn: _fold(dense, bn, dense_bias=False)),
        ],
        rtol=1e-7, atol=1e-9,
    ),
    Exercise(
        name="bias_before_batch_norm",
        notebook=NOTEBOOK,
        title="The gradient reaching the bias of a Dense layer followed by batch normalisation",
        judge=judge_grad_b,
        mistakes=[
            ("training=False", np.array([0.31, -1.24, 0.57])),   # what evaluation mode gives: not zero
            ("one number per feature", np.zeros((5, 3))),         # dense.grads["W"], not ["b"]
        ],
    ),
]

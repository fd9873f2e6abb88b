"""The exercises of notebook 09 (stochastic gradient descent), and the driver that notebooks 10-12's
optimizer exercises share: the reader's step function run for several steps on a noisy bowl."""
import itertools

import numpy as np

from nblib.exercises import Exercise, number_judge


# ---- shared by the optimizer exercises of notebooks 09-12 -----------------------------------------

def bowl_cases(rng, settings, steps=8, noise=0.5):
    """One case per (shape, dtype, hyper-parameters): a start theta_0, curvatures h and the gradient noise
    of each step, all of that dtype; the gradient at step t is g_t = h * theta_{t-1} + noise_t."""
    cases = []
    for shape, dtype, hyper in settings:
        theta0 = rng.standard_normal(shape).astype(dtype)
        h = rng.uniform(0.5, 3.0, shape).astype(dtype)
        noise_t = (noise * rng.standard_normal((steps, *shape))).astype(dtype)
        cases.append((theta0, h, noise_t, hyper))
    return cases


def drive(answer, case, stateful=True):
    """The reader's `answer(p, g, state, **hyper)` (or `answer(p, g, **hyper)`) called once per step, on
    g_t = h * theta_{t-1} + noise_t; the path theta_1..theta_T as one array (None if it returned None)."""
    theta0, h, noise_t, hyper = case
    p, state, path = theta0.copy(), {}, []
    for n in noise_t:
        g = h * p + n
        p = answer(p, g, state, **hyper) if stateful else answer(p, g, **hyper)
        if p is None:
            return None
        path.append(np.array(p, copy=True))
    return np.stack(path)


def reference_path(case, rule):
    """The path of `rule(theta, g, t, memory)`, torch.optim's documented algorithm for one scalar (Python
    floats), run element by element with g_t = h * theta_{t-1} + noise_t; returned in the case's dtype."""
    theta0, h, noise_t, hyper = case
    path = np.zeros((len(noise_t), *theta0.shape))
    for i in np.ndindex(theta0.shape):
        theta, memory = float(theta0[i]), {}
        for t, n in enumerate(noise_t, start=1):
            g = float(h[i]) * theta + float(n[i])
            theta = rule(theta, g, t, memory, **hyper)
            path[(t - 1, *i)] = theta
    return path.astype(theta0.dtype)


def describe_bowl(case):
    theta0, _, noise_t, hyper = case
    return (f"({theta0.dtype} {theta0.shape}, {len(noise_t)} steps"
            + "".join(f", {k}={v!r}" for k, v in hyper.items()) + ")")


# ---- 1. one SGD step with weight decay --------------------------------------------------------------

def sgd_cases(rng):
    """Bowls g = h * theta without noise (so that the closed form holds), float32 and float64; one
    learning rate arrives as a NumPy float64, which must not turn a float32 array into float64."""
    settings = [((3,), np.float64, dict(lr=0.1, weight_decay=0.0)),
                ((2, 3), np.float64, dict(lr=0.1, weight_decay=0.5)),
                ((4,), np.float32, dict(lr=0.05, weight_decay=0.2)),
                ((2, 2), np.float32, dict(lr=np.float64(0.1), weight_decay=0.0)),
                ((5,), np.float64, dict(lr=0.3, weight_decay=1.0))]
    return bowl_cases(rng, settings, steps=6, noise=0.0)


def sgd_expected(case):
    """The closed form of section 2: theta_t = (1 - lr (h + lambda))^t theta_0, in the case's dtype."""
    theta0, h, noise_t, hyper = case
    t = np.arange(1, len(noise_t) + 1).reshape(-1, *([1] * theta0.ndim))
    factor = 1 - float(hyper["lr"]) * (h.astype(np.float64) + hyper["weight_decay"])
    return (factor ** t * theta0.astype(np.float64)).astype(theta0.dtype)


# ---- 2. the variance of a mini-batch gradient, batches drawn without replacement --------------------

def variance_cases(rng):
    """(grads, batch_size): N per-example gradients of D coordinates, small enough to list every batch;
    batch sizes 1, 2, N - 1 and N (the full batch, whose mean never varies)."""
    cases = []
    for n, d in [(5, 1), (6, 3), (7, 2), (8, 4)]:
        grads = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.standard_normal(d)
        cases += [(grads, size) for size in (1, 2, n - 1, n)]
    return cases


def variance_expected(case):
    """Every batch of batch_size distinct examples listed (each equally likely): the variance of their means."""
    grads, size = case
    means = np.array([grads[list(batch)].mean(axis=0) for batch in itertools.combinations(range(len(grads)), size)])
    return means.var(axis=0)


# ---- 3. the largest stable learning rate with weight decay -----------------------------------------

LARGEST_LR = 2 / (20 + 0.5)   # 2 / (h_max + lambda) on the bowl h = (1, 20) with weight_decay = 0.5


largest_lr_judge = number_judge(
    LARGEST_LR, "the learning rate", rtol=0.01,
    wrong=[(2 / 20, "2 / h_max = 0.1 is the limit without weight decay: the decay adds lambda * theta to the "
                    "gradient, so every curvature h_i becomes h_i + lambda"),
           (2 / 21, "2 / (h_min + h_max) is the best single rate for speed, not the largest one that converges: "
                    "the limit comes from the steepest direction alone"),
           (2 / 21.5, "lambda is added to every curvature, so only h_max + lambda matters, not h_min + h_max + lambda")],
    otherwise="not the limit: one step multiplies theta_i by 1 - lr (h_i + lambda); find the lr where the "
              "steepest direction's factor reaches -1")


EXERCISES = [
    Exercise(
        name="sgd_step",
        notebook="09_sgd",
        title="One SGD step with weight decay, as torch.optim.SGD (momentum 0)",
        cases=sgd_cases,
        expected=sgd_expected,
        run=lambda answer, case: drive(answer, case, stateful=False),
        describe=describe_bowl,
        mistakes=[
            ("weight_decay is not used: add weight_decay * theta to the gradient before the step",
             lambda p, g, lr, weight_decay=0.0: p - float(lr) * g),
            ("the weight decay is part of the gradient, so the learning rate multiplies it too: "
             "theta - lr * (g + weight_decay * theta)",
             lambda p, g, lr, weight_decay=0.0: p - float(lr) * g - weight_decay * p),
            ("the decay uses theta_{t-1}, before the step: theta - lr * (g + weight_decay * theta), "
             "not a shrink applied after the step",
             lambda p, g, lr, weight_decay=0.0: (1 - float(lr) * weight_decay) * (p - float(lr) * g)),
            ("the L2 penalty's gradient is + weight_decay * theta (it pulls theta towards 0): check the sign",
             lambda p, g, lr, weight_decay=0.0: p - float(lr) * (g - weight_decay * p)),
            ("a NumPy float64 learning rate turns a float32 array into float64: convert it with float(lr), as "
             "the notebook's Optimizer does (or update p in place, p -= ...)",
             lambda p, g, lr, weight_decay=0.0: p - lr * (g + weight_decay * p)),
        ],
        rtol=2e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="minibatch_variance",
        notebook="09_sgd",
        title="The variance of a mini-batch gradient drawn without replacement (finite-population correction)",
        cases=variance_cases,
        expected=variance_expected,
        describe=lambda case: f"(grads of shape {case[0].shape}, batch_size={case[1]})",
        mistakes=[
            ("sigma^2 / |B| holds for examples drawn with replacement; without replacement multiply by the "
             "finite-population correction (N - |B|) / (N - 1), which makes the full batch's variance 0",
             lambda grads, size: grads.var(axis=0) / size),
            ("with sigma^2 the population variance (the mean over all N, ddof=0), the correction is "
             "(N - |B|) / (N - 1), not 1 - |B| / N",
             lambda grads, size: grads.var(axis=0) / size * (1 - size / len(grads))),
            ("the mini-batch gradient is the mean over the batch, not the sum: its variance falls like 1 / |B|",
             lambda grads, size: grads.var(axis=0) * size * (len(grads) - size) / (len(grads) - 1)),
        ],
        rtol=1e-9, atol=1e-12,
    ),
    Exercise(
        name="largest_stable_lr",
        notebook="09_sgd",
        title="The largest learning rate for which SGD with weight decay converges on the bowl h = (1, 20)",
        judge=largest_lr_judge,
        mistakes=[
            ("2 / h_max = 0.1 is the limit without weight decay", 0.1),
            ("2 / (h_min + h_max) is the best single rate for speed", 2 / 21),
        ],
    ),
]

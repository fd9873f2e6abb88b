"""The exercises of notebook 13 (Adadelta)."""
import numpy as np

from nblib.exercises import Exercise, number_judge


# ---- exercise 1: one Adadelta step, driven over several steps ----------------------------------------

def adadelta_cases(rng):
    """(theta0, gradients (T, ...), lr, rho, eps): shapes, float32 and float64, non-default settings;
    lr != 1 so that the scaled step is told from the stored one, eps up to 1e-2 so that it shows."""
    cases = []
    for shape, dtype, lr, rho, eps in [((3,), np.float64, 1.0, 0.9, 1e-6), ((2, 3), np.float64, 0.5, 0.8, 1e-4),
                                       ((4,), np.float32, 2.0, 0.95, 1e-3), ((1,), np.float64, 1.0, 0.0, 1e-2),
                                       ((3, 2), np.float32, 0.3, 0.9, 1e-6)]:
        theta0 = rng.standard_normal(shape).astype(dtype)
        grads = (rng.standard_normal((8,) + shape) * rng.choice([0.01, 1.0, 30.0])).astype(dtype)
        cases.append((theta0, grads, lr, rho, eps))
    return cases


def adadelta_run(answer, case):
    """The path theta_1..theta_T of the reader's `adadelta_step`, from v_0 = u_0 = 0."""
    theta0, grads, lr, rho, eps = case
    theta, v, u = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
    path = []
    for g in grads:
        out = answer(theta, g.copy(), v, u, lr, rho, eps)
        if out is None:
            return None
        theta, v, u = out
        path.append(np.array(theta, copy=True))
    return np.stack(path)


def adadelta_expected(case):
    """Zeiler's rule with PyTorch's lr, one scalar at a time in Python floats (float64)."""
    theta0, grads, lr, rho, eps = case
    path = np.empty(grads.shape, dtype=np.float64)
    for k in np.ndindex(theta0.shape):
        theta, v, u = float(theta0[k]), 0.0, 0.0
        for t in range(len(grads)):
            g = float(grads[(t,) + k])
            v = rho * v + (1 - rho) * g * g
            delta = ((u + eps) / (v + eps)) ** 0.5 * g
            u = rho * u + (1 - rho) * delta * delta
            theta -= lr * delta
            path[(t,) + k] = theta
    return path.astype(theta0.dtype)


def _adadelta(lr_in_u=False, eps_outside=False, inverted=False, new_u=False):
    def step(theta, g, v, u, lr, rho, eps):
        v = rho * v + (1 - rho) * g * g
        if eps_outside:
            ratio = (np.sqrt(u) + eps) / (np.sqrt(v) + eps)
        elif inverted:
            ratio = np.sqrt((v + eps) / (u + eps))
        else:
            ratio = np.sqrt((u + eps) / (v + eps))
        if new_u:   # u updated with the gradient before the step, as if it were v
            u = rho * u + (1 - rho) * g * g
        delta = ratio * g
        if not new_u:
            u = rho * u + (1 - rho) * (lr * delta if lr_in_u else delta) ** 2
        return theta - lr * delta, v, u
    return step


# ---- exercise 2: flush the denormals -------------------------------------------------------------------

TINY32 = float(np.finfo(np.float32).tiny)


def flush_cases(rng):
    """Arrays mixing normal numbers, float32 denormals of both signs, exact zeros, and float64 arrays
    (left alone, their own denormals included)."""
    cases = []
    for shape, dtype in [((6,), np.float32), ((3, 4), np.float32), ((5,), np.float64), ((2, 2, 3), np.float32)]:
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, size=shape)
        flat = a.reshape(-1)
        flat[::3] = rng.choice([1e-40, -1e-40, 5e-45, -3e-39, 1e-310], size=flat[::3].shape)
        flat[1::4] = rng.choice([-2e-38, 2e-38, 0.0, -1.5], size=flat[1::4].shape)   # just above tiny, negative
        cases.append((a.astype(dtype),))
    return cases


def flush_run(answer, case):
    """The reader's function on a copy; what counts is that array afterwards (changed in place)."""
    a = case[0].copy()
    out = answer(a)
    if out is None:
        return None   # the stub
    return a, out is a   # the array afterwards, and whether the one returned is that same array


def flush_expected(case):
    a = case[0]
    if a.dtype != np.float32:
        return a.copy(), True
    out = a.copy()
    for i in np.ndindex(a.shape):   # one number at a time
        if abs(float(a[i])) < TINY32:
            out[i] = 0.0
    return out, True


def _flush_no_abs(a):
    if a.dtype == np.float32:
        a[a < np.finfo(np.float32).tiny] = 0.0
    return a


def _flush_float64_threshold(a):
    if a.dtype == np.float32:
        a[np.abs(a) < np.finfo(np.float64).tiny] = 0.0
    return a


def _flush_every_dtype(a):
    a[np.abs(a) < np.finfo(np.float32).tiny] = 0.0
    return a


def _flush_copy(a):
    out = a.copy()
    if a.dtype == np.float32:
        out[np.abs(out) < np.finfo(np.float32).tiny] = 0.0
    return out


# ---- exercise 3: the curvature above which the last steps move away from the minimum -------------------

# Near the minimum (u, v << eps) the ratio is about 1: theta_t = (1 - lr h) theta_(t-1), which shrinks
# while |1 - lr h| < 1, that is h < 2 / lr = 8 for lr = 0.25.
stable_curvature_judge = number_judge(
    8.0, "the curvature h", rtol=1e-6,
    wrong=[(2.0, "2 is the limit for lr = 1; near the minimum the step is lr * g = lr * h * theta, "
                 "so the limit is 2 / lr"),
           (4.0, "1 / lr is where the walk starts to cross the minimum at each step; the crossings still land "
                 "closer while |1 - lr * h| < 1, up to 2 / lr")],
    otherwise=lambda value: (f"{value:g} is not it: with u, v << eps the ratio sqrt(u + eps) / sqrt(v + eps) is "
                             "about 1, so theta_t = (1 - lr * h) theta_(t-1); when does that grow?"))


EXERCISES = [
    Exercise(
        name="adadelta_step",
        notebook="13_adadelta",
        title="One Adadelta step as a function, run over eight steps",
        cases=adadelta_cases,
        run=adadelta_run,
        expected=adadelta_expected,
        mistakes=[
            ("u averages the squares of the unscaled step Delta_t: lr multiplies only what is applied to theta "
             "(PyTorch's Adadelta, section 2)", _adadelta(lr_in_u=True)),
            ("epsilon goes inside both square roots, sqrt(u + eps) / sqrt(v + eps): outside, the first step "
             "(u = 0) is about eps / |g| instead of sqrt(eps / (1 - rho))", _adadelta(eps_outside=True)),
            ("the ratio is RMS[Delta] / RMS[g] (a step divided by a gradient, Newton's 1/h), not the inverse",
             _adadelta(inverted=True)),
            ("u is the running average of the squared *updates* Delta_t^2, updated after the step with the new "
             "Delta_t, not of the squared gradients", _adadelta(new_u=True)),
        ],
        rtol=1e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="flush_denormals_float32",
        notebook="13_adadelta",
        title="Zero the float32 denormals of an array, in place",
        cases=flush_cases,
        run=flush_run,
        expected=flush_expected,
        mistakes=[
            ("compare the *magnitude*, np.abs(a) < tiny: a < tiny also zeroes every negative number", _flush_no_abs),
            ("the threshold is float32's smallest normal number, np.finfo(np.float32).tiny (about 1.2e-38); "
             "float64's (2.2e-308) is below every float32", _flush_float64_threshold),
            ("leave float64 arrays alone: their own denormals start near 2.2e-308, and 1e-40 is a normal float64",
             _flush_every_dtype),
            ("change the array in place (a[mask] = 0): the optimizer keeps a reference to its state array, "
             "so a new array returned is lost", _flush_copy),
        ],
        rtol=0, atol=0, check_dtype=True,
    ),
    Exercise(
        name="adadelta_stable_curvature",
        notebook="13_adadelta",
        title="The curvature above which Adadelta's last steps move away from the minimum (lr = 0.25)",
        judge=stable_curvature_judge,
        mistakes=[("the limit is 2 / lr", 2.0), ("1 / lr is where the walk starts to cross", 4.0)],
    ),
]

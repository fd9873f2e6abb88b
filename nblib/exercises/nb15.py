"""The exercises of notebook 15 (optimizers compared)."""
import numpy as np

from nblib.exercises import Exercise, number_judge

SQRT2 = np.sqrt(2.0)


# ---- exercise 1: the rotated bowl's gradient -------------------------------------------------------------

def rotated_f(x, y):
    u, v = (x + y) / SQRT2, (x - y) / SQRT2
    return 0.5 * (u ** 2 + 20 * v ** 2)


def rotated_cases(rng):
    """Points as the surfaces take them: numbers, a row, a grid; the origin and points on the axes u = 0, v = 0."""
    return [(0.0, 0.0), (1.0, 1.0), (2.0, -2.0),
            (rng.uniform(-5, 5, size=7), rng.uniform(-5, 5, size=7)),
            (rng.uniform(-3, 3, size=(4, 5)), rng.uniform(-3, 3, size=(4, 5)))]


def rotated_expected(case, h=1e-5):
    """Central differences of f: exact for a quadratic, up to rounding."""
    x, y = (np.asarray(a, dtype=np.float64) for a in case)
    return ((rotated_f(x + h, y) - rotated_f(x - h, y)) / (2 * h),
            (rotated_f(x, y + h) - rotated_f(x, y - h)) / (2 * h))


def rotated_run(answer, case):
    out = answer(*case)
    if out is None:
        return None
    return tuple(np.broadcast_to(np.asarray(a, dtype=np.float64), np.shape(case[0])) for a in out)


def _rotated_in_uv(x, y):
    u, v = (x + y) / SQRT2, (x - y) / SQRT2
    return u, 20 * v


def _rotated_no_chain_factor(x, y):
    u, v = (x + y) / SQRT2, (x - y) / SQRT2
    return u + 20 * v, u - 20 * v


def _rotated_sign(x, y):
    u, v = (x + y) / SQRT2, (x - y) / SQRT2
    return (u + 20 * v) / SQRT2, (u + 20 * v) / SQRT2


# ---- exercise 2: SGD's largest stable rate on the rotated bowl ------------------------------------------

ROTATION = ("a rotation changes the directions of the curvatures, not their sizes: the Hessian has the "
            "eigenvalues 1 and 20 in any coordinates, and SGD needs eta < 2 / (largest curvature)")
stable_rate_judge = number_judge(
    0.1, "a learning rate", rtol=1e-3,
    wrong=[(0.1 / SQRT2, ROTATION), (0.1 * SQRT2, ROTATION),
           (2.0, "2 / 1 is the limit for the flat direction; the steep one (curvature 20) diverges first"),
           (0.05, "1 / 20 lands on the minimum of the steep direction in one step; SGD still converges, "
                  "zig-zagging, up to 2 / 20")],
    otherwise=lambda value: (f"{value:g} is not it: along each eigen-direction of the Hessian, SGD multiplies the "
                             "distance by 1 - eta * curvature; when does that stay below 1 in size for both?"))


# ---- exercise 3: filter normalisation of a direction ----------------------------------------------------

def filter_cases(rng):
    """(d, theta): a dense W (in, out), a non-square one, a bias, a convolution's kernel (out, in, kh, kw)."""
    cases = []
    for shape in [(4, 3), (2, 6), (5,), (3, 2, 3, 3), (1, 1)]:
        theta = rng.standard_normal(shape) * rng.uniform(0.1, 3.0, size=shape[-1:] if len(shape) == 2 else (1,))
        cases.append((rng.standard_normal(shape), theta))
    return cases


def filter_run(answer, case):
    d, theta = case
    return answer(d.copy(), theta.copy())


def filter_expected(case):
    """One filter at a time: a column of a dense W, an output channel of a kernel; 0 for a bias."""
    d, theta = case
    out = np.zeros_like(d)
    if theta.ndim == 2:
        for j in range(theta.shape[1]):
            out[:, j] = d[:, j] / np.sqrt(np.sum(d[:, j] ** 2)) * np.sqrt(np.sum(theta[:, j] ** 2))
    elif theta.ndim == 4:
        for c in range(theta.shape[0]):
            out[c] = d[c] / np.sqrt(np.sum(d[c] ** 2)) * np.sqrt(np.sum(theta[c] ** 2))
    return out


def _filter_axes(theta):
    return (0,) if theta.ndim == 2 else tuple(range(1, theta.ndim))


def _filter_rows(d, theta):
    if theta.ndim == 1:
        return np.zeros_like(d)
    axes = (1,) if theta.ndim == 2 else (0, 2, 3)
    return (d / np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
            * np.sqrt(np.sum(theta * theta, axis=axes, keepdims=True)))


def _filter_global(d, theta):
    if theta.ndim == 1:
        return np.zeros_like(d)
    return d / np.linalg.norm(d) * np.linalg.norm(theta)


def _filter_bias_kept(d, theta):
    if theta.ndim == 1:
        return d
    axes = _filter_axes(theta)
    return (d / np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
            * np.sqrt(np.sum(theta * theta, axis=axes, keepdims=True)))


EXERCISES = [
    Exercise(
        name="rotated_bowl_grad",
        notebook="15_optimizers_compared",
        title="The gradient of the elongated bowl turned by 45 degrees",
        cases=rotated_cases,
        run=rotated_run,
        expected=rotated_expected,
        mistakes=[
            ("that is the gradient in (u, v); the surfaces need it in (x, y): by the chain rule "
             "df/dx = df/du du/dx + df/dv dv/dx, with du/dx = dv/dx = 1/sqrt(2)", _rotated_in_uv),
            ("the chain rule's factors du/dx = 1/sqrt(2) (and so on) are missing", _rotated_no_chain_factor),
            ("dv/dy = -1/sqrt(2): the v term enters df/dy with a minus sign", _rotated_sign),
        ],
        rtol=1e-6, atol=1e-6,
    ),
    Exercise(
        name="rotated_bowl_sgd_limit",
        notebook="15_optimizers_compared",
        title="The largest learning rate at which plain SGD converges on the rotated bowl",
        judge=stable_rate_judge,
        mistakes=[("a rotation changes the directions of the curvatures, not their sizes", 0.1 / SQRT2),
                  ("the steep one (curvature 20) diverges first", 2.0),
                  ("SGD still converges, zig-zagging, up to 2 / 20", 0.05)],
    ),
    Exercise(
        name="normalize_filters",
        notebook="15_optimizers_compared",
        title="Filter normalisation: scale each filter of a random direction to the norm of the same filter of the weights",
        cases=filter_cases,
        run=filter_run,
        expected=filter_expected,
        mistakes=[
            ("a dense filter is a *column* of W (in, out), the weights into one output neuron: norms over axis 0; "
             "a convolution's is an output channel, kernel[c]", _filter_rows),
            ("each filter gets its own scale: one norm for the whole array is the plain normalisation, "
             "not the filter-wise one", _filter_global),
            ("a bias (1-D) gets a zero direction, as in Li et al. and section 6", _filter_bias_kept),
        ],
        rtol=1e-9, atol=1e-12,
    ),
]

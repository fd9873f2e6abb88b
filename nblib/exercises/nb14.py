"""The exercises of notebook 14 (Adam and AdamW)."""
import numpy as np

from nblib.exercises import Exercise, number_judge


def _cases(rng, settings):
    """(theta0, gradients (T, ...), settings): shapes, float64, gradients of very different sizes per case."""
    cases = []
    for shape, scale, extra in settings:
        theta0 = rng.standard_normal(shape)
        grads = rng.standard_normal((10,) + shape) * scale
        grads[3] = 0.0   # a step with no gradient at all
        cases.append((theta0, grads) + extra)
    return cases


def _drive(answer, case, state_names):
    """The path theta_1..theta_T of the reader's step function, t = 1, 2, ..., state arrays starting at 0."""
    theta0, grads, *settings = case
    theta, state, path = theta0.copy(), [np.zeros_like(theta0) for _ in state_names], []
    for t, g in enumerate(grads, start=1):
        out = answer(theta, g.copy(), *state, t, *settings)
        if out is None:
            return None
        theta, *state = out
        path.append(np.array(theta, dtype=np.float64, copy=True))
    return np.stack(path)


# ---- exercise 1: one AdamW step ---------------------------------------------------------------------------

def adamw_cases(rng):
    # (lr, betas, eps, weight_decay); eps = 1e-3 with gradients near 1e-2 makes eps's place visible
    return _cases(rng, [((3,), 1.0, (0.1, (0.9, 0.999), 1e-8, 0.1)),
                        ((2, 3), 0.01, (0.05, (0.8, 0.99), 1e-3, 0.5)),
                        ((4,), 30.0, (0.01, (0.5, 0.9), 1e-8, 0.01)),
                        ((1,), 1.0, (0.2, (0.0, 0.999), 1e-6, 1.0))])


def adamw_run(answer, case):
    return _drive(answer, case, ("m", "v"))


def adamw_expected(case):
    """torch.optim.AdamW's documented rule, one scalar at a time in Python floats."""
    theta0, grads, lr, (beta1, beta2), eps, weight_decay = case
    path = np.empty(grads.shape)
    for k in np.ndindex(theta0.shape):
        theta, m, v = float(theta0[k]), 0.0, 0.0
        for t in range(1, len(grads) + 1):
            g = float(grads[(t - 1,) + k])
            theta = theta - lr * weight_decay * theta
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
            theta = theta - lr * m_hat / (v_hat ** 0.5 + eps)
            path[(t - 1,) + k] = theta
    return path


def _adamw(no_correction=False, l2=False, eps_inside=False, decay_after=False):
    def step(theta, g, m, v, t, lr, betas, eps, weight_decay):
        beta1, beta2 = betas
        if l2:
            g = g + weight_decay * theta
        elif not decay_after:
            theta = theta * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = (m, v) if no_correction else (m / (1 - beta1 ** t), v / (1 - beta2 ** t))
        denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        theta = theta - lr * m_hat / denominator
        if decay_after:
            theta = theta * (1 - lr * weight_decay)
        return theta, m, v
    return step


# ---- exercise 2: Adamax ----------------------------------------------------------------------------------

def adamax_cases(rng):
    # (lr, betas, eps); gradients of both signs, a zero gradient, a large eps in one case
    return _cases(rng, [((3,), 1.0, (0.002, (0.9, 0.999), 1e-8)),
                        ((2, 2), 0.01, (0.05, (0.8, 0.99), 1e-3)),
                        ((5,), 20.0, (0.1, (0.5, 0.9), 1e-8))])


def adamax_run(answer, case):
    return _drive(answer, case, ("m", "u"))


def adamax_expected(case):
    """torch.optim.Adamax's documented rule, one scalar at a time in Python floats."""
    theta0, grads, lr, (beta1, beta2), eps = case
    path = np.empty(grads.shape)
    for k in np.ndindex(theta0.shape):
        theta, m, u = float(theta0[k]), 0.0, 0.0
        for t in range(1, len(grads) + 1):
            g = float(grads[(t - 1,) + k])
            m = beta1 * m + (1 - beta1) * g
            u = max(beta2 * u, abs(g) + eps)
            theta = theta - lr * m / ((1 - beta1 ** t) * u)
            path[(t - 1,) + k] = theta
    return path


def _adamax(no_correction=False, correct_u=False, no_abs=False, eps_outside=False):
    def step(theta, g, m, u, t, lr, betas, eps):
        beta1, beta2 = betas
        m = beta1 * m + (1 - beta1) * g
        if eps_outside:
            u = np.maximum(beta2 * u, np.abs(g)) + eps
        else:
            u = np.maximum(beta2 * u, (g if no_abs else np.abs(g)) + eps)
        u_used = u / (1 - beta2 ** t) if correct_u else u
        m_hat = m if no_correction else m / (1 - beta1 ** t)
        with np.errstate(divide="ignore", invalid="ignore"):   # without |g|, u can reach 0
            return theta - lr * m_hat / u_used, m, u
    return step


# ---- exercise 3: the largest step after a long silence ---------------------------------------------------

LIMIT = (1 - 0.8) / np.sqrt(1 - 0.999)   # 6.32: m_t = 0.2, v_t = 0.001 for g_t = 1 after zeros, t large


step_after_silence_judge = number_judge(
    LIMIT, "the limit of m_hat_t / sqrt(v_hat_t)", rtol=2e-3,
    wrong=[((1 - 0.8) / (1 - 0.999), "the denominator is the square root of v_hat: sqrt(1 - beta2), not 1 - beta2"),
           ((1 - 0.9) / np.sqrt(1 - 0.999), "3.16 is the limit for the default beta1 = 0.9; here beta1 = 0.8"),
           (1.0, "the bias correction makes a *steady* gradient's step eta; after a long run of zeros, "
                 "m_t = (1 - beta1) and v_t = (1 - beta2), while the corrections tend to 1 for large t")],
    otherwise=lambda value: (f"{value:g} is not it: unroll m_t and v_t for g_1 = ... = g_(t-1) = 0, g_t = 1, "
                             "then let t grow (the corrections 1 - beta^t tend to 1)"))


EXERCISES = [
    Exercise(
        name="adamw_step",
        notebook="14_adam",
        title="One AdamW step as a function, run over ten steps",
        cases=adamw_cases,
        run=adamw_run,
        expected=adamw_expected,
        mistakes=[
            ("the bias correction is left out: divide m_t by 1 - beta1^t and v_t by 1 - beta2^t "
             "(the first steps are otherwise several times too large)", _adamw(no_correction=True)),
            ("that is Adam's L2 form (lambda * theta added to the gradient): AdamW shrinks theta by "
             "1 - lr * lambda and gives Adam the loss gradient alone", _adamw(l2=True)),
            ("epsilon goes outside the square root, sqrt(v_hat) + eps, as in PyTorch", _adamw(eps_inside=True)),
            ("the decay shrinks theta_(t-1), before the Adam step (PyTorch's first line), not the new theta",
             _adamw(decay_after=True)),
        ],
        rtol=1e-9, atol=1e-12,
    ),
    Exercise(
        name="adamax_step",
        notebook="14_adam",
        title="Adamax (Kingma and Ba's variant, torch.optim.Adamax): an infinity norm instead of v",
        cases=adamax_cases,
        run=adamax_run,
        expected=adamax_expected,
        mistakes=[
            ("m_t still needs its bias correction, m_t / (1 - beta1^t): it starts at 0 like Adam's",
             _adamax(no_correction=True)),
            ("u_t needs no bias correction: a maximum is not pulled towards its starting 0 "
             "(the first u is |g_1| + eps exactly)", _adamax(correct_u=True)),
            ("u_t tracks the size of the gradients: use |g_t| (np.abs), or a negative gradient drives u down",
             _adamax(no_abs=True)),
            ("eps goes inside the maximum, max(beta2 u, |g| + eps): added outside, it piles up in u step after step",
             _adamax(eps_outside=True)),
        ],
        rtol=1e-9, atol=1e-12,
    ),
    Exercise(
        name="adam_step_after_silence",
        notebook="14_adam",
        title="The step / lr of Adam when a gradient of 1 follows a long run of zeros, betas = (0.8, 0.999)",
        judge=step_after_silence_judge,
        mistakes=[("sqrt(1 - beta2), not 1 - beta2", (1 - 0.8) / (1 - 0.999)),
                  ("the limit for the default beta1 = 0.9", 3.1623),
                  ("the bias correction makes a *steady* gradient's step eta", 1.0)],
    ),
]

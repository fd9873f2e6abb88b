"""The exercises of notebook 11 (Adagrad)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.exercises.nb09 import bowl_cases, describe_bowl, drive, reference_path
from nblib.layers import Layer
from nblib.optim import Adagrad


# ---- 1. torch.optim.Adagrad's step -----------------------------------------------------------------

def adagrad_cases(rng):
    settings = [((3,), np.float64, dict(lr=0.1)),
                ((2, 3), np.float64, dict(lr=0.1, lr_decay=0.2)),
                ((4,), np.float64, dict(lr=0.3, initial_accumulator_value=2.0)),
                ((2, 2), np.float64, dict(lr=0.1, weight_decay=0.3)),
                ((5,), np.float64, dict(lr=0.3, eps=0.5)),
                ((2, 3), np.float32, dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5)),
                ((4,), np.float32, dict(lr=0.2, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.1,
                                        eps=1e-3))]
    return bowl_cases(rng, settings)


def adagrad_rule(theta, g, t, memory, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
    """torch.optim.Adagrad's documented algorithm, one scalar (the sum starts at initial_accumulator_value)."""
    clr = lr / (1 + (t - 1) * lr_decay)
    if weight_decay != 0:
        g = g + weight_decay * theta
    memory["sum"] = memory.get("sum", initial_accumulator_value) + g * g
    return theta - clr * g / (memory["sum"] ** 0.5 + eps)


def adagrad_wrong(t_plus_one=False, eps_inside=False, sum_after=False, float64_sum=False, decay_late=False,
                  no_tau=False, no_count=False):
    """The right step with one typical mistake switched on."""
    def step(p, g, state, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        if not no_count:
            state["step"] = state.get("step", 0) + 1
        t = state.get("step", 1)
        tau = 0.0 if no_tau else initial_accumulator_value
        if "sum" not in state:
            state["sum"] = np.full(p.shape, tau) if float64_sum else np.full_like(p, tau)
        g_decayed = g + weight_decay * p
        s_before = state["sum"].copy()
        state["sum"] = state["sum"] + (g if decay_late else g_decayed) ** 2
        s = s_before if sum_after else state["sum"]
        eta_t = lr / (1 + (t if t_plus_one else t - 1) * lr_decay)
        root = np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps
        return p - eta_t * g_decayed / root
    return step


# ---- 2. Adagrad's first step -------------------------------------------------------------------------

def first_step_cases(rng):
    """Gradients of all sizes (exact zeros, tiny, large), with and without an initial accumulator."""
    cases = []
    for shape, lr, tau in [((6,), 0.1, 0.0), ((2, 3), 0.01, 4.0), ((5,), 0.5, 1e-4), ((3, 2), 1.0, 0.1)]:
        g = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)
        g.flat[0], g.flat[1] = 0.0, 1e-12
        cases.append((g, lr, tau))
    return cases


def first_step_expected(case):
    """One step of the notebook's Adagrad (tested against torch's rule in tests/test_optim.py) from theta = 0."""
    g, lr, tau = case
    layer = Layer()
    layer.params["theta"], layer.grads["theta"] = np.zeros_like(g), g.copy()
    Adagrad(layer.parameters(), lr=lr, initial_accumulator_value=tau).step()
    return layer.params["theta"]


def no_eps(g, lr, tau):
    with np.errstate(invalid="ignore"):   # 0 / 0 at g = 0: the mistake this answer makes
        return -lr * g / np.sqrt(tau + g ** 2)


EXERCISES = [
    Exercise(
        name="adagrad_step",
        notebook="11_adagrad",
        title="torch.optim.Adagrad's step with lr_decay, weight decay and an initial accumulator",
        cases=adagrad_cases,
        expected=lambda case: reference_path(case, adagrad_rule),
        run=drive,
        describe=describe_bowl,
        mistakes=[
            ("count the steps in state (state['step'] = t, starting at 1): lr_decay needs t",
             adagrad_wrong(no_count=True)),
            ("off by one in t: the first step uses lr itself, lr / (1 + (t - 1) * lr_decay)",
             adagrad_wrong(t_plus_one=True)),
            ("eps is added after the square root, sqrt(s) + eps, not inside it", adagrad_wrong(eps_inside=True)),
            ("the sum includes the current gradient: s_t = s_{t-1} + g_t^2 first, then divide by sqrt(s_t)",
             adagrad_wrong(sum_after=True)),
            ("the sum starts at initial_accumulator_value, not at 0", adagrad_wrong(no_tau=True)),
            ("weight decay comes first, g <- g + lambda theta, so its square goes into the sum too",
             adagrad_wrong(decay_late=True)),
            ("np.full(p.shape, ...) makes a float64 sum, which turns a float32 step into float64: use "
             "np.full_like(p, ...) so the state has p's dtype", adagrad_wrong(float64_sum=True)),
        ],
        rtol=2e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="adagrad_first_step",
        notebook="11_adagrad",
        title="Adagrad's first step theta_1 - theta_0 from g_1, with an initial accumulator tau",
        cases=first_step_cases,
        expected=first_step_expected,
        describe=lambda case: f"(g of shape {case[0].shape}, lr={case[1]}, tau={case[2]})",
        mistakes=[
            ("-lr * sign(g) is the first step only when tau = 0 and eps = 0: in general s_1 = tau + g^2 and the "
             "step is -lr g / (sqrt(s_1) + eps), much smaller than lr for a gradient far below sqrt(tau) or eps",
             lambda g, lr, tau: -lr * np.sign(g)),
            ("the root of a sum is not the sum of the roots: divide by sqrt(tau + g^2), not sqrt(tau) + |g|",
             lambda g, lr, tau: -lr * g / (np.sqrt(tau) + np.abs(g) + 1e-10)),
            ("keep eps = 1e-10 in the denominator: with tau = 0 a zero gradient gives 0 / 0 without it, and "
             "a gradient of 1e-12 gets a step of about lr / 100, not lr",
             no_eps),
        ],
        rtol=1e-7, atol=1e-12,
    ),
]

"""The exercises of notebook 12 (RMSprop)."""
from functools import partial

import numpy as np

from nblib.exercises import Exercise
from nblib.exercises.nb09 import bowl_cases, describe_bowl, drive, reference_path
from nblib.optim import RMSprop
from nblib.surfaces import SURFACES, run_optimizer


# ---- 1. torch.optim.RMSprop's step -----------------------------------------------------------------

def rmsprop_cases(rng):
    settings = [((3,), np.float64, dict(lr=0.01)),
                ((2, 3), np.float64, dict(lr=0.05, alpha=0.9)),
                ((4,), np.float64, dict(lr=0.02, alpha=0.8, centered=True)),
                ((2, 2), np.float64, dict(lr=0.01, alpha=0.9, momentum=0.9)),
                ((5,), np.float64, dict(lr=0.05, alpha=0.9, eps=0.1)),
                ((3,), np.float64, dict(lr=0.02, weight_decay=0.5)),
                ((2, 3), np.float32, dict(lr=0.02, alpha=0.8, eps=1e-3, weight_decay=0.05, momentum=0.5,
                                          centered=True)),
                ((4,), np.float32, dict(lr=0.01, alpha=0.9, centered=True))]
    return bowl_cases(rng, settings)


def rmsprop_rule(theta, g, t, memory, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
    """torch.optim.RMSprop's documented algorithm, one scalar (v, b and g_ave start at 0)."""
    if weight_decay != 0:
        g = g + weight_decay * theta
    memory["v"] = v = alpha * memory.get("v", 0.0) + (1 - alpha) * g * g
    if centered:
        memory["g_ave"] = alpha * memory.get("g_ave", 0.0) + (1 - alpha) * g
        v = v - memory["g_ave"] ** 2
    if momentum > 0:
        memory["b"] = momentum * memory.get("b", 0.0) + g / (max(v, 0.0) ** 0.5 + eps)
        return theta - lr * memory["b"]
    return theta - lr * g / (max(v, 0.0) ** 0.5 + eps)


def rmsprop_wrong(m_not_squared=False, raw_momentum=False, swapped=False, eps_inside=False, decay_late=False,
                  ignore_centered=False):
    """The right step with one typical mistake switched on."""
    def step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        g_decayed = g + weight_decay * p
        g2 = g if decay_late else g_decayed
        a, c = (1 - alpha, alpha) if swapped else (alpha, 1 - alpha)
        v = state["v"] = a * state.get("v", 0.0) + c * g2 * g2
        if centered and not ignore_centered:
            m = state["m"] = a * state.get("m", 0.0) + c * g2
            v = v - (m if m_not_squared else m * m)
        root = np.sqrt(np.maximum(v + eps, 0)) if eps_inside else np.sqrt(np.maximum(v, 0)) + eps
        if momentum:
            if raw_momentum:
                b = state["b"] = momentum * state.get("b", 0.0) + g_decayed
                return p - lr * b / root
            b = state["b"] = momentum * state.get("b", 0.0) + g_decayed / root
            return p - lr * b
        return p - lr * g_decayed / root
    return step


# ---- 2. RMSprop with Adam's bias correction ----------------------------------------------------------

def debiased_cases(rng):
    settings = [((3,), np.float64, dict(lr=0.01)),
                ((2, 3), np.float64, dict(lr=0.05, alpha=0.9)),
                ((4,), np.float64, dict(lr=0.02, alpha=0.5, eps=0.1)),
                ((2, 2), np.float32, dict(lr=0.01, alpha=0.9, eps=1e-3))]
    return bowl_cases(rng, settings)


def debiased_rule(theta, g, t, memory, lr=0.01, alpha=0.99, eps=1e-8):
    """v_t as RMSprop, v_hat = v_t / (1 - alpha^t), theta -= lr g / (sqrt(v_hat) + eps)."""
    memory["v"] = alpha * memory.get("v", 0.0) + (1 - alpha) * g * g
    return theta - lr * g / ((memory["v"] / (1 - alpha ** t)) ** 0.5 + eps)


def debiased_wrong(power=lambda alpha, t: alpha ** t, count=True, eps_before=False):
    def step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8):
        if count:
            state["step"] = state.get("step", 0) + 1
        t = state.get("step", 1)
        v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
        if eps_before:
            return p - lr * g / ((np.sqrt(v) + eps) / np.sqrt(1 - power(alpha, t)))
        return p - lr * g / (np.sqrt(v / (1 - power(alpha, t))) + eps)
    return step


# ---- 3. how long RMSprop takes to forget ---------------------------------------------------------------

def recovery_steps(alpha=0.99):
    """Section 1's gradients (100 of size 10, then 0.1): the small gradients needed for 0.1 / sqrt(v) >= 0.5."""
    v = 0.0
    for _ in range(100):
        v = alpha * v + (1 - alpha) * 100.0
    k = 0
    while 0.1 / np.sqrt(v) < 0.5:
        v, k = alpha * v + (1 - alpha) * 0.01, k + 1
    return k


def recovery_judge(answer):
    right = recovery_steps()
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return f"answer with one whole number (a count of steps), got {answer!r}"
    if abs(value - right) <= 1:
        return None
    if value in (99, 100, 101):
        return ("1/(1 - alpha) = 100 steps is the memory, the time for the old squares' weight to fall by a "
                "factor e; here they are thousands of times the new ones, so it takes several memories")
    if value in (68, 69, 70):
        return ("after ln 2 / (1 - alpha) = 69 steps the old squares' weight has halved, but they were "
                "thousands of times the new ones: the step needs v down to 4 * 0.1^2")
    return "run section 1's loop with alpha = 0.99, then count the small gradients until 0.1 / sqrt(v) >= 0.5"


# ---- 4. a learning rate for Rosenbrock ------------------------------------------------------------------

def rosenbrock_distance(lr, steps=3000):
    surface = SURFACES["rosenbrock"]
    path = run_optimizer(partial(RMSprop, lr=lr), surface, steps)
    return float(np.linalg.norm(path[-1] - surface.minimum))


def rosenbrock_judge(answer):
    try:
        lr = float(answer)
    except (TypeError, ValueError):
        return f"answer with one number (the learning rate), got {answer!r}"
    if not 0 < lr < 1:
        return "try learning rates between 0.001 and 0.03, on a log scale"
    distance = rosenbrock_distance(lr)
    if distance < 0.05:
        return None
    if lr < 0.003:
        return (f"lr = {lr:g} ends {distance:.3f} from the minimum: steps of about lr are too short to walk "
                "the valley's floor in 3000 steps; try larger")
    return (f"lr = {lr:g} ends {distance:.3f} from the minimum: RMSprop's steps do not shrink near the minimum "
            "(about lr each), so a large rate circles around it; try smaller")


EXERCISES = [
    Exercise(
        name="rmsprop_step",
        notebook="12_rmsprop",
        title="torch.optim.RMSprop's step with alpha, eps, weight decay, momentum and centered",
        cases=rmsprop_cases,
        expected=lambda case: reference_path(case, rmsprop_rule),
        run=drive,
        describe=describe_bowl,
        mistakes=[
            ("v keeps alpha of its old value: v = alpha v + (1 - alpha) g^2 (alpha = 0.99 remembers ~100 steps)",
             rmsprop_wrong(swapped=True)),
            ("eps is added after the square root, sqrt(v) + eps, not inside it", rmsprop_wrong(eps_inside=True)),
            ("weight decay comes first, g <- g + lambda theta, so it enters v (and m) too",
             rmsprop_wrong(decay_late=True)),
            ("centered=True also averages the gradients, m = alpha m + (1 - alpha) g, and divides by "
             "sqrt(v - m^2) + eps", rmsprop_wrong(ignore_centered=True)),
            ("centered divides by sqrt(v - m^2), the variance estimate: m squared, not m",
             rmsprop_wrong(m_not_squared=True)),
            ("PyTorch's momentum buffer accumulates the normalised step, b = mu b + g / (sqrt(v) + eps), then "
             "theta -= lr b", rmsprop_wrong(raw_momentum=True)),
        ],
        rtol=2e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="rmsprop_debiased_step",
        notebook="12_rmsprop",
        title="RMSprop with the bias correction v_hat = v / (1 - alpha^t)",
        cases=debiased_cases,
        expected=lambda case: reference_path(case, debiased_rule),
        run=drive,
        describe=describe_bowl,
        mistakes=[
            ("v is not corrected: divide it by 1 - alpha^t before the square root, so that the first step is lr, "
             "not lr / sqrt(1 - alpha)", debiased_wrong(power=lambda alpha, t: 0.0)),
            ("the correction is 1 - alpha^t with t the step count (keep it in state['step'], starting at 1), "
             "not 1 - alpha", debiased_wrong(count=False)),
            ("off by one in t: after the first step v_1 = (1 - alpha) g_1^2, so divide by 1 - alpha^1",
             debiased_wrong(power=lambda alpha, t: alpha ** (t + 1))),
            ("correct v, then add eps: sqrt(v / (1 - alpha^t)) + eps, not (sqrt(v) + eps) / sqrt(1 - alpha^t)",
             debiased_wrong(eps_before=True)),
        ],
        rtol=2e-5, atol=1e-6,
    ),
    Exercise(
        name="rmsprop_recovery",
        notebook="12_rmsprop",
        title="How many small gradients RMSprop (alpha = 0.99) needs to recover half its step",
        judge=recovery_judge,
        mistakes=[("is the memory", 100), ("has halved", 69)],
    ),
    Exercise(
        name="rmsprop_rosenbrock_lr",
        notebook="12_rmsprop",
        title="A learning rate for which plain RMSprop ends within 0.05 of Rosenbrock's minimum in 3000 steps",
        judge=rosenbrock_judge,
        mistakes=[("too short to walk", 0.001), ("circles around it", 0.02)],
    ),
]

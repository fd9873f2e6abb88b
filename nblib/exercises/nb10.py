"""The exercises of notebook 10 (momentum and Nesterov)."""
import numpy as np

from nblib.exercises import Exercise, number_judge
from nblib.exercises.nb09 import bowl_cases, describe_bowl, drive, reference_path


# ---- 1. torch.optim.SGD's step: momentum, dampening, Nesterov, weight decay -------------------------

def momentum_cases(rng):
    settings = [((3,), np.float64, dict(lr=0.1, momentum=0.9)),
                ((2, 3), np.float64, dict(lr=0.1, momentum=0.9, nesterov=True)),
                ((4,), np.float64, dict(lr=0.05, momentum=0.5, dampening=0.5)),
                ((2, 2), np.float64, dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)),
                ((5,), np.float32, dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.05)),
                ((2, 3), np.float32, dict(lr=0.05, momentum=0.9, nesterov=True)),
                ((3,), np.float64, dict(lr=0.1, weight_decay=0.2))]   # momentum 0: plain SGD
    return bowl_cases(rng, settings)


def sgd_rule(theta, g, t, memory, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """torch.optim.SGD's documented algorithm, one scalar."""
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        memory["b"] = momentum * memory["b"] + (1 - dampening) * g if t > 1 else g
        g = g + momentum * memory["b"] if nesterov else memory["b"]
    return theta - lr * g


def sgd_wrong(first_dampened=False, nesterov_b=False, decay_late=False, forget=False, nesterov_old=False):
    """The right step with one typical mistake switched on (each is one student's answer)."""
    def step(p, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if not decay_late:
            g = g + weight_decay * p
        if momentum:
            old = state.get("momentum_buffer")
            if old is None or forget:
                b = (1 - dampening) * g if first_dampened else g.copy()
            else:
                b = momentum * old + (1 - dampening) * g
            state["momentum_buffer"] = b
            if nesterov and not nesterov_b:
                g = g + momentum * (old if nesterov_old and old is not None else b)
            else:
                g = b
        if decay_late:
            g = g + weight_decay * p
        return p - lr * g
    return step


# ---- 2. Sutskever's form, under a learning rate that changes ---------------------------------------

def sutskever_cases(rng):
    """Bowls with a learning rate per step: constant first, then halved or doubled halfway."""
    settings = [((3,), np.float64, dict(lrs=[0.1] * 8, momentum=0.9)),
                ((2, 3), np.float64, dict(lrs=[0.1] * 4 + [0.05] * 4, momentum=0.9)),
                ((4,), np.float32, dict(lrs=[0.02] * 4 + [0.04] * 4, momentum=0.5)),
                ((2, 2), np.float64, dict(lrs=[round(float(lr), 4) for lr in np.linspace(0.1, 0.01, 8)], momentum=0.8))]
    return bowl_cases(rng, settings)


def sutskever_run(answer, case):
    """Step t is called with lr = lrs[t - 1]."""
    theta0, h, noise_t, hyper = case
    lrs = iter(hyper["lrs"])
    return drive(lambda p, g, state, lrs_, momentum: answer(p, g, state, lr=next(lrs), momentum=momentum),
                 (theta0, h, noise_t, dict(lrs_=None, momentum=hyper["momentum"])))


def sutskever_rule(theta, g, t, memory, lrs, momentum):
    """Sutskever et al. (2013): v_t = mu v_{t-1} + lr_t g_t, theta_t = theta_{t-1} - v_t, v_0 = 0."""
    memory["v"] = momentum * memory.get("v", 0.0) + lrs[t - 1] * g
    return theta - memory["v"]


def pytorch_form(p, g, state, lr, momentum):
    b = state["b"] = momentum * state.get("b", 0.0) + g
    return p - lr * b


def averaged_form(p, g, state, lr, momentum):
    v = state["v"] = momentum * state.get("v", 0.0) + (1 - momentum) * lr * g
    return p - v


# ---- 3. the largest stable learning rate with momentum ----------------------------------------------

LARGEST_LR = 2 * (1 + 0.9) / 20   # eta h_max < 2 (1 + mu) on the bowl h = (1, 20), mu = 0.9


EFFECTIVE_STEP = ("the effective step eta / (1 - mu) is for gradients that keep their sign; stability is decided "
                  "by the roots of r^2 - (1 + mu - eta h) r + mu = 0 for the steepest direction")
momentum_lr_judge = number_judge(
    LARGEST_LR, "the learning rate", rtol=0.01,
    wrong=[(0.1, "0.1 = 2 / h_max is plain SGD's limit: with momentum the recursion stays stable up to "
                 "eta h_max < 2 (1 + mu)"),
           (1.0, EFFECTIVE_STEP), (0.01, EFFECTIVE_STEP)],
    otherwise="not the limit: find when a root of r^2 - (1 + mu - eta h_max) r + mu = 0 reaches -1")


EXERCISES = [
    Exercise(
        name="sgd_momentum_step",
        notebook="10_momentum",
        title="torch.optim.SGD's step with momentum, dampening, Nesterov and weight decay",
        cases=momentum_cases,
        expected=lambda case: reference_path(case, sgd_rule),
        run=drive,
        describe=describe_bowl,
        mistakes=[
            ("the velocity must be kept between calls, in state['momentum_buffer']: b_t = mu b_{t-1} + ...",
             sgd_wrong(forget=True)),
            ("PyTorch starts the velocity at b_1 = g_1: dampening scales the new gradient only from step 2 on",
             sgd_wrong(first_dampened=True)),
            ("with nesterov=True the step is g_t + mu b_t (the look-ahead), not b_t",
             sgd_wrong(nesterov_b=True)),
            ("Nesterov's step uses the new velocity b_t, after this step's update: g_t + mu b_t",
             sgd_wrong(nesterov_old=True)),
            ("weight decay comes first: g_t <- g_t + lambda theta_{t-1} before the velocity, so the decay "
             "builds momentum too",
             sgd_wrong(decay_late=True)),
        ],
        rtol=2e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="sutskever_step",
        notebook="10_momentum",
        title="Sutskever's momentum v = mu v + lr g, theta = theta - v, when the learning rate changes",
        cases=sutskever_cases,
        expected=lambda case: reference_path(case, sutskever_rule),
        run=sutskever_run,
        describe=lambda case: describe_bowl(case).replace("lrs=", "learning rates "),
        mistakes=[
            ("that is PyTorch's form, b = mu b + g and theta -= lr b: it agrees while lr is constant, but "
             "Sutskever's velocity holds the learning rate of each past step, v = mu v + lr g",
             pytorch_form),
            ("no (1 - mu) factor: Sutskever's velocity is a sum, v = mu v + lr g, not an average",
             averaged_form),
        ],
        rtol=2e-5, atol=1e-6, check_dtype=True,
    ),
    Exercise(
        name="largest_momentum_lr",
        notebook="10_momentum",
        title="The largest learning rate for which SGD with momentum 0.9 converges on the bowl h = (1, 20)",
        judge=momentum_lr_judge,
        mistakes=[("plain SGD's limit", 0.1), ("the effective step", 1.0)],
    ),
]

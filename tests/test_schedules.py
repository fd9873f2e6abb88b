"""Tests of nblib/schedules.py (notebook 16): learning-rate schedulers against the closed forms of
torch.optim.lr_scheduler's documentation (and the cosine's recursive form), their use as fit
callbacks, and the learning-rate range test."""
import math

import numpy as np
import pytest

from nblib import (MSE, SGD, Adagrad, Adam, CrossEntropy, Dense, ReLU, Sequential, make_a_greater_b)
from nblib.schedules import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, OneCycleLR, StepLR,
                             lr_finder)

LR0 = 0.1


def make_optimizer(optimizer=SGD, lr=LR0):
    return optimizer(Dense(2, 3, rng=np.random.default_rng(0)).parameters(), lr=lr)


def run(make, steps, optimizer=SGD, lr=LR0):
    """Rates (and momenta) at steps 0..steps-1: the optimizer's after construction, then after each step()."""
    opt = make_optimizer(optimizer, lr)
    scheduler = make(opt)
    rates, momenta = [], []
    for k in range(steps):
        assert scheduler.last_epoch == k and scheduler.get_last_lr() == [opt.lr]
        rates.append(opt.lr)
        momenta.append(opt.betas[0] if hasattr(opt, "betas") else opt.momentum)
        scheduler.step()
    return np.array(rates), np.array(momenta)


def assert_close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, np.asarray(expected, float), rtol=rtol, atol=0)


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (30, 0.9)])
def test_step_lr(step_size, gamma):
    rates, _ = run(lambda o: StepLR(o, step_size, gamma), 200)
    assert_close(rates, [LR0 * gamma ** math.floor(t / step_size) for t in range(200)])


def test_step_lr_default_gamma_is_a_tenth():
    rates, _ = run(lambda o: StepLR(o, 2), 5)
    assert_close(rates, [0.1, 0.1, 0.01, 0.01, 0.001])


@pytest.mark.parametrize("gamma", [0.5, 0.95, 1.0])
def test_exponential_lr(gamma):
    rates, _ = run(lambda o: ExponentialLR(o, gamma), 300)
    expected, rate = [], LR0
    for t in range(300):             # multiplied by gamma at each step
        expected.append(rate)
        rate *= gamma
    assert_close(rates, expected, rtol=1e-11)


@pytest.mark.parametrize("T_max, eta_min", [(1, 0.0), (10, 0.0), (37, 0.01), (100, 0.05)])
def test_cosine_annealing_equals_torchs_recursive_form_also_past_T_max(T_max, eta_min):
    steps = 5 * T_max + 3
    rates, _ = run(lambda o: CosineAnnealingLR(o, T_max, eta_min), steps)
    recursive = [LR0]                # torch's chainable form, special case where its denominator is 0
    for t in range(1, steps):
        if (t - 1 - T_max) % (2 * T_max) == 0:
            recursive.append(recursive[-1] + (LR0 - eta_min) * (1 - math.cos(math.pi / T_max)) / 2)
        else:
            recursive.append((1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
                             * (recursive[-1] - eta_min) + eta_min)
    assert_close(rates, recursive, rtol=1e-9)
    assert math.isclose(rates[T_max], eta_min, abs_tol=1e-15)   # the bottom of the cosine at T_max


def test_cosine_annealing_closed_form_values():
    rates, _ = run(lambda o: CosineAnnealingLR(o, 4, 0.02), 5)
    half = 0.02 + 0.08 / 2
    assert_close(rates[[0, 2]], [LR0, half])
    assert_close(rates[[1, 3]], [0.02 + 0.08 * (1 + 2 ** -0.5) / 2, 0.02 + 0.08 * (1 - 2 ** -0.5) / 2])


@pytest.mark.parametrize("start, end, n", [(1 / 3, 1.0, 5), (0.1, 1.0, 1), (1.0, 0.2, 20), (0.01, 0.5, 50)])
def test_linear_lr(start, end, n):
    rates, _ = run(lambda o: LinearLR(o, start, end, n), 80)
    assert_close(rates, [LR0 * (start + (end - start) * min(n, t) / n) for t in range(80)])


def test_linear_lr_defaults_warm_up_from_a_third_over_five_steps():
    rates, _ = run(LinearLR, 7)
    assert_close(rates, [LR0 / 3, LR0 * 7 / 15, LR0 * 9 / 15, LR0 * 11 / 15, LR0 * 13 / 15, LR0, LR0])


def test_lambda_lr_gives_the_nnfs_decay():
    decay = 1e-3
    rates, _ = run(lambda o: LambdaLR(o, lambda t: 1 / (1 + decay * t)), 1000)
    assert_close(rates, [LR0 * (1. / (1. + decay * iterations)) for iterations in range(1000)])


def one_cycle_expected(S, max_lr, pct_start=0.3, strategy="cos", div=25.0, final_div=1e4, lo=0.85, hi=0.95):
    """torch's OneCycleLR docs: two phases, peak at step pct_start * S - 1, end at step S - 1."""
    initial, peak = max_lr / div, pct_start * S - 1
    final = initial / final_div
    rates, momenta = [], []
    for t in range(S):
        if t <= peak:
            x, lr_pair, m_pair = t / peak, (initial, max_lr), (hi, lo)
        else:
            x, lr_pair, m_pair = (t - peak) / (S - 1 - peak), (max_lr, final), (lo, hi)
        if strategy == "cos":
            f = lambda a, b: b + (a - b) / 2 * (1 + math.cos(math.pi * x))
        else:
            f = lambda a, b: (b - a) * x + a
        rates.append(f(*lr_pair))
        momenta.append(f(*m_pair))
    return rates, momenta


@pytest.mark.parametrize("optimizer", [SGD, Adam])
@pytest.mark.parametrize("S, max_lr, pct_start, strategy", [(100, 0.1, 0.3, "cos"), (395, 3e-3, 0.3, "cos"),
                                                             (61, 1.0, 0.25, "linear"), (1000, 0.5, 0.5, "cos")])
def test_one_cycle_rates_and_momenta(optimizer, S, max_lr, pct_start, strategy):
    rates, momenta = run(lambda o: OneCycleLR(o, max_lr, S, pct_start=pct_start, anneal_strategy=strategy),
                         S, optimizer, lr=123.0)
    expected_rates, expected_momenta = one_cycle_expected(S, max_lr, pct_start, strategy)
    assert_close(rates, expected_rates, rtol=1e-10)
    assert_close(momenta, expected_momenta, rtol=1e-12)
    assert math.isclose(rates.max(), max_lr, rel_tol=0.05) and math.isclose(rates[0], max_lr / 25, rel_tol=1e-12)


def test_one_cycle_other_arguments_and_adams_beta2_untouched():
    opt = make_optimizer(Adam)
    opt.betas = (0.9, 0.99)
    scheduler = OneCycleLR(opt, 0.2, 50, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8,
                           max_momentum=0.9)
    rates, momenta = [], []
    for _ in range(50):
        rates.append(opt.lr)
        momenta.append(opt.betas[0])
        assert opt.betas[1] == 0.99
        scheduler.step()
    expected_rates, expected_momenta = one_cycle_expected(50, 0.2, div=10.0, final_div=100.0, lo=0.8, hi=0.9)
    assert_close(rates, expected_rates, rtol=1e-10)
    assert_close(momenta, expected_momenta)


def test_one_cycle_stops_at_its_final_rate_and_refuses_more_steps():
    opt = make_optimizer()
    scheduler = OneCycleLR(opt, 0.1, 20, anneal_strategy="linear")
    for _ in range(20):
        scheduler.step()
    assert math.isclose(opt.lr, 0.1 / 25 / 1e4, rel_tol=1e-9) and opt.lr >= 0   # not extrapolated below 0
    with pytest.raises(ValueError, match="total_steps"):
        scheduler.step()


def test_one_cycle_needs_a_momentum_unless_told_not_to_cycle_it():
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        OneCycleLR(make_optimizer(Adagrad), 0.1, 10)
    opt = make_optimizer(Adagrad)
    OneCycleLR(opt, 0.1, 10, cycle_momentum=False)
    assert math.isclose(opt.lr, 0.1 / 25, rel_tol=1e-12)
    sgd = make_optimizer(SGD)
    OneCycleLR(sgd, 0.1, 10, cycle_momentum=False)
    assert sgd.momentum == 0.0


@pytest.mark.parametrize("make, message", [
    (lambda o: StepLR(o, 0), "step_size"),
    (lambda o: ExponentialLR(o, -0.5), "gamma"),
    (lambda o: CosineAnnealingLR(o, 0), "T_max"),
    (lambda o: LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), "anneal_strategy"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer())


def test_a_scheduler_sets_the_rate_when_built_and_takes_the_optimizers_rate_as_base():
    opt = make_optimizer(lr=0.4)
    scheduler = LinearLR(opt, start_factor=0.25, total_iters=3)
    assert opt.lr == 0.1 and scheduler.last_epoch == 0 and scheduler.base_lr == 0.4


def test_per_epoch_schedulers_step_after_each_epoch_in_fit():
    x, y = make_a_greater_b(40, seed=0)
    model = Sequential([Dense(2, 4, rng=np.random.default_rng(0)), ReLU(), Dense(4, 2, rng=np.random.default_rng(1))])
    opt = SGD(model.parameters(), lr=0.2)
    scheduler = ExponentialLR(opt, 0.5)
    history = model.fit(x, y, CrossEntropy(), opt, epochs=4, batch_size=10, callbacks=[scheduler], verbose=False)
    assert history["lr"] == [0.2, 0.1, 0.05, 0.025] and scheduler.last_epoch == 4 and opt.lr == 0.0125


def test_one_cycle_steps_after_each_batch_in_fit():
    x, y = make_a_greater_b(40, seed=0)
    model = Sequential([Dense(2, 2, rng=np.random.default_rng(0))])
    opt = SGD(model.parameters(), lr=0.2)
    scheduler = OneCycleLR(opt, 0.2, total_steps=3 * 4)
    history = model.fit(x, y, CrossEntropy(), opt, epochs=3, batch_size=10, callbacks=[scheduler], verbose=False)
    expected, _ = one_cycle_expected(12, 0.2)
    assert scheduler.last_epoch == 12
    assert_close(history["lr"], [expected[0], expected[4], expected[8]])   # each epoch's first batch


def regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((n, 1))


def test_lr_finder_rates_and_smoothed_losses_equal_a_plain_loop_and_everything_is_restored():
    x, y = regression()
    model = Sequential([Dense(3, 1, rng=np.random.default_rng(0))])
    opt = Adam(model.parameters(), lr=0.01)
    before = [p.data.copy() for p in model.parameters()]
    lrs, losses = lr_finder(model, x, y, MSE(), opt, start_lr=1e-5, end_lr=1e-2, steps=25, batch_size=16,
                            rng=np.random.default_rng(3))
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))
    assert opt.lr == 0.01 and all(s == {"step": 0} for s in opt.state)
    assert_close(lrs, np.logspace(-5, -2, 25))
    # the same 25 steps by hand: batches from successive permutations, one Adam step per rate
    W, b = before[0].copy(), before[1].copy()
    m, v, rng, order, raw = [0 * W, 0 * b], [0 * W, 0 * b], np.random.default_rng(3), [], []
    for k in range(25):
        if len(order) < 16:
            order = list(order) + list(rng.permutation(64))
        batch, order = order[:16], order[16:]
        xb, yb = x[batch], y[batch]
        err = xb @ W + b - yb
        raw.append(np.mean(err ** 2))
        grads = [xb.T @ (2 * err / err.size), np.sum(2 * err / err.size, axis=0)]
        for i, (p, g) in enumerate(zip((W, b), grads)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            p -= lrs[k] * (m[i] / (1 - 0.9 ** (k + 1))) / (np.sqrt(v[i] / (1 - 0.999 ** (k + 1))) + 1e-8)
    smoothed = [sum(0.02 * 0.98 ** (k - j) * raw[j] for j in range(k + 1)) / (1 - 0.98 ** (k + 1))
                for k in range(25)]
    assert_close(losses, smoothed, rtol=1e-9)


def test_lr_finder_stops_once_the_loss_diverges():
    x, y = regression()
    model = Sequential([Dense(3, 1, rng=np.random.default_rng(0))])
    opt = SGD(model.parameters(), lr=0.01)
    lrs, losses = lr_finder(model, x, y, MSE(), opt, start_lr=1e-4, end_lr=100.0, steps=100, batch_size=16,
                            rng=np.random.default_rng(0))
    assert 10 < len(lrs) < 100 and len(losses) == len(lrs)
    assert not losses[-1] <= 4 * losses.min()        # the last one passed 4x the best (or is not finite)
    assert np.all(losses[:-1] <= 4 * np.minimum.accumulate(losses[:-1]))
    assert opt.lr == 0.01

"""Tests of the optimizers of notebooks 09-12 (SGD, Adagrad, RMSprop) and their base class.

Each optimizer is compared, for default and non-default arguments, with torch.optim's documented
update rule written out below as a loop over scalars (Python floats, float64), independently of
nblib: several steps on several parameter arrays, to 1e-10 relative error.
"""
import math

import numpy as np
import pytest

from nblib import Adagrad, Dense, Optimizer, Parameter, RMSprop, SGD, Sequential, Tanh

# ---- the published rules, one scalar at a time ------------------------------------------------


def sgd_reference(theta, grads, lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """torch.optim.SGD's pseudo-code for a list of scalars; returns theta after each step."""
    theta, b, out = list(theta), [None] * len(theta), []
    for t, g_t in enumerate(grads, start=1):
        for i in range(len(theta)):
            g = g_t[i]
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            if momentum != 0:
                b[i] = momentum * b[i] + (1 - dampening) * g if t > 1 else g
                g = g + momentum * b[i] if nesterov else b[i]
            theta[i] = theta[i] - lr * g
        out.append(list(theta))
    return out


def adagrad_reference(theta, grads, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                      eps=1e-10):
    """torch.optim.Adagrad's pseudo-code (state_sum starts at initial_accumulator_value)."""
    theta, state_sum, out = list(theta), [initial_accumulator_value] * len(theta), []
    for t, g_t in enumerate(grads, start=1):
        clr = lr / (1 + (t - 1) * lr_decay)
        for i in range(len(theta)):
            g = g_t[i]
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            state_sum[i] = state_sum[i] + g * g
            theta[i] = theta[i] - clr * g / (math.sqrt(state_sum[i]) + eps)
        out.append(list(theta))
    return out


def rmsprop_reference(theta, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """torch.optim.RMSprop's pseudo-code (v, b and g_ave start at 0)."""
    n = len(theta)
    theta, v, b, g_ave, out = list(theta), [0.0] * n, [0.0] * n, [0.0] * n, []
    for g_t in grads:
        for i in range(n):
            g = g_t[i]
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            v_tilde = v[i]
            if centered:
                g_ave[i] = g_ave[i] * alpha + (1 - alpha) * g
                v_tilde = v_tilde - g_ave[i] ** 2
            if momentum > 0:
                b[i] = momentum * b[i] + g / (math.sqrt(v_tilde) + eps)
                theta[i] = theta[i] - lr * b[i]
            else:
                theta[i] = theta[i] - lr * g / (math.sqrt(v_tilde) + eps)
        out.append(list(theta))
    return out


REFERENCES = {SGD: sgd_reference, Adagrad: adagrad_reference, RMSprop: rmsprop_reference}

CASES = [
    (SGD, {}),
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, weight_decay=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.1, momentum=0.8, dampening=0.3)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.02, momentum=0.5, weight_decay=0.01, nesterov=True)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.2)),
    (Adagrad, {}),
    (Adagrad, dict(lr=0.5)),
    (Adagrad, dict(lr=0.1, lr_decay=0.5)),
    (Adagrad, dict(lr=0.1, weight_decay=0.2)),
    (Adagrad, dict(lr=0.1, initial_accumulator_value=2.0)),
    (Adagrad, dict(lr=0.3, eps=0.5)),
    (Adagrad, dict(lr=0.2, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.5, eps=1e-3)),
    (RMSprop, {}),
    (RMSprop, dict(lr=0.05, alpha=0.9)),
    (RMSprop, dict(centered=True)),
    (RMSprop, dict(lr=0.02, momentum=0.9)),
    (RMSprop, dict(weight_decay=0.1)),
    (RMSprop, dict(lr=0.02, alpha=0.8, eps=1e-3, weight_decay=0.05, momentum=0.5, centered=True)),
]


def case_id(case):
    cls, kwargs = case
    return f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


class Holder:
    """A minimal "layer": named parameter arrays and their gradients, and its parameters as a layer lists them."""

    def __init__(self, **params):
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def parameters(self):
        return [Parameter(self, name) for name in self.params]


def gradient_sequence(shape, steps, seed):
    return np.random.default_rng(seed).standard_normal((steps,) + shape)


def assert_close(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    err = np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-300))
    assert err < 1e-10, f"{what}: relative error {err:.2e}\n{actual}\n{expected}"


# ---- the update rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_the_published_rule_for_several_steps_and_arrays(case):
    cls, kwargs = case
    steps, rng = 6, np.random.default_rng(1)
    theta0 = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    grads = {"W": gradient_sequence((3, 2), steps, 2), "b": gradient_sequence((4,), steps, 3)}
    layer = Holder(**theta0)
    opt = cls(layer.parameters(), **kwargs)
    history = {"W": [], "b": []}
    for t in range(steps):
        for name in layer.params:
            layer.grads[name][...] = grads[name][t]
        opt.step()                                         # one call per step: state must persist
        for name in layer.params:
            history[name].append(layer.params[name].copy())
    for name in theta0:
        flat_grads = [g.ravel().tolist() for g in grads[name]]
        expected = REFERENCES[cls](theta0[name].ravel().tolist(), flat_grads, **kwargs)
        for t in range(steps):
            assert_close(history[name][t].ravel(), expected[t], f"{case_id(case)}, {name}, step {t + 1}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_is_separate_for_each_array(case):
    # Two arrays of two layers with unrelated gradients: each must follow its own reference, so no
    # running average, momentum buffer or step count is shared. state[i] belongs to parameter i.
    cls, kwargs = case
    a, b = Holder(p=[1.0, -2.0]), Holder(p=[0.5, 3.0])
    opt = cls(a.parameters() + b.parameters(), **kwargs)
    grads_a = [[0.3, -0.7], [0.1, 0.4], [-0.2, 0.9], [0.5, 0.5]]
    grads_b = [[0.6, -0.1], [-4.0, 2.0], [0.0, 0.3], [1.5, -0.2]]
    for g_a, g_b in zip(grads_a, grads_b):
        a.grads["p"][...] = g_a
        b.grads["p"][...] = g_b
        opt.step()
    assert_close(a.params["p"], REFERENCES[cls]([1.0, -2.0], grads_a, **kwargs)[-1], "first array")
    assert_close(b.params["p"], REFERENCES[cls]([0.5, 3.0], grads_b, **kwargs)[-1], "second array")
    assert isinstance(opt.state, list) and [s["step"] for s in opt.state] == [4, 4]
    for state, p in zip(opt.state, (a.params["p"], b.params["p"])):
        assert all(v.shape == p.shape for v in state.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop])
def test_an_optimizer_on_a_sequentials_parameters(cls):
    rng = np.random.default_rng(0)
    model = Sequential([Dense(3, 4, rng=rng), Tanh(), Dense(4, 2, rng=rng)]).astype(np.float64)
    arrays = [p for layer in model.layers for p in layer.params.values()]
    start = [p.copy() for p in arrays]
    opt = cls(model.parameters(), lr=0.1)
    grads = [gradient_sequence(p.shape, 3, seed) for seed, p in enumerate(arrays)]
    for t in range(3):
        grad_arrays = [g for layer in model.layers for g in layer.grads.values()]
        for g, seq in zip(grad_arrays, grads):
            g[...] = seq[t]
        opt.step()
    for p, p0, seq in zip(arrays, start, grads):
        expected = REFERENCES[cls](p0.ravel().tolist(), [g.ravel().tolist() for g in seq], lr=0.1)
        assert_close(p.ravel(), expected[-1], f"{cls.__name__} on a Sequential")
    assert len(opt.state) == 4  # W and b of both Dense layers; Tanh has no parameters


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float32_stays_float32_in_place_and_grads_are_untouched(case):
    cls, kwargs = case
    layer = Holder(W=[[1.0, -2.0], [0.5, 0.25]])
    layer.params["W"] = layer.params["W"].astype(np.float32)
    layer.grads["W"] = np.array([[0.1, -0.3], [0.2, 0.05]], dtype=np.float32)
    W, g_before = layer.params["W"], layer.grads["W"].copy()
    opt = cls(layer.parameters(), **kwargs)
    opt.lr = np.float64(opt.lr)  # as a learning-rate schedule might set it
    for _ in range(3):
        opt.step()
    assert layer.params["W"] is W and W.dtype == np.float32
    assert all(v.dtype == np.float32 for s in opt.state for v in s.values() if isinstance(v, np.ndarray))
    assert np.array_equal(layer.grads["W"], g_before)
    expected = REFERENCES[cls](W.dtype.type([1.0, -2.0, 0.5, 0.25]).tolist(),
                               [g_before.ravel().tolist()] * 3, **kwargs)[-1]
    assert np.allclose(W.ravel(), expected, rtol=1e-5, atol=1e-6)


def test_a_learning_rate_set_between_steps_is_used():
    layer = Holder(p=[1.0])
    opt = SGD(layer.parameters(), lr=0.1)
    layer.grads["p"][...] = 2.0
    opt.step()
    opt.lr = 0.25
    opt.step()
    assert layer.params["p"][0] == pytest.approx(1.0 - 0.1 * 2.0 - 0.25 * 2.0, rel=1e-15)
    with pytest.raises(ValueError, match="SGD: lr"):
        opt.lr = -1.0


def test_layers_without_parameters_add_none_and_bad_gradients_are_refused():
    layer = Holder(p=[1.0, 2.0])
    model_params = Tanh().parameters() + layer.parameters()
    assert len(model_params) == 1
    opt = SGD(model_params, lr=0.1)
    layer.grads["p"][...] = [1.0, -1.0]
    opt.step()
    np.testing.assert_array_equal(layer.params["p"], [0.9, 2.1])
    with pytest.raises(ValueError, match="SGD: got no parameters"):
        SGD(Tanh().parameters(), lr=0.1)
    layer.grads["p"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"SGD: the gradient of Parameter\(.*\.p: \(2,\) float64\) has shape \(3,\)"):
        opt.step()


def test_the_base_class_needs_an_update_rule():
    layer = Holder(p=[1.0])
    with pytest.raises(NotImplementedError):
        Optimizer(layer.parameters(), lr=0.1).step()


def test_repr_shows_the_arguments():
    params = Holder(p=[1.0]).parameters()
    assert repr(SGD(params, lr=0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)"
    assert repr(RMSprop(params, centered=True)).startswith("RMSprop(lr=0.01, alpha=0.99")


@pytest.mark.parametrize("cls, kwargs, bad", [
    (SGD, dict(lr=-0.1), "lr"),
    (SGD, dict(lr=float("nan")), "lr"),
    (SGD, dict(lr="0.1"), "lr"),
    (SGD, dict(momentum=-0.5), "momentum"),
    (SGD, dict(dampening=1.5), "dampening"),
    (SGD, dict(weight_decay=-1e-4), "weight_decay"),
    (SGD, dict(nesterov=True), "nesterov"),
    (SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (SGD, dict(momentum=0.9, nesterov=1), "nesterov"),
    (Adagrad, dict(lr=-1.0), "lr"),
    (Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (Adagrad, dict(weight_decay=-0.1), "weight_decay"),
    (Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (Adagrad, dict(eps=-1e-10), "eps"),
    (RMSprop, dict(lr=float("inf")), "lr"),
    (RMSprop, dict(alpha=1.01), "alpha"),
    (RMSprop, dict(alpha=-0.1), "alpha"),
    (RMSprop, dict(eps=-1.0), "eps"),
    (RMSprop, dict(weight_decay=-0.1), "weight_decay"),
    (RMSprop, dict(momentum=-0.9), "momentum"),
    (RMSprop, dict(centered="yes"), "centered"),
])
def test_invalid_arguments_raise_value_error_naming_class_and_value(cls, kwargs, bad):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {bad}") as info:
        cls(Holder(p=[1.0]).parameters(), **kwargs)
    assert repr(kwargs[bad]) in str(info.value) or bad == "nesterov"


def test_an_optimizer_refuses_what_is_not_a_list_of_parameters():
    model = Sequential([Dense(2, 3, rng=np.random.default_rng(0)), Tanh(), Dense(3, 1, rng=np.random.default_rng(1))])
    with pytest.raises(TypeError, match=r"SGD: expected Parameters \(pass model.parameters\(\)\), got Dense at position 0"):
        SGD(model.layers, lr=0.1)
    with pytest.raises(ValueError, match="listed twice"):
        SGD(model.parameters() + model.parameters()[:1], lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)


def test_a_refused_step_changes_no_parameter():
    """If a later parameter no longer matches its state, no earlier one has been updated either."""
    model = Sequential([Dense(2, 3, rng=np.random.default_rng(0)), Tanh(), Dense(3, 1, rng=np.random.default_rng(1))])
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step()                                                       # momentum buffers now exist
    last = model.layers[2]
    last.params["W"] = last.params["W"].astype(np.float64)           # a later parameter cast by hand
    last.grads["W"] = np.ones_like(last.params["W"])
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="build the optimizer again"):
        opt.step()
    assert all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
    assert [s["step"] for s in opt.state] == [1, 1, 1, 1]

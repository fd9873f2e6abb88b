"""Tests of Adadelta, Adam and AdamW in nblib/optim.py (from notebooks/13_adadelta.ipynb and 14_adam.ipynb).

The reference for every optimizer is a scalar loop in Python floats, written here from the
pseudo-code of torch.optim's documentation, independently of the classes under test: each
parameter element is its own scalar sequence, since these rules act element by element.
"""
import math

import numpy as np
import pytest

from nblib import Adadelta, Adam, AdamW, Parameter

STEPS = 12


# ---- the published formulas, one scalar at a time --------------------------------------------

def adam_reference(theta, grads, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    """torch.optim.Adam (decoupled=False) or AdamW (decoupled=True) on one scalar: theta after each step."""
    beta1, beta2 = betas
    m = v = v_max = 0.0
    thetas = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            theta = theta - lr * weight_decay * theta     # AdamW decays the weight itself
        elif weight_decay != 0:
            g = g + weight_decay * theta                  # Adam adds the L2 term to the gradient
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:
            v_max = max(v_max, v)                         # the maximum of v_t, then bias-corrected
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (math.sqrt(v_hat) + eps)
        thetas.append(theta)
    return thetas


def adamw_reference(theta, grads, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
    return adam_reference(theta, grads, lr, betas, eps, weight_decay, amsgrad, decoupled=True)


def adadelta_reference(theta, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """torch.optim.Adadelta on one scalar: theta after each step."""
    v = u = 0.0
    thetas = []
    for g in grads:
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = rho * v + (1 - rho) * g * g
        delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        theta = theta - lr * delta
        thetas.append(theta)
    return thetas


def reference_run(reference, theta0, grads, kwargs):
    """Apply a scalar reference to every element: an array (steps, *shape) of the parameters after each step."""
    out = np.empty((len(grads),) + theta0.shape)
    for index in np.ndindex(theta0.shape):
        sequence = [float(g[index]) for g in grads]
        out[(slice(None),) + index] = reference(float(theta0[index]), sequence, **kwargs)
    return out


# ---- a few parameter arrays with given gradient sequences --------------------------------------

class Holder:
    """A stand-in layer: named parameter arrays and their gradients, as the optimizers expect."""

    def __init__(self, **params):
        self.params = params
        self.grads = {name: np.zeros_like(p) for name, p in params.items()}

    def parameters(self):
        return [Parameter(self, name) for name in self.params]


def gradient_sequences(seed, shapes, steps=STEPS):
    """Per array, `steps` gradients of varied sizes: some steps 100 times larger (so AMSGrad's maximum
    matters afterwards), a few exact zeros, signs that change."""
    rng = np.random.default_rng(seed)
    sequences = []
    for shape in shapes:
        scale = 10.0 ** rng.integers(-2, 2, size=(steps,) + (1,) * len(shape))
        g = rng.standard_normal((steps,) + shape) * scale
        g[2] *= 100.0
        g[rng.random((steps,) + shape) < 0.1] = 0.0
        sequences.append(g)
    return sequences


def run_and_compare(cls, reference, kwargs, dtype=np.float64):
    """Three arrays in two layers, each with its own gradient sequence, under one optimizer built on
    all their parameters: each array must follow its own reference. Returns the largest relative error."""
    rng = np.random.default_rng(0)
    shapes = {"W": (3, 4), "b": (4,), "K": (2, 1, 3)}
    theta0 = {name: rng.choice([-1.0, 1.0], size=s) * rng.uniform(1.0, 2.0, size=s) for name, s in shapes.items()}
    grads = dict(zip(shapes, gradient_sequences(1, list(shapes.values()))))
    first, second = Holder(W=theta0["W"].astype(dtype), b=theta0["b"].astype(dtype)), Holder(K=theta0["K"].astype(dtype))
    expected = {name: reference_run(reference, theta0[name], grads[name], kwargs) for name in shapes}
    layers = [first, second]
    optimizer = cls(first.parameters() + second.parameters(), **kwargs)
    worst = 0.0
    for step in range(STEPS):
        for layer in layers:
            for name in layer.params:
                layer.grads[name][...] = grads[name][step]
        optimizer.step()
        for layer in layers:
            for name, p in layer.params.items():
                assert p.dtype == dtype
                want = expected[name][step]
                worst = max(worst, float(np.max(np.abs(p - want) / np.abs(want))))
    return worst


CASES = [
    (Adam, adam_reference, {}),
    (Adam, adam_reference, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}),
    (Adam, adam_reference, {"lr": 0.01, "weight_decay": 0.3}),
    (Adam, adam_reference, {"lr": 0.02, "amsgrad": True}),
    (Adam, adam_reference, {"lr": 0.03, "betas": (0.0, 0.5), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}),
    (AdamW, adamw_reference, {}),
    (AdamW, adamw_reference, {"lr": 0.05, "weight_decay": 0.5}),
    (AdamW, adamw_reference, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.2, "amsgrad": True}),
    (AdamW, adamw_reference, {"weight_decay": 0.0}),
    (Adadelta, adadelta_reference, {}),
    (Adadelta, adadelta_reference, {"lr": 0.5, "rho": 0.5, "eps": 1e-3}),
    (Adadelta, adadelta_reference, {"rho": 0.99, "weight_decay": 0.2}),
    (Adadelta, adadelta_reference, {"lr": 2.0, "rho": 0.0, "eps": 1e-8, "weight_decay": 0.05}),
]


@pytest.mark.parametrize("cls, reference, kwargs", CASES, ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_matches_the_published_formulas_to_1e10(cls, reference, kwargs):
    assert run_and_compare(cls, reference, kwargs) < 1e-10


def test_the_reference_tells_the_variants_apart():
    """The cases above could not pass by accident: each option changes the sequence well beyond 1e-10."""
    theta, grads = 1.5, [1.0, 100.0, 0.01, -0.5, 0.02, 0.3]
    base = adam_reference(theta, grads, lr=0.1, betas=(0.9, 0.9))
    assert abs(adam_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), amsgrad=True)[-1] - base[-1]) > 1e-3
    assert abs(adam_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), weight_decay=0.1)[-1] - base[-1]) > 1e-4
    assert abs(adamw_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), weight_decay=0.1)[-1] - base[-1]) > 1e-4
    assert abs(adam_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), weight_decay=0.1)[-1]
               - adamw_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), weight_decay=0.1)[-1]) > 1e-4
    # AMSGrad as torch documents it: max of the raw v_t, then bias correction. Taking the max of the
    # bias-corrected v_hat instead (an older form of the documentation) gives another sequence.
    m = v = v_hat_max = 0.0
    theta_other = theta
    for t, g in enumerate(grads, start=1):
        m, v = 0.9 * m + 0.1 * g, 0.9 * v + 0.1 * g * g
        v_hat_max = max(v_hat_max, v / (1 - 0.9 ** t))
        theta_other -= 0.1 * m / (1 - 0.9 ** t) / (math.sqrt(v_hat_max) + 1e-8)
    assert abs(adam_reference(theta, grads, lr=0.1, betas=(0.9, 0.9), amsgrad=True)[-1] - theta_other) > 1e-3
    assert abs(adadelta_reference(theta, grads, rho=0.5)[-1] - adadelta_reference(theta, grads)[-1]) > 1e-4


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    """Bias correction makes the first step m_hat / sqrt(v_hat) = g / |g|: size lr whatever the gradient's scale."""
    for scale in (1e-6, 1.0, 1e6):
        layer = Holder(w=np.array([1.0, 1.0]))
        layer.grads["w"][...] = [scale, -scale]
        Adam(layer.parameters(), lr=0.1, eps=0.0).step()
        np.testing.assert_allclose(layer.params["w"], [0.9, 1.1], rtol=1e-15)


def test_adamw_without_weight_decay_is_adam():
    grads = gradient_sequences(5, [(4,)])[0]
    a, b = Holder(w=np.ones(4)), Holder(w=np.ones(4))
    adam, adamw = Adam(a.parameters(), lr=0.01), AdamW(b.parameters(), lr=0.01, weight_decay=0.0)
    for g in grads:
        a.grads["w"][...] = g
        b.grads["w"][...] = g
        adam.step()
        adamw.step()
    np.testing.assert_array_equal(a.params["w"], b.params["w"])


# ---- float32 training ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls, reference, kwargs", [CASES[0], CASES[4], CASES[7], CASES[9], CASES[12]],
                         ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_float32_stays_float32_and_close_to_the_reference(cls, reference, kwargs):
    assert run_and_compare(cls, reference, kwargs, dtype=np.float32) < 1e-4


@pytest.mark.parametrize("cls", [Adam, AdamW, Adadelta])
def test_float32_state_and_numpy_scalar_hyperparameters_keep_float32(cls):
    """A NumPy float64 learning rate must not turn the update into float64 work (NumPy 2 promotes
    float32 arrays with float64 scalars): parameters and state stay float32."""
    layer = Holder(w=np.ones((3, 2), np.float32))
    layer.grads["w"][...] = 0.5
    optimizer = cls(layer.parameters(), lr=np.float64(0.01))
    optimizer.lr = np.float64(0.02)             # as a learning-rate schedule may set it
    for _ in range(3):
        optimizer.step()
    assert layer.params["w"].dtype == np.float32
    for name, value in optimizer.state[0].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, name
        else:
            assert isinstance(value, int), name
    assert isinstance(optimizer.lr, float) and type(optimizer.lr) is float


@pytest.mark.parametrize("cls, names", [(Adam, ["exp_avg"]), (AdamW, ["exp_avg"]),
                                        (Adadelta, ["square_avg", "acc_delta"])])
def test_float32_running_averages_do_not_stay_denormal(cls, names):
    """After the gradient becomes zero, a running average decays geometrically; rounding then stops
    it at a few units of the smallest denormal float32, where many CPUs compute far slower. The
    optimizers flush such values to zero; the float64 state keeps the exact formula."""
    tiny = np.finfo(np.float32).tiny
    for dtype in (np.float32, np.float64):
        layer = Holder(w=np.ones(1000, dtype))
        optimizer = cls(layer.parameters(), lr=1e-3)
        layer.grads["w"][...] = np.linspace(1e-3, 1.0, 1000)
        optimizer.step()
        layer.grads["w"][...] = 0.0
        for _ in range(1500):
            optimizer.step()
        state = optimizer.state[0]
        for name in names:
            a = state[name]
            denormal = np.count_nonzero((a != 0) & (np.abs(a) < tiny))
            if dtype == np.float32:
                assert denormal == 0, name
            else:
                assert np.all(a != 0), name   # float64: 0.9**1500 * 1e-4 is about 1e-73, kept as it is


def test_state_is_kept_per_parameter_in_order_on_a_sequential():
    from nblib import Dense, Sequential
    model = Sequential([Dense(3, 2, rng=np.random.default_rng(0))])
    optimizer = Adam(model.parameters(), lr=0.01)
    for layer in model.layers:
        for g in layer.grads.values():
            g[...] = 1.0
    optimizer.step()
    optimizer.step()
    assert isinstance(optimizer.state, list) and len(optimizer.state) == 2
    for state, p in zip(optimizer.state, model.layers[0].params.values()):   # W, then b
        assert state["step"] == 2 and state["exp_avg"].shape == p.shape


# ---- invalid arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls, kwargs, bad", [
    (Adam, {"lr": -0.1}, "-0.1"),
    (Adam, {"lr": float("nan")}, "nan"),
    (Adam, {"betas": (1.0, 0.999)}, "1.0"),
    (Adam, {"betas": (0.9, -0.5)}, "-0.5"),
    (Adam, {"betas": (0.9, 1.5)}, "1.5"),
    (Adam, {"betas": 0.9}, "0.9"),
    (Adam, {"betas": (0.9, 0.99, 0.999)}, "0.999"),
    (Adam, {"betas": ("a", 0.9)}, "'a'"),
    (Adam, {"eps": -1e-8}, "-1e-08"),
    (Adam, {"weight_decay": -0.01}, "-0.01"),
    (Adam, {"amsgrad": "yes"}, "'yes'"),
    (AdamW, {"weight_decay": -1.0}, "-1.0"),
    (AdamW, {"betas": (0.9, 1.0)}, "1.0"),
    (AdamW, {"amsgrad": 1}, "1"),
    (Adadelta, {"lr": -1.0}, "-1.0"),
    (Adadelta, {"rho": 1.5}, "1.5"),
    (Adadelta, {"rho": -0.1}, "-0.1"),
    (Adadelta, {"eps": -1.0}, "-1.0"),
    (Adadelta, {"weight_decay": -0.5}, "-0.5"),
    (Adadelta, {"weight_decay": None}, "None"),
])
def test_invalid_arguments_raise_a_value_error_naming_the_class_and_value(cls, kwargs, bad):
    with pytest.raises(ValueError) as info:
        cls(Holder(w=np.ones(2)).parameters(), **kwargs)
    message = str(info.value)
    assert message.startswith(cls.__name__ + ":") and bad in message, message


def test_defaults_and_repr_follow_torch():
    params = Holder(w=np.ones(2)).parameters()
    assert repr(Adam(params)) == "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False)"
    assert repr(AdamW(params)) == "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)"
    assert repr(Adadelta(params)) == "Adadelta(lr=1.0, rho=0.9, eps=1e-06, weight_decay=0.0)"

"""Tests of nblib/activations.py's Identity, ReLU and LeakyReLU (from notebooks 02, 03 and 04).

Reference values come from formulas and loops written here, and gradients from central finite
differences computed here in float64, never from the classes under test."""
import numpy as np
import pytest

import nblib
from nblib import Dense, Identity, LeakyReLU, ReLU, Sequential, gradcheck
from reference import numeric_grad, relative_error

SHAPES = [(7,), (5, 3), (2, 3, 4, 5)]
ALPHAS = [0.0, 0.01, 0.2, 1.0, 3.0]


def away_from_zero(shape, seed):
    """Float64 inputs with 0.1 <= |x| <= 2 and random signs: no central difference straddles the kink."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def elementwise(function, x):
    """Apply a Python scalar function element by element (the slow, obviously right version)."""
    return np.array([function(float(v)) for v in x.ravel()]).reshape(x.shape)


# (layer, f(v), f'(v) with the kink convention at 0) for every activation under test
CASES = [
    (Identity(), lambda v: v, lambda v: 1.0),
    (ReLU(), lambda v: v if v > 0 else 0.0, lambda v: 1.0 if v > 0 else 0.0),
] + [
    (LeakyReLU(a), (lambda a: lambda v: v if v > 0 else a * v)(a), (lambda a: lambda v: 1.0 if v > 0 else a)(a))
    for a in ALPHAS
]
IDS = [repr(layer) for layer, _, _ in CASES]


@pytest.mark.parametrize("layer, f, df", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_a_scalar_loop(layer, f, df, shape):
    x = np.random.default_rng(0).standard_normal(shape) * 3
    x.flat[0] = 0.0  # the kink itself
    np.testing.assert_array_equal(layer.forward(x), elementwise(f, x))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_leaky_relu_matches_the_positive_negative_split(alpha):
    # f(x) = max(x, 0) + alpha * min(x, 0), written with |x| only
    x = np.random.default_rng(1).standard_normal((50, 4))
    expected = (x + np.abs(x)) / 2 + alpha * (x - np.abs(x)) / 2
    np.testing.assert_allclose(LeakyReLU(alpha).forward(x), expected, rtol=1e-15, atol=1e-15)


def test_relu_matches_half_x_plus_abs_x():
    x = np.random.default_rng(2).standard_normal((50, 4))
    np.testing.assert_allclose(ReLU().forward(x), (x + np.abs(x)) / 2, rtol=1e-15, atol=0)


@pytest.mark.parametrize("layer, f, df", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_is_incoming_gradient_times_derivative(layer, f, df, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # checks the convention at the kink: 0 for ReLU, alpha for LeakyReLU
    G = rng.standard_normal(shape)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(G), G * elementwise(df, x), rtol=1e-15, atol=0)


def test_kink_conventions_are_those_of_pytorch():
    x = np.zeros(3)
    for layer, expected in [(ReLU(), 0.0), (LeakyReLU(0.3), 0.3), (Identity(), 1.0)]:
        layer.forward(x)
        np.testing.assert_array_equal(layer.backward(np.ones(3)), np.full(3, expected))


@pytest.mark.parametrize("layer, f, df", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_finite_differences_in_float64(layer, f, df, shape):
    x = away_from_zero(shape, seed=4)
    G = np.random.default_rng(5).standard_normal(shape)
    objective = lambda: float(np.sum(layer.forward(x) * G))
    layer.forward(x)
    analytic = layer.backward(G)
    assert relative_error(analytic, numeric_grad(objective, x)) < 1e-7


@pytest.mark.parametrize("layer, f, df", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_nblib_gradcheck_is_below_1e7(layer, f, df, shape):
    assert gradcheck(layer, away_from_zero(shape, seed=6)) < 1e-7


def test_finite_differences_catch_a_wrong_derivative():
    class WrongLeaky(LeakyReLU):
        def backward(self, grad_y):
            return super().backward(grad_y) * 1.01   # a 1% error

    x = away_from_zero((4, 3), seed=7)
    assert gradcheck(WrongLeaky(0.1), x) > 1e-3
    assert gradcheck(LeakyReLU(0.1), x) < 1e-7


def test_gradient_check_at_the_kink_sees_the_average_slope():
    # documents why the checks stay away from 0: the central difference there is (1 + alpha) / 2
    x = np.array([0.0])
    assert gradcheck(ReLU(), x) == pytest.approx(1.0)                       # |0 - 0.5| / (0 + 0.5)
    alpha = 0.2
    expected = abs(alpha - (1 + alpha) / 2) / (alpha + (1 + alpha) / 2)
    assert gradcheck(LeakyReLU(alpha), x) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU(), LeakyReLU(0.5)], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_dtype_and_shape_are_kept(layer, dtype, shape):
    x = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    y = layer.forward(x)
    assert isinstance(y, np.ndarray) and y.dtype == dtype and y.shape == shape
    grad = layer.backward(np.ones(shape, dtype))
    assert isinstance(grad, np.ndarray) and grad.dtype == dtype and grad.shape == shape


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU(0.1)], ids=repr)
def test_inputs_and_gradients_are_not_changed_in_place(layer):
    rng = np.random.default_rng(9)
    x, G = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    x_copy, G_copy = x.copy(), G.copy()
    layer.forward(x)
    layer.backward(G)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(G, G_copy)


def test_leaky_relu_with_alpha_0_is_relu_and_with_alpha_1_is_linear():
    x = np.random.default_rng(10).standard_normal((20, 3))
    np.testing.assert_array_equal(LeakyReLU(0.0).forward(x), ReLU().forward(x))
    np.testing.assert_array_equal(LeakyReLU(1.0).forward(x), x)


def test_the_identity_is_named_as_in_torch():
    # torch.nn.Linear is a dense layer: the old name of the identity activation is gone
    assert not hasattr(nblib, "Linear") and repr(Identity()) == "Identity()"


def test_no_parameters_and_config():
    for layer in (Identity(), ReLU(), LeakyReLU(0.2)):
        assert layer.params == {} and layer.grads == {}
    assert Identity().config() == {} and ReLU().config() == {}
    assert LeakyReLU().config() == {"alpha": 0.01}
    assert LeakyReLU(np.float32(0.5)).config() == {"alpha": 0.5}
    assert type(LeakyReLU(1).config()["alpha"]) is float
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(alpha=0.2)"


def test_saved_model_keeps_alpha(tmp_path):
    model = Sequential([Dense(2, 4), LeakyReLU(0.3), Dense(4, 2), ReLU(), Identity()])
    model.save(tmp_path / "m.npz")
    loaded = Sequential.load(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "LeakyReLU", "Dense", "ReLU", "Identity"]
    assert loaded.layers[1].alpha == 0.3
    x = np.random.default_rng(11).standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU()], ids=repr)
@pytest.mark.parametrize("x", [[1.0, -2.0], 3.0, np.arange(4), np.ones(3, bool)], ids=["list", "float", "int64", "bool"])
def test_bad_input_is_refused_with_the_layers_name(layer, x):
    with pytest.raises(TypeError, match=type(layer).__name__):
        layer.forward(x)


@pytest.mark.parametrize("alpha", [-0.01, -1, "0.01", None, [0.1], float("nan"), float("inf"), True])
def test_bad_alpha_is_refused_with_the_layers_name(alpha):
    with pytest.raises(ValueError, match=r"LeakyReLU: alpha must be a number >= 0.0, got"):
        LeakyReLU(alpha)


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU()], ids=repr)
def test_backward_before_forward_says_to_call_forward(layer):
    with pytest.raises(RuntimeError, match=type(layer).__name__ + r".*call forward first"):
        type(layer)().backward(np.ones((2, 3)))


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU()], ids=repr)
def test_backward_with_a_wrong_gradient_shape(layer):
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=type(layer).__name__ + r".*expected a gradient of shape \(4, 3\)"):
        layer.backward(np.ones((3, 4)))


def test_relu_network_trains_through_the_activations():
    # the gradient flows through Dense -> ReLU -> Dense -> LeakyReLU -> Dense, parameters included
    rng = np.random.default_rng(12)
    layers = [Dense(3, 5, rng=rng), ReLU(), Dense(5, 4, rng=rng), LeakyReLU(0.1), Dense(4, 2, rng=rng)]
    for layer in layers:
        layer.astype(np.float64)
    for layer in layers[::2]:
        layer.params["b"][...] = rng.uniform(0.5, 1.0, layer.params["b"].shape)  # no unit sits at a kink
    model = Sequential(layers, input_grad=True)
    x, G = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    objective = lambda: float(np.sum(model.forward(x) * G))
    model.forward(x)
    dx = model.backward(G)
    assert relative_error(dx, numeric_grad(objective, x)) < 1e-7
    for layer in layers[::2]:
        analytic = layer.grads["W"].copy()
        assert relative_error(analytic, numeric_grad(objective, layer.params["W"])) < 1e-7


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU(0.1)], ids=repr)
@pytest.mark.parametrize("value", [2.0, -2.0])
def test_a_0d_input_gives_0d_arrays(layer, value):
    x = np.array(value, np.float32)
    y = layer.forward(x)
    grad = layer.backward(np.array(3.0, np.float32))
    assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == np.float32
    assert isinstance(grad, np.ndarray) and grad.shape == () and grad.dtype == np.float32
    expected_y = {"Identity": value, "ReLU": max(value, 0.0), "LeakyReLU": value if value > 0 else 0.1 * value}
    expected_grad = {"Identity": 3.0, "ReLU": 3.0 if value > 0 else 0.0, "LeakyReLU": 3.0 if value > 0 else 0.3}
    name = type(layer).__name__
    assert float(y) == pytest.approx(expected_y[name]) and float(grad) == pytest.approx(expected_grad[name])


@pytest.mark.parametrize("layer", [Identity(), ReLU(), LeakyReLU(0.1)], ids=repr)
def test_nan_is_passed_on_not_hidden(layer):
    # as torch.relu and torch.nn.functional.leaky_relu: a NaN input gives a NaN output
    y = layer.forward(np.array([np.nan, 1.0, -1.0]))
    assert np.isnan(y[0]) and not np.isnan(y[1:]).any()

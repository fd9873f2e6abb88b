"""Tanh, Sigmoid and Softmax (notebooks 05-07): forward against formulas written here with `math`
and loops, gradients against central finite differences and an explicit Jacobian, extreme inputs,
dtypes, bad input, and backward before forward."""
import math
import warnings

import numpy as np
import pytest

from nblib import Dense, Sequential, Sigmoid, Softmax, Tanh
from reference import numeric_grad


# ---- independent references ----

def ref_sigmoid(v):
    """1 / (1 + e^-v) through the identity sigma(v) = (1 + tanh(v / 2)) / 2, with math.tanh."""
    return 0.5 * (1.0 + math.tanh(v / 2.0))


def ref_softmax(x, axis):
    """Softmax with Python loops and math.exp over every 1-D slice along `axis` (shifted by the
    slice's max, so large logits work too)."""
    x = np.asarray(x, dtype=np.float64)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = [float(v) for v in moved[index]]
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        total = sum(exps)
        out[index] = [e / total for e in exps]
    return np.moveaxis(out, -1, axis)


def finite_difference_grad_x(layer, x, g):
    """d(sum(layer(x) * g))/dx by central differences, element by element, in float64."""
    x = x.astype(np.float64).copy()
    return numeric_grad(lambda: np.sum(layer.forward(x) * g), x)


def rel_error(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def re_shape(shape):
    """A shape as a regular expression matching its printed form."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def analytic_grad_x(layer, x, g):
    layer.forward(x)
    return layer.backward(g)


# ---- forward against formulas ----

def test_tanh_forward_matches_math_tanh():
    x = np.linspace(-25, 25, 201).reshape(3, 67)
    expected = np.array([[math.tanh(v) for v in row] for row in x])
    np.testing.assert_allclose(Tanh()(x), expected, rtol=1e-14, atol=1e-300)


def test_sigmoid_forward_matches_tanh_identity():
    x = np.linspace(-40, 40, 321).reshape(321, 1)
    expected = np.array([[ref_sigmoid(v) for v in row] for row in x])
    # 1 + tanh(v / 2) cancels for v << 0, so the identity is only accurate in absolute terms
    np.testing.assert_allclose(Sigmoid()(x), expected, rtol=1e-13, atol=2e-16)


def test_sigmoid_forward_matches_textbook_formula_to_full_relative_precision():
    # 1 / (1 + e^-v) with math.exp: no overflow for |v| <= 700 and no cancellation anywhere
    x = np.random.default_rng(0).uniform(-700, 700, size=(5, 7))
    expected = np.array([[1.0 / (1.0 + math.exp(-v)) for v in row] for row in x])
    np.testing.assert_allclose(Sigmoid()(x), expected, rtol=1e-13)


@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((4, 5), 0), ((4, 5), 1),
                                         ((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), 2), ((3, 4, 5), -2)])
def test_softmax_forward_matches_loop(shape, axis):
    x = 3 * np.random.default_rng(1).standard_normal(shape)
    s = Softmax(axis=axis)(x)
    np.testing.assert_allclose(s, ref_softmax(x, axis), rtol=1e-13)
    np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-14)


def test_softmax_of_two_logits_is_sigmoid_of_their_difference():
    x = np.random.default_rng(2).standard_normal((6, 2)) * 4
    expected = [ref_sigmoid(a - b) for a, b in x]
    np.testing.assert_allclose(Softmax()(x)[:, 0], expected, rtol=1e-13)


def test_forward_does_not_modify_the_input():
    x = np.random.default_rng(3).standard_normal((4, 3))
    before = x.copy()
    for layer in (Tanh(), Sigmoid(), Softmax(), Softmax(axis=0)):
        layer(x)
        np.testing.assert_array_equal(x, before)


# ---- gradients ----

@pytest.mark.parametrize("make", [Tanh, Sigmoid])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_elementwise_gradient_matches_finite_differences(make, shape):
    rng = np.random.default_rng(4)
    x, g = 2.5 * rng.standard_normal(shape), rng.standard_normal(shape)
    analytic = analytic_grad_x(make(), x, g)
    numeric = finite_difference_grad_x(make(), x, g)
    assert rel_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((4, 5), 0), ((4, 5), 1),
                                         ((3, 4, 5), -1), ((3, 4, 5), 0), ((3, 4, 5), 1)])
def test_softmax_gradient_matches_finite_differences(shape, axis):
    rng = np.random.default_rng(5)
    x, g = 2 * rng.standard_normal(shape), rng.standard_normal(shape)
    analytic = analytic_grad_x(Softmax(axis=axis), x, g)
    numeric = finite_difference_grad_x(Softmax(axis=axis), x, g)
    assert rel_error(analytic, numeric) < 1e-7


def test_derivative_formulas_at_known_points():
    x = np.array([[0.0, 1.0, -2.0]])
    ones = np.ones_like(x)
    np.testing.assert_allclose(analytic_grad_x(Tanh(), x, ones), [[1 / math.cosh(v) ** 2 for v in x[0]]], rtol=1e-14)
    expected = [math.exp(-v) / (1 + math.exp(-v)) ** 2 for v in x[0]]
    np.testing.assert_allclose(analytic_grad_x(Sigmoid(), x, ones), [expected], rtol=1e-14)
    assert analytic_grad_x(Sigmoid(), np.zeros((1, 1)), np.ones((1, 1)))[0, 0] == 0.25


@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((5, 4), 0), ((2, 3, 4), 1)])
def test_softmax_backward_matches_explicit_jacobian(shape, axis):
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    layer = Softmax(axis=axis)
    s = layer(x)
    grad_x = layer.backward(g)
    s_m, g_m = np.moveaxis(s, axis, -1), np.moveaxis(g, axis, -1)
    expected = np.empty_like(s_m)
    for index in np.ndindex(s_m.shape[:-1]):
        row, k = s_m[index], s_m.shape[-1]
        J = np.empty((k, k))
        for i in range(k):
            for j in range(k):
                J[i, j] = row[i] * (1.0 - row[j]) if i == j else -row[i] * row[j]  # ds_i / dx_j
        expected[index] = J.T @ g_m[index]
    np.testing.assert_allclose(grad_x, np.moveaxis(expected, -1, axis), rtol=1e-12, atol=1e-15)


def test_softmax_gradient_rows_sum_to_zero():
    rng = np.random.default_rng(7)
    x, g = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    assert np.abs(analytic_grad_x(Softmax(), x, g).sum(axis=1)).max() < 1e-14


# ---- extreme inputs ----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_plus_minus_1000_is_exactly_0_and_1_without_warning(dtype):
    x = np.array([-1000.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        layer = Sigmoid()
        y = layer(x)
        grad = layer.backward(np.ones_like(x))
    assert y[0] == 0.0 and y[1] == 1.0
    assert np.all(grad == 0.0)


def test_tanh_of_huge_inputs_is_exactly_plus_minus_one_without_warning():
    x = np.array([-1e308, -1000.0, 1000.0, 1e308])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = Tanh()(x)
    np.testing.assert_array_equal(y, [-1.0, -1.0, 1.0, 1.0])


def test_sigmoid_is_finite_and_in_range_over_all_magnitudes():
    x = np.concatenate([-np.logspace(-3, 308, 200), np.logspace(-3, 308, 200)])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = Sigmoid()(x)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y[:200] + y[200:], 1.0, rtol=1e-15)  # sigma(-x) = 1 - sigma(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_of_logits_around_1e4_is_finite_and_exact(dtype):
    x = np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4 - 1, -1e4 - 2]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = Softmax()(x)
    assert np.all(np.isfinite(s))
    sigma1 = 1 / (1 + math.exp(-1))
    tolerance = 1e-15 if dtype == np.float64 else 1e-7
    np.testing.assert_allclose(s[0], [sigma1, 1 - sigma1, 0.0], rtol=tolerance, atol=0)
    # only differences matter, and x - max(x) is exact here: same bits as the shifted logits
    np.testing.assert_array_equal(s[1], Softmax()(np.array([0.0, -1.0, -2.0], dtype=dtype)))
    np.testing.assert_allclose(s[1], ref_softmax([0.0, -1.0, -2.0], 0), rtol=tolerance)


def test_softmax_along_axis_0_with_large_logits():
    x = np.array([[1e4, -1e4], [1e4 + 2, -1e4 - 2]])
    s = Softmax(axis=0)(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[:, 0], ref_softmax([0.0, 2.0], 0), rtol=1e-15)
    np.testing.assert_allclose(s[:, 1], ref_softmax([0.0, -2.0], 0), rtol=1e-15)


def test_softmax_is_invariant_to_a_shift():
    x = np.array([[0.5, -1.0, 2.0, 0.0]])
    for c in (-1e4, -1000.0, 1000.0, 1e4):
        np.testing.assert_allclose(Softmax()(x + c), Softmax()(x), rtol=1e-12)


# ---- dtypes ----

@pytest.mark.parametrize("make", [Tanh, Sigmoid, Softmax, lambda: Softmax(axis=0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(make, dtype):
    x = np.random.default_rng(8).standard_normal((3, 4)).astype(dtype)
    layer = make()
    y = layer(x)
    assert y.dtype == dtype and y.shape == x.shape
    grad = layer.backward(np.ones_like(y))
    assert grad.dtype == dtype and grad.shape == x.shape


def test_float32_sigmoid_agrees_with_float64():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(Sigmoid()(x.astype(np.float32)), Sigmoid()(x), rtol=2e-7, atol=1e-30)


# ---- bad input and misuse ----

@pytest.mark.parametrize("make", [Tanh, Sigmoid, Softmax])
def test_non_array_input_is_refused_naming_the_layer(make):
    with pytest.raises(TypeError, match=make.__name__):
        make()([0.5, 1.0])


@pytest.mark.parametrize("make", [Tanh, Sigmoid, Softmax])
def test_integer_input_is_refused_naming_the_layer_and_dtype(make):
    with pytest.raises(TypeError, match=rf"{make.__name__}.*int64"):
        make()(np.array([[1, 2, 3]], dtype=np.int64))


@pytest.mark.parametrize("axis, shape", [(2, (4, 3)), (-3, (4, 3)), (1, (5,)), (0, (0, 3))])
def test_softmax_axis_not_in_input_raises_value_error_with_shape(axis, shape):
    with pytest.raises(ValueError, match=rf"Softmax\(axis={axis}\).*{re_shape(shape)}"):
        Softmax(axis=axis)(np.zeros(shape))


@pytest.mark.parametrize("axis", [1.5, "1", None, True])
def test_softmax_axis_must_be_an_integer(axis):
    with pytest.raises(ValueError, match="Softmax: axis must be an integer"):
        Softmax(axis=axis)


@pytest.mark.parametrize("make", [Tanh, Sigmoid, Softmax])
def test_backward_before_forward_raises(make):
    with pytest.raises(RuntimeError, match=rf"{make.__name__}.*call forward first"):
        make().backward(np.ones((2, 3)))


@pytest.mark.parametrize("make", [Tanh, Sigmoid, Softmax])
def test_backward_with_wrong_gradient_shape_raises(make):
    layer = make()
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"{make.__name__}.*\(2, 3\).*\(3, 2\)"):
        layer.backward(np.ones((3, 2)))


# ---- contract: no parameters, config, saving ----

def test_no_parameters_and_config():
    for layer in (Tanh(), Sigmoid(), Softmax()):
        assert layer.params == {} and layer.grads == {}
    assert Tanh().config() == {} and Sigmoid().config() == {}
    assert Softmax(axis=0).config() == {"axis": 0}
    assert repr(Softmax(axis=1)) == "Softmax(axis=1)"


def test_a_model_with_these_layers_saves_and_loads(tmp_path):
    rng = np.random.default_rng(9)
    model = Sequential([Dense(3, 4, init="glorot", rng=rng), Tanh(), Dense(4, 4, rng=rng), Sigmoid(),
                        Dense(4, 2, rng=rng), Softmax(axis=1)])
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model.save(tmp_path / "m.npz")
    loaded = Sequential.load(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    assert loaded.layers[-1].axis == 1
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))

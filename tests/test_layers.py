"""Tests of nblib/layers.py's Layer base and Dense (from notebooks/01_dense_layer.ipynb)."""
import numpy as np
import pytest

from nblib import Dense, Layer, gradcheck
from reference import numeric_grad


def test_forward_matches_a_loop():
    rng = np.random.default_rng(1)
    layer = Dense(3, 4, rng=rng)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    W, b = layer.params["W"], layer.params["b"]
    b[...] = rng.standard_normal(4)
    expected = np.array([[sum(x[n, i] * W[i, j] for i in range(3)) + b[j] for j in range(4)] for n in range(5)])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-5, atol=1e-6)


def test_backward_matches_finite_differences_in_float64():
    rng = np.random.default_rng(2)
    layer = Dense(4, 3, rng=rng).astype(np.float64)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal((6, 4))
    G = rng.standard_normal((6, 3))
    f = lambda: float(np.sum(layer.forward(x) * G))
    layer.forward(x)
    dx = layer.backward(G)
    for name, analytic in [("x", dx), ("W", layer.grads["W"].copy()), ("b", layer.grads["b"].copy())]:
        target = x if name == "x" else layer.params[name]
        numeric = numeric_grad(f, target)
        assert np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic + numeric) < 1e-7, name


@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 3, 4), (8, 7, 2)])
def test_gradcheck_of_dense_is_below_1e7(shape):
    n, d, m = shape
    x = np.random.default_rng(3).standard_normal((n, d))
    assert gradcheck(Dense(d, m, rng=np.random.default_rng(4)), x) < 1e-7


def test_gradcheck_catches_a_wrong_gradient():
    class Wrong(Dense):
        def backward(self, grad_y):
            grad_x = super().backward(grad_y)
            self.grads["W"] *= 1.01   # a 1% error
            return grad_x

    x = np.random.default_rng(5).standard_normal((4, 3))
    assert gradcheck(Wrong(3, 2), x) > 1e-3


def test_gradcheck_does_not_change_the_callers_layer():
    layer = Dense(3, 2)
    before = {k: v.copy() for k, v in layer.params.items()}
    gradcheck(layer, np.ones((2, 3)))
    assert layer.params["W"].dtype == np.float32
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])


def test_dtype_is_kept_and_parameters_are_float32():
    layer = Dense(3, 2)
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32
    y = layer.forward(np.ones((2, 3), np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((2, 2), np.float32)).dtype == np.float32
    assert layer.grads["W"].dtype == np.float32
    layer64 = Dense(3, 2).astype(np.float64)
    assert layer64.forward(np.ones((2, 3))).dtype == np.float64
    assert layer64.params["W"].dtype == np.float64 and layer64.grads["W"].dtype == np.float64


def test_astype_returns_the_same_layer():
    layer = Dense(2, 2)
    assert layer.astype(np.float64) is layer


@pytest.mark.parametrize("init, expected_var", [("he", 2 / 400), ("glorot", 2 / 500), (0.05, 0.05 ** 2)])
def test_initialisation_variance(init, expected_var):
    W = Dense(400, 100, init=init, rng=np.random.default_rng(0)).params["W"]
    assert abs(W.var() / expected_var - 1) < 0.03   # 40,000 samples: the estimate is within ~1%
    assert abs(W.mean()) < 0.01
    if init == "glorot":
        assert np.abs(W).max() <= np.sqrt(6 / 500)


def test_same_seed_same_weights_other_seed_other_weights():
    a = Dense(5, 3, rng=np.random.default_rng(7)).params["W"]
    b = Dense(5, 3, rng=np.random.default_rng(7)).params["W"]
    c = Dense(5, 3, rng=np.random.default_rng(8)).params["W"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_wrong_input_shape_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Dense\(3 -> 4\) expected input of shape \(batch, 3\), got \(2, 5\)"):
        Dense(3, 4).forward(np.zeros((2, 5), np.float32))


def test_image_input_suggests_flatten():
    with pytest.raises(ValueError, match="did you forget Flatten"):
        Dense(784, 10).forward(np.zeros((32, 28, 28), np.float32))


@pytest.mark.parametrize("x, error", [([[1.0, 2.0]], TypeError), (np.ones((2, 2), np.int64), TypeError),
                                      (np.ones(2, np.float32), ValueError)])
def test_bad_inputs(x, error):
    with pytest.raises(error, match="Dense"):
        Dense(2, 3).forward(x)


@pytest.mark.parametrize("args", [(0, 3), (3, -1), (2.5, 3), ("3", 3), (True, 3)])
def test_bad_constructor_arguments(args):
    with pytest.raises(ValueError, match="Dense"):
        Dense(*args)


def test_bad_init():
    with pytest.raises(ValueError, match="init"):
        Dense(2, 2, init="lecun")


def test_backward_before_forward_says_to_call_forward():
    with pytest.raises(RuntimeError, match="call forward first"):
        Dense(2, 2).backward(np.ones((1, 2), np.float32))


def test_backward_with_wrong_gradient_shape():
    layer = Dense(2, 3)
    layer.forward(np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(4, 3\)"):
        layer.backward(np.ones((4, 2), np.float32))


def test_layer_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Layer().forward(np.ones(1))


# ---- the public helpers that later notebooks import (no private names across notebooks) ----

def test_positive_int_accepts_positive_integers_only():
    from nblib.layers import positive_int
    assert positive_int("Thing", "size", 3) == 3 and type(positive_int("Thing", "size", np.int64(2))) is int
    for bad in (0, -1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match=rf"Thing: size must be a positive integer, got {bad!r}"):
            positive_int("Thing", "size", bad)


def test_int_pair_and_compact_pair():
    from nblib.layers import compact_pair, int_pair
    assert int_pair("Conv", "kernel_size", 3) == (3, 3)
    assert int_pair("Conv", "stride", [2, 1]) == (2, 1)
    assert int_pair("Conv", "padding", 0, minimum=0) == (0, 0)
    for bad in (0, (1, 2, 3), (2, True), 1.5):
        with pytest.raises(ValueError, match="Conv: kernel_size must be an integer >= 1 or a pair"):
            int_pair("Conv", "kernel_size", bad)
    assert compact_pair((3, 3)) == 3 and compact_pair((2, 1)) == (2, 1)


def test_flush_denormals_zeroes_tiny_float32_values_every_flush_every_steps():
    from nblib.optim import FLUSH_EVERY, flush_denormals
    tiny = np.finfo(np.float32).tiny
    values = [tiny / 4, -tiny / 8, tiny, 1e-3, 0.0]
    state = {"step": FLUSH_EVERY - 1, "a": np.array(values, np.float32), "b": np.array(values, np.float64)}
    flush_denormals(state, "a", "b")
    np.testing.assert_array_equal(state["a"], np.array(values, np.float32))   # not a flushing step
    state["step"] = 2 * FLUSH_EVERY
    flush_denormals(state, "a", "b")
    np.testing.assert_array_equal(state["a"], np.array([0.0, 0.0, tiny, 1e-3, 0.0], np.float32))
    np.testing.assert_array_equal(state["b"], np.array(values, np.float64))   # float64: left exact


def test_the_stable_sigmoid_function_is_public():
    import math
    from nblib import sigmoid
    x = np.array([-800.0, -30.0, -1.0, 0.0, 0.5, 30.0, 800.0])
    expected = [math.exp(v) / (1 + math.exp(v)) if v < 0 else 1 / (1 + math.exp(-v)) for v in x]
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-15, atol=0)


def test_check_number_takes_finite_numbers_in_range_and_names_the_owner():
    from nblib.layers import check_number
    assert check_number("X", "a", 2) == 2.0 and type(check_number("X", "a", np.float32(0.5))) is float
    assert check_number("X", "a", 0.0) == 0.0                                   # the closed low end
    assert check_number("X", "p", 0.999, high=1.0, high_open=True) == 0.999
    for bad, kwargs, text in [(-0.1, {}, r"X: a must be a number >= 0.0, got -0.1"),
                              (0.0, dict(low_open=True), r"X: a must be a number > 0.0, got 0.0"),
                              (1.0, dict(high=1.0, high_open=True), r"X: a must be a number in \[0.0, 1.0\), got 1.0"),
                              (2.0, dict(high=1.0), r"X: a must be a number in \[0.0, 1.0\], got 2.0"),
                              (True, {}, "got True"), ("1", {}, "got '1'"), (float("nan"), {}, "got nan"),
                              (float("inf"), {}, "got inf")]:
        with pytest.raises(ValueError, match=text):
            check_number("X", "a", bad, **kwargs)

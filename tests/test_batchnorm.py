"""Tests of BatchNorm1D and BatchNorm2D in nblib/batchnorm.py (from notebooks/24_batch_norm.ipynb).

References are written here independently of the code under test: torch.nn.BatchNorm1d/2d's
documented formulas evaluated one value at a time with Python loops (mean, biased variance for the
normalisation, unbiased variance for the running average), and central finite differences."""
import copy
import math

import numpy as np
import pytest

from nblib import Dense, ReLU, Sequential, CrossEntropy, SGD
from nblib.batchnorm import BatchNorm1D, BatchNorm2D
from reference import numeric_grad, relative_error


def check_gradients(layer, x, g, training):
    """Assert the layer's dL/dx, dL/dgamma, dL/dbeta for L = sum(y * g) match central differences; return dL/dx."""
    f = lambda: float(np.sum(layer.forward(x, training=training) * g))
    layer.forward(x, training=training)
    dx = layer.backward(g)
    analytic = {"x": dx, "gamma": layer.grads["gamma"].copy(), "beta": layer.grads["beta"].copy()}
    numeric = {"x": numeric_grad(f, x), "gamma": numeric_grad(f, layer.params["gamma"]),
               "beta": numeric_grad(f, layer.params["beta"])}
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) < 1e-7, name
    return dx



def feature_values(x, f):
    """All values of feature (channel) f of x, (N, F) or (N, C, H, W), as a list of Python floats."""
    return [float(v) for v in np.asarray(x)[:, f].ravel()]


def torch_formulas(batches, gamma, beta, eps, momentum, x_eval):
    """What torch.nn.BatchNorm1d/2d documents, value by value: the training outputs of each batch,
    the running statistics after each step, and the evaluation output for x_eval."""
    F = len(gamma)
    running_mean, running_var = [0.0] * F, [1.0] * F
    outputs, running = [], []
    for x in batches:
        y = np.empty(x.shape)
        for f in range(F):
            values = feature_values(x, f)
            m = len(values)
            mean = sum(values) / m
            biased = sum((v - mean) ** 2 for v in values) / m
            unbiased = sum((v - mean) ** 2 for v in values) / (m - 1)
            out = [gamma[f] * (v - mean) / math.sqrt(biased + eps) + beta[f] for v in values]
            y[:, f] = np.array(out).reshape(y[:, f].shape)
            running_mean[f] = (1 - momentum) * running_mean[f] + momentum * mean
            running_var[f] = (1 - momentum) * running_var[f] + momentum * unbiased
        outputs.append(y)
        running.append((list(running_mean), list(running_var)))
    y_eval = np.empty(x_eval.shape)
    for f in range(F):
        out = [gamma[f] * (v - running_mean[f]) / math.sqrt(running_var[f] + eps) + beta[f]
               for v in feature_values(x_eval, f)]
        y_eval[:, f] = np.array(out).reshape(y_eval[:, f].shape)
    return outputs, running, y_eval


CASES = [(BatchNorm1D, (16, 4)), (BatchNorm1D, (2, 3)), (BatchNorm2D, (5, 3, 4, 6)), (BatchNorm2D, (1, 2, 3, 3))]
# a batch of 2 is left out of the gradient checks: its x_hat is +-1 whatever x, so dL/dx is of the
# order of eps and finite differences cannot measure it to a relative 1e-7
GRADIENT_CASES = [case for case in CASES if case[1] != (2, 3)] + [(BatchNorm1D, (3, 3))]


@pytest.mark.parametrize("cls, shape", CASES)
@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3), (1.0, 1e-5), (0.0, 0.5)])
def test_training_steps_running_statistics_and_evaluation_match_torch_formulas(cls, shape, momentum, eps):
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    F = shape[1]
    gamma, beta = rng.uniform(0.5, 2.0, F), rng.standard_normal(F)
    layer = cls(F, eps=eps, momentum=momentum).astype(np.float64)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    batches = [rng.normal(rng.uniform(-3, 3), rng.uniform(0.5, 4), shape) for _ in range(4)]
    x_eval = rng.normal(1.0, 2.0, shape)
    outputs, running, y_eval = torch_formulas(batches, list(gamma), list(beta), eps, momentum, x_eval)
    for x, y, (r_mean, r_var) in zip(batches, outputs, running):
        np.testing.assert_allclose(layer.forward(x), y, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.running_mean, r_mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.running_var, r_var, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.forward(x_eval, training=False), y_eval, rtol=1e-10, atol=1e-12)


def test_the_running_variance_is_the_unbiased_one_and_momentum_weighs_the_new_value():
    layer = BatchNorm1D(1, momentum=0.25)
    layer.forward(np.array([[1.0], [2.0], [3.0], [6.0]], np.float32))   # mean 3, biased var 3.5, unbiased 14/3
    np.testing.assert_allclose(layer.running_mean, [0.25 * 3.0], rtol=1e-6)
    np.testing.assert_allclose(layer.running_var, [0.75 * 1.0 + 0.25 * 14 / 3], rtol=1e-6)


@pytest.mark.parametrize("cls, shape", GRADIENT_CASES)
def test_gradients_match_finite_differences_in_training(cls, shape):
    rng = np.random.default_rng(7)
    F = shape[1]
    layer = cls(F).astype(np.float64)
    layer.params["gamma"][...], layer.params["beta"][...] = rng.uniform(0.5, 2.0, F), rng.standard_normal(F)
    x, g = rng.normal(2.0, 3.0, shape), rng.standard_normal(shape)
    dx = check_gradients(layer, x, g, training=True)
    # the compact form's consequences: no component along a shift of each feature, nor (for eps -> 0)
    # along a scaling around its mean
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    np.testing.assert_allclose(dx.sum(axis=axes), 0, atol=1e-10)
    tiny = cls(F, eps=1e-14).astype(np.float64)
    tiny.forward(x)
    dx = tiny.backward(g)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / x.std(axis=axes, keepdims=True)
    np.testing.assert_allclose(dx.sum(axis=axes), 0, atol=1e-10)
    np.testing.assert_allclose((dx * x_hat).sum(axis=axes), 0, atol=1e-10)


@pytest.mark.parametrize("cls, shape", [(BatchNorm1D, (1, 4)), (BatchNorm2D, (3, 2, 2, 3))])
def test_gradients_match_finite_differences_in_evaluation(cls, shape):
    rng = np.random.default_rng(8)
    F = shape[1]
    layer = cls(F).astype(np.float64)
    layer.running_mean[...], layer.running_var[...] = rng.standard_normal(F), rng.uniform(0.2, 3.0, F)
    layer.params["gamma"][...], layer.params["beta"][...] = rng.uniform(-2, 2, F), rng.standard_normal(F)
    before = (layer.running_mean.copy(), layer.running_var.copy())
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    dx = check_gradients(layer, x, g, training=False)
    np.testing.assert_array_equal(layer.running_mean, before[0])   # evaluation updates nothing
    np.testing.assert_array_equal(layer.running_var, before[1])


def test_batchnorm2d_is_batchnorm1d_over_the_channel_axis():
    rng = np.random.default_rng(9)
    x, g = rng.standard_normal((4, 3, 5, 2)), rng.standard_normal((4, 3, 5, 2))
    as_rows = lambda a: a.transpose(0, 2, 3, 1).reshape(-1, 3)   # every pixel a row of 3 features
    two, one = BatchNorm2D(3).astype(np.float64), BatchNorm1D(3).astype(np.float64)
    for layer in (two, one):
        layer.params["gamma"][...] = [0.5, 2.0, -1.0]
    np.testing.assert_allclose(as_rows(two.forward(x)), one.forward(as_rows(x)), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(as_rows(two.backward(g)), one.backward(as_rows(g)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(two.grads["gamma"], one.grads["gamma"], rtol=1e-12)
    np.testing.assert_allclose(two.running_var, one.running_var, rtol=1e-12)


def test_defaults_parameters_config_and_dtypes():
    layer = BatchNorm2D(6)
    assert list(layer.params) == ["gamma", "beta"] and list(layer.grads) == ["gamma", "beta"]
    np.testing.assert_array_equal(layer.params["gamma"], np.ones(6))
    np.testing.assert_array_equal(layer.params["beta"], np.zeros(6))
    np.testing.assert_array_equal(layer.running_mean, np.zeros(6))
    np.testing.assert_array_equal(layer.running_var, np.ones(6))
    assert all(a.dtype == np.float32 for a in [*layer.params.values(), layer.running_mean, layer.running_var])
    assert [p.name for p in layer.parameters()] == ["gamma", "beta"]
    assert layer.config() == {"num_features": 6, "eps": 1e-5, "momentum": 0.1}
    again = BatchNorm2D(**BatchNorm2D(4, eps=1e-3, momentum=0.5).config())
    assert (again.num_features, again.eps, again.momentum) == (4, 1e-3, 0.5)
    assert repr(BatchNorm1D(3)) == "BatchNorm1D(3)"
    x = np.random.default_rng(0).standard_normal((4, 6, 3, 3)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32 and layer.backward(x).dtype == np.float32
    assert layer.running_mean.dtype == np.float32
    layer.astype(np.float64)
    assert all(a.dtype == np.float64 for a in [*layer.params.values(), *layer.grads.values(),
                                               layer.running_mean, layer.running_var])


def test_a_model_with_batch_norm_trains_and_predicts_one_example():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 5)).astype(np.float32) * 50 + 20     # badly scaled inputs
    y = (x[:, 0] > 20).astype(np.int64)
    model = Sequential([Dense(5, 16, rng=rng), BatchNorm1D(16), ReLU(), Dense(16, 2, rng=rng)])
    history = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=15, batch_size=32,
                        rng=np.random.default_rng(0), verbose=False)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert model.evaluate(x, y, CrossEntropy())["accuracy"] > 0.9
    assert model.predict(x[:1]).shape == (1, 2)                          # one example: evaluation mode
    np.testing.assert_allclose(model.layers[1].running_mean,
                               (x @ model.layers[0].params["W"] + model.layers[0].params["b"]).mean(axis=0),
                               rtol=0.3, atol=5.0)                       # the averages followed the data


@pytest.mark.parametrize("layer, shape, words", [
    (BatchNorm1D(4), (8, 5), "expected input of shape (batch, 4), got (8, 5)"),
    (BatchNorm1D(4), (8, 4, 3, 3), "for images use BatchNorm2D"),
    (BatchNorm2D(4), (8, 4), "expected input of shape (batch, 4, height, width), got (8, 4)"),
    (BatchNorm2D(4), (8, 3, 5, 5), "(batch, 4, height, width)"),
    (BatchNorm1D(4), (1, 4), "needs more than one value per feature"),
    (BatchNorm2D(4), (1, 4, 1, 1), "needs more than one value per feature"),
])
def test_clear_errors(layer, shape, words):
    with pytest.raises(ValueError, match="BatchNorm") as info:
        layer.forward(np.zeros(shape, np.float32))
    assert words in str(info.value)


def test_one_example_is_fine_in_evaluation_and_for_images_in_training():
    assert BatchNorm1D(4).forward(np.ones((1, 4), np.float32), training=False).shape == (1, 4)
    assert BatchNorm2D(4).forward(np.ones((1, 4, 2, 2), np.float32)).shape == (1, 4, 2, 2)   # m = 4 values


@pytest.mark.parametrize("kwargs", [{"num_features": 0}, {"num_features": 2.5}, {"num_features": 3, "eps": 0},
                                    {"num_features": 3, "momentum": 1.5}, {"num_features": 3, "momentum": -0.1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="BatchNorm1D"):
        BatchNorm1D(**kwargs)


def test_backward_errors():
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNorm1D(3).backward(np.zeros((4, 3)))
    layer = BatchNorm1D(3)
    layer.forward(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="gradient of shape"):
        layer.backward(np.zeros((4, 2), np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        layer.forward(np.zeros((4, 3), np.int64))


def test_gradcheck_copy_leaves_the_layer_alone():
    from nblib import gradcheck
    layer = BatchNorm1D(3)
    before = copy.deepcopy(layer.running_mean)
    assert gradcheck(layer, np.random.default_rng(1).normal(1.0, 2.0, (6, 3))) < 1e-7
    np.testing.assert_array_equal(layer.running_mean, before)
    assert layer.params["gamma"].dtype == np.float32

"""Tests of nblib/init.py (notebook 17): orthogonal_, lsuv, ActivationStats.

References are computed independently: orthogonality from its definition, variances and statistics
from forward and backward passes written out by hand, histograms by counting value by value."""
import numpy as np
import pytest

from nblib import CrossEntropy, Dense, ReLU, SGD, Sequential, Tanh
from nblib.init import ActivationStats, lsuv, orthogonal_


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (30, 30), (8, 3, 3, 3), (4, 2, 5, 5)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    W = np.zeros(shape, np.float32)
    out = orthogonal_(W, rng=np.random.default_rng(0))
    assert out is W and W.shape == shape                # in place
    M = W.reshape(shape[0], -1).astype(np.float64)
    rows, cols = M.shape
    product = M.T @ M if rows >= cols else M @ M.T      # the smaller Gram matrix is the identity
    np.testing.assert_allclose(product, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_gain_and_randomness():
    W = orthogonal_(np.zeros((40, 10)), gain=3.0, rng=np.random.default_rng(1))
    np.testing.assert_allclose(W.T @ W, 9.0 * np.eye(10), atol=1e-10)
    V = orthogonal_(np.zeros((40, 10)), gain=3.0, rng=np.random.default_rng(2))
    assert not np.allclose(W, V)
    # every entry of a uniformly random orthogonal 40 x 40 matrix has mean 0 and variance 1/40
    samples = np.array([orthogonal_(np.zeros((40, 40)), rng=np.random.default_rng(s))[0, 0] for s in range(2000)])
    assert abs(samples.mean()) < 0.02 and abs(samples.var() * 40 - 1) < 0.1


def deep_net(activation, depth=12, seed=0):
    rng = np.random.default_rng(seed)
    layers = [Dense(5, 32, rng=rng)]
    for _ in range(depth - 1):
        layers += [activation(), Dense(32, 32, init=0.3, rng=rng)]
    return Sequential(layers + [activation(), Dense(32, 3, rng=rng)])


@pytest.mark.parametrize("activation", [ReLU, Tanh])
@pytest.mark.parametrize("nonzero_bias", [False, True])
def test_lsuv_gives_unit_variance_per_layer_on_its_batch(activation, nonzero_bias):
    model = deep_net(activation)
    if nonzero_bias:                                    # a bias makes one division inexact: LSUV iterates
        for layer in model.layers:
            if "b" in layer.params:
                layer.params["b"][...] = 0.5
    x = np.random.default_rng(1).normal(2.0, 3.0, (200, 5)).astype(np.float32)
    variances = lsuv(model, x, tol=0.01, rng=np.random.default_rng(2))
    # the reference: a forward pass by hand, layer by layer, with the final weights
    h, measured = x.astype(np.float64), []
    for layer in model.layers:
        if "W" in layer.params:
            h = h @ layer.params["W"].astype(np.float64) + layer.params["b"]
            measured.append(h.var())
        else:
            h = np.maximum(h, 0) if activation is ReLU else np.tanh(h)
    assert len(measured) == len(variances) == 13
    assert all(abs(v - 1) < 0.01 for v in measured), measured
    np.testing.assert_allclose(variances, measured, rtol=1e-4)
    for layer in model.layers:                          # each weight is a multiple of an orthogonal matrix
        if "W" in layer.params:
            W = layer.params["W"].astype(np.float64)
            G = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T
            np.testing.assert_allclose(G, G[0, 0] * np.eye(len(G)), atol=1e-4 * G[0, 0])


def reference_histogram(a, bins):
    """Counts of log10|a| per bin, value by value; values outside the range go to the end bins."""
    counts = np.zeros(len(bins) - 1, int)
    for v in np.abs(np.asarray(a, np.float64)).ravel():
        m = np.log10(v) if v > 0 else -np.inf
        k = np.searchsorted(bins, m, side="right") - 1
        counts[min(max(k, 0), len(bins) - 2)] += 1
    return counts


def manual_passes(model, x, G):
    """Each layer's output and the gradient of each layer's output, by hand (float64)."""
    outputs, h = [], x.astype(np.float64)
    for layer in model.layers:
        h = h @ layer.params["W"] + layer.params["b"] if "W" in layer.params else np.maximum(h, 0)
        outputs.append(h)
    grads, g = [None] * len(model.layers), G.astype(np.float64)
    for i in reversed(range(len(model.layers))):
        grads[i] = g
        layer = model.layers[i]
        g = g @ layer.params["W"].T if "W" in layer.params else g * (outputs[i - 1] > 0)
    return outputs, grads


def test_activation_stats_records_what_a_manual_forward_and_backward_compute():
    rng = np.random.default_rng(3)
    model = Sequential([Dense(4, 6, rng=rng), ReLU(), Dense(6, 5, rng=rng), ReLU(), Dense(5, 3, rng=rng)])
    x = rng.normal(size=(16, 4)).astype(np.float32)
    G = rng.normal(size=(16, 3)).astype(np.float32)
    bins = np.linspace(-4, 1, 11)
    stats = ActivationStats(model, bins=bins)
    model.forward(x)
    model.backward(G)
    outputs, grads = manual_passes(model, x, G)
    for i in range(len(model.layers)):
        assert stats.act["mean"][i] == [pytest.approx(outputs[i].mean(), abs=1e-6)]
        assert stats.act["std"][i] == [pytest.approx(outputs[i].std(), rel=1e-5)]
        np.testing.assert_array_equal(stats.act["hist"][i][0], reference_histogram(outputs[i], bins))
    for i in range(len(model.layers)):                  # layer 0 is the first with parameters: all have grads
        assert stats.grad["std"][i] == [pytest.approx(grads[i].std(), rel=1e-5)]
        assert stats.grad["mean"][i] == [pytest.approx(grads[i].mean(), abs=1e-6)]
        np.testing.assert_array_equal(stats.grad["hist"][i][0], reference_histogram(grads[i], bins))
    stats.remove()
    assert model.forward_hooks == [] and model.backward_hooks == []
    model.forward(x)
    assert len(stats.act["std"][0]) == 1                # removed: nothing more recorded


def test_activation_stats_every_k_batches_and_as_a_fit_callback():
    rng = np.random.default_rng(4)
    model = Sequential([Dense(2, 8, rng=rng), ReLU(), Dense(8, 3, rng=rng)])
    x = rng.normal(size=(50, 2)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    stats = ActivationStats(model, every=3)
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=2, batch_size=10,
              rng=np.random.default_rng(5), callbacks=[stats], verbose=False,
              validation_data=(x, y))              # evaluation passes must not count as batches
    assert stats.batch == 10 and stats.epoch_ends == [5, 10]
    assert all(len(stats.act["std"][i]) == 4 for i in range(3))   # batches 1, 4, 7, 10
    assert all(len(stats.grad["std"][i]) == 4 for i in range(3))
    assert all(h.sum() == 10 * 8 for h in stats.act["hist"][1])     # every value of a (10, 8) output counted
    with pytest.raises(ValueError, match="every"):
        ActivationStats(model, every=0)

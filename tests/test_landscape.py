"""Tests of nblib/landscape.py (from notebooks/15_optimizers_compared.ipynb): the loss of a network on a
2-D grid of parameter perturbations along filter-normalised random directions."""
import numpy as np
import pytest

from nblib import MSE, CrossEntropy, Dense, Parameter, Sequential, filter_normalized_direction, loss_landscape


class Holder:
    """A stand-in layer with given parameter arrays (for shapes no layer of the course has yet)."""

    def __init__(self, **params):
        self.params = params
        self.grads = {name: np.zeros_like(p) for name, p in params.items()}

    def parameters(self):
        return [Parameter(self, name) for name in self.params]


def small_classifier(seed=0):
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(2, 5, rng=rng), Dense(5, 3, rng=rng)])
    model.layers[0].params["b"][...] = rng.standard_normal(5)
    x = rng.standard_normal((40, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    return model, x, y


def test_the_grid_is_symmetric_with_an_exact_centre():
    model, x, y = small_classifier()
    alphas, betas, losses = loss_landscape(model, x, y, CrossEntropy(), span=0.7, steps=9)
    assert losses.shape == (9, 9)
    assert alphas[4] == 0.0 and alphas[0] == -0.7 and alphas[-1] == 0.7
    np.testing.assert_array_equal(alphas, -alphas[::-1])
    np.testing.assert_array_equal(alphas, betas)


def test_the_centre_of_the_grid_is_the_loss_of_the_model():
    model, x, y = small_classifier()
    expected = CrossEntropy()(model.predict(x), y)
    _, _, losses = loss_landscape(model, x, y, CrossEntropy(), steps=7, rng=np.random.default_rng(3))
    assert losses[3, 3] == expected
    assert np.all(np.isfinite(losses)) and losses.max() > expected  # the scan did move the weights


def test_the_weights_are_restored_exactly_and_stay_the_same_arrays():
    model, x, y = small_classifier()
    arrays = [p for layer in model.layers for p in layer.params.values()]
    before = [p.copy() for p in arrays]
    loss_landscape(model, x, y, CrossEntropy(), span=3.0, steps=5)
    after = [p for layer in model.layers for p in layer.params.values()]
    assert all(a is b for a, b in zip(arrays, after))
    for p, q in zip(after, before):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, q)


def test_the_weights_are_restored_when_the_loss_fails_half_way():
    model, x, y = small_classifier()
    before = [p.copy() for layer in model.layers for p in layer.params.values()]

    class FailingLoss(CrossEntropy):
        calls = 0

        def forward(self, pred, target):
            FailingLoss.calls += 1
            if FailingLoss.calls == 7:
                raise RuntimeError("boom")
            return super().forward(pred, target)

    with pytest.raises(RuntimeError, match="boom"):
        loss_landscape(model, x, y, FailingLoss(), steps=5)
    for p, q in zip([p for layer in model.layers for p in layer.params.values()], before):
        np.testing.assert_array_equal(p, q)


def test_filter_normalisation_of_dense_weights_and_zero_bias_directions():
    model, _, _ = small_classifier()
    direction = filter_normalized_direction(model, np.random.default_rng(1))
    arrays = [p for layer in model.layers for p in layer.params.values()]
    assert [d.shape for d in direction] == [p.shape for p in arrays]
    for d, p in zip(direction, arrays):
        if p.ndim == 1:
            np.testing.assert_array_equal(d, 0.0)           # biases: not perturbed
        else:                                                # Dense W (in, out): one neuron per column
            np.testing.assert_allclose(np.linalg.norm(d, axis=0), np.linalg.norm(p.astype(np.float64), axis=0),
                                       rtol=1e-12)
            # a direction, not a scaled copy of the weights: far from parallel to them
            cosine = np.sum(d * p) / (np.linalg.norm(d) * np.linalg.norm(p))
            assert abs(cosine) < 0.9


def test_filter_normalisation_of_a_four_dimensional_weight_uses_its_first_axis():
    rng = np.random.default_rng(2)
    W = (rng.standard_normal((4, 3, 2, 2)) * np.array([0.1, 1.0, 10.0, 0.0])[:, None, None, None]).astype(np.float32)
    model = Holder(W=W, b=np.ones(4, np.float32))   # anything with parameters(), as a layer
    d, db = filter_normalized_direction(model, np.random.default_rng(0))
    expected = np.sqrt((W.astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(np.sqrt((d ** 2).sum(axis=(1, 2, 3))), expected, rtol=1e-12, atol=0)
    assert np.all(d[3] == 0)          # a filter of zeros gets a zero direction
    np.testing.assert_array_equal(db, 0.0)


def test_random_directions_are_reproducible_from_the_rng():
    model, _, _ = small_classifier()
    a = filter_normalized_direction(model, np.random.default_rng(5))
    b = filter_normalized_direction(model, np.random.default_rng(5))
    c = filter_normalized_direction(model, np.random.default_rng(6))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_a_linear_model_with_mse_gives_the_quadratic_written_out_by_hand():
    """For pred = x W + b and the mean squared error, moving W along D1 and D2 gives
    L(a, b) = mean((r + a x D1 + b x D2)^2) with r = x W + b - y: a quadratic in (a, b)."""
    rng = np.random.default_rng(4)
    model = Sequential([Dense(3, 2, rng=rng)]).astype(np.float64)
    model.layers[0].params["b"][...] = [0.3, -0.2]
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    D1, D2 = rng.standard_normal((3, 2)), 0.3 * rng.standard_normal((3, 2))   # different scales: a, b not symmetric
    zero = np.zeros(2)
    alphas, betas, losses = loss_landscape(model, x, y, MSE(), directions=([D1, zero], [D2, zero]), span=2.0, steps=11)
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    r, e1, e2 = x @ W + b - y, x @ D1, x @ D2
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            expected = (np.mean(r * r) + 2 * alpha * np.mean(r * e1) + 2 * beta * np.mean(r * e2)
                        + alpha ** 2 * np.mean(e1 * e1) + 2 * alpha * beta * np.mean(e1 * e2)
                        + beta ** 2 * np.mean(e2 * e2))
            assert losses[i, j] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 1}, "steps"), ({"steps": 4.0}, "steps"), ({"span": 0.0}, "span"), ({"span": float("inf")}, "span"),
    ({"directions": ([np.zeros((2, 5))], [np.zeros((2, 5))])}, "direction"),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    model, x, y = small_classifier()
    with pytest.raises(ValueError, match=message):
        loss_landscape(model, x, y, CrossEntropy(), **kwargs)

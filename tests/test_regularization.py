"""Tests of Dropout (nblib/layers.py) and EarlyStopping (nblib/model.py), from notebooks/20_regularization.ipynb."""
import numpy as np
import pytest

import nblib
from nblib import CrossEntropy, Dense, Dropout, EarlyStopping, Sequential, SGD, load_model
from reference import numeric_grad


def expected_mask(p, shape, seed):
    """The mask Dropout(p, rng=default_rng(seed)) should draw, computed by a separate formula:
    keep where a float32 uniform draw is >= p, and scale the kept ones by 1 / (1 - p)."""
    u = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return np.where(u >= p, 1.0 / (1.0 - p), 0.0)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_forward_and_backward_match_the_mask_formula(p):
    x = np.random.default_rng(1).standard_normal((7, 5))
    G = np.random.default_rng(2).standard_normal((7, 5))
    layer = Dropout(p, rng=np.random.default_rng(3))
    y = layer.forward(x)
    mask = expected_mask(p, x.shape, 3) if p else np.ones_like(x)
    np.testing.assert_allclose(y, x * mask, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(G), G * mask, rtol=1e-12)


def test_outputs_are_zero_or_scaled_input():
    x = np.random.default_rng(4).uniform(0.5, 1.5, (50, 40))
    y = Dropout(0.3, rng=np.random.default_rng(5)).forward(x)
    dropped = y == 0
    assert 0 < dropped.sum() < x.size
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.7)


def test_backward_with_a_fixed_mask_matches_finite_differences_in_float64():
    x = np.random.default_rng(6).standard_normal((4, 6))
    G = np.random.default_rng(7).standard_normal((4, 6))

    def f():  # the same mask at every call: a fresh generator with the same seed
        layer = Dropout(0.4, rng=np.random.default_rng(8))
        return float(np.sum(layer.forward(x) * G))

    layer = Dropout(0.4, rng=np.random.default_rng(8))
    layer.forward(x)
    analytic = layer.backward(G)
    numeric = numeric_grad(f, x)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic + numeric) < 1e-7


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_the_mask_keeps_the_expectation(p):
    ones = np.ones((1000, 1000), np.float32)
    y = Dropout(p, rng=np.random.default_rng(9)).forward(ones)
    # a million independent draws: the kept share is within 5 standard deviations of 1 - p
    sd = np.sqrt(p * (1 - p) / ones.size)
    assert abs(np.mean(y != 0) - (1 - p)) < 5 * sd
    assert abs(y.mean() - 1.0) < 5 * sd / (1 - p)


def test_evaluation_mode_is_the_identity_forward_and_backward():
    x = np.random.default_rng(10).standard_normal((3, 4)).astype(np.float32)
    layer = Dropout(0.5)
    y = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    G = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(G), G)


def test_p_zero_keeps_everything():
    x = np.random.default_rng(11).standard_normal((3, 4))
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_seeded_layers_draw_the_same_masks_and_successive_calls_differ():
    x = np.ones((20, 30))
    a, b = Dropout(0.5, rng=np.random.default_rng(12)), Dropout(0.5, rng=np.random.default_rng(12))
    first_a, first_b = a.forward(x), b.forward(x)
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert not np.array_equal(first_a, a.forward(x))   # a new mask at each training step


def test_without_rng_two_layers_draw_different_masks_fixed_by_the_package_seed():
    x = np.ones((20, 30))
    nblib.seed(12)
    a, b = Dropout(0.5), Dropout(0.5)
    mask_a, mask_b = a.forward(x), b.forward(x)
    assert not np.array_equal(mask_a, mask_b)          # each layer has a stream of its own
    nblib.seed(12)
    np.testing.assert_array_equal(Dropout(0.5).forward(x), mask_a)
    np.testing.assert_array_equal(Dropout(0.5).forward(x), mask_b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = np.ones((4, 5), dtype)
    layer = Dropout(0.5)
    assert layer.forward(x).dtype == dtype
    assert layer.backward(np.ones((4, 5), dtype)).dtype == dtype


def test_any_input_shape_is_accepted():
    x = np.random.default_rng(13).standard_normal((2, 3, 4, 5))
    layer = Dropout(0.5)
    y = layer.forward(x)
    assert y.shape == x.shape
    assert layer.backward(np.ones_like(x)).shape == x.shape


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan"), True, "0.5", None])
def test_bad_p_is_refused(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a number in \[0.0, 1.0\), got"):
        Dropout(p)


def test_bad_input_and_order_errors():
    layer = Dropout(0.5)
    with pytest.raises(RuntimeError, match="call forward first"):
        layer.backward(np.ones((2, 2)))
    with pytest.raises(TypeError, match="floating-point"):
        layer.forward(np.ones((2, 2), dtype=np.int64))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(2, 3\)"):
        layer.backward(np.ones((3, 2)))


def test_config_repr_and_save_load(tmp_path):
    layer = Dropout(0.25)
    assert layer.config() == {"p": 0.25} and repr(layer) == "Dropout(p=0.25)"
    assert layer.params == {} and layer.grads == {}
    model = Sequential([Dense(3, 4), Dropout(0.25), Dense(4, 2)])
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert isinstance(loaded.layers[1], Dropout) and loaded.layers[1].p == 0.25
    x = np.random.default_rng(14).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ---- EarlyStopping ----

class Scripted:
    """A callback: replaces each epoch's monitored value by the next one of `values` and records the weights."""

    def __init__(self, values, key="val_loss"):
        self.values, self.key, self.weights = values, key, []

    def __call__(self, model, epoch, history):
        history[self.key][-1] = self.values[epoch]
        self.weights.append([p.copy() for layer in model.layers for p in layer.params.values()])
        return False


def run(values, stopper, key="val_loss", validation=True):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    model = Sequential([Dense(3, 4, rng=rng), Dense(4, 2, rng=rng)])
    scripted = Scripted(values, key)
    history = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=len(values), batch_size=8,
                        validation_data=(x, y) if validation else None, callbacks=[scripted, stopper],
                        verbose=False)
    return model, scripted, history


def weights(model):
    return [p for layer in model.layers for p in layer.params.values()]


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best():
    # best 0.5 at epoch 3; epochs 4, 5, 6 are not better than 0.5 - 0.05: stop after epoch 6
    values = [0.9, 0.7, 0.5, 0.6, 0.48, 0.7, 0.3, 0.2, 0.1, 0.05]
    stopper = EarlyStopping(patience=3, min_delta=0.05)
    model, scripted, history = run(values, stopper)
    assert len(history["loss"]) == 6
    assert stopper.stopped_epoch == 6 and stopper.best_epoch == 3 and stopper.best == 0.5
    for got, expected in zip(weights(model), scripted.weights[2]):
        np.testing.assert_array_equal(got, expected)
    assert not all(np.array_equal(a, b) for a, b in zip(scripted.weights[2], scripted.weights[5]))


def test_without_min_delta_a_small_improvement_resets_the_count():
    values = [0.9, 0.7, 0.5, 0.6, 0.48, 0.7, 0.6, 0.55, 0.4, 0.3]
    stopper = EarlyStopping(patience=3)
    model, scripted, history = run(values, stopper)
    assert len(history["loss"]) == 8 and stopper.best_epoch == 5 and stopper.stopped_epoch == 8
    for got, expected in zip(weights(model), scripted.weights[4]):
        np.testing.assert_array_equal(got, expected)


def test_runs_every_epoch_when_it_keeps_improving():
    values = [1.0, 0.9, 0.8, 0.7, 0.6]
    stopper = EarlyStopping(patience=1)
    model, scripted, history = run(values, stopper)
    assert len(history["loss"]) == 5 and stopper.stopped_epoch is None and stopper.best_epoch == 5
    for got, expected in zip(weights(model), scripted.weights[4]):
        np.testing.assert_array_equal(got, expected)


def test_restore_best_false_keeps_the_last_weights():
    values = [0.5, 0.6, 0.7, 0.8]
    stopper = EarlyStopping(patience=2, restore_best=False)
    model, scripted, history = run(values, stopper)
    assert len(history["loss"]) == 3
    for got, expected in zip(weights(model), scripted.weights[2]):
        np.testing.assert_array_equal(got, expected)


def test_an_accuracy_is_maximised():
    values = [0.5, 0.8, 0.7, 0.75, 0.79, 0.9]
    stopper = EarlyStopping(monitor="val_accuracy", patience=3)
    model, scripted, history = run(values, stopper, key="val_accuracy")
    assert len(history["loss"]) == 5 and stopper.best_epoch == 2 and stopper.best == 0.8
    for got, expected in zip(weights(model), scripted.weights[1]):
        np.testing.assert_array_equal(got, expected)


def test_a_training_metric_can_be_monitored_without_validation_data():
    values = [0.5, 0.4, 0.45, 0.41]
    stopper = EarlyStopping(monitor="loss", patience=2)
    model, scripted, history = run(values, stopper, key="loss", validation=False)
    assert len(history["loss"]) == 4 and stopper.best_epoch == 2 and stopper.stopped_epoch == 4


def test_after_a_restore_the_optimizer_trains_the_restored_arrays():
    """The restore rebinds the layers' arrays to the best epoch's copies; an optimizer reads its
    parameters through the layers, so training on updates the restored weights."""
    values = [0.5, 0.6, 0.7]
    stopper = EarlyStopping(patience=2)
    rng = np.random.default_rng(16)
    model = Sequential([Dense(3, 2, rng=rng)])
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8)
    optimizer = SGD(model.parameters(), lr=0.1)
    scripted = Scripted(values)
    model.fit(x, y, CrossEntropy(), optimizer, epochs=3, validation_data=(np.ones((2, 3), np.float32), np.array([0, 1])),
              callbacks=[scripted, stopper], verbose=False)
    assert stopper.stopped_epoch == 3
    restored = weights(model)
    for got, best in zip(restored, scripted.weights[0]):
        np.testing.assert_array_equal(got, best)
    loss = CrossEntropy()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    expected = [w - np.float32(0.1) * g for w, g in zip(restored, (model.layers[0].grads[n] for n in ("W", "b")))]
    optimizer.step()
    assert all(a is b for a, b in zip(weights(model), restored))
    for got, e in zip(weights(model), expected):
        np.testing.assert_allclose(got, e, rtol=1e-6)
    assert not np.array_equal(weights(model)[0], scripted.weights[0][0])


def test_a_second_fit_starts_afresh():
    stopper = EarlyStopping(patience=2)
    run([0.5, 0.6, 0.7], stopper)
    assert stopper.stopped_epoch == 3
    run([0.9, 0.8, 0.7], stopper)
    assert stopper.stopped_epoch is None and stopper.best_epoch == 3 and stopper.best == 0.7


def test_a_missing_validation_metric_is_explained():
    rng = np.random.default_rng(17)
    model = Sequential([Dense(3, 2, rng=rng)])
    with pytest.raises(ValueError, match="pass validation_data to fit"):
        model.fit(rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8), CrossEntropy(),
                  SGD(model.parameters(), lr=0.1), epochs=2, callbacks=[EarlyStopping()], verbose=False)


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": 2.5}, {"patience": True},
                                    {"min_delta": -0.1}, {"min_delta": float("nan")}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="EarlyStopping"):
        EarlyStopping(**kwargs)


# ---- fit and a hand-written loop; the input gradient (the speed work of the MNIST notebooks) ----

def test_fit_trains_exactly_as_a_hand_written_loop_with_opt_step():
    rng = np.random.default_rng(18)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    make = lambda: Sequential([Dense(4, 5, rng=np.random.default_rng(19)), nblib.ReLU(), Dropout(0.3, rng=np.random.default_rng(24)),
                               Dense(5, 3, rng=np.random.default_rng(20))])
    fitted, looped = make(), make()
    fitted.fit(x, y, CrossEntropy(), SGD(fitted.parameters(), lr=0.1, momentum=0.9), epochs=2, batch_size=16,
               rng=np.random.default_rng(21), verbose=False)
    loss, optimizer, order_rng = CrossEntropy(), SGD(looped.parameters(), lr=0.1, momentum=0.9), np.random.default_rng(21)
    for _ in range(2):
        order = order_rng.permutation(50)
        for start in range(0, 50, 16):
            batch = order[start:start + 16]
            loss.forward(looped.forward(x[batch]), y[batch])
            looped.backward(loss.backward())
            optimizer.step()
    changed = False
    for a, b, c in zip(weights(fitted), weights(looped), weights(make())):
        np.testing.assert_array_equal(a, b)
        changed = changed or not np.array_equal(a, c)
    assert changed


class Spy(Dense):
    def __init__(self, *args, seen, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = seen

    def backward(self, grad_y):
        grad_x = super().backward(grad_y)
        self.seen.append(grad_x)
        return grad_x


def test_by_default_the_first_layers_input_gradient_is_skipped():
    seen = []
    rng = np.random.default_rng(22)
    model = Sequential([Spy(3, 4, rng=rng, seen=seen), Dense(4, 2, rng=rng)])
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8)
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=1, batch_size=4, verbose=False)
    assert seen == [None, None]                          # not computed during training
    assert not model.layers[0].needs_input_grad and model.layers[1].needs_input_grad
    model.forward(x)
    assert model.backward(np.ones((8, 2), np.float32)) is None


def test_input_grad_true_keeps_it_through_training():
    seen = []
    rng = np.random.default_rng(23)
    model = Sequential([Spy(3, 4, rng=rng, seen=seen), Dense(4, 2, rng=rng)], input_grad=True)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8)
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=1, batch_size=4, verbose=False)
    assert [g.shape for g in seen] == [(4, 3), (4, 3)]
    model.forward(x)
    G = np.ones((8, 2), np.float32)
    W1, W2 = model.layers[0].params["W"], model.layers[1].params["W"]
    np.testing.assert_allclose(model.backward(G), G @ W2.T @ W1.T, rtol=1e-6)

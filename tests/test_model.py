"""Tests of nblib/model.py: Sequential, fit, callbacks (from notebooks/01_dense_layer.ipynb)."""
import numpy as np
import pytest

from nblib import (SGD, Callback, CrossEntropy, Dense, MSE, Sequential, TrainingDiverged,
                   make_a_greater_b)


def two_layer_model(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(2, 5, rng=rng), Dense(5, 2, rng=rng)])


def test_forward_composes_and_backward_chains():
    model = two_layer_model().astype(np.float64)
    (W1, b1), (W2, b2) = [(l.params["W"], l.params["b"]) for l in model.layers]
    x = np.random.default_rng(1).standard_normal((3, 2))
    np.testing.assert_allclose(model.forward(x), (x @ W1 + b1) @ W2 + b2)
    G = np.random.default_rng(2).standard_normal((3, 2))
    np.testing.assert_allclose(model.backward(G), G @ W2.T @ W1.T)
    np.testing.assert_allclose(model.layers[0].grads["W"], x.T @ (G @ W2.T))


def test_predict_in_batches_equals_one_forward():
    model = two_layer_model()
    x = np.random.default_rng(3).standard_normal((1000, 2)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=64), model.forward(x), rtol=1e-6)


def test_fit_matches_a_hand_written_loop():
    """Without shuffling, fit must do exactly: forward, MSE gradient, backward, W -= lr * dW."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((10, 3))
    t = rng.standard_normal((10, 2))
    model = Sequential([Dense(3, 2, rng=np.random.default_rng(5))]).astype(np.float64)
    W, b = model.layers[0].params["W"].copy(), model.layers[0].params["b"].copy()
    model.fit(x, t, MSE(), SGD(lr=0.1), epochs=3, batch_size=4, shuffle=False, verbose=False)
    for _ in range(3):
        for s in range(0, 10, 4):
            xb, tb = x[s:s + 4], t[s:s + 4]
            g = 2 * (xb @ W + b - tb) / tb.size
            W, b = W - 0.1 * xb.T @ g, b - 0.1 * g.sum(axis=0)
    np.testing.assert_allclose(model.layers[0].params["W"], W, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].params["b"], b, rtol=1e-12)


def test_fit_learns_a_greater_b_and_records_history():
    x, y = make_a_greater_b(200, seed=0)
    model = Sequential([Dense(2, 2, rng=np.random.default_rng(0))])
    history = model.fit(x, y, CrossEntropy(), SGD(lr=0.5), epochs=60, batch_size=20,
                        validation_data=(x[:50], y[:50]), verbose=False)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert all(len(v) == 60 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    assert model.evaluate(x, y, CrossEntropy())["accuracy"] == 1.0
    assert history is model.history


def test_same_seed_same_numbers():
    x, y = make_a_greater_b(100, seed=1)
    runs = []
    for _ in range(2):
        model = two_layer_model(seed=3)
        h = model.fit(x, y, CrossEntropy(), SGD(lr=0.1), epochs=5, batch_size=16,
                      rng=np.random.default_rng(9), verbose=False)
        runs.append((h["loss"], model.layers[0].params["W"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    other = two_layer_model(seed=3)
    h = other.fit(x, y, CrossEntropy(), SGD(lr=0.1), epochs=5, batch_size=16,
                  rng=np.random.default_rng(10), verbose=False)
    assert h["loss"] != runs[0][0]   # another shuffling seed, other numbers


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_stops_with_a_clear_message():
    x = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32) * 100
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Dense(2, 1, rng=np.random.default_rng(0))])
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf).*smaller learning rate") as info:
        model.fit(x, y, MSE(), SGD(lr=10.0), epochs=50, batch_size=8, verbose=False)
    assert isinstance(info.value, FloatingPointError)
    assert all(np.isfinite(info.value.history.get("loss", [])))


def test_callbacks_are_called_and_can_stop_training():
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, model, history):
            calls.append("begin")

        def on_epoch_end(self, model, epoch, history):
            calls.append(epoch)
            return epoch == 2

        def on_train_end(self, model, history):
            calls.append("end")

    x, y = make_a_greater_b(40, seed=0)
    history = two_layer_model().fit(x, y, CrossEntropy(), SGD(lr=0.1), epochs=10, callbacks=[Recorder()],
                                    verbose=False)
    assert calls == ["begin", 0, 1, 2, "end"]
    assert len(history["loss"]) == 3


def test_lr_schedule_sets_the_rate_each_epoch():
    x, y = make_a_greater_b(40, seed=0)
    opt = SGD(lr=1.0)
    history = two_layer_model().fit(x, y, CrossEntropy(), opt, epochs=4, lr_schedule=lambda e: 0.1 / (e + 1),
                                    verbose=False)
    assert history["lr"] == [0.1, 0.05, 0.1 / 3, 0.025]
    assert opt.lr == 0.025


def test_progress_bar_runs(capsys):
    x, y = make_a_greater_b(40, seed=0)
    two_layer_model().fit(x, y, CrossEntropy(), SGD(lr=0.1), epochs=2, batch_size=10, verbose=True)
    assert "8/8" in capsys.readouterr().err   # tqdm writes to stderr outside a notebook


def test_fit_validates_its_arguments():
    x, y = make_a_greater_b(10, seed=0)
    with pytest.raises(ValueError, match="same length"):
        two_layer_model().fit(x, y[:5], CrossEntropy(), SGD(), verbose=False)
    with pytest.raises(ValueError, match="positive integers"):
        two_layer_model().fit(x, y, CrossEntropy(), SGD(), batch_size=0, verbose=False)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="layer 1"):
        Sequential([Dense(2, 2), "relu"])


def test_num_params_and_repr():
    model = two_layer_model()
    assert model.num_params() == 2 * 5 + 5 + 5 * 2 + 2
    assert "Dense(2 -> 5)" in repr(model)

"""Tests of nblib/model.py: Sequential and train (notebook 01), fit and its callbacks (notebook 09)."""
import numpy as np
import pytest

import nblib
from nblib import (SGD, CrossEntropy, Dense, MSE, Parameter, ReLU, Sequential, TrainingDiverged,
                   make_a_greater_b, train)


def two_layer_model(seed=0, input_grad=False):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(2, 5, rng=rng), Dense(5, 2, rng=rng)], input_grad=input_grad)


def test_forward_composes_and_backward_chains():
    model = two_layer_model(input_grad=True).astype(np.float64)
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
    model.fit(x, t, MSE(), SGD(model.parameters(), lr=0.1), epochs=3, batch_size=4, shuffle=False, verbose=False)
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
    history = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.5), epochs=60, batch_size=20,
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
        h = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=5, batch_size=16,
                      rng=np.random.default_rng(9), verbose=False)
        runs.append((h["loss"], model.layers[0].params["W"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    other = two_layer_model(seed=3)
    h = other.fit(x, y, CrossEntropy(), SGD(other.parameters(), lr=0.1), epochs=5, batch_size=16,
                  rng=np.random.default_rng(10), verbose=False)
    assert h["loss"] != runs[0][0]   # another shuffling seed, other numbers


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_stops_with_a_clear_message():
    x = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32) * 100
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Dense(2, 1, rng=np.random.default_rng(0))])
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf).*smaller learning rate") as info:
        model.fit(x, y, MSE(), SGD(model.parameters(), lr=10.0), epochs=50, batch_size=8, verbose=False)
    assert isinstance(info.value, FloatingPointError)
    assert all(np.isfinite(info.value.history.get("loss", [])))


def test_callbacks_are_called_after_each_epoch_and_true_stops_training():
    calls = []

    def recorder(model, epoch, history):
        calls.append((epoch, len(history["loss"])))   # after the epoch: its loss is recorded
        return epoch == 2

    x, y = make_a_greater_b(40, seed=0)
    model = two_layer_model()
    history = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=10,
                        callbacks=[recorder, lambda model, epoch, history: None], verbose=False)
    assert calls == [(0, 1), (1, 2), (2, 3)]
    assert len(history["loss"]) == 3


def test_every_callback_runs_even_after_one_asks_to_stop():
    seen = []
    x, y = make_a_greater_b(40, seed=0)
    model = two_layer_model()
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=5, verbose=False,
              callbacks=[lambda m, e, h: True, lambda m, e, h: seen.append(e)])
    assert seen == [0]


def test_a_callback_can_schedule_the_learning_rate():
    x, y = make_a_greater_b(40, seed=0)
    model = two_layer_model()
    opt = SGD(model.parameters(), lr=0.1)

    def schedule(model, epoch, history):      # the rate for the next epoch
        opt.lr = 0.1 / (epoch + 2)

    history = model.fit(x, y, CrossEntropy(), opt, epochs=4, callbacks=[schedule], verbose=False)
    assert history["lr"] == [0.1, 0.05, 0.1 / 3, 0.025]
    assert opt.lr == 0.02


def test_fit_has_no_lr_schedule_argument():
    x, y = make_a_greater_b(10, seed=0)
    model = two_layer_model()
    with pytest.raises(TypeError, match="lr_schedule"):
        model.fit(x, y, CrossEntropy(), SGD(model.parameters()), lr_schedule=lambda e: 0.1, verbose=False)


def test_progress_bar_runs(capsys):
    x, y = make_a_greater_b(40, seed=0)
    model = two_layer_model()
    model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=2, batch_size=10, verbose=True)
    assert "8/8" in capsys.readouterr().err   # tqdm writes to stderr outside a notebook


def test_fit_validates_its_arguments():
    x, y = make_a_greater_b(10, seed=0)
    model = two_layer_model()
    with pytest.raises(ValueError, match="same length"):
        model.fit(x, y[:5], CrossEntropy(), SGD(model.parameters()), verbose=False)
    with pytest.raises(ValueError, match="fit: batch_size must be a positive integer, got 0"):
        model.fit(x, y, CrossEntropy(), SGD(model.parameters()), batch_size=0, verbose=False)
    with pytest.raises(ValueError, match="fit: epochs must be a positive integer, got 2.5"):
        model.fit(x, y, CrossEntropy(), SGD(model.parameters()), epochs=2.5, verbose=False)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="layer 1"):
        Sequential([Dense(2, 2), "relu"])


def test_num_params_and_repr():
    model = two_layer_model()
    assert model.num_params() == 2 * 5 + 5 + 5 * 2 + 2
    assert "Dense(2 -> 5)" in repr(model)


# ---- the redesigned API: parameters, input_grad, train, seed ----

def test_a_parameter_reads_and_writes_through_its_layer():
    layer = Dense(3, 2, rng=np.random.default_rng(30))
    W, b = layer.params["W"], layer.params["b"]
    p = Parameter(layer, "W")
    assert p.data is W and p.grad is layer.grads["W"]
    layer.grads["W"][...] = 2.0
    before = W.copy()
    p.data -= 0.25 * p.grad                        # in place: the layer keeps the same array
    assert layer.params["W"] is W and p.data is W
    np.testing.assert_array_equal(W, before - np.float32(0.5))
    new = np.zeros((3, 2), np.float32)
    layer.params["W"] = new                        # a rebound array is what the parameter reads next
    assert p.data is new
    p.data = np.ones((3, 2), np.float32)           # and setting .data rebinds the layer's array
    assert layer.params["W"] is p.data and layer.params["b"] is b
    assert repr(p) == "Parameter(Dense(3 -> 2).W: (3, 2) float32)"


def test_parameters_come_in_layer_order_weight_then_bias():
    rng = np.random.default_rng(31)
    model = Sequential([Dense(3, 4, rng=rng), ReLU(), Dense(4, 2, rng=rng)])
    params = model.parameters()
    first, last = model.layers[0], model.layers[2]
    assert [(p.layer, p.name) for p in params] == [(first, "W"), (first, "b"), (last, "W"), (last, "b")]
    assert [p.data.shape for p in params] == [(3, 4), (4,), (4, 2), (2,)]
    assert params[2].data is last.params["W"] and params[3].grad is last.grads["b"]
    assert ReLU().parameters() == []
    assert model.num_params() == 3 * 4 + 4 + 4 * 2 + 2


def small_float64_model(seed, input_grad):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(3, 4, rng=rng), ReLU(), Dense(4, 2, rng=rng)], input_grad=input_grad).astype(np.float64)


def test_input_grad_false_skips_the_input_gradient_and_keeps_the_parameter_gradients():
    x = np.random.default_rng(32).standard_normal((5, 3))
    G = np.random.default_rng(33).standard_normal((5, 2))
    without, with_ = small_float64_model(34, False), small_float64_model(34, True)
    without.forward(x)
    with_.forward(x)
    assert without.backward(G) is None
    assert with_.backward(G).shape == (5, 3)
    for a, b in zip(without.parameters(), with_.parameters()):
        np.testing.assert_array_equal(a.grad, b.grad)


def test_input_grad_true_returns_the_gradient_of_the_input():
    from reference import numeric_grad, relative_error
    model = small_float64_model(35, True)
    x = np.random.default_rng(36).standard_normal((5, 3))
    G = np.random.default_rng(37).standard_normal((5, 2))
    model.forward(x)
    analytic = model.backward(G)
    numeric = numeric_grad(lambda: float(np.sum(model.forward(x) * G)), x)
    assert relative_error(analytic, numeric) < 1e-8
    # and by hand: G W2^T, masked where the hidden pre-activation is <= 0, then W1^T
    (W1, b1), (W2, _) = [(l.params["W"], l.params["b"]) for l in (model.layers[0], model.layers[2])]
    hand = ((G @ W2.T) * (x @ W1 + b1 > 0)) @ W1.T
    np.testing.assert_allclose(analytic, hand, rtol=1e-12, atol=1e-15)


def test_train_is_plain_gradient_descent_on_shuffled_batches():
    """notebook 01's train: each epoch a permutation from rng, then for each batch p -= lr * dL/dp;
    it returns each epoch's mean loss (each batch's loss before its step, weighted by its size)."""
    rng = np.random.default_rng(38)
    x, t = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = Sequential([Dense(3, 2, rng=np.random.default_rng(39))]).astype(np.float64)
    W, b = model.layers[0].params["W"].copy(), model.layers[0].params["b"].copy()
    losses = train(model, x, t, MSE(), lr=0.1, epochs=3, batch_size=4, rng=np.random.default_rng(40))
    order_rng, expected = np.random.default_rng(40), []
    for _ in range(3):
        order, total = order_rng.permutation(10), 0.0
        for s in range(0, 10, 4):
            xb, tb = x[order[s:s + 4]], t[order[s:s + 4]]
            d = xb @ W + b - tb
            total += np.mean(d ** 2) * len(xb)
            g = 2 * d / d.size
            W, b = W - 0.1 * xb.T @ g, b - 0.1 * g.sum(axis=0)
        expected.append(total / 10)
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].params["W"], W, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].params["b"], b, rtol=1e-12)


def test_seed_makes_two_runs_identical_and_another_seed_differs():
    x, y = make_a_greater_b(60, seed=2)

    def run(n):
        nblib.seed(n)     # weights, shuffling: nothing passes a generator
        model = Sequential([Dense(2, 5), ReLU(), Dense(5, 2)])
        history = model.fit(x, y, CrossEntropy(), SGD(model.parameters(), lr=0.1), epochs=3, batch_size=16,
                            verbose=False)
        losses = train(model, x, np.eye(2, dtype=np.float32)[y], MSE(), lr=0.05, epochs=2, batch_size=16)
        return history["loss"] + losses, [p.data.copy() for p in model.parameters()]

    (loss_a, weights_a), (loss_b, weights_b), (loss_c, weights_c) = run(7), run(7), run(8)
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    assert loss_a != loss_c and not np.array_equal(weights_a[0], weights_c[0])


def test_layers_built_without_rng_get_streams_of_their_own():
    nblib.seed(3)
    a, b = Dense(4, 3), Dense(4, 3)
    assert not np.array_equal(a.params["W"], b.params["W"])
    nblib.seed(3)
    np.testing.assert_array_equal(Dense(4, 3).params["W"], a.params["W"])   # the seed fixes them
    nblib.seed(3)
    c, d = nblib.Dropout(0.5), nblib.Dropout(0.5)
    ones = np.ones((20, 30))
    assert not np.array_equal(c.forward(ones), d.forward(ones))


# ---- optimizers built on the parameters, when the model changes afterwards ----

def float32_model(seed=41):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(2, 5, rng=rng), ReLU(), Dense(5, 2, rng=rng)])


def one_backward(model, seed=42):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 2)).astype(model.parameters()[0].data.dtype)
    loss = CrossEntropy()
    loss.forward(model.forward(x), rng.integers(0, 2, 6))
    model.backward(loss.backward())


@pytest.mark.parametrize("make", [lambda ps: nblib.Adam(ps, lr=0.01), lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nblib.RMSprop(ps), lambda ps: nblib.Adagrad(ps),
                                  lambda ps: nblib.Adadelta(ps)])
def test_casting_the_model_after_a_step_is_refused_naming_the_parameter(make):
    model = float32_model()
    opt = make(model.parameters())
    one_backward(model)
    opt.step()
    assert isinstance(opt.state, list) and len(opt.state) == len(model.parameters()) == 4
    model.astype(np.float64)
    one_backward(model)
    W = model.layers[0].params["W"].copy()
    with pytest.raises(ValueError, match=r"Parameter\(Dense\(2 -> 5\)\.W: \(2, 5\) float64\) no longer "
                                         r"matches its state '\w+' \(\(2, 5\) float32\).*build the optimizer again"):
        opt.step()
    np.testing.assert_array_equal(model.layers[0].params["W"], W)   # the first parameter was not changed
    assert len(opt.state) == 4


def test_plain_sgd_keeps_updating_the_models_current_arrays_after_a_cast():
    model = float32_model()
    opt = SGD(model.parameters(), lr=0.1)
    one_backward(model)
    opt.step()
    model.astype(np.float64)
    one_backward(model)
    expected = [p.data - 0.1 * p.grad for p in model.parameters()]
    opt.step()
    assert len(opt.state) == 4
    for p, e in zip(model.parameters(), expected):
        assert p.data.dtype == np.float64
        np.testing.assert_array_equal(p.data, e)


def test_weights_loaded_after_building_the_optimizer_are_the_ones_trained(tmp_path):
    """Loading weights of the same shape and dtype rebinds the layers' arrays: the optimizer reads
    the parameters through the layers, so it updates the loaded arrays, not the old ones."""
    model, other = float32_model(43), float32_model(44)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    one_backward(model)
    opt.step()
    other.save(tmp_path / "other.npz")
    loaded = nblib.load_model(tmp_path / "other.npz")
    old = [p.data for p in model.parameters()]
    old_values = [a.copy() for a in old]
    for mine, theirs in zip(model.layers, loaded.layers):
        for name in mine.params:
            mine.params[name] = theirs.params[name]
    one_backward(model)
    buffers = [s["momentum_buffer"].copy() for s in opt.state]
    expected = [p.data - 0.1 * (0.9 * buf + p.grad) for p, buf in zip(model.parameters(), buffers)]
    opt.step()
    assert len(opt.state) == 4
    for p, e, theirs in zip(model.parameters(), expected, loaded.parameters()):
        assert p.data is theirs.data
        np.testing.assert_allclose(p.data, e, rtol=1e-6, atol=1e-7)
    for a, before in zip(old, old_values):
        np.testing.assert_array_equal(a, before)     # the arrays no longer in the model are left alone
    bad = float32_model(45)
    opt = nblib.Adam(bad.parameters())
    one_backward(bad)
    opt.step()
    bad.layers[2].params["b"] = loaded.layers[2].params["b"].astype(np.float64)
    with pytest.raises(ValueError, match=r"Adam: Parameter\(Dense\(5 -> 2\)\.b: \(2,\) float64\)"):
        opt.step()


def test_an_every_batch_callback_runs_after_each_batch_and_the_history_keeps_each_epochs_first_rate():
    calls = []

    class PerBatch:
        every_batch = True

        def __init__(self, opt):
            self.opt = opt

        def __call__(self, model, epoch, history):
            calls.append((epoch, len(history.get("loss", []))))   # during the epoch: not yet recorded
            self.opt.lr *= 0.5
            return len(calls) == 5          # asks to stop in epoch 1 (batches 4, 5, 6 of 4 per epoch)

    x, y = make_a_greater_b(40, seed=0)
    model = two_layer_model()
    opt = SGD(model.parameters(), lr=1.0)
    epoch_calls = []
    history = model.fit(x, y, CrossEntropy(), opt, epochs=4, batch_size=10, verbose=False,
                        callbacks=[PerBatch(opt), lambda m, e, h: epoch_calls.append(e)])
    assert calls == [(0, 0)] * 4 + [(1, 1)] * 4     # the epoch is finished before training stops
    assert epoch_calls == [0, 1]                     # per-epoch callbacks still run once per epoch
    assert history["lr"] == [1.0, 0.5 ** 4] and opt.lr == 0.5 ** 8
    assert len(history["loss"]) == 2


# ---- hooks (notebook 01's two lists, used by notebook 17's ActivationStats) ----

def hooked_model(input_grad=False):
    rng = np.random.default_rng(4)
    return Sequential([ReLU(), Dense(3, 4, rng=rng), ReLU(), Dense(4, 2, rng=rng)], input_grad=input_grad)


@pytest.mark.parametrize("input_grad", [False, True])
def test_hooks_see_each_layers_output_and_output_gradient_in_order(input_grad):
    model = hooked_model(input_grad)
    seen = []
    model.forward_hooks.append(lambda i, layer, a: seen.append(("f", i, layer, a.copy())))
    model.backward_hooks.append(lambda i, layer, g: seen.append(("b", i, layer, g.copy())))
    x = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
    G = np.random.default_rng(6).standard_normal((6, 2)).astype(np.float32)
    out = model.forward(x)
    model.backward(G)
    # the reference: the same layers run one by one by hand (fresh copies, same weights)
    W1, b1 = model.layers[1].params["W"], model.layers[1].params["b"]
    W2, b2 = model.layers[3].params["W"], model.layers[3].params["b"]
    h0 = np.maximum(x, 0); h1 = h0 @ W1 + b1; h2 = np.maximum(h1, 0); h3 = h2 @ W2 + b2
    g3 = G; g2 = G @ W2.T; g1 = g2 * (h1 > 0); g0 = g1 @ W1.T
    forward = [(i, a) for kind, i, layer, a in seen if kind == "f"]
    backward = [(i, g) for kind, i, layer, g in seen if kind == "b"]
    assert [i for i, _ in forward] == [0, 1, 2, 3]
    assert [kind for kind, *_ in seen] == ["f"] * 4 + ["b"] * len(backward)
    for (i, a), ref in zip(forward, [h0, h1, h2, h3]):
        np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(forward[-1][1], out)
    # backward stops at the first layer with parameters (index 1) unless input_grad=True
    assert [i for i, _ in backward] == ([3, 2, 1, 0] if input_grad else [3, 2, 1])
    for (i, g), ref in zip(backward, [g3, g2, g1, g0]):
        np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6)
    assert all(layer is model.layers[i] for _, i, layer, _ in seen)


def test_hooks_are_not_called_in_evaluation_mode_and_start_empty():
    model = hooked_model()
    assert model.forward_hooks == [] and model.backward_hooks == []
    calls = []
    model.forward_hooks.append(lambda i, layer, a: calls.append(i))
    x = np.ones((5, 3), np.float32)
    model.forward(x, training=False)
    model.predict(x)
    assert calls == []
    model.forward(x)
    assert calls == [0, 1, 2, 3]

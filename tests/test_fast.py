"""Tests of nblib/fast.py (notebooks/21_making_it_fast.ipynb): FastConv2D and FastMaxPool2D must
compute what the textbook Conv2D and MaxPool2D compute (notebooks 18, 19), forward and every
gradient, on many random configurations.

The textbook layers are the specification; the loop versions of tests/reference.py (the notebooks'
own, checked against direct loops in test_conv.py and test_pooling.py) and central finite
differences are independent references besides."""
import numpy as np
import pytest

from nblib import Conv2D, FastConv2D, FastMaxPool2D, MaxPool2D, ReLU, Sequential, flat_grid, gradcheck
from reference import conv2d_naive, conv2d_naive_backward, max_pool2d_naive, max_pool2d_naive_backward
from reference import numeric_grad
from reference import relative_error as rel


def largest_difference(a, b):
    """max |a - b| relative to max |b| (to 1 if b is smaller)."""
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1.0))


def random_conv_config(rng):
    """Constructor arguments (kernel, stride and padding each a pair, rectangular too) and an input
    shape that the layer accepts (at least one output pixel)."""
    kh, kw = (int(k) for k in rng.integers(1, 6, 2))
    ph, pw = (int(p) for p in rng.integers(0, 4, 2))
    sh, sw = (int(s) for s in rng.integers(1, 4, 2))
    N, C, O = (int(v) for v in rng.integers(1, 5, 3))
    H, W = int(rng.integers(max(1, kh - 2 * ph), 13)), int(rng.integers(max(1, kw - 2 * pw), 13))
    args = dict(in_channels=C, out_channels=O, kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw))
    return args, (N, C, H, W)


def conv_pair(args, dtype, seed):
    """A FastConv2D and a Conv2D with the same (random, bias included) weights in `dtype`."""
    rng = np.random.default_rng(seed)
    fast = FastConv2D(**args, rng=np.random.default_rng(seed)).astype(dtype)
    plain = Conv2D(**args, rng=np.random.default_rng(seed)).astype(dtype)
    fast.params["b"][...] = plain.params["b"][...] = rng.standard_normal(args["out_channels"])
    np.testing.assert_array_equal(fast.params["W"], plain.params["W"])
    return fast, plain


def step(layer, x, G):
    """[y, dL/dx, dL/dW, dL/db] of one forward and backward."""
    y = layer.forward(x)
    return [y, layer.backward(G), layer.grads["W"].copy(), layer.grads["b"].copy()]


CONV_SEEDS = range(60)


@pytest.mark.parametrize("seed", CONV_SEEDS)
def test_fast_conv_equals_the_textbook_conv_on_random_configurations(seed):
    rng = np.random.default_rng(1000 + seed)
    args, shape = random_conv_config(rng)
    for dtype, tolerance in [(np.float64, 1e-12), (np.float32, 1e-5)]:
        fast, plain = conv_pair(args, dtype, seed)
        x = rng.standard_normal(shape).astype(dtype)
        G = rng.standard_normal(plain.output_shape(shape)).astype(dtype)
        for name, got, want in zip(["y", "dL/dx", "dL/dW", "dL/db"], step(fast, x, G), step(plain, x, G)):
            where = f"{fast!r} on {shape} {np.dtype(dtype).name}: {name}"
            assert got.shape == want.shape and got.dtype == want.dtype == dtype, where
            assert largest_difference(got, want) < tolerance, f"{where} differs from Conv2D's"


@pytest.mark.parametrize("seed", range(12))
def test_fast_conv_equals_the_notebooks_loop_version(seed):
    rng = np.random.default_rng(2000 + seed)
    args, shape = random_conv_config(rng)
    fast, _ = conv_pair(args, np.float64, seed)
    x = rng.standard_normal(shape)
    W, b = fast.params["W"], fast.params["b"]
    y = fast.forward(x)
    np.testing.assert_allclose(y, conv2d_naive(x, W, b, args["stride"], args["padding"]), rtol=1e-10, atol=1e-12)
    G = rng.standard_normal(y.shape)
    dx = fast.backward(G)
    want = conv2d_naive_backward(x, W, G, args["stride"], args["padding"])
    for got, ref in zip([dx, fast.grads["W"], fast.grads["b"]], want):
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12, err_msg=repr(fast))


@pytest.mark.parametrize("chunk_columns", [1, 40, 100, 10**6])
def test_any_block_size_gives_the_same_results(chunk_columns):
    """1: one image per block; 40, 100: blocks of one or a few images, a last smaller block; 10**6: one block."""
    args = dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=1)
    fast, plain = conv_pair(args, np.float64, 3)
    fast.chunk_columns = chunk_columns
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 3, 5, 6))
    G = rng.standard_normal((7, 4, 5, 6))
    for got, want in zip(step(fast, x, G), step(plain, x, G)):
        assert largest_difference(got, want) < 1e-12, f"FastConv2D with chunk_columns={chunk_columns}"


def test_the_input_gradient_can_be_skipped_and_the_weight_gradients_are_still_filled():
    rng = np.random.default_rng(5)
    args = dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1)
    fast, plain = conv_pair(args, np.float32, 5)
    x = rng.standard_normal((4, 2, 9, 8)).astype(np.float32)
    G = rng.standard_normal(plain.output_shape(x.shape)).astype(np.float32)
    fast.needs_input_grad = False
    fast.grads["W"][...] = fast.grads["b"][...] = np.nan        # stale values must be overwritten
    fast.forward(x)
    assert fast.backward(G) is None, "FastConv2D with needs_input_grad=False should return None"
    step(plain, x, G)
    for name in ("W", "b"):
        assert largest_difference(fast.grads[name], plain.grads[name]) < 1e-5, f"FastConv2D: dL/d{name}"
    model = Sequential([FastConv2D(2, 3, 3, padding=1)])   # a model's first layer skips dL/dx
    assert not model.layers[0].needs_input_grad
    model.forward(x)
    assert model.backward(np.ones((4, 3, 9, 8), np.float32)) is None
    assert np.all(model.layers[0].grads["b"] == 4 * 9 * 8)


def test_calls_with_other_shapes_and_dtypes_give_right_results_and_leave_earlier_ones_alone():
    args = dict(in_channels=2, out_channels=3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))
    fast, plain = conv_pair(args, np.float64, 6)
    rng = np.random.default_rng(6)
    kept = []
    for shape, dtype in [((4, 2, 7, 6), np.float64), ((3, 2, 7, 6), np.float64), ((4, 2, 9, 5), np.float64),
                         ((4, 2, 7, 6), np.float32), ((4, 2, 7, 6), np.float64), ((1, 2, 3, 2), np.float64)]:
        fast.astype(dtype), plain.astype(dtype)              # a model cast with model.astype
        x = rng.standard_normal(shape).astype(dtype)
        G = rng.standard_normal(plain.output_shape(shape)).astype(dtype)
        got, want = step(fast, x, G), step(plain, x, G)
        for name, a, b in zip(["y", "dL/dx", "dL/dW", "dL/db"], got, want):
            tolerance = 1e-12 if dtype == np.float64 else 1e-5
            assert a.dtype == b.dtype and largest_difference(a, b) < tolerance, f"FastConv2D on {shape}: {name}"
        kept.append([(a, a.copy()) for a in got[:2]])
    for results in kept:                     # y and dL/dx are new arrays, not views of reused buffers
        for a, copy in results:
            np.testing.assert_array_equal(a, copy)


def test_backward_uses_the_weights_of_the_last_forward_and_sees_updates_before_it():
    args = dict(in_channels=2, out_channels=2, kernel_size=3, stride=1, padding=1)
    fast, plain = conv_pair(args, np.float64, 7)
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 5))
    G = np.random.default_rng(8).standard_normal((2, 2, 5, 5))
    fast.forward(x)
    for layer in (fast, plain):
        layer.params["W"] *= 2.0             # an optimizer step between two forwards
        layer.params["b"] += 1.0
    for got, want in zip(step(fast, x, G), step(plain, x, G)):
        assert largest_difference(got, want) < 1e-12


@pytest.mark.parametrize("args, shape", [
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=1), (2, 2, 5, 4)),
    (dict(in_channels=3, out_channels=2, kernel_size=(2, 3), stride=2), (2, 3, 6, 7)),
    (dict(in_channels=2, out_channels=2, kernel_size=1, stride=(1, 2), padding=(2, 0)), (1, 2, 3, 4)),
    (dict(in_channels=1, out_channels=2, kernel_size=(3, 1), stride=(2, 3), padding=(0, 2)), (2, 1, 7, 5)),
])
def test_fast_conv_gradients_match_finite_differences_in_float64(args, shape):
    layer = FastConv2D(**args, rng=np.random.default_rng(9)).astype(np.float64)
    rng = np.random.default_rng(10)
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    x = rng.standard_normal(shape)
    G = rng.standard_normal(layer.output_shape(shape))
    f = lambda: float(np.sum(layer.forward(x) * G))
    layer.forward(x)
    analytic = {"x": layer.backward(G), "W": layer.grads["W"].copy(), "b": layer.grads["b"].copy()}
    for name, target in [("x", x), ("W", layer.params["W"]), ("b", layer.params["b"])]:
        assert rel(analytic[name], numeric_grad(f, target)) < 1e-7, f"{layer!r}: dL/d{name}"
    assert gradcheck(layer, x) < 1e-7


def random_pool_config(rng):
    """A kernel (rectangular too), a stride (default, smaller than the kernel: overlapping windows,
    or larger), and an input shape the kernel need not divide."""
    kh, kw = (int(k) for k in rng.integers(1, 5, 2))
    stride = None if rng.random() < 0.4 else tuple(int(s) for s in rng.integers(1, 5, 2))
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(kh, 14)), int(rng.integers(kw, 14)))
    return (kh, kw), stride, shape


@pytest.mark.parametrize("seed", range(60))
def test_fast_max_pool_equals_the_textbook_max_pool_exactly(seed):
    rng = np.random.default_rng(3000 + seed)
    kernel_size, stride, shape = random_pool_config(rng)
    for dtype in (np.float64, np.float32):
        for x in [rng.standard_normal(shape).astype(dtype),            # no ties
                  rng.integers(-2, 3, shape).astype(dtype)]:           # ties everywhere
            fast, plain = FastMaxPool2D(kernel_size, stride), MaxPool2D(kernel_size, stride)
            y = plain.forward(x)
            G = rng.standard_normal(y.shape).astype(dtype)
            got_y = fast.forward(x)
            where = f"{fast!r} on {shape} {np.dtype(dtype).name}"
            assert got_y.dtype == dtype and np.array_equal(got_y, y), f"{where}: output differs from MaxPool2D's"
            got_dx = fast.backward(G)
            assert got_dx.dtype == dtype and np.array_equal(got_dx, plain.backward(G)), \
                f"{where}: dL/dx differs from MaxPool2D's"
            assert np.array_equal(got_y, max_pool2d_naive(x, kernel_size, stride)), where
            # the loop version adds overlapping windows' shares in another order: equal up to rounding
            np.testing.assert_allclose(got_dx, max_pool2d_naive_backward(x, G, kernel_size, stride),
                                       rtol=1e-6, atol=1e-6, err_msg=where)


def test_ties_go_to_the_first_maximum_in_row_major_order():
    zeros = np.zeros((1, 1, 5, 5), np.float32)
    pool = FastMaxPool2D(3, stride=2)
    pool.forward(zeros)
    expected = np.zeros((5, 5), np.float32)
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(pool.backward(np.array([[[[1, 2], [3, 4]]]], np.float32))[0, 0], expected)
    x = np.array([[[[1, 5, 5, 0], [5, 5, 2, 5]]]], np.float32)          # ties at the maximum 5
    pool = FastMaxPool2D(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.array([[[[7, 9]]]], np.float32)),
                                  [[[[0, 7, 9, 0], [0, 0, 0, 0]]]])


def test_windows_of_more_than_256_pixels():
    """The winner's index no longer fits in one byte: a global pool of 20 x 20 (400 positions)."""
    rng = np.random.default_rng(18)
    for x in [rng.standard_normal((2, 3, 20, 20)), rng.integers(-1, 2, (2, 3, 20, 20)).astype(float)]:
        x[0, 0, 19, 19] = 9.0                                            # the winner at the last position
        fast, plain = FastMaxPool2D(20), MaxPool2D(20)
        G = rng.standard_normal((2, 3, 1, 1))
        np.testing.assert_array_equal(fast.forward(x), plain.forward(x))
        np.testing.assert_array_equal(fast.backward(G), plain.backward(G))
        assert fast.backward(G)[0, 0, 19, 19] == G[0, 0, 0, 0]


def test_fast_max_pool_can_be_used_again_with_other_shapes():
    rng = np.random.default_rng(11)
    fast, plain = FastMaxPool2D(2), MaxPool2D(2)
    kept = []
    for shape in [(2, 3, 8, 8), (1, 3, 7, 9), (2, 3, 8, 8)]:            # tiled, then not, then tiled again
        x = rng.standard_normal(shape).astype(np.float32)
        y = fast.forward(x)
        G = rng.standard_normal(y.shape).astype(np.float32)
        dx = fast.backward(G)
        np.testing.assert_array_equal(y, plain.forward(x))
        np.testing.assert_array_equal(dx, plain.backward(G))
        kept.append((dx, dx.copy()))
    for dx, copy in kept:
        np.testing.assert_array_equal(dx, copy)


@pytest.mark.parametrize("kernel_size, stride, shape", [(2, None, (2, 2, 6, 4)), (3, 2, (2, 2, 7, 6)),
                                                         ((2, 3), (1, 2), (1, 2, 5, 7))])
def test_fast_max_pool_gradient_matches_finite_differences_in_float64(kernel_size, stride, shape):
    assert gradcheck(FastMaxPool2D(kernel_size, stride), np.random.default_rng(12).standard_normal(shape)) < 1e-7


def test_pooling_before_relu_is_the_same_function_with_the_same_gradients():
    rng = np.random.default_rng(13)
    for pool in (FastMaxPool2D(2), FastMaxPool2D(3, stride=2), MaxPool2D(2)):
        h = rng.integers(-2, 3, (4, 3, 9, 10)).astype(np.float32)
        G = rng.standard_normal(pool.output_shape(h.shape)).astype(np.float32)
        relu = ReLU()
        y1 = pool.forward(relu.forward(h))
        dh1 = relu.backward(pool.backward(G))
        y2 = relu.forward(pool.forward(h))
        dh2 = pool.backward(relu.backward(G))
        assert np.array_equal(y1, y2) and np.array_equal(dh1, dh2), repr(pool)


def test_flat_grid_places_every_pixel_and_every_tap_reads_the_padded_neighbour():
    """Built independently: for each output position and tap, the flat slice holds x_pad's pixel."""
    rng = np.random.default_rng(14)
    for (kh, kw), (ph, pw), shape in [((3, 3), (1, 1), (2, 1, 4, 5)), ((2, 3), (0, 2), (3, 2, 5, 4)),
                                      ((1, 1), (2, 0), (2, 1, 3, 3)), ((4, 2), (3, 1), (2, 1, 2, 3))]:
        N, C, H, W = shape
        x = rng.standard_normal(shape)
        grid = flat_grid(shape, (kh, kw), (ph, pw))
        Hg, Wg, before = grid["Hg"], grid["Wg"], grid["before"]
        X = np.zeros((C, grid["length"]))
        for n, c, i, j in np.ndindex(shape):
            X[c, before + n * Hg * Wg + i * Wg + j] = x[n, c, i, j]
        x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        Ho, Wo = H + 2 * ph - kh + 1, W + 2 * pw - kw + 1            # stride 1: every output
        assert Hg >= Ho and Wg >= Wo, "every output position must fit in an image's cell"
        for t, shift in enumerate(grid["taps"]):
            u, v = divmod(t, kw)
            assert 0 <= shift and shift + N * Hg * Wg <= grid["length"], "a tap's slice runs off the buffer"
            for n, c, i, j in np.ndindex(N, C, Ho, Wo):
                assert X[c, shift + n * Hg * Wg + i * Wg + j] == x_pad[n, c, i + u, j + v], (shape, t, (n, c, i, j))


@pytest.mark.parametrize("layer, shape, words", [
    (FastConv2D(2, 4, 5, padding=1), (2, 3, 8, 8), ["FastConv2D(2 -> 4", "(batch, 2, height, width)", "(2, 3, 8, 8)"]),
    (FastConv2D(2, 4, 5, padding=1), (2, 8, 8), ["FastConv2D(2 -> 4", "(2, 8, 8)"]),
    (FastConv2D(2, 4, 5, padding=1), (2, 2, 1, 8), ["FastConv2D(2 -> 4", "kernel 5x5", "(2, 2, 1, 8)"]),
    (FastMaxPool2D(2), (8, 28, 28), ["FastMaxPool2D(kernel_size=2", "(8, 28, 28)"]),
    (FastMaxPool2D(5), (8, 1, 4, 4), ["FastMaxPool2D(kernel_size=5", "(8, 1, 4, 4)"]),
])
def test_bad_input_raises_errors_naming_the_fast_layer_and_shapes(layer, shape, words):
    with pytest.raises(ValueError) as e:
        layer.forward(np.zeros(shape, np.float32))
    for word in words:
        assert word in str(e.value)


@pytest.mark.parametrize("layer, x_shape, good, bad", [
    (FastConv2D(1, 2, 3), (1, 1, 5, 5), (1, 2, 3, 3), (1, 2, 5, 5)),
    (FastMaxPool2D(2), (1, 2, 4, 4), (1, 2, 2, 2), (1, 2, 4, 4)),
])
def test_backward_before_forward_and_wrong_gradients_name_the_fast_layer(layer, x_shape, good, bad):
    name = type(layer).__name__
    with pytest.raises(RuntimeError, match=f"{name}.*forward"):
        layer.backward(np.zeros(good, np.float32))
    layer.forward(np.zeros(x_shape, np.float32))
    with pytest.raises(ValueError, match=name):
        layer.backward(np.zeros(bad, np.float32))
    with pytest.raises(TypeError, match=name):
        layer.forward(np.zeros(x_shape, np.int64))
    with pytest.raises(ValueError, match=name):
        type(layer)(*([1, 2, 0] if name == "FastConv2D" else [0]))


def test_a_model_of_fast_layers_saves_loads_and_computes_what_the_textbook_model_computes(tmp_path):
    from nblib import Dense, Flatten

    def cnn(conv, pool):
        rng = np.random.default_rng(15)
        return Sequential([conv(1, 4, 3, padding=1, rng=rng), ReLU(), pool(2), conv(4, 6, 3, stride=2, rng=rng),
                           ReLU(), Flatten(), Dense(6 * 2 * 2, 3, rng=rng)])

    fast, plain = cnn(FastConv2D, FastMaxPool2D), cnn(Conv2D, MaxPool2D)
    x = np.random.default_rng(16).standard_normal((5, 1, 10, 10)).astype(np.float32)
    assert largest_difference(fast.forward(x), plain.forward(x)) < 1e-5
    G = np.random.default_rng(17).standard_normal((5, 3)).astype(np.float32)
    fast.backward(G)
    plain.backward(G)
    for p, q in zip(fast.parameters(), plain.parameters()):
        assert largest_difference(p.grad, q.grad) < 1e-5, repr(p)
    fast.save(tmp_path / "fast.npz")
    loaded = Sequential.load(tmp_path / "fast.npz")
    assert [type(layer).__name__ for layer in loaded.layers][:3] == ["FastConv2D", "ReLU", "FastMaxPool2D"]
    np.testing.assert_array_equal(loaded.forward(x), fast.forward(x))

"""Tests of Conv2D in nblib/layers.py, and of the loop version conv2d_naive that
notebooks/18_convolution.ipynb keeps (unexported; tests/reference.py holds a checked copy).

References are written here independently of the code under test: a direct loop over every output
position (and its transpose for the gradients), and central finite differences."""
import numpy as np
import pytest

import nblib
from nblib import Conv2D, Sequential, gradcheck
from reference import conv2d_naive, conv2d_naive_backward, notebook_function_differs, numeric_grad
from reference import relative_error as rel


def as_pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def reference_forward(x, W, b, stride, padding):
    """y[n, o, i, j] = b[o] + sum over c, u, v of W[o, c, u, v] * x_pad[n, c, s*i + u, s*j + v]."""
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    N, C, H, Wd = x.shape
    O, _, kh, kw = W.shape
    xp = np.zeros((N, C, H + 2 * ph, Wd + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + Wd] = x
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (Wd + 2 * pw - kw) // sw + 1
    y = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    total = b[o]
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                total += W[o, c, u, v] * xp[n, c, sh * i + u, sw * j + v]
                    y[n, o, i, j] = total
    return y


def reference_backward(x, W, G, stride, padding):
    """The gradients of sum(y * G), by the same loops: every product sends G back to its factors."""
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    N, C, H, Wd = x.shape
    O, _, kh, kw = W.shape
    xp = np.zeros((N, C, H + 2 * ph, Wd + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + Wd] = x
    dxp, dW, db = np.zeros_like(xp), np.zeros(W.shape), np.zeros(O)
    for n in range(N):
        for o in range(O):
            for i in range(G.shape[2]):
                for j in range(G.shape[3]):
                    g = G[n, o, i, j]
                    db[o] += g
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                dW[o, c, u, v] += g * xp[n, c, sh * i + u, sw * j + v]
                                dxp[n, c, sh * i + u, sw * j + v] += g * W[o, c, u, v]
    return dxp[:, :, ph:ph + H, pw:pw + Wd], dW, db


# (in_channels, out_channels, kernel_size, stride, padding), input shape
CASES = [
    ((1, 1, 3, 1, 0), (1, 1, 5, 5)),             # the plain case
    ((2, 3, 3, 1, 1), (2, 2, 5, 7)),             # non-square input, same-size padding
    ((2, 3, 3, 2, 1), (2, 2, 7, 6)),             # stride 2, kernel larger than stride
    ((2, 2, 3, 1, 2), (1, 2, 5, 4)),             # padding 2
    ((3, 2, 1, 1, 0), (2, 3, 4, 5)),             # kernel 1
    ((2, 2, 1, 1, 2), (1, 2, 3, 3)),             # kernel 1 with padding 2 (outputs made of padding only)
    ((1, 2, 5, 2, 0), (1, 1, 9, 8)),             # kernel 5, stride 2, no padding
    ((2, 3, (2, 3), (1, 2), (1, 0)), (2, 2, 6, 7)),   # kernel, stride and padding as pairs
    ((2, 2, 2, 3, 0), (1, 2, 8, 8)),             # stride larger than kernel: pixels no window sees
    ((1, 2, 2, 1, 3), (1, 1, 3, 4)),             # padding larger than the kernel
    ((2, 2, 5, 1, 1), (2, 2, 3, 3)),             # kernel as large as the padded input: output 1x1
    ((2, 2, (1, 3), 2, (2, 1)), (3, 2, 4, 5)),   # a flat kernel, uneven padding
]
IDS = [f"conv{args}-x{shape}" for args, shape in CASES]


def make(args, shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    layer = Conv2D(*args, rng=rng).astype(dtype)
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    x = rng.standard_normal(shape).astype(dtype)
    return layer, x, rng


@pytest.mark.parametrize("args, shape", CASES, ids=IDS)
def test_forward_and_backward_match_a_direct_loop(args, shape):
    layer, x, rng = make(args, shape)
    y = layer.forward(x)
    W, b = layer.params["W"], layer.params["b"]
    np.testing.assert_allclose(y, reference_forward(x, W, b, args[3], args[4]), rtol=1e-10, atol=1e-12)
    G = rng.standard_normal(y.shape)
    dx = layer.backward(G)
    ref_dx, ref_dW, ref_db = reference_backward(x, W, G, args[3], args[4])
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], ref_dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], ref_db, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args, shape", CASES, ids=IDS)
def test_gradients_match_finite_differences_in_float64(args, shape):
    layer, x, rng = make(args, shape, seed=1)
    G = rng.standard_normal(layer.output_shape(x.shape))
    f = lambda: float(np.sum(layer.forward(x) * G))
    layer.forward(x)
    analytic = {"x": layer.backward(G), "W": layer.grads["W"].copy(), "b": layer.grads["b"].copy()}
    for name, target in [("x", x), ("W", layer.params["W"]), ("b", layer.params["b"])]:
        assert rel(analytic[name], numeric_grad(f, target)) < 1e-7, name
    assert gradcheck(layer, x) < 1e-7


@pytest.mark.parametrize("args, shape", CASES, ids=IDS)
def test_the_notebooks_loop_version_matches_the_direct_loop(args, shape):
    _, x, rng = make(args, shape, seed=2)
    layer, _, _ = make(args, shape, seed=2)
    W, b = layer.params["W"], layer.params["b"]
    y = conv2d_naive(x, W, b, stride=args[3], padding=args[4])
    np.testing.assert_allclose(y, reference_forward(x, W, b, args[3], args[4]), rtol=1e-10, atol=1e-12)
    G = rng.standard_normal(y.shape)
    for got, want in zip(conv2d_naive_backward(x, W, G, stride=args[3], padding=args[4]),
                         reference_backward(x, W, G, args[3], args[4])):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def im2col_by_loops(x, kernel_size, stride, padding):
    """cols[(c, u, v), (n, i, j)] = x_pad[n, c, s*i + u, s*j + v], entry by entry (section 5's definition)."""
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    N, C, H, Wd = x.shape
    xp = np.zeros((N, C, H + 2 * ph, Wd + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + Wd] = x
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (Wd + 2 * pw - kw) // sw + 1
    cols = np.zeros((C * kh * kw, N * Ho * Wo))
    for c in range(C):
        for u in range(kh):
            for v in range(kw):
                for n in range(N):
                    for i in range(Ho):
                        for j in range(Wo):
                            cols[(c * kh + u) * kw + v, (n * Ho + i) * Wo + j] = xp[n, c, sh * i + u, sw * j + v]
    return cols


@pytest.mark.parametrize("args, shape", CASES, ids=IDS)
def test_cols_is_the_im2col_matrix_of_the_derivation(args, shape):
    layer, x, _ = make(args, shape, seed=3)
    layer.forward(x)
    np.testing.assert_array_equal(layer._cols, im2col_by_loops(x, *args[2:]))


def test_a_batch_gives_what_its_images_give_one_at_a_time():
    # the reshapes and transposes between (N, C, H, W) and cols' columns (n, i, j) keep images apart
    args, shape = (2, 3, 3, 2, 1), (5, 2, 7, 6)
    layer, x, rng = make(args, shape, seed=3)
    y = layer.forward(x)
    G = rng.standard_normal(y.shape)
    dx, dW, db = layer.backward(G), layer.grads["W"].copy(), layer.grads["b"].copy()
    sum_dW, sum_db = np.zeros_like(dW), np.zeros_like(db)
    for n in range(shape[0]):
        np.testing.assert_allclose(layer.forward(x[n:n + 1]), y[n:n + 1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.backward(G[n:n + 1]), dx[n:n + 1], rtol=1e-12, atol=1e-12)
        sum_dW += layer.grads["W"]
        sum_db += layer.grads["b"]
    np.testing.assert_allclose(sum_dW, dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sum_db, db, rtol=1e-12, atol=1e-12)


def test_the_loop_version_here_is_the_notebooks():
    for name in ("conv2d_naive", "conv2d_naive_backward"):
        assert notebook_function_differs("18_convolution.ipynb", name) == ""


def test_calls_with_other_shapes_give_right_results_and_leave_earlier_ones_alone():
    args = (2, 3, 3, 2, 1)
    layer, x1, rng = make(args, (4, 2, 7, 6), seed=4)
    x2 = rng.standard_normal((3, 2, 7, 6))             # a smaller last batch
    x3 = rng.standard_normal((4, 2, 9, 5))             # another image size
    W, b = layer.params["W"], layer.params["b"]
    outputs, grads = [], []
    for x in [x1, x2, x3, x1, x2]:
        y = layer.forward(x)
        G = rng.standard_normal(y.shape)
        dx = layer.backward(G)
        np.testing.assert_allclose(y, reference_forward(x, W, b, 2, 1), rtol=1e-10, atol=1e-12)
        ref_dx, ref_dW, _ = reference_backward(x, W, G, 2, 1)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], ref_dW, rtol=1e-10, atol=1e-12)
        outputs.append((y, y.copy()))
        grads.append((dx, dx.copy()))
    for (kept, copy), (kept_dx, copy_dx) in zip(outputs, grads):   # earlier results are untouched
        np.testing.assert_array_equal(kept, copy)
        np.testing.assert_array_equal(kept_dx, copy_dx)


def test_backward_uses_the_weights_of_the_last_forward_and_sees_updates_before_it():
    layer, x, rng = make((2, 2, 3, 1, 1), (2, 2, 5, 5), seed=5)
    layer.forward(x)
    layer.params["W"] *= 2.0                         # an optimizer step between two forwards
    y = layer.forward(x)
    np.testing.assert_allclose(y, reference_forward(x, layer.params["W"], layer.params["b"], 1, 1), rtol=1e-10)
    G = rng.standard_normal(y.shape)
    ref_dx, _, _ = reference_backward(x, layer.params["W"], G, 1, 1)
    np.testing.assert_allclose(layer.backward(G), ref_dx, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_throughout():
    layer = Conv2D(16, 32, 3, padding=1, rng=np.random.default_rng(6))
    x = np.random.default_rng(7).standard_normal((8, 16, 14, 14)).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(p.dtype == np.float32 for p in list(layer.params.values()) + list(layer.grads.values()))
    assert layer._cols.dtype == np.float32          # the im2col matrix too: no float64 copy on the way
    # and the float32 result is the float64 one rounded, not something else
    y64 = layer.forward(x.astype(np.float64))
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)


def test_parameters_are_float32_with_he_initialisation():
    layer = Conv2D(32, 64, 3)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (64, 32, 3, 3) and b.shape == (64,)
    assert W.dtype == b.dtype == np.float32
    assert np.all(b == 0)
    assert abs(W.std() / np.sqrt(2 / (32 * 9)) - 1) < 0.02
    assert abs(W.mean()) < 0.01
    nblib.seed(4)   # rng=None: each layer a stream of its own from the package's seed
    first, second = Conv2D(3, 4, 3).params["W"], Conv2D(3, 4, 3).params["W"]
    assert not np.array_equal(first, second)
    nblib.seed(4)
    np.testing.assert_array_equal(Conv2D(3, 4, 3).params["W"], first)
    a = Conv2D(3, 4, 3, rng=np.random.default_rng(1)).params["W"]
    assert not np.array_equal(a, Conv2D(3, 4, 3, rng=np.random.default_rng(2)).params["W"])


def test_output_shape_formula():
    for (args, shape) in CASES:
        layer = Conv2D(*args)
        (kh, kw), (sh, sw), (ph, pw) = as_pair(args[2]), as_pair(args[3]), as_pair(args[4])
        N, C, H, W = shape
        expected = (N, args[1], (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)
        assert layer.forward(np.zeros(shape, np.float32)).shape == expected


@pytest.mark.parametrize("shape, words", [
    ((2, 3, 8, 8), ["Conv2D(2 -> 4", "(batch, 2, height, width)", "(2, 3, 8, 8)"]),     # wrong channels
    ((2, 8, 8), ["Conv2D(2 -> 4", "(batch, 2, height, width)", "(2, 8, 8)"]),           # 3-D
    ((1, 2, 2, 3, 8, 8), ["Conv2D(2 -> 4", "(1, 2, 2, 3, 8, 8)"]),                       # 6-D
    ((2, 2, 1, 8), ["Conv2D(2 -> 4", "kernel 5x5", "padded input 3x10", "(2, 2, 1, 8)"]),  # kernel too large
])
def test_bad_input_shapes_raise_value_errors_naming_the_layer_and_shapes(shape, words):
    layer = Conv2D(2, 4, 5, padding=1)
    with pytest.raises(ValueError) as e:
        layer.forward(np.zeros(shape, np.float32))
    for word in words:
        assert word in str(e.value)


@pytest.mark.parametrize("kwargs, word", [
    (dict(stride=0), "stride"), (dict(stride=-1), "stride"), (dict(stride=(1, 0)), "stride"),
    (dict(stride=1.5), "stride"), (dict(stride=(1, 2, 3)), "stride"), (dict(stride=True), "stride"),
    (dict(padding=-1), "padding"), (dict(padding=(0, -2)), "padding"),
    (dict(kernel_size=0), "kernel_size"), (dict(kernel_size=(3, 0)), "kernel_size"),
    (dict(kernel_size="3"), "kernel_size"),
])
def test_bad_arguments_raise_value_errors_naming_the_layer(kwargs, word):
    args = dict(in_channels=2, out_channels=3, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError) as e:
        Conv2D(**args)
    assert "Conv2D" in str(e.value) and word in str(e.value)
    for bad in [0, -2, 2.0]:
        with pytest.raises(ValueError, match="Conv2D"):
            Conv2D(bad, 3, 3)
        with pytest.raises(ValueError, match="Conv2D"):
            Conv2D(2, bad, 3)


def test_backward_before_forward_and_wrong_gradients():
    layer = Conv2D(1, 2, 3)
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.zeros((1, 2, 3, 3), np.float32))
    layer.forward(np.zeros((1, 1, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(1, 2, 3, 3\)"):
        layer.backward(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(TypeError, match="floating"):
        layer.forward(np.zeros((1, 1, 5, 5), np.int64))


def test_config_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(8)
    layer = Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), rng=rng)
    layer.params["b"][...] = rng.standard_normal(3)
    assert layer.config() == {"in_channels": 2, "out_channels": 3, "kernel_size": (3, 2),
                              "stride": (2, 1), "padding": (1, 0)}
    assert Conv2D(2, 3, 3).config()["kernel_size"] == 3
    assert Conv2D(**layer.config()).config() == layer.config()
    model = Sequential([layer])
    model.save(tmp_path / "conv.npz")
    loaded = Sequential.load(tmp_path / "conv.npz")
    x = rng.standard_normal((2, 2, 6, 5)).astype(np.float32)
    assert loaded.layers[0].config() == layer.config()
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_first_layer_can_skip_the_input_gradient():
    """Sequential turns needs_input_grad off in its first layer (input_grad=False): same W and b gradients, no dL/dx."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 2, 6, 5)).astype(np.float32)
    G = rng.standard_normal((3, 4, 6, 5)).astype(np.float32)
    full, skip = Conv2D(2, 4, 3, padding=1, rng=np.random.default_rng(0)), Conv2D(2, 4, 3, padding=1, rng=np.random.default_rng(0))
    skip.needs_input_grad = False
    full.forward(x)
    skip.forward(x)
    assert full.backward(G) is not None and skip.backward(G) is None
    for name in ("W", "b"):
        np.testing.assert_array_equal(skip.grads[name], full.grads[name])
    assert not Sequential([Conv2D(2, 4, 3)]).layers[0].needs_input_grad
    model = Sequential([Conv2D(2, 4, 3, padding=1, rng=np.random.default_rng(0))], input_grad=True)
    model.forward(x)
    np.testing.assert_array_equal(model.backward(G), full.backward(G))

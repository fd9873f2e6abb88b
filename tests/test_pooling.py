"""Tests of MaxPool2D, AvgPool2D and Flatten in nblib/layers.py (from notebooks/19_pooling.ipynb),
and of the loop version max_pool2d_naive that the notebook keeps (unexported; tests/reference.py
holds a checked copy).

References are written here independently of the code under test: direct loops over windows, a
first-maximum search by strict comparison, and central finite differences."""
import numpy as np
import pytest

from nblib import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, gradcheck
from reference import max_pool2d_naive, max_pool2d_naive_backward, notebook_function_differs, numeric_grad
from reference import relative_error as rel


def as_pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def windows(shape, kernel_size, stride):
    """Yield (i, j, rows, cols) for every window: output position and the input slices it covers."""
    (kh, kw), (sh, sw) = as_pair(kernel_size), as_pair(stride)
    for i in range((shape[2] - kh) // sh + 1):
        for j in range((shape[3] - kw) // sw + 1):
            yield i, j, range(sh * i, sh * i + kh), range(sw * j, sw * j + kw)


def out_shape(shape, kernel_size, stride):
    (kh, kw), (sh, sw) = as_pair(kernel_size), as_pair(stride)
    return shape[0], shape[1], (shape[2] - kh) // sh + 1, (shape[3] - kw) // sw + 1


def reference_max(x, G, kernel_size, stride):
    """Max pooling and its gradient: each window's G goes to its first maximum, row by row, found
    by a strictly-greater scan (so a later equal value never takes over)."""
    y, dx = np.zeros(out_shape(x.shape, kernel_size, stride)), np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, j, rows, cols in windows(x.shape, kernel_size, stride):
                best, where = -np.inf, None
                for r in rows:
                    for q in cols:
                        if x[n, c, r, q] > best:
                            best, where = x[n, c, r, q], (r, q)
                y[n, c, i, j] = best
                if G is not None:
                    dx[n, c, where[0], where[1]] += G[n, c, i, j]
    return y, dx


def reference_avg(x, G, kernel_size, stride):
    y, dx = np.zeros(out_shape(x.shape, kernel_size, stride)), np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, j, rows, cols in windows(x.shape, kernel_size, stride):
                size = len(rows) * len(cols)
                y[n, c, i, j] = sum(x[n, c, r, q] for r in rows for q in cols) / size
                for r in rows:
                    for q in cols:
                        dx[n, c, r, q] += G[n, c, i, j] / size
    return y, dx


# (kernel_size, stride), input shape
CASES = [
    ((2, None), (2, 3, 4, 6)),          # the usual 2x2, non-square input
    ((2, None), (1, 2, 5, 7)),          # odd sizes: the last row and column are in no window
    ((3, 2), (2, 2, 7, 6)),             # overlapping windows (kernel 3, stride 2)
    ((3, 1), (1, 2, 5, 5)),             # heavily overlapping (stride 1)
    (((2, 3), (1, 2)), (2, 1, 5, 8)),   # kernel and stride as pairs
    ((2, 3), (1, 2, 8, 8)),             # stride larger than kernel: gaps
    ((4, None), (1, 1, 4, 4)),          # one window: a global pool
    ((1, None), (2, 2, 3, 3)),          # kernel 1: the identity
]
IDS = [f"k{k}-s{s}-x{shape}" for (k, s), shape in CASES]


def stride_of(k, s):
    return k if s is None else s


@pytest.mark.parametrize("Pool, reference", [(MaxPool2D, reference_max), (AvgPool2D, reference_avg)])
@pytest.mark.parametrize("ks, shape", CASES, ids=IDS)
def test_forward_and_backward_match_direct_loops(Pool, reference, ks, shape):
    k, s = ks
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    pool = Pool(k, s)
    y = pool.forward(x)
    G = rng.standard_normal(y.shape)
    ref_y, ref_dx = reference(x, G, k, stride_of(k, s))
    np.testing.assert_allclose(y, ref_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pool.backward(G), ref_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("Pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("ks, shape", CASES, ids=IDS)
def test_gradients_match_finite_differences_in_float64(Pool, ks, shape):
    k, s = ks
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)          # random values: no ties, so max is differentiable
    pool = Pool(k, s)
    G = rng.standard_normal(out_shape(shape, k, stride_of(k, s)))
    f = lambda: float(np.sum(pool.forward(x) * G))
    pool.forward(x)
    assert rel(pool.backward(G), numeric_grad(f, x)) < 1e-7
    assert gradcheck(pool, x) < 1e-7


@pytest.mark.parametrize("ks, shape", CASES, ids=IDS)
def test_ties_go_to_the_first_maximum_in_row_major_order(ks, shape):
    k, s = ks
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, shape).astype(np.float64)   # values 0, 1, 2: ties in most windows
    x[x == 1] = 0                                      # and all-zero windows, as after a ReLU
    pool = MaxPool2D(k, s)
    y = pool.forward(x)
    G = rng.standard_normal(y.shape)
    ref_y, ref_dx = reference_max(x, G, k, stride_of(k, s))
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_allclose(pool.backward(G), ref_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(max_pool2d_naive_backward(x, G, k, s), ref_dx, rtol=1e-12, atol=1e-12)


def test_ties_explicitly():
    # one 2x2 window holding its maximum 5 twice, at (0, 1) and (1, 0): (0, 1) comes first
    x = np.array([[[[1.0, 5.0], [5.0, 2.0]]]])
    pool = MaxPool2D(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.array([[[[7.0]]]]))[0, 0], [[0, 7], [0, 0]])
    # all zeros, overlapping windows (kernel 3, stride 2 on 5x5): each window's top-left pixel
    pool = MaxPool2D(3, stride=2)
    pool.forward(np.zeros((1, 1, 5, 5), np.float32))
    dx = pool.backward(np.array([[[[1, 2], [3, 4]]]], np.float32))[0, 0]
    expected = np.zeros((5, 5), np.float32)
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx, expected)
    # a pixel that is the (tied) maximum of two overlapping windows collects both gradients
    x = np.zeros((1, 1, 3, 5))
    x[0, 0, 0, 2] = 1.0                # in windows 0 (columns 0-2) and 1 (columns 2-4)
    pool = MaxPool2D(3, stride=2)
    pool.forward(x)
    dx = pool.backward(np.array([[[[10.0, 20.0]]]]))[0, 0]
    assert dx[0, 2] == 30.0 and dx.sum() == 30.0


@pytest.mark.parametrize("ks, shape", CASES, ids=IDS)
def test_the_notebooks_loop_version_matches_the_direct_loop(ks, shape):
    k, s = ks
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    y = max_pool2d_naive(x, k, s)
    G = rng.standard_normal(y.shape)
    ref_y, ref_dx = reference_max(x, G, k, stride_of(k, s))
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_allclose(max_pool2d_naive_backward(x, G, k, s), ref_dx, rtol=1e-12, atol=1e-12)


def test_the_loop_version_here_is_the_notebooks():
    for name in ("max_pool2d_naive", "max_pool2d_naive_backward"):
        assert notebook_function_differs("19_pooling.ipynb", name) == ""


@pytest.mark.parametrize("Pool", [MaxPool2D, AvgPool2D])
def test_dtype_is_kept(Pool):
    for dtype in (np.float32, np.float64):
        x = np.random.default_rng(4).standard_normal((2, 3, 6, 6)).astype(dtype)
        pool = Pool(2)
        y = pool.forward(x)
        assert y.dtype == dtype and pool.backward(np.ones_like(y)).dtype == dtype


def test_stride_defaults_to_the_kernel_size_and_config_round_trips():
    assert MaxPool2D(3).stride == (3, 3) and AvgPool2D((2, 3)).stride == (2, 3)
    assert MaxPool2D(3, stride=1).stride == (1, 1)
    assert MaxPool2D(2).config() == {"kernel_size": 2, "stride": 2}
    pool = AvgPool2D((2, 3), stride=(1, 2))
    assert pool.config() == {"kernel_size": (2, 3), "stride": (1, 2)}
    assert AvgPool2D(**pool.config()).config() == pool.config()
    assert MaxPool2D(2).params == {} and MaxPool2D(2).grads == {}


@pytest.mark.parametrize("Pool", [MaxPool2D, AvgPool2D])
def test_bad_input_raises_errors_naming_the_layer_and_shapes(Pool):
    name = Pool.__name__
    with pytest.raises(ValueError) as e:
        Pool(2).forward(np.zeros((8, 28, 28), np.float32))
    assert name in str(e.value) and "(8, 28, 28)" in str(e.value) and "(batch, channels, height, width)" in str(e.value)
    with pytest.raises(ValueError) as e:
        Pool(5).forward(np.zeros((8, 1, 4, 6), np.float32))
    assert name in str(e.value) and "5x5" in str(e.value) and "4x6" in str(e.value) and "(8, 1, 4, 6)" in str(e.value)
    for bad in [dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=2, stride=-1),
                dict(kernel_size=(2, 0)), dict(kernel_size=2.5), dict(kernel_size=2, stride=(1, 1, 1))]:
        with pytest.raises(ValueError, match=name):
            Pool(**bad)
    pool = Pool(2)
    with pytest.raises(RuntimeError, match="forward"):
        pool.backward(np.zeros((1, 1, 2, 2), np.float32))
    pool.forward(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(1, 1, 2, 2\)"):
        pool.backward(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(TypeError, match="floating"):
        pool.forward(np.zeros((1, 1, 4, 4), np.int32))


def test_flatten():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    flat = Flatten()
    y = flat.forward(x)
    assert y.shape == (2, 60) and y.dtype == np.float32
    np.testing.assert_array_equal(y[1], [x[1, c, h, w] for c in range(3) for h in range(4) for w in range(5)])
    G = np.random.default_rng(5).standard_normal((2, 60)).astype(np.float32)
    dx = flat.backward(G)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx[1, 2, 3, 4], G[1, 2 * 20 + 3 * 5 + 4])
    assert gradcheck(Flatten(), np.random.default_rng(6).standard_normal((3, 2, 2))) < 1e-7
    assert Flatten().forward(np.zeros((4, 7), np.float32)).shape == (4, 7)
    assert Flatten().forward(np.zeros((0, 3, 2), np.float32)).shape == (0, 6)
    with pytest.raises(ValueError, match=r"Flatten.*\(5,\)"):
        Flatten().forward(np.zeros(5, np.float32))
    with pytest.raises(RuntimeError, match="forward"):
        Flatten().backward(G)
    flat.forward(x)
    with pytest.raises(ValueError, match=r"Flatten.*\(2, 60\)"):
        flat.backward(np.zeros((2, 59), np.float32))


def test_a_small_cnn_checks_and_round_trips(tmp_path):
    rng = np.random.default_rng(7)
    model = Sequential([Conv2D(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
                        Conv2D(2, 3, (2, 3), rng=rng), AvgPool2D(2, stride=1), Flatten(), Dense(3, 4, rng=rng)],
                       input_grad=True)
    x = rng.standard_normal((2, 1, 6, 8)).astype(np.float32)
    y = model.forward(x)
    assert y.shape == (2, 4) and y.dtype == np.float32
    # the whole stack's input gradient against finite differences, in float64
    model.astype(np.float64)
    x64 = x.astype(np.float64)
    G = rng.standard_normal((2, 4))
    model.forward(x64)
    dx = model.backward(G)
    f = lambda: float(np.sum(model.forward(x64) * G))
    assert rel(dx, numeric_grad(f, x64)) < 1e-7
    model.astype(np.float32)
    model.save(tmp_path / "cnn.npz")
    loaded = Sequential.load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert [l.config() for l in loaded.layers] == [l.config() for l in model.layers]

"""Tests of nblib/losses.py (written in notebooks/08_losses.ipynb).

Reference values come from formulas written here with Python's math module, element by element;
gradients are compared with central finite differences in float64 (our own and nblib.gradcheck).
"""
import math
import warnings

import numpy as np
import pytest

from nblib import (BinaryCrossEntropy, CrossEntropy, Dense, Huber, L1, MSE, SGD, Sequential, Sigmoid,
                   Softmax, gradcheck, make_a_greater_b)
from reference import numeric_grad

RNG_SEED = 1234


# ---- independent references ----------------------------------------------------------------

def mse_ref(p, t):
    p, t = np.ravel(p).tolist(), np.ravel(t).tolist()
    return sum((a - b) ** 2 for a, b in zip(p, t)) / len(p)


def l1_ref(p, t):
    p, t = np.ravel(p).tolist(), np.ravel(t).tolist()
    return sum(abs(a - b) for a, b in zip(p, t)) / len(p)


def huber_ref(p, t, delta):
    total, p, t = 0.0, np.ravel(p).tolist(), np.ravel(t).tolist()
    for a, b in zip(p, t):
        d = abs(a - b)
        total += 0.5 * d * d if d <= delta else delta * (d - 0.5 * delta)
    return total / len(p)


def softmax_row(row):
    """Plain softmax with math.exp (safe for the moderate logits these tests use)."""
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def ce_ref(z, target):
    """-(1/N) sum_n sum_k y_nk log p_nk with y one-hot for integer labels."""
    z = np.asarray(z).tolist()
    total = 0.0
    for n, row in enumerate(z):
        p = softmax_row(row)
        if np.ndim(target) == 1:
            total -= math.log(p[int(target[n])])
        else:
            total -= sum(float(y) * math.log(pk) for y, pk in zip(target[n], p))
    return total / len(z)


def bce_ref(z, t):
    """The textbook -t log s - (1 - t) log(1 - s), s = 1 / (1 + e^-z), for moderate z."""
    total, z, t = 0.0, np.ravel(z).tolist(), np.ravel(t).tolist()
    for a, b in zip(z, t):
        s = 1 / (1 + math.exp(-a))
        total += -b * math.log(s) - (1 - b) * math.log(1 - s)
    return total / len(z)


def central_differences(loss, pred, target):
    """Our own numerical dL/dpred, element by element, in float64."""
    pred = pred.astype(np.float64).copy()
    return numeric_grad(lambda: loss.forward(pred, target), pred)


def rel_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def away_from(values, points, gap=1e-3):
    """True when no element of `values` is within `gap` of a point where the loss has a kink."""
    return all(np.all(np.abs(values - p) > gap) for p in points)


# ---- cases: (loss factory, pred, target) in float64, moderate values ---------------------------

def regression_case(shape, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    return pred, target


def gradient_cases():
    rng = np.random.default_rng(RNG_SEED)
    z = rng.standard_normal((5, 4)) * 2
    labels = rng.integers(0, 4, 5)
    probabilities = rng.dirichlet(np.ones(4), size=5)
    p, t = regression_case((4, 3), 7)
    z1 = rng.standard_normal(6) * 3
    return [
        ("MSE", MSE, p, t),
        ("MSE 1-D", MSE, p[:, 0], t[:, 0]),
        ("L1", L1, p, t),
        ("Huber default", Huber, p, t),
        ("Huber 0.3", lambda: Huber(0.3), p, t),
        ("Huber 5", lambda: Huber(5.0), 3 * p, t),
        ("CE labels", CrossEntropy, z, labels),
        ("CE uint8 labels", CrossEntropy, z, labels.astype(np.uint8)),
        ("CE one-hot float", CrossEntropy, z, np.eye(4)[labels]),
        ("CE one-hot int", CrossEntropy, z, np.eye(4, dtype=np.int64)[labels]),
        ("CE probabilities", CrossEntropy, z, probabilities),
        ("CE unnormalised", CrossEntropy, z, 3 * probabilities),
        ("BCE 0/1 (N,)", BinaryCrossEntropy, z1, (z1 > 0.5).astype(np.float64)),
        ("BCE int (N,)", BinaryCrossEntropy, z1, rng.integers(0, 2, 6)),
        ("BCE bool (N,)", BinaryCrossEntropy, z1, rng.integers(0, 2, 6).astype(bool)),
        ("BCE probabilities (N, 1)", BinaryCrossEntropy, z1[:, None], rng.uniform(0, 1, (6, 1))),
    ]


CASES = gradient_cases()
IDS = [c[0] for c in CASES]


# ---- values --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)])
def test_regression_values_match_loops(shape):
    p, t = regression_case(shape, 0)
    assert MSE().forward(p, t) == pytest.approx(mse_ref(p, t), rel=1e-12)
    assert L1().forward(p, t) == pytest.approx(l1_ref(p, t), rel=1e-12)
    for delta in (0.1, 0.5, 1.0, 2.0, 100.0):
        assert Huber(delta).forward(p, t) == pytest.approx(huber_ref(p, t, delta), rel=1e-12)


def test_values_by_hand():
    p, t = np.array([2.5, 0.0, 2.1]), np.array([3.0, -0.5, 2.0])
    assert MSE()(p, t) == pytest.approx(0.51 / 3, rel=1e-12)
    assert L1()(p, t) == pytest.approx(1.1 / 3, rel=1e-12)
    # delta 0.2: errors 0.5, 0.5 are linear (0.2 * (0.5 - 0.1) = 0.08), 0.1 is quadratic (0.005)
    assert Huber(0.2)(p, t) == pytest.approx((0.08 + 0.08 + 0.005) / 3, rel=1e-12)
    # CE of logits (0, log 3) with label 1: p = 3/4, loss = -log(3/4)
    assert CrossEntropy()(np.array([[0.0, math.log(3)]]), np.array([1])) == pytest.approx(-math.log(0.75))


def test_huber_limits():
    """Huber is MSE / 2 for a delta larger than every error, and tends to delta * L1 as delta -> 0."""
    p, t = regression_case((5, 2), 3)
    assert Huber(1e6)(p, t) == pytest.approx(MSE()(p, t) / 2, rel=1e-12)
    assert Huber(1e-6)(p, t) / 1e-6 == pytest.approx(L1()(p, t), rel=1e-5)


@pytest.mark.parametrize("name, make, pred, target", [c for c in CASES if c[0].startswith("CE")],
                         ids=[c[0] for c in CASES if c[0].startswith("CE")])
def test_cross_entropy_values_match_loops(name, make, pred, target):
    assert make().forward(pred, target) == pytest.approx(ce_ref(pred, target), rel=1e-12)


@pytest.mark.parametrize("name, make, pred, target", [c for c in CASES if c[0].startswith("BCE")],
                         ids=[c[0] for c in CASES if c[0].startswith("BCE")])
def test_binary_cross_entropy_values_match_loops(name, make, pred, target):
    assert make().forward(pred, target) == pytest.approx(bce_ref(pred, target.astype(float)), rel=1e-12)


def test_cross_entropy_averages_over_the_batch_not_the_classes():
    z = np.random.default_rng(0).standard_normal((3, 5))
    labels = np.array([4, 0, 2])
    one = CrossEntropy()(z, labels)
    assert CrossEntropy()(np.concatenate([z, z]), np.concatenate([labels, labels])) == pytest.approx(one)
    assert one == pytest.approx(ce_ref(z, labels))   # a sum over classes, a mean over rows


def test_labels_and_one_hot_agree():
    z = np.random.default_rng(2).standard_normal((6, 3))
    labels = np.array([0, 1, 2, 2, 1, 0])
    a, b = CrossEntropy(), CrossEntropy()
    assert a(z, labels) == pytest.approx(b(z, np.eye(3)[labels]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-16)


def test_binary_cross_entropy_is_cross_entropy_of_zero_and_z():
    rng = np.random.default_rng(3)
    z, t = rng.standard_normal(8) * 3, rng.integers(0, 2, 8)
    bce, ce = BinaryCrossEntropy(), CrossEntropy()
    two_logits = np.stack([np.zeros(8), z], axis=1)
    assert bce(z, t) == pytest.approx(ce(two_logits, t), rel=1e-13)
    np.testing.assert_allclose(bce.backward(), ce.backward()[:, 1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ce.backward()[:, 0], -ce.backward()[:, 1], rtol=1e-12, atol=1e-15)


def test_analytic_gradients_match_the_formulas():
    """The collapsed gradients (p - y) / N and (sigmoid(z) - t) / S, from math.exp row by row."""
    rng = np.random.default_rng(4)
    z, labels = rng.standard_normal((4, 3)), np.array([2, 0, 1, 1])
    ce = CrossEntropy()
    ce(z, labels)
    expected = np.array([softmax_row(row) for row in z.tolist()])
    expected[np.arange(4), labels] -= 1
    np.testing.assert_allclose(ce.backward(), expected / 4, rtol=1e-12, atol=1e-15)
    z1, t1 = rng.standard_normal(5), rng.uniform(0, 1, 5)
    bce = BinaryCrossEntropy()
    bce(z1, t1)
    expected = [(1 / (1 + math.exp(-a)) - b) / 5 for a, b in zip(z1.tolist(), t1.tolist())]
    np.testing.assert_allclose(bce.backward(), expected, rtol=1e-12, atol=1e-15)


def test_softmax_then_log_loss_matches_cross_entropy():
    """The two-step computation with the Softmax layer (notebook 07) gives the fused loss's value and,
    through Softmax.backward, its gradient p - y."""
    rng = np.random.default_rng(8)
    z, labels = rng.standard_normal((5, 4)) * 2, np.array([3, 0, 1, 1, 2])
    softmax, ce = Softmax(), CrossEntropy()
    p = softmax.forward(z)
    rows = np.arange(5)
    assert ce(z, labels) == pytest.approx(-np.mean(np.log(p[rows, labels])), rel=1e-13)
    grad_p = np.zeros_like(p)
    grad_p[rows, labels] = -1 / (p[rows, labels] * 5)        # d/dp of -(1/N) sum log p_n,t_n
    np.testing.assert_allclose(softmax.backward(grad_p), ce.backward(), rtol=1e-10, atol=1e-15)


def test_sigmoid_then_log_loss_matches_binary_cross_entropy():
    rng = np.random.default_rng(9)
    z, t = rng.standard_normal((6, 1)) * 3, rng.uniform(0, 1, (6, 1))
    sigmoid, bce = Sigmoid(), BinaryCrossEntropy()
    s = sigmoid.forward(z)
    assert bce(z, t) == pytest.approx(np.mean(-t * np.log(s) - (1 - t) * np.log(1 - s)), rel=1e-13)
    grad_s = (-t / s + (1 - t) / (1 - s)) / 6
    np.testing.assert_allclose(sigmoid.backward(grad_s), bce.backward(), rtol=1e-10, atol=1e-15)


# ---- gradients -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, make, pred, target", CASES, ids=IDS)
def test_gradient_matches_central_differences(name, make, pred, target):
    loss = make()
    if isinstance(loss, Huber):
        assert away_from(pred - target, [0, loss.delta, -loss.delta])
    if isinstance(loss, L1):
        assert away_from(pred - target, [0])
    loss.forward(pred, target)
    analytic = loss.backward()
    assert analytic.shape == pred.shape
    assert rel_error(analytic, central_differences(make(), pred, target)) < 1e-7
    assert gradcheck(make(), pred, target) < 1e-7


def test_gradcheck_catches_a_wrong_gradient():
    """The check must be able to fail: CE with the 1/N factor forgotten."""
    class Forgetful(CrossEntropy):
        def backward(self):
            return super().backward() * len(self._p)

    z, labels = np.random.default_rng(5).standard_normal((4, 3)), np.array([0, 1, 2, 0])
    assert gradcheck(Forgetful(), z, labels) > 0.1


def test_unnormalised_targets_get_the_general_gradient():
    """For targets whose rows do not sum to 1 the gradient is p * sum(y) - y, not p - y."""
    rng = np.random.default_rng(6)
    z, y = rng.standard_normal((3, 4)), rng.uniform(0, 2, (3, 4))
    ce = CrossEntropy()
    ce(z, y)
    p = np.array([softmax_row(row) for row in z.tolist()])
    np.testing.assert_allclose(ce.backward(), (p * y.sum(axis=1, keepdims=True) - y) / 3, rtol=1e-12)
    assert not np.allclose(ce.backward(), (p - y) / 3)


# ---- extreme logits ------------------------------------------------------------------------

@pytest.fixture
def strict_numpy():
    """Any overflow, division by zero, invalid operation or warning fails the test (underflow to 0 is fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_of_huge_logits_is_exact(strict_numpy, dtype):
    z = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4], [-1e4, -1e4]], dtype=dtype)
    labels = np.array([0, 0, 1, 0])
    ce = CrossEntropy()
    value = ce(z, labels)
    # per row: 0, 2e4, log 2, log 2
    assert value == pytest.approx((2e4 + 2 * math.log(2)) / 4, rel=1e-6 if dtype == np.float32 else 1e-15)
    expected = np.array([[0, 0], [-1, 1], [0.5, -0.5], [-0.5, 0.5]]) / 4
    np.testing.assert_array_equal(ce.backward(), expected.astype(dtype))
    assert ce(z, np.eye(2)[labels]) == pytest.approx(value, rel=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_of_huge_logits_is_exact(strict_numpy, dtype):
    z = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    bce = BinaryCrossEntropy()
    assert bce(z, t) == 5000.0
    np.testing.assert_array_equal(bce.backward(), np.array([0, 0, 0.25, -0.25], dtype=dtype))
    assert bce.backward().dtype == dtype


def test_binary_cross_entropy_beyond_the_overflow_of_exp(strict_numpy):
    """e^800 overflows float64; the stable form gives max(z, 0) - z t + log1p(e^-|z|) exactly."""
    z, t = np.array([800.0, -800.0, 40.0]), np.array([0.3, 0.3, 0.0])
    expected = (800 - 240 + 0 + 240 + 40 + math.log1p(math.exp(-40))) / 3
    assert BinaryCrossEntropy()(z, t) == pytest.approx(expected, rel=1e-15)


def test_cross_entropy_of_a_probability_that_underflows(strict_numpy):
    """p = e^-2000 underflows to 0, but log p = -2000 is kept: no log(0), no 0 * inf."""
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert CrossEntropy()(z, np.array([1])) == pytest.approx(2000.0, rel=1e-15)
    assert CrossEntropy()(z, np.array([[0.0, 1.0, 0.0]])) == pytest.approx(2000.0, rel=1e-15)


# ---- dtypes and return types ---------------------------------------------------------------

@pytest.mark.parametrize("name, make, pred, target", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_the_dtype_and_value_is_a_float(name, make, pred, target, dtype):
    loss = make()
    value = loss.forward(pred.astype(dtype), target)   # float64 targets with float32 pred too
    assert type(value) is float
    grad = loss.backward()
    assert grad.dtype == dtype and grad.shape == pred.shape


def test_float32_values_agree_with_float64():
    for name, make, pred, target in CASES:
        assert make()(pred.astype(np.float32), target) == pytest.approx(make()(pred, target), rel=1e-5), name


def test_forward_does_not_change_its_inputs():
    for name, make, pred, target in CASES:
        p, t = pred.copy(), target.copy()
        loss = make()
        loss(p, t)
        loss.backward()
        np.testing.assert_array_equal(p, pred)
        np.testing.assert_array_equal(t, target)


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("make, name", [(MSE, "MSE"), (L1, "L1"), (Huber, "Huber"),
                                        (BinaryCrossEntropy, "BinaryCrossEntropy")])
def test_shape_mismatch_names_the_class_and_both_shapes(make, name):
    with pytest.raises(ValueError, match=rf"{name}.*\(4, 1\).*\(4,\).*reshape"):
        make()(np.zeros((4, 1)), np.zeros(4))
    if name != "BinaryCrossEntropy":
        with pytest.raises(ValueError, match=rf"{name}.*\(4, 3\).*\(4, 2\)"):
            make()(np.zeros((4, 3)), np.zeros((4, 2)))


@pytest.mark.parametrize("labels, values", [([0, 3, 1], "0 to 3"), ([-1, 0, 2], "-1 to 2")])
def test_cross_entropy_labels_out_of_range(labels, values):
    with pytest.raises(ValueError, match=rf"CrossEntropy.*0\.\.2.*3 classes.*{values}"):
        CrossEntropy()(np.zeros((3, 3)), np.array(labels))


@pytest.mark.parametrize("target, pattern", [
    (np.zeros((3, 4)), r"\(3,\).*\(3, 3\).*\(3, 4\)"),
    (np.zeros(4, dtype=np.int64), r"\(3,\).*\(4,\)"),
    (np.zeros(3), r"\(3, 3\).*float64.*\(3,\).*astype\(np\.int64\)"),
    (np.zeros((3, 3, 1)), r"\(3, 3, 1\)"),
])
def test_cross_entropy_wrong_target_shape(target, pattern):
    with pytest.raises(ValueError, match="CrossEntropy.*" + pattern):
        CrossEntropy()(np.zeros((3, 3)), target)


def test_cross_entropy_wants_two_dimensional_logits():
    with pytest.raises(ValueError, match=r"CrossEntropy.*\(batch, classes\).*\(3,\)"):
        CrossEntropy()(np.zeros(3), np.array([0, 1, 2]))


def test_binary_cross_entropy_wrong_logits_and_targets():
    with pytest.raises(ValueError, match=r"BinaryCrossEntropy.*\(batch,\) or \(batch, 1\).*\(4, 2\).*CrossEntropy"):
        BinaryCrossEntropy()(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"BinaryCrossEntropy.*between 0 and 1.*2"):
        BinaryCrossEntropy()(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"BinaryCrossEntropy.*between 0 and 1.*-0\.5"):
        BinaryCrossEntropy()(np.zeros(3), np.array([0.0, -0.5, 1.0]))


@pytest.mark.parametrize("make", [MSE, L1, Huber, CrossEntropy, BinaryCrossEntropy])
def test_type_errors_name_the_class(make):
    name = make.__name__
    good_pred = np.zeros((3, 1)) if make is BinaryCrossEntropy else np.zeros((3, 3))
    good_target = np.zeros((3, 1)) if make is BinaryCrossEntropy else np.zeros((3, 3))
    with pytest.raises(TypeError, match=rf"{name}.*pred.*NumPy array.*list"):
        make()(good_pred.tolist(), good_target)
    with pytest.raises(TypeError, match=rf"{name}.*floating-point.*int64"):
        make()(good_pred.astype(np.int64), good_target)
    with pytest.raises(TypeError, match=rf"{name}.*target.*NumPy array.*list"):
        make()(good_pred, good_target.tolist())
    with pytest.raises(TypeError, match=rf"{name}.*numeric target.*<U"):
        make()(good_pred, good_target.astype(str))


@pytest.mark.parametrize("make", [MSE, L1, Huber, CrossEntropy, BinaryCrossEntropy])
def test_empty_batch_is_refused(make):
    with pytest.raises(ValueError, match=rf"{make.__name__}.*non-empty"):
        make()(np.zeros((0, 1)), np.zeros((0, 1)))


@pytest.mark.parametrize("delta", [0, -1.0, float("inf"), float("nan"), True, "1", None])
def test_huber_rejects_a_bad_delta(delta):
    with pytest.raises(ValueError, match=r"Huber: delta must be a number > 0.0"):
        Huber(delta)


@pytest.mark.parametrize("make", [MSE, L1, Huber, CrossEntropy, BinaryCrossEntropy])
def test_backward_before_forward(make):
    with pytest.raises(RuntimeError, match=rf"{make.__name__}\(.*\)\.backward\(\).*call forward first"):
        make().backward()


def test_repr():
    assert repr(MSE()) == "MSE()" and repr(CrossEntropy()) == "CrossEntropy()"
    assert repr(Huber(0.5)) == "Huber(delta=0.5)"


# ---- accuracy and training -----------------------------------------------------------------

def test_accuracy():
    z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 1, 1, 2])
    assert CrossEntropy().accuracy(z, labels) == 0.5
    assert CrossEntropy().accuracy(z, np.eye(3)[labels]) == 0.5
    z1 = np.array([2.0, -1.0, 0.5, -3.0, 0.0])
    assert BinaryCrossEntropy().accuracy(z1, np.array([1, 0, 0, 1, 0])) == 0.6
    assert BinaryCrossEntropy().accuracy(z1[:, None], np.array([[0.9], [0.2], [0.7], [0.4], [0.1]])) == 1.0


def test_fit_with_binary_cross_entropy_learns_a_greater_b():
    x, y = make_a_greater_b(n=200, seed=0)
    model = Sequential([Dense(2, 1, rng=np.random.default_rng(0))])
    history = model.fit(x, y.reshape(-1, 1), BinaryCrossEntropy(), SGD(model.parameters(), lr=0.5), epochs=60, batch_size=20,
                        verbose=False)
    assert history["loss"][-1] < history["loss"][0] / 2
    assert model.evaluate(x, y.reshape(-1, 1), BinaryCrossEntropy())["accuracy"] >= 0.97

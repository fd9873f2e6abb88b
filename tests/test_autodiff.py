"""Tests of nblib/autodiff.py (from notebooks/25_autodiff.ipynb): the reverse-mode engine.

References are independent of the engine: central differences of the same function written in
plain NumPy (tests/reference.py), closed-form derivatives, and loops."""
import numpy as np
import pytest

from nblib.autodiff import Tensor, topological_order, unbroadcast
from reference import numeric_grad, relative_error

rng = np.random.default_rng(0)

# (name, engine version, plain NumPy version, input shapes, positive inputs?)
BINARY = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (1, 3, 1)), ((3, 1), (1, 4)), ((3, 4), ())]


def check_against_finite_differences(engine_f, numpy_f, arrays, tol=1e-7):
    """Seed backward with a random G on engine_f's output; compare each input's .grad with the central
    differences of sum(numpy_f(...) * G)."""
    tensors = [Tensor(a) for a in arrays]
    out = engine_f(*tensors)
    G = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(G)
    for t, a in zip(tensors, arrays):
        numeric = numeric_grad(lambda: float(np.sum(numpy_f(*arrays) * G)), a)
        assert t.grad.shape == a.shape
        assert relative_error(t.grad, numeric) < tol


@pytest.mark.parametrize("name,engine_f,numpy_f", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_operations_with_broadcasting(name, engine_f, numpy_f, shapes):
    arrays = [np.array(rng.uniform(0.5, 2.0, s) * rng.choice([-1, 1], s)) for s in shapes]   # 0-d arrays too
    check_against_finite_differences(engine_f, numpy_f, arrays)


UNARY = [
    ("exp", lambda a: a.exp(), np.exp),
    ("log", lambda a: a.log(), lambda a: np.log(np.abs(a))),   # inputs are positive for log
    ("tanh", lambda a: a.tanh(), np.tanh),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0)),
    ("neg", lambda a: -a, np.negative),
    ("pow3", lambda a: a ** 3, lambda a: a ** 3),
    ("pow-0.5", lambda a: a ** -0.5, lambda a: np.abs(a) ** -0.5),
    ("rsub", lambda a: 2.0 - a, lambda a: 2.0 - a),
    ("rdiv", lambda a: 3.0 / a, lambda a: 3.0 / a),
    ("radd-rmul", lambda a: 1.0 + 2.0 * a, lambda a: 1.0 + 2.0 * a),
    ("sum", lambda a: a.sum(), np.sum),
    ("sum0", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0)),
    ("sum-1keep", lambda a: a.sum(axis=-1, keepdims=True), lambda a: a.sum(axis=-1, keepdims=True)),
    ("sum02", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(axis=(0, 2))),
    ("mean", lambda a: a.mean(), np.mean),
    ("mean1", lambda a: a.mean(axis=1), lambda a: a.mean(axis=1)),
    ("mean1keep", lambda a: a.mean(axis=1, keepdims=True), lambda a: a.mean(axis=1, keepdims=True)),
    ("reshape", lambda a: a.reshape(4, -1) * np.arange(6.0), lambda a: a.reshape(4, -1) * np.arange(6.0)),
    ("T", lambda a: a.T * np.arange(2.0), lambda a: a.T * np.arange(2.0)),
]


@pytest.mark.parametrize("name,engine_f,numpy_f", UNARY, ids=[u[0] for u in UNARY])
def test_unary_operations(name, engine_f, numpy_f):
    positive = name in ("log", "pow-0.5")
    a = rng.uniform(0.3, 2.0, (2, 3, 4)) * (1 if positive else rng.choice([-1, 1], (2, 3, 4)))
    check_against_finite_differences(engine_f, numpy_f, [a])


def test_matmul_closed_form():
    A, B, G = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    A_t, B_t = Tensor(A), Tensor(B)
    (A_t @ B_t).backward(G)
    dA = np.array([[sum(G[i, j] * B[k, j] for j in range(5)) for k in range(3)] for i in range(4)])
    dB = np.array([[sum(A[i, k] * G[i, j] for i in range(4)) for j in range(5)] for k in range(3)])
    np.testing.assert_allclose(A_t.grad, dA, rtol=1e-12)
    np.testing.assert_allclose(B_t.grad, dB, rtol=1e-12)


def test_a_value_used_twice_sums_its_paths():
    x = Tensor(3.0)
    (x * x + x).backward()                      # d/dx (x^2 + x) = 2x + 1
    assert x.grad == 7.0
    x, y = Tensor(1.0), Tensor(-0.5)
    L = (x * y + x).tanh()                      # L = tanh(x (y + 1))
    L.backward()
    assert np.isclose(x.grad, 0.5 * (1 - np.tanh(0.5) ** 2), rtol=1e-14)
    assert np.isclose(y.grad, 1 - np.tanh(0.5) ** 2, rtol=1e-14)


def test_deep_composition_against_closed_form():
    x = Tensor(0.3)
    y = x
    for _ in range(20):
        y = y.tanh()
    y.backward()
    value, derivative = 0.3, 1.0
    for _ in range(20):                          # (tanh^n)' = prod of (1 - tanh^2) along the chain
        value = np.tanh(value)
        derivative *= 1 - value ** 2
    assert np.isclose(x.grad, derivative, rtol=1e-13)


def test_unbroadcast_matches_loops():
    G = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(unbroadcast(G, (2, 3, 4)), G)
    expected = np.zeros(4)
    for i in range(2):
        for j in range(3):
            expected += G[i, j]
    np.testing.assert_allclose(unbroadcast(G, (4,)), expected)
    expected = np.zeros((1, 3, 1))
    for i in range(2):
        for k in range(4):
            expected[0, :, 0] += G[i, :, k]
    np.testing.assert_allclose(unbroadcast(G, (1, 3, 1)), expected)
    np.testing.assert_allclose(unbroadcast(G, ()), G.sum())


def test_topological_order_puts_each_tensor_after_its_inputs():
    x, y = Tensor(1.0), Tensor(2.0)
    a = x * y
    b = a + x
    c = (b * a).exp()
    order = topological_order(c)
    assert order[-1] is c and len(order) == len({id(t) for t in order})
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        for parent, _ in t.parents:
            assert position[id(parent)] < position[id(t)]
    assert {id(t) for t in (x, y, a, b, c)} <= set(position)


def test_backward_starts_from_zero_each_time():
    x = Tensor(np.array([1.0, 2.0]))
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_constants_keep_the_dtype_and_integers_become_float():
    x = Tensor(np.ones(3, np.float32))
    assert (x * 2.5 + 1).data.dtype == np.float32
    assert Tensor(np.arange(3)).data.dtype == np.float64


def test_cross_entropy_from_engine_ops_matches_closed_form():
    logits, labels = rng.standard_normal((5, 4)) * 10, np.array([0, 3, 1, 1, 2])
    z = Tensor(logits)
    shifted = z - logits.max(axis=1, keepdims=True)
    log_p = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    loss = -(log_p * np.eye(4)[labels]).sum(axis=1).mean()
    loss.backward()
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - np.eye(4)[labels]) / 5          # softmax minus one-hot, over the batch size
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12, atol=1e-15)
    assert np.isclose(float(loss.data), -np.mean(np.log(p[np.arange(5), labels])), rtol=1e-12)

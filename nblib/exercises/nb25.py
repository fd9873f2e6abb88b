"""The exercises of notebook 25 (reverse-mode automatic differentiation)."""
import numpy as np

from nblib.autodiff import Tensor
from nblib.exercises import Exercise, NotAttempted
from nblib.gradcheck import numerical_gradient
from nblib.losses import BinaryCrossEntropy

NOTEBOOK = "25_autodiff"


def _result(output):
    if output is None:
        raise NotAttempted
    return output


def _grad(t):
    """t.grad, or NaNs of t's shape when backward never reached t (no rule for it in the graph)."""
    return t.grad if t.grad is not None else np.full(t.shape, np.nan)


# ---- 1. the maximum along an axis ----------------------------------------------------------------------

def max_cases(rng):
    """(data, axis, G): distinct values (no ties), all negative in one case (a max is not a relu), float32
    in one case; G, the adjoint that backward is seeded with, has the output's shape."""
    cases = []
    for shape, axis, dtype, offset in [((3, 4), 1, np.float64, 0.0), ((5, 2), 0, np.float64, 0.0),
                                       ((2, 3, 4), 2, np.float32, -100.0), ((6,), 0, np.float64, 0.0),
                                       ((2, 3, 4), 1, np.float64, 0.0)]:
        data = (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0, 0.5, shape) + offset)
        out_shape = list(shape)
        out_shape[axis] = 1
        cases.append((data.astype(dtype), axis, rng.standard_normal(out_shape).astype(dtype)))
    return cases


def max_run(answer, case):
    data, axis, G = case
    a = Tensor(data.copy())
    out = _result(answer(a, axis))
    out.backward(G)
    return out.data, _grad(a)


def max_expected(case):
    """The maximum, and G at the position of each maximum, 0 elsewhere (written as a loop over the other axes)."""
    data, axis, G = case
    grad = np.zeros_like(data)
    moved, moved_G = np.moveaxis(data, axis, -1), np.moveaxis(G, axis, -1)
    grad_view = np.moveaxis(grad, axis, -1)
    for index in np.ndindex(moved.shape[:-1]):
        grad_view[index + (int(np.argmax(moved[index])),)] = moved_G[index + (0,)]
    return data.max(axis=axis, keepdims=True), grad


def max_everywhere(a, axis):
    return Tensor(a.data.max(axis=axis, keepdims=True), ((a, lambda g: g),), "max")


def max_global_mask(a, axis):
    return Tensor(a.data.max(axis=axis, keepdims=True), ((a, lambda g: g * (a.data == a.data.max())),), "max")


# ---- 2. a power with a tensor exponent -------------------------------------------------------------------

def pow_cases(rng):
    """(a, b, G) with a > 0 and shapes that broadcast: b a row, a number, the same shape, and both
    stretched; G seeds backward with the output's shape."""
    cases = []
    for shape_a, shape_b in [((3, 4), (4,)), ((2, 3), ()), ((5,), (5,)), ((2, 1, 3), (4, 1))]:
        a, b = rng.uniform(0.5, 2.0, shape_a), rng.uniform(-2.0, 3.0, shape_b)
        cases.append((a, b, rng.standard_normal(np.broadcast_shapes(shape_a, shape_b))))
    return cases


def pow_run(answer, case):
    a_data, b_data, G = case
    a, b = Tensor(a_data.copy()), Tensor(b_data.copy())
    out = _result(answer(a, b))
    out.backward(G)
    return out.data, _grad(a), _grad(b)


def pow_expected(case):
    """a ** b, and central differences of sum(G * a ** b) for every element of a and of b."""
    a, b, G = (np.array(v, dtype=np.float64) for v in case)
    L = lambda: float(np.sum(G * a ** b))
    return a ** b, numerical_gradient(L, a), numerical_gradient(L, b)


def _pow(rule_a, rule_b):
    def answer(a, b):
        return Tensor(a.data ** b.data, ((a, lambda g: rule_a(g, a.data, b.data)),
                                         (b, lambda g: rule_b(g, a.data, b.data))), "**")
    return answer


def pow_only_a(a, b):
    return Tensor(a.data ** b.data, ((a, lambda g: g * b.data * a.data ** (b.data - 1)),), "**")


right_a = lambda g, a, b: g * b * a ** (b - 1)
right_b = lambda g, a, b: g * a ** b * np.log(a)


# ---- 3. the binary cross-entropy, composed -----------------------------------------------------------------

def bce_cases(rng):
    """(z, t): logits of +-800 (where a naive exp overflows) and moderate ones, never 0 (the kink of |z|),
    targets 0 and 1; shapes (N,) and (N, 1)."""
    cases = []
    for n, shape in [(7, (7,)), (12, (12,)), (5, (5, 1))]:
        z = rng.choice([-1.0, 1.0], n) * rng.uniform(0.1, 4.0, n)
        z[:2] = [-800.0, 800.0]
        t = rng.integers(0, 2, n).astype(np.float64)
        t[:2] = [1.0, 0.0]                                # the wrong side, with a huge margin
        cases.append((z.reshape(shape), t.reshape(shape)))
    return cases


def bce_run(answer, case):
    z, t = case
    z_t = Tensor(z.copy())
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = _result(answer(z_t, t.copy()))
        out.backward()
    return float(np.asarray(out.data)), z_t.grad


def bce_expected(case):
    """notebook 08's BinaryCrossEntropy (tested in tests/test_losses.py): value and dL/dz."""
    z, t = case
    loss = BinaryCrossEntropy()
    return loss.forward(z, t), loss.backward()


def _abs(z):
    return z.relu() + (-z).relu()


def bce_sum(z, t):
    return (z.relu() - z * t + ((-_abs(z)).exp() + 1).log()).sum()


def bce_naive(z, t):
    return (z - z * t + ((-z).exp() + 1).log()).mean()     # log(1 + e^-z) + (1 - t) z: e^800 overflows


def bce_cut(z, t):
    return (z.relu() - z * t + ((-Tensor(np.abs(z.data))).exp() + 1).log()).mean()   # |z| off the graph


# ---- 4. a Jacobian from reverse mode -------------------------------------------------------------------------

def jacobian_cases(rng):
    """(f, x0, text): functions from R^n to R^m, with m > n, m < n and m = 1."""
    A, B, C = rng.standard_normal((3, 5)), rng.standard_normal((4, 2)), rng.standard_normal((4, 4))
    functions = [(lambda v: (v @ A).tanh() * 2.0, 3, "(v A).tanh() * 2, R^3 -> R^5"),
                 (lambda v: (v * 0.5).exp() @ B + v.sum(axis=1, keepdims=True), 4, "exp(v / 2) B + sum(v), R^4 -> R^2"),
                 (lambda v: (v * v).sum(axis=1, keepdims=True), 2, "sum(v^2), R^2 -> R^1"),
                 (lambda v: (v @ C).relu() * v, 4, "relu(v C) * v, R^4 -> R^4")]
    return [(f, rng.standard_normal((1, n)), text) for f, n, text in functions]


def jacobian_run(answer, case):
    f, x0, _ = case
    return _result(answer(f, x0.copy()))


def jacobian_expected(case):
    """Central differences of each output with respect to each input: J[i, k] = d f_i / d x_k."""
    f, x0, _ = case
    x = x0.astype(np.float64).copy()
    m = f(Tensor(x)).data.size
    columns = [numerical_gradient(lambda: float(f(Tensor(x)).data.ravel()[i]), x).ravel() for i in range(m)]
    return np.array(columns)


def _jacobian(f, x, seed):
    rows = []
    m = f(Tensor(x)).shape[1]
    for i in range(m):
        x_t = Tensor(x)
        out = f(x_t)
        out.backward(seed(i, m))
        rows.append(x_t.grad[0].copy())
    return np.array(rows)


def jacobian_transposed(f, x):
    return _jacobian(f, x, lambda i, m: np.eye(m)[i:i + 1]).T


def jacobian_ones(f, x):
    return _jacobian(f, x, lambda i, m: np.ones((1, m)))


# ---- 5. the topological order without recursion ---------------------------------------------------------------

def topo_cases(rng):
    """(root, text): graphs built from the engine's Tensors. A chain of 5000 operations (deeper than Python's
    recursion limit), a value reused at every level, and a small network's loss."""
    x = Tensor(1.0)
    chain = x
    for _ in range(5000):
        chain = chain * 1.0001
    v = Tensor(rng.standard_normal(3))
    diamond = v
    for _ in range(12):                          # each level uses the level below twice
        diamond = diamond.tanh() + diamond * 0.5
    W, b, xb = Tensor(rng.standard_normal((2, 4))), Tensor(np.zeros(4)), Tensor(rng.standard_normal((5, 2)))
    net = ((xb @ W + b).relu() ** 2).mean() + (W * W).sum() * 0.01
    return [(diamond, "a value reused at each of 12 levels"), (net, "a small network's loss"),
            (chain, "a chain of 5,000 operations")]


def topo_run(answer, case):
    """What matters about an order: its length, how many different tensors it lists, whether each comes
    after all its inputs, and whether the root is last."""
    root, _ = case
    order = list(_result(answer(root)))
    position = {}
    for k, t in enumerate(order):
        position.setdefault(id(t), k)
    after_inputs = all(position.get(id(p), len(order)) < position[id(t)] for t in order for p, _ in t.parents)
    return len(order), len(position), after_inputs, bool(order) and order[-1] is root


def topo_expected(case):
    """The number of tensors the root depends on (itself included), found by a plain search over the parents."""
    root, _ = case
    seen, stack = {id(root)}, [root]
    while stack:
        for parent, _ in stack.pop().parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen), len(seen), True, True


def topo_preorder(root):
    order, seen, stack = [], set(), [root]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            order.append(t)                          # before its inputs
            stack.extend(p for p, _ in t.parents)
    return order


def topo_no_seen(root):
    order, stack = [], [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
        else:
            stack.append((t, True))
            stack.extend((p, False) for p, _ in t.parents)
    return order


EXERCISES = [
    Exercise(
        name="tensor_max",
        notebook=NOTEBOOK,
        title="A new operation: the maximum along an axis, with its local rule",
        cases=max_cases,
        run=max_run,
        expected=max_expected,
        describe=lambda case: f"(a of shape {case[0].shape} {case[0].dtype}, axis={case[1]})",
        mistakes=[
            ("every element received the adjoint: only the position of the maximum should, e.g. "
             "g * (a.data == out_values)", max_everywhere),
            ("the mask compares with the maximum of the whole tensor: compare each element with the maximum "
             "of its own slice, the kept axis broadcasts (a.data == a.data.max(axis=axis, keepdims=True))",
             max_global_mask),
        ],
        rtol=1e-6, atol=1e-12,
    ),
    Exercise(
        name="tensor_pow",
        notebook=NOTEBOOK,
        title="A new operation: a ** b with a tensor exponent, both inputs differentiated",
        cases=pow_cases,
        run=pow_run,
        expected=pow_expected,
        describe=lambda case: f"(a of shape {case[0].shape}, b of shape {case[1].shape})",
        mistakes=[
            ("the exponent's rule needs a log: a^b = e^(b log a), so d(a^b)/db = a^b log a",
             _pow(right_a, lambda g, a, b: g * a ** b)),
            ("b is the exponent, not the base: d(a^b)/db = a^b log a (the power rule k a^(k-1) is a's rule)",
             _pow(right_a, lambda g, a, b: g * b * a ** (b - 1))),
            ("b received no gradient: the exponent is an input too, so the Tensor needs a second parent, "
             "(b, its rule)", pow_only_a),
            ("the power rule lowers the exponent: d(a^b)/da = b a^(b-1)",
             _pow(lambda g, a, b: g * b * a ** b, right_b)),
        ],
        rtol=1e-6, atol=1e-8,
    ),
    Exercise(
        name="bce_t",
        notebook=NOTEBOOK,
        title="The binary cross-entropy from logits, composed from the engine's operations",
        cases=bce_cases,
        run=bce_run,
        expected=bce_expected,
        describe=lambda case: f"(z of shape {case[0].shape} with logits of +-800, t)",
        mistakes=[
            ("this is the sum over the examples: take the mean", bce_sum),
            ("the loss overflows at z = -800: e^(-z) = e^800 is inf; exp must only see -|z| <= 0",
             bce_naive),
            ("the value is right but not the gradient: |z| was computed outside the graph (.data or np.abs); "
             "build it from the engine's operations, relu(z) + relu(-z)", bce_cut),
        ],
        rtol=1e-10, atol=1e-15,
    ),
    Exercise(
        name="jacobian",
        notebook=NOTEBOOK,
        title="A Jacobian from m backward passes, one per output",
        cases=jacobian_cases,
        run=jacobian_run,
        expected=jacobian_expected,
        describe=lambda case: f"(f = {case[2]}, x of shape {case[1].shape})",
        mistakes=[
            ("transposed: row i of J is the gradient of output i, so J has shape (m, n)", jacobian_transposed),
            ("every row is the gradient of the sum of the outputs: seed pass i with the unit vector e_i of "
             "shape (1, m), a 1 at column i and 0 elsewhere, not with ones", jacobian_ones),
        ],
        rtol=1e-6, atol=1e-8,
    ),
    Exercise(
        name="topological_order_loop",
        notebook=NOTEBOOK,
        title="The topological order with a loop and a stack, for graphs deeper than Python's recursion",
        cases=topo_cases,
        run=topo_run,
        expected=topo_expected,
        describe=lambda case: f"({case[1]})",
        mistakes=[
            ("a tensor comes before its inputs: append it to the order only once all of its inputs are in "
             "(push it back, then its inputs; append it when it comes off the stack the second time)",
             topo_preorder),
            ("a tensor used several times appears several times: keep a set of the ids already visited",
             topo_no_seen),
        ],
    ),
]

"""Reference solutions to the exercises of notebook 25: try first, then compare."""
import numpy as np

from nblib.autodiff import Tensor


def tensor_max(a, axis):
    """max of tensor a along `axis` (kept, with length 1); the adjoint goes to each maximum's position."""
    y = a.data.max(axis=axis, keepdims=True)
    return Tensor(y, ((a, lambda g: g * (a.data == y)),), "max")   # G broadcasts along the kept axis


def tensor_pow(a, b):
    """a ** b for tensors a > 0 and b: da = G b a^(b-1), db = G a^b log a (the engine undoes broadcasting)."""
    y = a.data ** b.data
    return Tensor(y, ((a, lambda g: g * b.data * a.data ** (b.data - 1)),
                      (b, lambda g: g * y * np.log(a.data))), "**")


def bce_t(z, t):
    """Mean binary cross-entropy of tensor logits z with targets t: mean(max(z, 0) - z t + log(1 + e^-|z|))."""
    abs_z = z.relu() + (-z).relu()
    return (z.relu() - z * t + ((-abs_z).exp() + 1).log()).mean()


def jacobian(f, x):
    """The (m, n) Jacobian of f at x (1, n): backward pass i, seeded with e_i, gives row i."""
    m = f(Tensor(x)).shape[1]
    J = []
    for i in range(m):
        x_t = Tensor(x)
        f(x_t).backward(np.eye(m)[i:i + 1])      # e_i, of the output's shape (1, m)
        J.append(x_t.grad[0])
    return np.array(J)


def topological_order_loop(root):
    """Every tensor root depends on, each after its inputs, root last: a depth-first walk with an explicit stack."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)                      # second time off the stack: its inputs are all in
        elif id(t) not in seen:
            seen.add(id(t))
            stack.append((t, True))
            stack.extend((parent, False) for parent, _ in t.parents)
    return order

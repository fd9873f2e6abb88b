"""The exercises of notebook 01 (the dense layer)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.gradcheck import numerical_gradient
from nblib.layers import Dense
from nblib.losses import MSE


# ---- 1. the backward pass of PyTorch's layout, y = x W^T + b with W of shape (M, D) -------------

def linear_cases(rng):
    """(x, W, G) with W of shape (M, D): a square W first (where a transposed answer still runs),
    then wider and narrower layers, a batch of 1, float32 and float64."""
    cases = []
    for (n, d, m), dtype in [((4, 3, 3), np.float64), ((5, 3, 2), np.float64), ((1, 4, 6), np.float64),
                             ((6, 5, 3), np.float32), ((3, 2, 7), np.float32)]:
        cases.append(tuple(rng.standard_normal(shape).astype(dtype) for shape in [(n, d), (m, d), (n, m)]))
    return cases


def linear_expected(case):
    """Central differences of f = sum(G * (x W^T + b)) in float64, one element at a time."""
    x, W, G = (a.astype(np.float64) for a in case)
    b = np.zeros(W.shape[0])
    f = lambda: float(np.sum(G * (x @ W.T + b)))
    return numerical_gradient(f, x), numerical_gradient(f, W), numerical_gradient(f, b)


# ---- 2. one step of gradient descent on the mean squared error ----------------------------------

def step_cases(rng):
    """(W, b, x, t, lr): several layer shapes (at least two outputs, so that S = N * M differs from N),
    a batch of 1, float32 and float64."""
    cases = []
    for (n, d, m), dtype, lr in [((5, 2, 2), np.float64, 0.1), ((8, 3, 4), np.float64, 0.05),
                                 ((1, 3, 2), np.float64, 0.5), ((20, 2, 2), np.float32, 0.1),
                                 ((6, 4, 3), np.float32, 0.01)]:
        W, b = rng.standard_normal((d, m)), rng.standard_normal(m)
        x, t = rng.standard_normal((n, d)), rng.standard_normal((n, m))
        cases.append(tuple(a.astype(dtype) for a in (W, b, x, t)) + (lr,))
    return cases


def step_run(answer, case):
    """The reader's step on copies (an answer that updates in place must not change the case)."""
    W, b, x, t, lr = case
    return answer(W.copy(), b.copy(), x.copy(), t.copy(), lr)


def step_expected(case):
    """The notebook's own Dense and MSE (tested on their own), then p <- p - lr * grad."""
    W, b, x, t, lr = case
    layer = Dense(*W.shape).astype(W.dtype)
    layer.params["W"][...], layer.params["b"][...] = W, b
    loss = MSE()
    loss.forward(layer.forward(x), t)
    layer.backward(loss.backward())
    return W - lr * layer.grads["W"], b - lr * layer.grads["b"]


def step_with(grad_p):
    """A step of y = x W + b whose gradient of the loss with respect to the prediction is grad_p(p, t)."""
    def step(W, b, x, t, lr):
        G = grad_p(x @ W + b, t)
        return W - lr * x.T @ G, b - lr * G.sum(axis=0)
    return step


def step_uphill(W, b, x, t, lr):
    G = 2 * (x @ W + b - t) / t.size
    return W + lr * x.T @ G, b + lr * G.sum(axis=0)


EXERCISES = [
    Exercise(
        name="linear_backward",
        notebook="01_dense_layer",
        title="The backward pass of y = x W^T + b, PyTorch's layout with W of shape (out, in)",
        cases=linear_cases,
        expected=linear_expected,
        mistakes=[
            ("W is stored as (out_features, in_features) here, so dL/dW = G^T x, of shape (M, D); "
             "x^T G is Dense's layout",
             lambda x, W, G: (G @ W, x.T @ G, G.sum(axis=0))),
            ("y = x W^T, so dL/dx = G W, of shape (N, M)(M, D); G W^T is Dense's formula",
             lambda x, W, G: (G @ W.T, G.T @ x, G.sum(axis=0))),
            ("b is added to every row of the batch: dL/db sums G over the batch (axis 0), not its mean",
             lambda x, W, G: (G @ W, G.T @ x, G.mean(axis=0))),
        ],
        rtol=1e-5, atol=1e-6,
    ),
    Exercise(
        name="mse_step",
        notebook="01_dense_layer",
        title="One step of gradient descent for a dense layer on the mean squared error",
        cases=step_cases,
        expected=step_expected,
        run=step_run,
        mistakes=[
            ("the mean squared error averages over all S = N * M elements, so dL/dp = 2 (p - t) / S, "
             "not / N (the number of rows)",
             step_with(lambda p, t: 2 * (p - t) / len(p))),
            ("the derivative of (p - t)^2 is 2 (p - t): the factor 2 is missing",
             step_with(lambda p, t: (p - t) / p.size)),
            ("a step goes down the gradient, theta - lr * dL/dtheta: this one climbs",
             step_uphill),
        ],
        rtol=1e-5, atol=1e-6,
    ),
]

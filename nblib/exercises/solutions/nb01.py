"""Reference solutions to the exercises of notebook 01: try first, then compare."""


def linear_backward(x, W, grad_y):
    """y = x W^T + b with W of shape (M, D): dL/dx = G W, dL/dW = G^T x, dL/db = sum_n G_n."""
    return grad_y @ W, grad_y.T @ x, grad_y.sum(axis=0)


def mse_step(W, b, x, t, lr):
    """One gradient-descent step of y = x W + b on MSE: G = 2 (p - t) / S, then W - lr x^T G, b - lr sum_n G_n."""
    p = x @ W + b
    G = 2 * (p - t) / p.size
    return W - lr * (x.T @ G), b - lr * G.sum(axis=0)

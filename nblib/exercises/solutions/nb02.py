"""Reference solutions to the exercises of notebook 02: try first, then compare."""


def fold_dense_stack(layers):
    """One dense layer (W, b) for the stack [(W_1, b_1), ...]: W <- W W_k and b <- b W_k + b_k, layer by layer."""
    W, b = layers[0]
    for W_k, b_k in layers[1:]:
        W, b = W @ W_k, b @ W_k + b_k
    return W, b


def two_layer_backward(x, W1, W2, grad_y):
    """y = h W2 with h = x W1: dL/dW2 = h^T G, dL/dh = G W2^T, dL/dW1 = x^T dL/dh."""
    h = x @ W1
    grad_h = grad_y @ W2.T
    return x.T @ grad_h, h.T @ grad_y

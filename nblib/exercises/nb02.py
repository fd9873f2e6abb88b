"""The exercises of notebook 02 (the identity activation; stacked linear layers)."""
import numpy as np

from nblib.activations import Identity
from nblib.exercises import Exercise
from nblib.layers import Dense
from nblib.model import Sequential


def random_stack(rng, widths):
    """[(W_1, b_1), ..., (W_K, b_K)] of dense layers with the given widths, non-zero biases."""
    return [(rng.standard_normal((d, m)), rng.standard_normal(m)) for d, m in zip(widths, widths[1:])]


# ---- 1. fold a stack of dense layers into one --------------------------------------------------

def fold_cases(rng):
    """Stacks of one to four layers; equal widths first (where a wrong order or a plain sum of the
    biases still has the right shape), then different widths."""
    return [(random_stack(rng, widths),) for widths in
            [(3, 3, 3, 3), (2, 2, 2), (2, 16, 16, 2), (4, 3), (3, 5, 2, 6, 2)]]


def fold_expected(case):
    """Run the stack itself: on a row of zeros it outputs the folded b, on the identity matrix W + b."""
    (layers,) = case
    def stack(x):
        for W, b in layers:
            x = x @ W + b
        return x
    D = layers[0][0].shape[0]
    b = stack(np.zeros((1, D)))[0]
    return stack(np.eye(D)) - b, b


def fold_reversed(layers):
    W, b = layers[0]
    for W_k, b_k in layers[1:]:
        W, b = W_k @ W, b @ W_k + b_k
    return W, b


def fold_sum_of_biases(layers):
    W = layers[0][0]
    for W_k, _ in layers[1:]:
        W = W @ W_k
    return W, sum(b_k for _, b_k in layers)


def fold_first_and_last_bias(layers):
    W, b = layers[0]
    for W_k, _ in layers[1:]:
        W, b = W @ W_k, b @ W_k
    return W, b + layers[-1][1] * (len(layers) > 1)


# ---- 2. the weight gradients of Dense -> Identity -> Dense --------------------------------------

def two_layer_cases(rng):
    """(x, W1, W2, G) for y = (x W1) W2: square layers first (where a missing transpose still runs),
    then different widths and a batch of 1."""
    cases = []
    for n, d, h, m in [(5, 3, 3, 3), (4, 2, 5, 3), (1, 3, 4, 2), (8, 6, 2, 4)]:
        cases.append(tuple(rng.standard_normal(s) for s in [(n, d), (d, h), (h, m), (n, m)]))
    return cases


def two_layer_expected(case):
    """The notebook's Dense and Identity layers (tested on their own), biases zero, in float64."""
    x, W1, W2, G = case
    model = Sequential([Dense(*W1.shape), Identity(), Dense(*W2.shape)]).astype(np.float64)
    model.layers[0].params["W"][...], model.layers[2].params["W"][...] = W1, W2
    model.forward(x)
    model.backward(G)
    return model.layers[0].grads["W"].copy(), model.layers[2].grads["W"].copy()


EXERCISES = [
    Exercise(
        name="fold_dense_stack",
        notebook="02_linear",
        title="Fold a stack of dense layers joined by the identity into one dense layer",
        cases=fold_cases,
        expected=fold_expected,
        mistakes=[
            ("x meets W_1 first: x W_1 W_2 ... W_K, so the product is W_1 W_2 ... W_K, left to right",
             fold_reversed),
            ("each bias goes through every later layer's weights: b = b_1 W_2 W_3 + b_2 W_3 + b_3 for "
             "three layers, not the plain sum of the biases",
             fold_sum_of_biases),
            ("every layer's bias counts, the middle ones too: add b_k after multiplying by W_k, layer by layer",
             fold_first_and_last_bias),
        ],
        rtol=1e-9, atol=1e-9,
    ),
    Exercise(
        name="two_layer_backward",
        notebook="02_linear",
        title="The weight gradients of a two-layer linear network y = (x W1) W2",
        cases=two_layer_cases,
        expected=two_layer_expected,
        mistakes=[
            ("the gradient that reaches the hidden layer is G W2^T (Dense's dL/dx): W2 transposed",
             lambda x, W1, W2, G: (x.T @ (G @ W2), (x @ W1).T @ G)),
            ("W2's input is the hidden layer h = x W1, not x: dL/dW2 = h^T G",
             lambda x, W1, W2, G: (x.T @ (G @ W2.T), x.T @ G)),
            ("W1 reaches the loss through W2: its gradient is x^T (G W2^T), not x^T G",
             lambda x, W1, W2, G: (x.T @ G, (x @ W1).T @ G)),
        ],
        rtol=1e-9, atol=1e-9,
    ),
]

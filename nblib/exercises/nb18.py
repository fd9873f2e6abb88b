"""The exercises of notebook 18 (convolution)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.layers import Conv2D

# ---- 1. conv_weight_grad ------------------------------------------------------------------------


def weight_grad_cases(rng):
    """(x, grad_y, k, stride, padding): channels in and out, square and not, padding, strides whose floor
    leaves pixels out, a batch of 1, a 1x1 kernel; float64 and float32."""
    cases = []
    for (N, C, H, W), O, k, s, p, dtype in [((2, 3, 6, 5), 4, 3, 1, 1, np.float64),
                                            ((3, 2, 7, 7), 3, 3, 2, 0, np.float64),
                                            ((2, 1, 8, 6), 2, 2, 3, 1, np.float32),
                                            ((1, 3, 5, 5), 2, 1, 1, 0, np.float64),
                                            ((4, 2, 9, 8), 5, 5, 2, 2, np.float32)]:
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        cases.append((rng.standard_normal((N, C, H, W)).astype(dtype), rng.standard_normal((N, O, Ho, Wo)).astype(dtype),
                      k, s, p))
    return cases


def weight_grad_expected(case):
    """A plain loop over every output and every tap: dW[o, c, u, v] += G[n, o, i, j] * x_pad[n, c, s i + u, s j + v]."""
    x, G, k, s, p = case
    x_pad = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    N, O, Ho, Wo = G.shape
    dW = np.zeros((O, x.shape[1], k, k))
    for i in range(Ho):
        for j in range(Wo):
            for u in range(k):
                for v in range(k):
                    dW[:, :, u, v] += G[:, :, i, j].T.astype(np.float64) @ x_pad[:, :, s * i + u, s * j + v]
    return dW.astype(x.dtype), G.astype(np.float64).sum(axis=(0, 2, 3)).astype(x.dtype)


def _weight_grad(stride_used=True, per_image_bias=False, mean=False, channels_swapped=False, upcast=False):
    def answer(x, G, k, s, p):
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        N, O, Ho, Wo = G.shape
        step = s if stride_used else 1
        windows = np.stack([np.stack([x_pad[:, :, step * i:step * i + k, step * j:step * j + k] for j in range(Wo)], -1)
                            for i in range(Ho)], -2)                    # (N, C, k, k, Ho, Wo)
        dW = np.einsum("ncuvij,noij->" + ("couv" if channels_swapped else "ocuv"), windows, G)
        db = G.sum(axis=(2, 3)) if per_image_bias else G.sum(axis=(0, 2, 3))
        if upcast:                                                      # accumulated in np.zeros' float64
            dW, db = dW.astype(np.float64), db.astype(np.float64)
        return (dW / N, db / N) if mean else (dW, db)
    return answer


# ---- 2. pointwise_conv --------------------------------------------------------------------------

def pointwise_cases(rng):
    """(x, W, b) of a 1x1 convolution: the first with as many channels out as in."""
    cases = []
    for (N, C, H, W), O, dtype in [((2, 3, 4, 5), 3, np.float64), ((3, 4, 5, 2), 6, np.float32),
                                   ((1, 2, 1, 1), 5, np.float64), ((4, 8, 3, 3), 2, np.float32)]:
        cases.append((rng.standard_normal((N, C, H, W)).astype(dtype),
                      rng.standard_normal((O, C, 1, 1)).astype(dtype), rng.standard_normal(O).astype(dtype)))
    return cases


def pointwise_expected(case):
    """nblib's Conv2D with kernel_size=1 (tested against a loop in tests/test_conv.py), weights copied in."""
    x, W, b = case
    layer = Conv2D(W.shape[1], W.shape[0], 1).astype(x.dtype)
    layer.params["W"][...], layer.params["b"][...] = W, b
    return layer.forward(x)


def _pointwise(transposed=False, reshaped_back=False, bias=True):
    def answer(x, W, b):
        N, C, H, Wd = x.shape
        O = W.shape[0]
        pixels = x.transpose(0, 2, 3, 1).reshape(-1, C)              # one row per pixel (n, h, w)
        W_mat = W.reshape(O, C)
        y = pixels @ (W_mat if transposed else W_mat.T) + (b if bias else 0)
        return y.reshape(N, O, H, Wd) if reshaped_back else y.reshape(N, H, Wd, O).transpose(0, 3, 1, 2)
    return answer


# ---- 3. left_edge_kernel (a judged value) ------------------------------------------------------

def _response(image, kernel):
    """ReLU of the padded cross-correlation of one image with a 3x3 kernel."""
    padded = np.pad(image, 1)
    out = sum(kernel[u, v] * padded[u:u + image.shape[0], v:v + image.shape[1]] for u in range(3) for v in range(3))
    return np.maximum(out, 0)


NO_LEFT = "it gives nothing on the left edge of a stroke (dark on its left, bright on its right): if it fires on right edges, flip its sign"
FLAT = ("on a flat region every output is the brightness times the sum of the weights: make them add up to 0 "
        "(or less, which the ReLU then cuts to 0)")
RIGHT = "it also fires on the right edges of strokes: after the ReLU only one sign may survive, so the left and right columns need opposite signs"
ACROSS = "it also fires on the top or bottom edge of a horizontal stroke: make the kernel blind to changes from row to row"


def left_edge_judge(kernel):
    try:
        kernel = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        return f"a 3x3 array of numbers, please (got {kernel!r})"
    if kernel.shape != (3, 3):
        return f"a 3x3 kernel, please (got shape {kernel.shape})"
    upright = np.zeros((20, 20))
    upright[3:17, 8:11] = 1.0                    # a vertical stroke 3 pixels wide: left edge between columns 7 and 8
    lying = upright.T.copy()                     # a horizontal one: top edge between rows 7 and 8
    r_up, r_lying = _response(upright, kernel), _response(lying, kernel)
    if r_up[6:14, 7:9].max() < 0.5:
        return NO_LEFT
    if _response(np.ones((8, 8)), kernel)[1:-1, 1:-1].max() > 1e-6:
        return FLAT
    if r_up[6:14, 10:12].max() > 1e-6:
        return RIGHT
    if r_lying[6:12, 6:14].max() > 1e-6 or r_up[:3, 9].max() + r_up[15:, 9].max() > 1e-6:   # column 9: the middle
        return ACROSS
    return None


SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)

EXERCISES = [
    Exercise(
        name="conv_weight_grad",
        notebook="18_convolution",
        title="A convolution's dL/dW and dL/db, with batch, channels, stride and padding",
        cases=weight_grad_cases, expected=weight_grad_expected,
        describe=lambda c: f"(x {c[0].shape} {c[0].dtype}, grad_y {c[1].shape}, k={c[2]}, stride={c[3]}, padding={c[4]})",
        mistakes=[
            ("window (i, j) starts at pixel (s i, s j) of the padded input: the stride is missing",
             _weight_grad(stride_used=False)),
            ("dL/db sums G over the batch as well as the positions: axes (0, 2, 3), one number per output channel",
             _weight_grad(per_image_bias=True)),
            ("sum over the batch, do not average: the loss's 1/N is already inside grad_y",
             _weight_grad(mean=True)),
            ("dL/dW has W's shape (O, C, k, k): output channels first",
             _weight_grad(channels_swapped=True)),
            ("keep the input's dtype: float32 in, float32 out (np.zeros(shape) is float64; pass dtype=x.dtype)",
             _weight_grad(upcast=True)),
        ],
        rtol=1e-4, atol=1e-4, check_dtype=True,
    ),
    Exercise(
        name="pointwise_conv",
        notebook="18_convolution",
        title="A 1x1 convolution as one Dense product at every pixel",
        cases=pointwise_cases, expected=pointwise_expected,
        mistakes=[
            ("W transposed: a pixel's C values times W_mat.T (C, O) give its O outputs, W_mat = W.reshape(O, C)",
             _pointwise(transposed=True)),
            ("the product's rows are pixels (n, h, w) and its columns channels: reshape to (N, H, W, O), then "
             "transpose to (N, O, H, W); a reshape alone scrambles them",
             _pointwise(reshaped_back=True)),
            ("the bias is missing: every output channel o adds b[o]",
             _pointwise(bias=False)),
        ],
        rtol=1e-5, atol=1e-5, check_dtype=True,
    ),
    Exercise(
        name="left_edge_kernel",
        notebook="18_convolution",
        title="A 3x3 kernel that, after a ReLU, fires on the left edges of strokes only",
        judge=left_edge_judge,
        mistakes=[
            (NO_LEFT, SOBEL_X),
            (FLAT, np.full((3, 3), 1 / 9)),
            (RIGHT, np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float)),
            (ACROSS, -SOBEL_X + SOBEL_X.T),
        ],
    ),
]

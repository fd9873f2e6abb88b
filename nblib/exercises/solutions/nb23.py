"""Reference solutions to the exercises of notebook 23: try first, then compare."""
import numpy as np


def receptive_field(layers):
    """1 + sum over the layers of (k - 1) times the product of the strides before it."""
    size, jump = 1, 1            # jump: how many input pixels one step of the current layer's input spans
    for k, s in layers:
        size += (k - 1) * jump
        jump *= s
    return size


def shift_batch(images, dy, dx):
    """out[i, r, c] = images[i, r - dy[i], c - dx[i]] inside the image, 0 (black) elsewhere: one gather."""
    n, H, W = images.shape
    rows = np.arange(H) - np.asarray(dy)[:, None]              # (n, H): the source row of each output row
    cols = np.arange(W) - np.asarray(dx)[:, None]              # (n, W)
    inside = ((rows >= 0) & (rows < H))[:, :, None] & ((cols >= 0) & (cols < W))[:, None, :]
    picked = images[np.arange(n)[:, None, None], rows.clip(0, H - 1)[:, :, None], cols.clip(0, W - 1)[:, None, :]]
    return np.where(inside, picked, 0).astype(images.dtype)


# Conv(1 -> 16): 16 * 9 + 16 = 160; Conv(16 -> 32): 32 * 16 * 9 + 32 = 4,640; Dense(1568 -> 10): 15,690.
parameters_without_hidden_layer = 160 + 4_640 + 1568 * 10 + 10

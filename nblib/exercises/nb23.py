"""The exercises of notebook 23 (MNIST with a convolutional network)."""
import numpy as np

from nblib.exercises import Exercise

# ---- 1. the receptive field of a stack of layers ---------------------------------------------------------


def receptive_field_cases(rng):
    """The notebook's CNN (after its second convolution, and whole), one layer, a stride-1 stack, and
    random stacks of kernels 1-5 and strides 1-3."""
    cases = [([(3, 1), (2, 2), (3, 1)],), ([(3, 1), (2, 2), (3, 1), (2, 2)],), ([(5, 2)],),
             ([(3, 1), (3, 1), (3, 1)],)]
    for depth in [2, 3, 4, 5, 6]:
        cases.append(([(int(rng.integers(1, 6)), int(rng.integers(1, 4))) for _ in range(depth)],))
    return cases


def receptive_field_expected(case):
    """Walk back from one output pixel: the input rows [first, last] that a window of rows [a, b] of a
    layer with kernel k and stride s reads are [a*s, b*s + k - 1]."""
    layers, = case
    first = last = 0
    for k, s in reversed(layers):
        first, last = first * s, last * s + k - 1
    return last - first + 1


def _field(layers, own_stride=False, use_strides=True):
    size, jump = 1, 1
    for k, s in layers:
        if own_stride:
            jump *= s
        size += (k - 1) * (jump if use_strides else 1)
        if not own_stride:
            jump *= s
    return size


# ---- 2. shifting every image of a batch by its own amount -------------------------------------------------


def shift_cases(rng):
    """uint8 batches with a shift per image between -3 and 3 (zeros included), a batch of one, and
    shifts as large as the image allows."""
    cases = []
    for n, H, W, most in [(6, 28, 28, 3), (4, 5, 7, 3), (1, 28, 28, 3), (5, 4, 4, 3), (8, 6, 5, 4)]:
        images = rng.integers(1, 256, (n, H, W)).astype(np.uint8)   # no black pixel: a wrong fill shows
        dy, dx = rng.integers(-most, most + 1, n), rng.integers(-most, most + 1, n)
        if n > 1:
            dy[0] = dx[0] = 0                                         # an image that does not move
        cases.append((images, dy, dx))
    return cases


def shift_expected(case):
    """Pixel by pixel: out[i, r, c] = images[i, r - dy[i], c - dx[i]] where that is inside the image, else 0."""
    images, dy, dx = case
    n, H, W = images.shape
    out = np.zeros_like(images)
    for i in range(n):
        for r in range(H):
            for c in range(W):
                if 0 <= r - dy[i] < H and 0 <= c - dx[i] < W:
                    out[i, r, c] = images[i, r - dy[i], c - dx[i]]
    return out


def _rolled(images, dy, dx):
    return np.stack([np.roll(image, (a, b), axis=(0, 1)) for image, a, b in zip(images, dy, dx)])


def _gather(images, dy, dx):
    """The right answer's gather, reused by the mistakes with the wrong shifts."""
    n, H, W = images.shape
    rows = np.arange(H)[None, :] - np.asarray(dy)[:, None]
    cols = np.arange(W)[None, :] - np.asarray(dx)[:, None]
    inside = ((rows >= 0) & (rows < H))[:, :, None] & ((cols >= 0) & (cols < W))[:, None, :]
    picked = images[np.arange(n)[:, None, None], np.clip(rows, 0, H - 1)[:, :, None], np.clip(cols, 0, W - 1)[:, None, :]]
    return np.where(inside, picked, 0).astype(images.dtype)


# ---- 3. the parameters left without the hidden dense layer ------------------------------------------------


def parameters_judge(count):
    """The CNN with Flatten feeding Dense(1568, 10): 160 + 4,640 + 1568 * 10 + 10 parameters."""
    conv = 16 * 1 * 9 + 16 + 32 * 16 * 9 + 32
    right = conv + 1568 * 10 + 10
    if not isinstance(count, (int, np.integer)):
        return f"give the count as an integer, not {type(count).__name__}"
    if count == right:
        return None
    if count == right - 16 - 32 - 10:
        return "the biases count too: one per output channel of each convolution, one per output of Dense"
    if count == 1568 * 10 + 10:
        return "the two convolutions keep their parameters (160 and 4,640): only Dense(1568, 128) and its ReLU go"
    if count == conv + 1568 * 128 + 128 + 1290 - (1568 * 128 + 128):
        return "Flatten now feeds Dense(1568, 10): 1568 inputs, not 128, for the ten outputs"
    return "count each layer's weights and biases: a convolution has C_out * C_in * 3 * 3 + C_out, a Dense in * out + out"


EXERCISES = [
    Exercise(
        name="receptive_field",
        notebook="23_mnist_cnn",
        title="The receptive field of a stack of convolutions and poolings",
        cases=receptive_field_cases,
        expected=receptive_field_expected,
        describe=lambda case: f"(layers {case[0]})",
        mistakes=[
            ("each layer's kernel reaches k - 1 more pixels of ITS input, and one step of its input is "
             "the product of the strides of the layers before it: the strides are missing",
             lambda layers: _field(layers, use_strides=False)),
            ("a layer's own stride does not widen its own window: multiply k - 1 by the strides of the "
             "layers BEFORE it only", lambda layers: _field(layers, own_stride=True)),
            ("the windows overlap: a stack of k x k kernels sees 1 + sum of (k - 1) pixels (times the "
             "strides before), not the sum of the k", lambda layers: sum(k for k, s in layers)),
        ],
        rtol=0, atol=0,
    ),
    Exercise(
        name="shift_batch",
        notebook="23_mnist_cnn",
        title="Move every image of a batch by its own number of pixels, black fill",
        cases=shift_cases,
        expected=shift_expected,
        describe=lambda case: f"(images {case[0].shape} {case[0].dtype}, dy {case[1].tolist()}, dx {case[2].tolist()})",
        mistakes=[
            ("the pixels pushed out on one side must not come back on the other (np.roll wraps them "
             "around): the uncovered rows and columns are black, 0", _rolled),
            ("positive dy moves the digit DOWN and positive dx to the RIGHT: out[i, r, c] = "
             "images[i, r - dy[i], c - dx[i]]", lambda images, dy, dx: _gather(images, -dy, -dx)),
            ("dy moves along the rows (axis 1) and dx along the columns (axis 2): they are swapped",
             lambda images, dy, dx: _gather(images, dx, dy)),
            ("each image has its own shift: dy[i] and dx[i] for image i, not dy[0] and dx[0] for all",
             lambda images, dy, dx: _gather(images, np.full_like(dy, dy[0]), np.full_like(dx, dx[0]))),
        ],
        rtol=0, atol=0, check_dtype=True,
    ),
    Exercise(
        name="parameters_without_hidden_layer",
        notebook="23_mnist_cnn",
        title="How many parameters are left without Dense(1568, 128)",
        judge=parameters_judge,
        mistakes=[
            ("the biases count too", 16 * 9 + 32 * 16 * 9 + 1568 * 10),
            ("the two convolutions keep their parameters", 1568 * 10 + 10),
            ("Flatten now feeds Dense(1568, 10)", 206_922 - 200_832),
            ("give the count as an integer", 20490.0),
        ],
    ),
]

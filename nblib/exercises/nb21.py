"""The exercises of notebook 21 (making it fast)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.fast import flat_grid

# ---- 1. an address in the flat layout -------------------------------------------------------------


def flat_index_cases(rng):
    """Batches (N, 1, H, W) with their kernel size and padding: the grids of section 4, a one-image
    batch, a rectangular kernel with padding along one axis only, and a wide one."""
    return [((3, 1, 4, 5), (3, 3), (1, 1)), ((2, 1, 3, 6), (1, 3), (2, 0)), ((1, 1, 5, 4), (3, 3), (1, 1)),
            ((2, 1, 6, 7), (5, 5), (2, 2)), ((3, 1, 2, 3), (2, 4), (1, 3))]


class _Grid(dict):
    """flat_grid's dict, as the reader gets it; the typical mistakes below also read the image size."""


def flat_index_run(answer, case):
    """The reader's position of every pixel (n, i, j) of the batch, in order."""
    shape, kernel_size, padding = case
    grid = _Grid(flat_grid(shape, kernel_size, padding))
    N, _, H, W = shape
    grid.H, grid.W = H, W
    positions = [answer(n, i, j, grid) for n, i, j in np.ndindex(N, H, W)]
    return None if any(p is None for p in positions) else np.array(positions)


def flat_index_expected(case):
    """Where FastConv2D's forward pass (section 4) puts each pixel: write distinct values into X
    exactly as it does, then look each value up."""
    shape, kernel_size, padding = case
    grid = flat_grid(shape, kernel_size, padding)
    N, _, H, W = shape
    Hg, Wg, before = grid["Hg"], grid["Wg"], grid["before"]
    x = np.arange(1, N * H * W + 1, dtype=np.float64).reshape(shape)      # pixel (n, i, j) holds its number
    X = np.zeros((1, grid["length"]))
    X[:, before:before + N * Hg * Wg].reshape(1, N, Hg, Wg)[:, :, :H, :W] = x.transpose(1, 0, 2, 3)
    where = {int(value): position for position, value in enumerate(X[0]) if value}
    return np.array([where[v] for v in range(1, N * H * W + 1)])


def flat_index_mistake(formula):
    return lambda n, i, j, grid: formula(n, i, j, grid["before"], grid["Hg"], grid["Wg"], grid)


# ---- 2. max pooling by a reshape ------------------------------------------------------------------


def max_pool_cases(rng):
    """Even-sized maps in float32 and float64, a batch of one, and small integers full of ties."""
    cases = []
    for shape, dtype in [((3, 2, 6, 8), np.float32), ((1, 1, 2, 2), np.float32), ((2, 3, 4, 10), np.float64),
                         ((4, 16, 28, 28), np.float32), ((1, 2, 8, 6), np.float64)]:
        cases.append((rng.standard_normal(shape).astype(dtype),))
    cases.append((rng.integers(-2, 3, (2, 2, 6, 6)).astype(np.float32),))
    return cases


def max_pool_expected(case):
    """The largest of a window's four positions, each position one strided slice (notebook 19's idea)."""
    x, = case
    return np.maximum(np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
                      np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]))


def _blocks(x):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2)


# ---- 3. average pooling and ReLU --------------------------------------------------------------------


def counterexample_judge(x_counter):
    """None when average pooling and ReLU give different results in the two orders on this window."""
    x = np.asarray(x_counter, dtype=np.float64)
    if x.shape != (1, 1, 2, 2):
        return f"x_counter should have the shape (1, 1, 2, 2), one 2 x 2 window; got {x.shape}"
    pool_then_relu = max(x.mean(), 0.0)
    relu_then_pool = np.maximum(x, 0.0).mean()
    if np.isclose(pool_then_relu, relu_then_pool, rtol=0, atol=1e-12):
        return (f"both orders give {pool_then_relu:g} on this window: when all its values have the same sign "
                "(or zero), ReLU changes all of them or none. Mix positive and negative values")
    return None


EXERCISES = [
    Exercise(
        name="flat_index",
        notebook="21_making_it_fast",
        title="The position of pixel (i, j) of image n in the flat padded layout",
        cases=flat_index_cases,
        run=flat_index_run,
        expected=flat_index_expected,
        describe=lambda case: f"(a batch {case[0]}, kernel {case[1]}, padding {case[2]})",
        mistakes=[
            ("the margin `before` is missing: the first cell starts after grid['before'] zeros",
             flat_index_mistake(lambda n, i, j, before, Hg, Wg, g: n * Hg * Wg + i * Wg + j)),
            ("a row of the grid is Wg long (the image's W pixels and its zero columns), not W",
             lambda n, i, j, grid: grid["before"] + n * grid["Hg"] * grid["Wg"] + i * grid.W + j),
            ("each image's cell has Hg * Wg positions (its zero rows and columns too), not H * W",
             lambda n, i, j, grid: grid["before"] + n * grid.H * grid.W + i * grid["Wg"] + j),
            ("i counts rows, each Wg positions long, and j columns, one position each: i and j are swapped",
             flat_index_mistake(lambda n, i, j, before, Hg, Wg, g: before + n * Hg * Wg + j * Hg + i)),
        ],
        rtol=0, atol=0,
    ),
    Exercise(
        name="max_pool_2x2",
        notebook="21_making_it_fast",
        title="2 x 2 max pooling by one reshape and one max",
        cases=max_pool_cases,
        expected=max_pool_expected,
        mistakes=[
            ("wrong windows: reshape to (N, C, H // 2, 2, W // 2, 2), so that the index inside a window "
             "comes right after the index of its block of rows (or columns)",
             lambda x: x.reshape(x.shape[0], x.shape[1], 2, x.shape[2] // 2, 2, x.shape[3] // 2).max(axis=(2, 4))),
            ("wrong windows: a reshape keeps the numbers in memory order, so (H // 2, W // 2, 2, 2) puts four "
             "consecutive numbers of a row, not a 2 x 2 window, on the last two axes: use (N, C, H // 2, 2, W // 2, 2)",
             lambda x: x.reshape(x.shape[0], x.shape[1], x.shape[2] // 2, x.shape[3] // 2, 2, 2).max(axis=(4, 5))),
            ("the max runs over the axes that index a position inside the window (3 and 5 of "
             "(N, C, H // 2, 2, W // 2, 2)), not over the blocks (2 and 4)",
             lambda x: _blocks(x).max(axis=(2, 4))),
            ("keep the input's dtype: float32 in, float32 out (float64 moves twice the bytes)",
             lambda x: _blocks(x).max(axis=(3, 5)).astype(np.float64)),
        ],
        rtol=0, atol=0, check_dtype=True,
    ),
    Exercise(
        name="x_counter",
        notebook="21_making_it_fast",
        title="A window on which average pooling and ReLU do not commute",
        judge=counterexample_judge,
        mistakes=[
            ("Mix positive and negative values", np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)),
            ("Mix positive and negative values", np.array([[[[-1.0, -2.0], [0.0, -4.0]]]], np.float32)),
            ("should have the shape (1, 1, 2, 2)", np.array([[1.0, -1.0], [2.0, -3.0]], np.float32)),
        ],
    ),
]


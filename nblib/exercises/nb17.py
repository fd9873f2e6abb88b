"""The exercises of notebook 17 (initialisation and activation statistics)."""
import numpy as np

from nblib.exercises import Exercise
from nblib.activations import ReLU, Tanh
from nblib.layers import Dense
from nblib.model import Sequential

# ---- 1. kaiming_normal_ -------------------------------------------------------------------------

ONE_SIGMA = 0.6826894921370859   # P(|z| < 1) for a standard normal z: erf(1 / sqrt(2))


def kaiming_cases(rng):
    """Weights of shape (fan_in, fan_out), tall, wide and square, in float32 and float64, with a seed for
    the reader's generator; each has 20,000 numbers or more, so a sample std is within 1% of the true one."""
    return [((800, 50), np.float32, 0), ((50, 800), np.float32, 1), ((300, 300), np.float64, 2),
            ((1000, 20), np.float64, 3)]


def kaiming_run(answer, case):
    """Fill a zero W, then measure: (returned W itself?, dtype kept?, std / He's std, mean / He's std,
    share of |w| below He's std)."""
    shape, dtype, seed = case
    W = np.zeros(shape, dtype)
    out = answer(W, np.random.default_rng(seed))
    if out is None:
        return None
    he_std = np.sqrt(2.0 / shape[0])        # the forward pass of y = x W sums over the rows: fan_in
    w = W.astype(np.float64)
    return (float(out is W), float(W.dtype == dtype), w.std() / he_std, w.mean() / he_std,
            np.mean(np.abs(w) < he_std))


def kaiming_expected(case):
    return 1.0, 1.0, 1.0, 0.0, ONE_SIGMA


def _he_like(std_of, uniform=False, in_place=True):
    def answer(W, rng):
        std = std_of(*W.shape)
        draw = rng.uniform(-np.sqrt(3) * std, np.sqrt(3) * std, W.shape) if uniform else rng.normal(0.0, std, W.shape)
        if not in_place:
            return draw.astype(W.dtype)
        W[...] = draw
        return W
    return answer


# ---- 2. output_stds -----------------------------------------------------------------------------

def output_stds_cases(rng):
    """(a recipe for a small network, its seed, a batch): networks built afresh for every run."""
    cases = []
    for widths, activation, batch, seed in [((2, 16, 16, 3), "tanh", 64, 0), ((4, 8, 8, 8, 2), "relu", 32, 1),
                                            ((3, 5, 2), "relu", 1, 2)]:
        cases.append(((widths, activation), seed, rng.standard_normal((batch, widths[0])).astype(np.float32)))
    return cases


def build(recipe, seed):
    widths, activation = recipe
    rng, layers = np.random.default_rng(seed), []
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        if k:
            layers.append(Tanh() if activation == "tanh" else ReLU())
        layers.append(Dense(n_in, n_out, rng=rng))
    return Sequential(layers)


def output_stds_run(answer, case):
    """The reader's list, and how many hooks the model still holds afterwards."""
    recipe, seed, x = case
    model = build(recipe, seed)
    stds = answer(model, x)
    if stds is None:
        return None
    return [float(s) for s in stds], len(model.forward_hooks) + len(model.backward_hooks)


def output_stds_expected(case):
    """A forward pass written out by hand, layer by layer (no hooks)."""
    recipe, seed, x = case
    h, stds = x, []
    for layer in build(recipe, seed).layers:
        h = layer.forward(h)
        stds.append(float(np.std(h, dtype=np.float64)))
    return stds, 0


def output_stds_describe(case):
    (widths, activation), seed, x = case
    return f"({activation} network {'-'.join(map(str, widths))}, batch of {len(x)})"


def _hooked(remove=True, training=True):
    def answer(model, x):
        stds = []
        hook = lambda i, layer, a: stds.append(float(np.std(a)))
        model.forward_hooks.append(hook)
        if training:
            model.forward(x)
        else:
            model.predict(x)
        if remove:
            model.forward_hooks.remove(hook)
        return stds
    return answer


# ---- 3. glorot_limit ----------------------------------------------------------------------------

def glorot_cases(rng):
    return [(300, 100), (2, 100), (784, 256), (1, 1), (4096, 10)]


def glorot_expected(case):
    """A uniform on [-a, a] has variance a^2 / 3; set it to 2 / (D + M)."""
    fan_in, fan_out = case
    return np.sqrt(3 * 2 / (fan_in + fan_out))


EXERCISES = [
    Exercise(
        name="kaiming_normal_",
        notebook="17_initialization",
        title="He's normal init by hand, in place",
        cases=kaiming_cases, run=kaiming_run, expected=kaiming_expected,
        describe=lambda case: f"(W of shape {case[0]}, {np.dtype(case[1]).name})",
        mistakes=[
            ("fill W in place (W[...] = ...) and return that same W: a new array leaves the layer's weights untouched",
             _he_like(lambda D, M: np.sqrt(2 / D), in_place=False)),
            ("that is Glorot's variance 2 / (fan_in + fan_out), made for tanh: He's is 2 / fan_in, for ReLU",
             _he_like(lambda D, M: np.sqrt(2 / (D + M)))),
            ("that is the fan-out, W.shape[1]: the forward pass y = x W sums over the inputs, W.shape[0]",
             _he_like(lambda D, M: np.sqrt(2 / M))),
            ("2 / fan_in is the variance: the standard deviation is its square root",
             _he_like(lambda D, M: 2 / D)),
            ("that is LeCun's 1 / fan_in: a ReLU network needs the factor 2",
             _he_like(lambda D, M: np.sqrt(1 / D))),
            ("the standard deviation is right, but the numbers are uniform, not normal: use rng.normal",
             _he_like(lambda D, M: np.sqrt(2 / D), uniform=True)),
        ],
        rtol=0.0, atol=0.03,   # statistics of 20,000 draws or more: within 1% of the truth
    ),
    Exercise(
        name="output_stds",
        notebook="17_initialization",
        title="A forward hook that records every layer's output std",
        cases=output_stds_cases, run=output_stds_run, expected=output_stds_expected,
        describe=output_stds_describe,
        mistakes=[
            ("remove your hook afterwards (model.forward_hooks.remove(hook)): it would keep watching every later pass",
             _hooked(remove=False)),
            ("nothing was recorded: hooks run in training forward passes only, so call model.forward(x) "
             "(training=True, the default), not predict",
             _hooked(training=False)),
        ],
        rtol=1e-5, atol=1e-7,
    ),
    Exercise(
        name="glorot_limit",
        notebook="17_initialization",
        title="Glorot's uniform limit a",
        cases=glorot_cases, expected=glorot_expected,
        mistakes=[
            ("that is the standard deviation sqrt(2 / (D + M)), not the limit: a uniform on [-a, a] has variance a^2 / 3",
             lambda D, M: np.sqrt(2 / (D + M))),
            ("a^2 = 6 / (fan_in + fan_out): take the square root",
             lambda D, M: 6 / (D + M)),
            ("Glorot's variance averages both fans, 2 / (D + M): this uses the fan-in only",
             lambda D, M: np.sqrt(3 / D)),
        ],
        rtol=1e-9, atol=0.0,
    ),
]

"""Tests of nblib/surfaces.py: gradients against finite differences, minima, the optimizer runner
and the trajectory plot."""
import warnings
from functools import partial

import numpy as np
import pytest

from nblib import SGD, SURFACES, Surface, plot_trajectories, run_optimizer

NAMES = ["quadratic", "rosenbrock", "saddle", "bumpy"]


def test_the_four_surfaces_exist():
    assert set(NAMES) <= set(SURFACES)
    for name, s in SURFACES.items():
        assert isinstance(s, Surface) and s.name == name
        assert s.start.dtype == np.float64 and s.start.shape == (2,)
        assert s.minimum is None or s.minimum.shape == (2,)
        assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    lo, hi = np.array([s.xlim[0], s.ylim[0]]), np.array([s.xlim[1], s.ylim[1]])
    points = lo + (hi - lo) * rng.uniform(size=(20, 2))
    eps = 1e-6
    numeric = np.stack([(s.f(points + eps * e) - s.f(points - eps * e)) / (2 * eps) for e in np.eye(2)], axis=-1)
    analytic = s.grad(points)
    assert analytic.shape == points.shape
    err = np.abs(analytic - numeric).max() / max(np.abs(numeric).max(), 1e-12)
    assert err < 1e-7, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("name", NAMES)
def test_minimum_is_a_stationary_point_lower_than_its_neighbours(name):
    s = SURFACES[name]
    assert np.abs(s.grad(s.minimum)).max() < 1e-12
    offsets = 1e-3 * np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1]])
    assert np.all(s.f(s.minimum + offsets) > s.f(s.minimum))
    assert s.f(s.start) > s.f(s.minimum)


def test_f_and_grad_take_grids_and_check_shapes():
    s = SURFACES["quadratic"]
    grid = np.zeros((3, 4, 2))
    grid[..., 0], grid[..., 1] = 2.0, 1.0
    assert s.f(grid).shape == (3, 4) and np.allclose(s.f(grid), 0.5 * (4 + 20))
    assert s.grad(grid).shape == (3, 4, 2) and np.allclose(s.grad(grid)[1, 2], [2.0, 20.0])
    with pytest.raises(ValueError, match="quadratic.*shape"):
        s.f(np.zeros((5, 3)))


def test_run_optimizer_matches_a_plain_gradient_descent_loop():
    s, lr = SURFACES["rosenbrock"], 1e-3
    path = run_optimizer(partial(SGD, lr=lr), s, steps=25)
    assert path.shape == (26, 2) and path.dtype == np.float64
    x, y = -1.2, 1.0  # written out from the Rosenbrock formula, independently of the module
    assert tuple(path[0]) == (x, y)
    for t in range(1, 26):
        dx, dy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
        x, y = x - lr * dx, y - lr * dy
        assert path[t] == pytest.approx([x, y], rel=1e-12)


def test_run_optimizer_passes_float64_point_and_its_gradient():
    seen = []

    class Spy:
        """A stand-in optimizer: built on the point's parameters, a plain step of 0.1 * gradient."""

        def __init__(self, params):
            (self.param,) = params

        def step(self):
            p, g = self.param.data, self.param.grad
            seen.append((p.dtype, g.dtype, p.copy(), g.copy()))
            p -= 0.1 * g

    s = SURFACES["bumpy"]
    path = run_optimizer(Spy, s, 3, start=(0.5, -1.5))
    assert len(seen) == 3 and tuple(path[0]) == (0.5, -1.5)
    for t, (pd, gd, p, g) in enumerate(seen):
        assert pd == gd == np.float64
        assert np.array_equal(p, path[t]) and np.allclose(g, s.grad(path[t]), rtol=0, atol=1e-15)


def test_run_optimizer_stops_a_diverging_run_with_nan_rows():
    s = SURFACES["quadratic"]  # curvature 20 along y: any lr above 2/20 diverges
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on the way
        path = run_optimizer(partial(SGD, lr=0.5), s, steps=200)
    finite = np.isfinite(path).all(axis=1)
    n = finite.sum()
    assert 1 < n < 201 and finite[:n].all() and np.isnan(path[n:]).all()
    assert np.abs(path[n - 1]).max() > 1e6  # the last kept row is the one that left the picture


def test_run_optimizer_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        run_optimizer(partial(SGD, lr=0.1), SURFACES["saddle"], steps=-1)
    with pytest.raises(ValueError, match="start"):
        run_optimizer(partial(SGD, lr=0.1), SURFACES["saddle"], steps=3, start=(1.0, 2.0, 3.0))


def test_plot_trajectories_draws_each_path():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = SURFACES["saddle"]
    paths = {"a": run_optimizer(partial(SGD, lr=0.1), s, 10), "b": run_optimizer(partial(SGD, lr=0.3), s, 10)}
    ax = plot_trajectories(s, paths, title="two runs")
    labels = [line.get_label() for line in ax.get_lines()]
    assert "a" in labels and "b" in labels and "start" in labels and "minimum" in labels
    assert ax.get_title() == "two runs" and ax.get_xlim() == s.xlim
    plt.close(ax.figure)


def test_plot_loss_curves_draws_the_gap_to_the_minimum():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nblib import plot_loss_curves

    s = SURFACES["quadratic"]
    path = run_optimizer(partial(SGD, lr=0.05), s, 10)
    ax = plot_loss_curves(s, {"sgd": path})
    (line,) = ax.get_lines()
    expected = path[:, 0] ** 2 / 2 + 10 * path[:, 1] ** 2  # 0.5 (x^2 + 20 y^2), the minimum being 0
    assert np.allclose(line.get_ydata(), expected, rtol=1e-12) and ax.get_yscale() == "log"
    plt.close(ax.figure)

"""Two-dimensional test surfaces for watching optimizers move, and helpers to run and draw them
(hand-written, not taught in a notebook; matplotlib is imported by the plotting functions only)."""
import numpy as np

from nblib.layers import Layer, positive_int

__all__ = ["Surface", "SURFACES", "run_optimizer", "plot_trajectories", "plot_loss_curves"]

DIVERGED = 1e6  # a point this far from the origin has left every plot: the run counts as diverged


class Surface:
    """A function f(x, y) with its gradient, a start point, its minimum and plot limits; `f` and `grad`
    take points of shape (..., 2), a whole grid at once, in float64."""

    def __init__(self, name, f, grad, start, minimum, xlim, ylim, log_levels=True):
        self.name = name
        self._f, self._grad = f, grad  # both take (x, y); _grad returns (df/dx, df/dy)
        self.start = np.array(start, dtype=np.float64)
        self.minimum = np.array(minimum, dtype=np.float64)
        self.xlim, self.ylim = tuple(xlim), tuple(ylim)
        self.log_levels = log_levels  # contour levels spaced geometrically above the lowest value

    def _split(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape[-1:] != (2,):
            raise ValueError(f"Surface {self.name!r} expected points of shape (..., 2), got {xy.shape}")
        return xy[..., 0], xy[..., 1]

    def f(self, xy):
        """The surface's value at each point of `xy` (shape (..., 2) -> (...))."""
        return self._f(*self._split(xy))

    def grad(self, xy):
        """The gradient (df/dx, df/dy) at each point of `xy`, same shape as `xy`."""
        dx, dy = self._grad(*self._split(xy))
        return np.stack(np.broadcast_arrays(dx, dy), axis=-1)

    def __repr__(self):
        return f"Surface({self.name!r}, start={self.start.tolist()}, minimum={self.minimum.tolist()})"


# An elongated bowl: the curvature along y is 20 times that along x (condition number 20), so
# plain gradient descent zig-zags across the valley while it crawls along it.
_quadratic = Surface("quadratic", f=lambda x, y: 0.5 * (x ** 2 + 20 * y ** 2),
                     grad=lambda x, y: (x, 20 * y),
                     start=(-4.5, 1.0), minimum=(0.0, 0.0), xlim=(-5, 5), ylim=(-1.6, 1.6))

# Rosenbrock's banana valley: easy to fall into, long, curved and nearly flat along its floor.
_rosenbrock = Surface("rosenbrock", f=lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
                      grad=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)),
                      start=(-1.2, 1.0), minimum=(1.0, 1.0), xlim=(-2, 2), ylim=(-1, 3))

# A saddle point at the origin between two minima at (0, +-1): f = x^2/2 + y^4/4 - y^2/2. Curving
# up along x and down along y near the origin (like x^2 - y^2), but bounded below. Starting almost
# on the ridge (y = 0.01), an optimizer first slides towards the saddle, where the gradient nearly
# vanishes, and must then escape along y.
_saddle = Surface("saddle", f=lambda x, y: 0.5 * x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2,
                  grad=lambda x, y: (x, y ** 3 - y),
                  start=(-2.5, 0.01), minimum=(0.0, 1.0), xlim=(-3, 3), ylim=(-1.6, 1.6), log_levels=False)

# A wide bowl with ripples: 0.2 (x^2 + y^2) + (1 - cos(pi x)) + (1 - cos(pi y)). The global minimum
# is at the origin; the ripples make local minima near every point with even coordinates, (-2, 2)
# among them, where a cautious optimizer stays.
_bumpy = Surface("bumpy", f=lambda x, y: 0.2 * (x ** 2 + y ** 2) + (1 - np.cos(np.pi * x)) + (1 - np.cos(np.pi * y)),
                 grad=lambda x, y: (0.4 * x + np.pi * np.sin(np.pi * x), 0.4 * y + np.pi * np.sin(np.pi * y)),
                 start=(-2.6, 2.4), minimum=(0.0, 0.0), xlim=(-4, 4), ylim=(-4, 4), log_levels=False)

SURFACES = {s.name: s for s in (_quadratic, _rosenbrock, _saddle, _bumpy)}


def run_optimizer(make_optimizer, surface, steps, start=None):
    """The float64 path (steps + 1, 2) from `start` of `make_optimizer(parameters)`, e.g. `partial(Adam, lr=0.1)`,
    built on the point; a run that diverges (beyond 1e6) stops, its later rows NaN (matplotlib leaves them out)."""
    steps = positive_int("run_optimizer", "steps", steps, minimum=0)
    xy = np.array(surface.start if start is None else start, dtype=np.float64)
    if xy.shape != (2,):
        raise ValueError(f"run_optimizer: start must be a point (x, y), got shape {xy.shape}")
    point = Layer()                      # a "layer" whose one parameter is the point
    point.params["xy"], point.grads["xy"] = xy, np.zeros_like(xy)
    optimizer, g = make_optimizer(point.parameters()), point.grads["xy"]
    path = np.full((steps + 1, 2), np.nan)
    path[0] = xy
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is a result, not an error
        for t in range(1, steps + 1):
            g[...] = surface.grad(xy)
            optimizer.step()
            if not np.all(np.isfinite(xy)):
                break
            path[t] = xy
            if np.abs(xy).max() > DIVERGED:
                break
    return path


def plot_trajectories(surface, trajectories, ax=None, levels=30, title=None):
    """Filled contours of `surface` (dark is low), each trajectory of the dict {name: path} as a line, the
    start and the minimum; the surface's limits are kept, so a diverging run flies off the picture."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    ax = ax or plt.subplots(figsize=(5.5, 4))[1]
    gx, gy = np.meshgrid(np.linspace(*surface.xlim, 300), np.linspace(*surface.ylim, 300))
    z = surface.f(np.stack([gx, gy], axis=-1))
    lo, hi = np.nanmin(z), np.nanmax(z)
    if surface.log_levels and hi > lo:   # geometric spacing above the lowest value: detail near the minimum
        levels = lo + np.geomspace((hi - lo) * 1e-4, hi - lo, levels)
    else:
        levels = np.linspace(lo, hi, levels)
    pale = ListedColormap(colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 0.5 + 0.5)   # viridis, half white
    ax.contourf(gx, gy, z, levels=levels, cmap=pale, extend="both")
    ax.contour(gx, gy, z, levels=levels[::3], colors="white", linewidths=0.5)  # a few lines: small PNGs
    for name, path in trajectories.items():
        path = np.asarray(path)
        n = np.isfinite(path).all(axis=1).sum() - 1
        label = f"{name} (diverged after {n} steps)" if name and n < len(path) - 1 else name or None
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, label=label)
    start = next(iter(trajectories.values()))[0] if trajectories else surface.start
    ax.plot(*start, "ko", ms=6, label="start")
    ax.plot(*surface.minimum, "*", color="crimson", ms=12, label="minimum")
    ax.set(xlim=surface.xlim, ylim=surface.ylim, xlabel="x", ylabel="y", title=title or surface.name)
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_loss_curves(surface, trajectories, ax=None, title=None):
    """The gap f(point) - f(minimum) along each trajectory of the dict {name: path}, on a log scale:
    a straight line going down is linear convergence, a flat line a stall."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    f_min = surface.f(surface.minimum)
    for name, path in trajectories.items():
        with np.errstate(over="ignore", invalid="ignore"):
            gap = surface.f(np.asarray(path)) - f_min
        ax.semilogy(np.arange(len(gap)), np.where(gap > 0, gap, np.nan), label=name or None)
    ax.set(xlabel="step", ylabel="f - f(minimum)", title=title or surface.name)
    if any(trajectories):
        ax.legend(fontsize=8)
    return ax

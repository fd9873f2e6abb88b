"""Plots the notebooks share: decision boundaries, training curves, and a live training view.

Hand-written infrastructure (not taught in a notebook). matplotlib and IPython are imported
inside the functions, so `import nblib` needs NumPy only.
"""
import numpy as np

from nblib.model import Callback

__all__ = ["plot_function_and_derivative", "plot_decision_boundary", "plot_history", "LivePlot"]


def plot_function_and_derivative(layer, x=None, ax=None, title=None):
    """Plot an element-wise activation layer f(x) and its derivative f'(x), the latter taken from
    the layer's own backward pass (the gradient of sum(f(x)) is f'(x) element by element)."""
    import matplotlib.pyplot as plt

    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=np.float64)
    y = layer.forward(x.reshape(-1, 1)).reshape(-1)
    dy = layer.backward(np.ones((x.size, 1), dtype=x.dtype)).reshape(-1)
    ax = ax or plt.subplots(figsize=(5, 3.2))[1]
    ax.plot(x, y, label="f(x)")
    ax.plot(x, dy, "--", label="f'(x)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlabel="x", title=title or repr(layer))
    ax.legend()
    return ax


def _class_scores(model, points):
    """Per-point score for colouring: P(class 1) for two classes, the argmax class otherwise."""
    out = model.predict(points)
    if out.ndim == 1 or out.shape[1] == 1:       # one logit: sigmoid of it
        return 1 / (1 + np.exp(-np.clip(out.reshape(-1), -50, 50))), 2
    if out.shape[1] == 2:                         # two logits: softmax's class-1 probability
        return 1 / (1 + np.exp(-np.clip(out[:, 1] - out[:, 0], -50, 50))), 2
    return out.argmax(axis=1), out.shape[1]


def plot_decision_boundary(model, x, y, ax=None, resolution=200, title=None, padding=0.1):
    """Colour the plane by the model's prediction and scatter the labelled points (x of shape (n, 2))."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(4, 4))[1]
    lo, hi = x.min(axis=0), x.max(axis=0)
    lo, hi = lo - padding * (hi - lo), hi + padding * (hi - lo)
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1).astype(x.dtype)
    scores, k = _class_scores(model, grid)
    if k == 2:
        ax.contourf(g0, g1, scores.reshape(g0.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g0, g1, scores.reshape(g0.shape), levels=[0.5], colors="k", linewidths=1)
    else:
        ax.contourf(g0, g1, scores.reshape(g0.shape), levels=np.arange(k + 1) - 0.5, cmap="tab10", alpha=0.35,
                    vmin=-0.5, vmax=9.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r" if k == 2 else "tab10", vmin=0, vmax=1 if k == 2 else 9,
               s=12, edgecolors="k", linewidths=0.3)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title=title)
    return ax


def plot_history(history, axes=None, title=None):
    """Loss (left) and accuracy (right, when recorded) per epoch, training and validation."""
    import matplotlib.pyplot as plt

    metrics = ["loss"] + (["accuracy"] if "accuracy" in history else [])
    if axes is None:
        axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)[1][0]
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, metrics):
        ax.plot(epochs, history[metric], label="training")
        if "val_" + metric in history:
            ax.plot(epochs, history["val_" + metric], label="validation")
        ax.set(xlabel="epoch", ylabel=metric)
        ax.legend()
    if title:
        axes[0].figure.suptitle(title)
    return axes


class LivePlot(Callback):
    """A fit callback that redraws the training curves each epoch (and, given 2-D data, the
    decision boundary), updating one figure in place in the notebook."""

    def __init__(self, data=None, every=1):
        self.data, self.every = data, every
        self._handle = self._fig = None

    def on_train_begin(self, model, history):
        import matplotlib.pyplot as plt
        from IPython.display import display

        n = 3 if self.data is not None else 2
        self._fig, self._axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4))
        plt.close(self._fig)  # shown through the display handle only, not again at the cell's end
        self._handle = display(self._fig, display_id=True)

    def on_epoch_end(self, model, epoch, history):
        if epoch % self.every == 0:
            self._draw(model, history)
        return False

    def on_train_end(self, model, history):
        self._draw(model, history)

    def _draw(self, model, history):
        for ax in self._axes:
            ax.clear()
        axes = list(self._axes)
        if self.data is not None:
            plot_decision_boundary(model, *self.data, ax=axes.pop(), title=f"epoch {len(history.get('loss', []))}")
        if "accuracy" not in history:
            axes[1].set_visible(False)
        plot_history(history, axes=axes[:2] if "accuracy" in history else axes[:1])
        self._fig.tight_layout()
        if self._handle is not None:
            self._handle.update(self._fig)

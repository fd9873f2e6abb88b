"""Plots the notebooks share: activations, decision boundaries, training curves, digits (hand-written,
not taught in a notebook; matplotlib and IPython are imported inside the functions)."""
import numpy as np

from nblib.activations import sigmoid

__all__ = ["plot_function_and_derivative", "plot_decision_boundary", "plot_history", "LivePlot",
           "plot_images", "plot_confusion_matrix", "plot_probabilities"]


def plot_function_and_derivative(layer, x=None, ax=None, title=None):
    """Plot an element-wise activation layer f(x) and its derivative f'(x), taken from its own backward
    pass (the gradient of sum(f(x)) is f'(x) element by element)."""
    import matplotlib.pyplot as plt

    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=np.float64)
    y = layer.forward(x.reshape(-1, 1)).reshape(-1)
    dy = layer.backward(np.ones((x.size, 1), dtype=x.dtype))
    if dy is None:
        raise ValueError(f"plot_function_and_derivative: {type(layer).__name__}.backward returned no input "
                         f"gradient: build the model with Sequential(..., input_grad=True)")
    dy = dy.reshape(-1)
    ax = ax or plt.subplots(figsize=(5, 3.2))[1]
    ax.plot(x, y, label="f(x)")
    ax.plot(x, dy, "--", label="f'(x)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlabel="x", title=title or repr(layer))
    ax.legend()
    return ax


def plot_decision_boundary(model, x, y, ax=None, resolution=200, title=None, padding=0.1):
    """Colour the plane by the model's prediction and scatter the labelled points (x of shape (n, 2))."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(4, 4))[1]
    lo, hi = x.min(axis=0), x.max(axis=0)
    lo, hi = lo - padding * (hi - lo), hi + padding * (hi - lo)
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    out = model.predict(np.stack([g0.ravel(), g1.ravel()], axis=1).astype(x.dtype)).reshape(g0.size, -1)
    k = max(2, out.shape[1])
    if out.shape[1] == 2:                 # two scores: softmax's P(class 1) is the sigmoid of their difference
        out = out[:, 1:] - out[:, :1]
    scores = (sigmoid(out[:, 0]) if k == 2 else out.argmax(axis=1)).reshape(g0.shape)  # P(class 1), or the class
    if k == 2:
        ax.contourf(g0, g1, scores, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g0, g1, scores, levels=[0.5], colors="k", linewidths=1)
    else:
        ax.contourf(g0, g1, scores, levels=np.arange(k + 1) - 0.5, cmap="tab10", alpha=0.35, vmin=-0.5, vmax=9.5)
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


class LivePlot:
    """A `fit` callback that redraws the training curves (and, given 2-D data `(x, y)`, the decision
    boundary) every `every` epochs, in one figure updated in place."""

    def __init__(self, data=None, every=1):
        self.data, self.every = data, every
        self._handle = self._fig = None

    def __call__(self, model, epoch, history):
        if epoch == 0:   # a new run of fit: a new figure, shown through its display handle only
            import matplotlib.pyplot as plt
            from IPython.display import display

            n = 3 if self.data is not None else 2
            self._fig, self._axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4))
            plt.close(self._fig)
            self._handle = display(self._fig, display_id=True)
        if (epoch + 1) % self.every == 0:
            for ax in self._axes:
                ax.clear()
            self._axes[1].set_visible("accuracy" in history)
            plot_history(history, axes=self._axes[:2 if "accuracy" in history else 1])
            if self.data is not None:
                plot_decision_boundary(model, *self.data, ax=self._axes[-1], title=f"epoch {epoch + 1}")
            self._fig.tight_layout()
            if self._handle is not None:
                self._handle.update(self._fig)
        return False


def plot_images(images, titles=None, ncols=10, cmap="gray", symmetric=False, size=1.1):
    """A grid of images (n, h, w) or (n, 1, h, w), with optional titles; `symmetric` centres a red-blue
    colour map on 0 for signed arrays (filters, gradients), otherwise each image uses `cmap`."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"plot_images expected images of shape (n, h, w) or (n, 1, h, w), got {images.shape}")
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * (1.25 if titles else 1)),
                        squeeze=False)[1].reshape(-1)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        if symmetric:
            limit = float(np.abs(images[i]).max()) or 1.0
            ax.imshow(images[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    axes[0].figure.tight_layout()
    return axes


def plot_confusion_matrix(y_true, y_pred, class_names=None, ax=None, title=None):
    """Draw and return the counts of (true class, predicted class) pairs; the diagonal holds the right answers."""
    import matplotlib.pyplot as plt

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = int(max(y_true.max(), y_pred.max())) + 1 if class_names is None else len(class_names)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    ax = ax or plt.subplots(figsize=(0.5 * k + 2, 0.5 * k + 1.5))[1]
    ax.imshow(np.log1p(counts * (1 - np.eye(k, dtype=np.int64))), cmap="Reds")  # mistakes only: the diagonal dwarfs all
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="tab:green" if i == j else "black", fontweight="bold" if i == j else None)
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return counts


def plot_probabilities(probabilities, class_names=None, label=None, ax=None, title=None):
    """Bar chart of one example's class probabilities: the true class (`label`) in green, a wrong top answer in red."""
    import matplotlib.pyplot as plt

    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    k = len(probabilities)
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    colors = ["tab:gray"] * k
    top = int(probabilities.argmax())
    if label is not None:
        colors[top] = "tab:red"
        colors[int(label)] = "tab:green"
    ax = ax or plt.subplots(figsize=(4, 2.5))[1]
    ax.bar(range(k), probabilities, color=colors)
    ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set(ylim=(0, 1), ylabel="probability", title=title)
    return ax

"""Pictures for the convolution and pooling notebooks (hand-written, not taught in a notebook).
matplotlib is imported inside the functions, so `import nblib` needs NumPy only."""
import numpy as np

__all__ = ["digit_image", "plot_sliding_window", "plot_feature_maps", "plot_kernel"]

# Strokes of a few digits in a unit box (x to the right, y downwards), as polylines of points.
_ARC = lambda cx, cy, rx, ry, a0, a1, n=24: [(cx + rx * np.cos(a), cy + ry * np.sin(a))
                                            for a in np.linspace(np.radians(a0), np.radians(a1), n)]
_STROKES = {
    0: [_ARC(0.5, 0.5, 0.24, 0.36, 0, 360, 48)],
    1: [[(0.38, 0.3), (0.54, 0.15), (0.54, 0.86)]],
    2: [_ARC(0.5, 0.36, 0.23, 0.21, 190, 380) + [(0.28, 0.86), (0.76, 0.86)]],
    3: [_ARC(0.48, 0.33, 0.2, 0.18, 200, 450), _ARC(0.48, 0.67, 0.24, 0.2, 270, 520)],
    4: [[(0.62, 0.86), (0.62, 0.14), (0.24, 0.62), (0.8, 0.62)]],
    5: [[(0.74, 0.15), (0.34, 0.15), (0.31, 0.47)] + _ARC(0.49, 0.64, 0.25, 0.22, 240, 500)],
    7: [[(0.24, 0.16), (0.78, 0.16), (0.42, 0.86)]],
}


def _segment_distance(px, py, a, b):
    """Distance from every point (px, py) to the segment a-b."""
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
    return np.hypot(px - ax - t * dx, py - ay - t * dy)


def digit_image(digit=4, size=28, shift=(0, 0), thickness=0.05):
    """A drawn digit (0-5 or 7), float32 (size, size) in [0, 1], white on black in the central 5/7
    as MNIST's; moved by shift = (down, right) pixels; thickness: half-width, fraction of the size."""
    if digit not in _STROKES:
        raise ValueError(f"digit_image: digit must be one of {sorted(_STROKES)}, got {digit!r}")
    box = 5 / 7                                       # the strokes' unit box covers this much
    centres = ((np.arange(size) + 0.5) / size - (1 - box) / 2) / box
    py, px = np.meshgrid(centres, centres, indexing="ij")
    distance = np.full((size, size), np.inf)
    for stroke in _STROKES[digit]:
        for a, b in zip(stroke[:-1], stroke[1:]):
            distance = np.minimum(distance, _segment_distance(px, py, a, b))
    image = np.clip((thickness - distance * box) * size + 0.5, 0, 1)   # edges soft over about a pixel
    down, right = shift
    moved = np.zeros_like(image)
    moved[max(down, 0):size + min(down, 0), max(right, 0):size + min(right, 0)] = \
        image[max(-down, 0):size - max(down, 0), max(-right, 0):size - max(right, 0)]
    return moved.astype(np.float32)


def plot_sliding_window(height=5, width=5, kernel_size=3, stride=1, padding=0, position=0, axes=None,
                        titles=True):
    """The padded input with the kernel's window at output `position` (row-major), and the output
    grid with that output marked; the titles give the output-size formula."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    k, s, p = kernel_size, stride, padding
    Hp, Wp = height + 2 * p, width + 2 * p
    Ho, Wo = (Hp - k) // s + 1, (Wp - k) // s + 1
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), gridspec_kw={"width_ratios": [max(Wp, 1), max(Wo, 1) + 1]})
    ax_in, ax_out = axes
    for ax in axes:
        ax.clear()
        ax.set_aspect("equal")
        ax.axis("off")
    if Ho < 1 or Wo < 1:
        ax_in.set_title(f"kernel {k} is larger than the padded input {Hp}x{Wp}")
        return axes
    i, j = divmod(position % (Ho * Wo), Wo)
    for r in range(Hp):
        for c in range(Wp):
            pad = not (p <= r < p + height and p <= c < p + width)
            ax_in.add_patch(Rectangle((c, -r - 1), 1, 1, facecolor="0.92" if pad else "white",
                                      edgecolor="0.6", lw=0.8, hatch="//" if pad else None))
    ax_in.add_patch(Rectangle((j * s, -i * s - k), k, k, facecolor="tab:orange", alpha=0.45,
                              edgecolor="tab:red", lw=2.5))
    ax_in.set(xlim=(-0.2, Wp + 0.2), ylim=(-Hp - 0.2, 0.2))
    for r in range(Ho):
        for c in range(Wo):
            here = (r, c) == (i, j)
            ax_out.add_patch(Rectangle((c, -r - 1), 1, 1, facecolor="tab:orange" if here else "white",
                                       alpha=0.8 if here else 1, edgecolor="0.4", lw=0.8))
    ax_out.set(xlim=(-0.2, Wo + 1.2), ylim=(-max(Hp, Ho) - 0.2, 0.2))
    if titles:
        ax_in.set_title(f"input {height}x{width}, padding {p} (hatched)\nkernel {k}x{k}, stride {s}", fontsize=10)
        formula = ",  ".join(f"⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = {m}"
                             for n, m in ([(height, Ho)] if width == height else [(height, Ho), (width, Wo)]))
        ax_out.set_title(f"output {Ho}x{Wo}\n{formula}", fontsize=10)
    return axes


def _show_signed(ax, a):
    """`a` in a red-blue scale centred on zero (red positive)."""
    limit = float(np.abs(a).max()) or 1.0
    ax.imshow(a, cmap="RdBu_r", vmin=-limit, vmax=limit)


def plot_feature_maps(images, titles=None, signed=None, ncols=None, size=2.0, suptitle=None):
    """A grid of 2-D arrays: signed ones red-blue centred on zero, non-negative ones grey (`signed`
    forces either). Returns the axes."""
    import matplotlib.pyplot as plt

    images = [np.asarray(a) for a in images]
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for n, (ax, a) in enumerate(zip(axes.flat, images)):
        if (a.min() < 0) if signed is None else signed:
            _show_signed(ax, a)
        else:
            ax.imshow(a, cmap="gray", vmin=0, vmax=max(float(a.max()), 1e-12))
        if titles is not None:
            ax.set_title(titles[n], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return axes


def plot_kernel(kernel, ax=None, title=None):
    """A small kernel as coloured cells with its numbers written in them."""
    import matplotlib.pyplot as plt

    kernel = np.asarray(kernel, dtype=float)
    ax = ax or plt.subplots(figsize=(2.2, 2.2))[1]
    _show_signed(ax, kernel)
    for (r, c), value in np.ndenumerate(kernel):
        ax.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=9)
    ax.set(xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=10)
    return ax

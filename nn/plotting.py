"""Plotting helpers shared by the book's chapters (optional: needs matplotlib).

One colour scheme for the whole book: class k is always ``COLORS[k]``, and the
same colours mark the same optimizer or activation wherever it appears.
"""
import numpy as np

#: The book's palette (colour-blind friendly, from Paul Tol's "bright" scheme).
COLORS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#000000"]


def use_book_style():
    """Set matplotlib defaults for every figure in the book: size, fonts, colour cycle, grid."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "axes.prop_cycle": mpl.cycler(color=COLORS),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 11,
        "legend.frameon": False,
        "image.cmap": "viridis",
    })


def plot_decision_boundary(ax, predict, x, y, resolution=200, padding=0.5):
    """Shade the regions ``predict`` assigns to each class and scatter the points ``(x, y)``.

    predict: maps an (m, 2) array to class scores (m, k), probabilities (m, 1) or labels (m,).
    x: (n, 2) points; y: (n,) integer labels.
    """
    from matplotlib.colors import ListedColormap

    x_min, y_min = x.min(axis=0) - padding
    x_max, y_max = x.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, resolution),
                                 np.linspace(y_min, y_max, resolution))
    scores = np.asarray(predict(np.c_[grid_x.ravel(), grid_y.ravel()]))
    if scores.ndim == 2 and scores.shape[1] > 1:
        labels = scores.argmax(axis=1)
    else:
        labels = ((scores.reshape(-1) > 0.5).astype(int) if scores.dtype.kind == "f"
                  else scores.reshape(-1))
    classes = int(max(labels.max(), y.max())) + 1
    cmap = ListedColormap(COLORS[:classes])
    ax.contourf(grid_x, grid_y, labels.reshape(grid_x.shape), levels=np.arange(classes + 1) - 0.5,
                cmap=cmap, alpha=0.25)
    ax.scatter(x[:, 0], x[:, 1], c=[COLORS[int(label)] for label in y], s=16, edgecolors="white",
               linewidths=0.4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_history(ax, history, key="loss"):
    """Plot ``history.history[key]`` and its ``val_`` twin against the epoch number."""
    values = history.history[key]
    epochs = np.arange(1, len(values) + 1)
    ax.plot(epochs, values, marker="o", label=f"training {key}")
    if f"val_{key}" in history.history:
        ax.plot(epochs, history.history[f"val_{key}"], marker="s", label=f"validation {key}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.legend()
    return ax

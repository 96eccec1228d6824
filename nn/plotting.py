"""Plotting and typesetting helpers shared by the book's chapters (plots need matplotlib).

One colour scheme for the whole book: class k is always ``COLORS[k]``, and the
same colours mark the same optimizer or activation wherever it appears.
"""
import numpy as np

#: The book's palette (colour-blind friendly, from Paul Tol's "bright" scheme).
COLORS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#000000"]


#: Unicode superscripts for exponents, and the true minus sign a textbook prints.
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MINUS = "\u2212"


def scientific(value, digits=1):
    """``value`` as a textbook prints it: ``3.2 × 10⁻⁴``, ``10⁻⁵``, ``−1.5 × 10³``.

    For prose (glue it as ``IPython.display.Markdown(scientific(x))`` and cite it with
    ``{glue:md}``), never ``3.2e-04``. ``digits`` is the number of decimals of the
    mantissa; a mantissa of exactly 1 is left out, and exponent 0 prints the plain number.
    """
    mantissa, exponent = f"{float(value):.{digits}e}".split("e")
    exponent = int(exponent)
    sign, mantissa = (MINUS, mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
    if exponent == 0:
        return sign + mantissa
    power = "10" + str(exponent).translate(SUPERSCRIPTS)
    if float(mantissa) == 1.0:
        return sign + power
    return f"{sign}{mantissa} \u00d7 {power}"


def use_book_style():
    """Set matplotlib defaults for every figure in the book: size, fonts, colours, format.

    In a notebook, figures are also shown as SVG: vector graphics stay sharp at any
    zoom, and their text keeps its size in points, so a test can check that labels are
    legible on a phone (``tests/test_book.py``: the smallest font, scaled to the width
    the figure gets on a 390 px screen, must be at least 8 CSS px). A figure drawn
    ``width`` inches wide meets that floor at 11 pt up to about 6.8 inches; a wider
    one needs a proportionally larger font (``font.size`` of about 1.65 * width).
    """
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
        # Text as outlines (the page need not have DejaVu Sans), and the same bytes
        # for the same figure on every run, so a re-executed chapter diffs cleanly.
        "svg.fonttype": "path",
        "svg.hashsalt": "nn-from-scratch",
    })
    _show_figures_as_svg()


def _show_figures_as_svg():
    """In an IPython kernel, display figures (and glued figures) as SVG, without a date."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is None:
        return
    set_matplotlib_formats("svg", metadata={"Date": None})


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

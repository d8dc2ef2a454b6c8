"""Figures and tables of a training run: loss curve, accuracy per epoch, confusion matrix.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built with the object API
(no ``pyplot``, no backend needed); :func:`nnlearn.common.plots.save_figure` writes it as PNG atomically.
Their words are in the reader's language where a font can draw it (:mod:`nnlearn.base.figtext`); a
``title`` given is in that language already (made inside :func:`nnlearn.base.figtext.figure_text`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

from nnlearn.base.errors import InputError
from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import N_, _


def as_typed(text) -> str:
    r"""``text`` escaped so that matplotlib draws it as typed: a ``$`` pair is not read as math.

    Every string a figure takes from outside nnlearn (a folder's name, a file's meta, a class name, an
    expression) goes through here: a run folder named ``m$\x$``, parsed as math, stopped the drawing
    with a ParseFatalException. nnlearn's own labels use no math (powers are written x², not ``$x^2$``).

    Examples
    --------
    >>> print(as_typed("m$\\x$"))
    m\$\x\$
    """
    return str(text).replace("$", r"\$")


def floats(values) -> np.ndarray:
    """``values`` as floats, None (a missing number) as NaN: a gap in a line.

    Examples
    --------
    >>> floats([1, None, 0.5])
    array([1. , nan, 0.5])
    """
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def moving_average(values, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (``len(values) - window + 1`` of them).

    Examples
    --------
    >>> moving_average([1.0, 2.0, 3.0, 4.0], 2)
    array([1.5, 2.5, 3.5])
    """
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(int(window), values.size))
    if values.size == 0:
        return values
    c = np.cumsum(np.concatenate([[0.0], values]))
    return (c[window:] - c[:-window]) / window


@in_reader_language
def plot_loss(
    losses,
    window: int | None = None,
    title: str | None = None,
    *,
    iterations=None,
    means=None,
    step: int = 1,
    sampled: bool = False,
) -> Figure:
    """The loss at every iteration (light) and its moving average over ``window`` iterations.

    The y-axis runs from 0 to a little above the 99.5th percentile, so that a few large losses
    early in training do not flatten the curve; when that cuts off any point, the figure says how
    many and how large the largest is.

    A curve thinned for a chart (``nnlearn.train.tables.loss_curve``: every ``step``-th loss, about
    every when ``sampled``) gives the ``iterations`` of its losses and their moving averages ``means``
    (over ``window`` iterations of the whole run; None where there is none yet).
    """
    losses = np.asarray(losses, dtype=np.float64)
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    it = np.arange(1, losses.size + 1) if iterations is None else floats(iterations)
    label = _("loss per iteration")
    if step > 1:
        label += " " + (_("(about every {step}th)", step=step) if sampled else _("(every {step}th)", step=step))
    ax.plot(it, losses, lw=0.6, alpha=0.45, color="C0", label=label, gid="loss")
    if window is None:
        window = max(1, losses.size // 50)
    if means is not None:
        mean_it, means = it, floats(means)
    elif losses.size > window > 1:
        mean_it, means = it[window - 1 :], moving_average(losses, window)
    if means is not None and np.isfinite(means).any():
        ax.plot(mean_it, means, color="C1", lw=1.6, label=_("mean of {n} iterations", n=window), gid="loss-mean")
    ax.set_xlabel(_("iteration"))
    ax.set_ylabel(_("loss"))
    ax.set_title(_("Training loss") if title is None else as_typed(title))
    above = 0
    if losses.size:
        finite = losses[np.isfinite(losses)]
        top = float(np.quantile(finite, 0.995)) if finite.size else 1.0
        top = max(top * 1.05, 1e-3)
        ax.set_ylim(0, top)
        above = int(np.sum(losses > top)) + int(np.sum(~np.isfinite(losses)))
        if above:
            largest = (
                _("; the largest is {largest:.3g}", largest=float(finite.max()))
                if finite.size and finite.max() > top
                else ""
            )
            ax.text(
                0.01,
                0.98,
                _(
                    "y-axis cut at {top:.3g}: {above} of {n} iterations lie above it",
                    top=top,
                    above=above,
                    n=losses.size,
                )
                + largest,
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=8,
                color="0.25",
                bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9},
            )
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9) if above else None)
    ax.grid(alpha=0.3)
    return fig


#: The second curve's names (``test_label``): in the legend, and in the last epoch's line.
CURVE_NAMES = {"test acc": (N_("test acc"), N_("test")), "validation acc": (N_("validation acc"), N_("validation"))}


def _zoom_accuracy(ax, values) -> float:
    """Zoom ``ax``'s y-axis to the accuracies ``values`` (None and NaN left out), with a margin of a tenth of
    their range, at least 0.01; returns where the axis starts."""
    values = floats(values)
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    margin = max(0.1 * (high - low), 0.01)
    # A quarter margin above 1.0, so that markers at 100 % are not cut in half.
    low, high = max(0.0, low - margin), min(1.0 + margin / 4, high + margin)
    ax.set_ylim(low, high)
    return low


def _accuracy_lines(ax, epochs, train, test, legend: str, size: int) -> None:
    """The book's two lines: training accuracy (circles) and ``legend``'s (squares, dashed; none without ``test``)."""
    ax.plot(epochs, train, marker="o", markersize=size, label=_("train acc"), gid="train-acc")
    if test is not None:
        ax.plot(epochs, test, marker="s", markersize=size, linestyle="--", gid="test-acc", label=_(legend))


def _accuracy_label(low: float) -> str:
    """The accuracy axis's label, which says where a zoomed axis starts."""
    return _("accuracy") if low == 0 else _("accuracy (axis zoomed: starts at {low:.2f}, not 0)", low=low)


@in_reader_language
def plot_accuracy(epochs, train_acc, test_acc=None, title: str | None = None, test_label: str = "test acc") -> Figure:
    """The book's figure: training and test accuracy per epoch (circles and squares).

    When the training accuracy runs away from the test accuracy, the network overfits. The y-axis is
    zoomed to the data, so that a gap of a few points shows; its label says where it starts.
    ``test_label``: ``"test acc"`` or ``"validation acc"``. A missing accuracy (None) is a gap in its line.
    """
    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = fig.add_subplot()
    epochs, train = floats(epochs), floats(train_acc)
    legend, other = CURVE_NAMES[test_label]
    test = floats(test_acc) if test_acc is not None and any(a is not None for a in test_acc) else None
    _accuracy_lines(ax, epochs, train, test, legend, size=4)
    low = _zoom_accuracy(ax, np.concatenate([train, test if test is not None else []]))
    xlabel = _("epochs")
    ax.set_ylabel(_accuracy_label(low))
    if test is not None and train.size and np.isfinite(test[-1]) and np.isfinite(train[-1]):
        gap = train[-1] - test[-1]
        xlabel += "\n" + _(
            "last epoch: train {train:.1%}, {other} {test:.1%} -- a gap of {points:.1f} points",
            train=train[-1],
            other=_(other),
            test=test[-1],
            points=100 * gap,
        )
    ax.set_xlabel(xlabel)
    ax.set_title(_("Accuracy per epoch") if title is None else as_typed(title))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


@in_reader_language
def plot_runs(runs) -> Figure:
    """Several runs overlaid, each in its colour: the moving average of the loss (left) and an accuracy
    per epoch (right, zoomed as :func:`plot_accuracy`'s). ``runs`` is a list of dicts: ``name``,
    ``iterations`` and ``means`` (the loss's moving average, None where there is none), ``epochs`` and
    ``accuracy`` (None where missing), and ``column`` (which accuracy, e.g. ``"test accuracy"``; None for no
    accuracy line)."""
    fig = Figure(figsize=(11.2, 4.4), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    tops, accuracies = [], []
    for k, run in enumerate(runs):
        means = floats(run["means"])
        loss_ax.plot(
            floats(run["iterations"]), means, color=f"C{k % 10}", lw=1.6, label=as_typed(run["name"]), gid=f"loss-{k}"
        )
        tops += [float(means[np.isfinite(means)].max())] if np.isfinite(means).any() else []
        if run["column"]:
            acc = floats(run["accuracy"])
            acc_ax.plot(
                floats(run["epochs"]),
                acc,
                color=f"C{k % 10}",
                marker="o",
                markersize=3,
                gid=f"acc-{k}",
                label=as_typed(f"{run['name']} ({run['column']})"),
            )
            accuracies += list(acc)
    loss_ax.set_ylim(0, max(tops) * 1.05 if tops else 1.0)
    loss_ax.set(title=_("Loss (smoothed)"), xlabel=_("iteration"), ylabel=_("loss"))
    acc_ax.set(
        title=_("Accuracy per epoch"), xlabel=_("epochs"), ylabel=_accuracy_label(_zoom_accuracy(acc_ax, accuracies))
    )
    for ax, where in ((loss_ax, "upper right"), (acc_ax, "lower right")):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc=where, fontsize=8)
    return fig


def figure_svg(fig: Figure, name: str) -> str:
    """``fig`` as an ``<svg>`` element to put inside a page: every point kept, text as text (escaped by
    matplotlib), no prolog or metadata. The same figure gives the same text: matplotlib's ids are salted
    with ``name``, which keeps two figures of one page apart."""
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "none", "path.simplify": False}):
        for line in (line for ax in fig.axes for line in ax.lines):
            line.recache(always=True)  # a line's path takes path.simplify when it is made: maybe before this block
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


@in_reader_language
def plot_accuracy_panels(panels: dict, title: str | None = None) -> Figure:
    """One :func:`plot_accuracy` panel per run, side by side: ``panels`` maps a run's name to
    ``(epochs, train_acc, test_acc)``; each panel's title gives its final train-test gap."""
    fig = Figure(figsize=(4.2 * len(panels), 4.4))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (name, (epochs, train_acc, test_acc)) in zip(axes, panels.items()):
        _accuracy_lines(ax, epochs, train_acc, test_acc, N_("test acc"), size=2)
        ax.set_title(_("{name}: gap {gap:.1%}", name=as_typed(name), gap=train_acc[-1] - test_acc[-1]))
        ax.set_xlabel(_("epochs"))
        ax.set_ylim(0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    axes[0].set_ylabel(_("accuracy"))
    fig.suptitle(_("Accuracy per epoch") if title is None else as_typed(title))
    fig.tight_layout()
    return fig


def confusion_matrix(true, pred, n_classes: int) -> np.ndarray:
    """``m[i, j]`` = number of samples of class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], 3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    true = np.asarray(true, dtype=np.intp)
    pred = np.asarray(pred, dtype=np.intp)
    if true.shape != pred.shape:
        raise InputError(
            _("true and pred must have the same shape, got {true} and {pred}", true=true.shape, pred=pred.shape)
        )
    return np.bincount(true * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def most_confused(matrix, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells as ``(true, predicted, count)``, largest first.

    Examples
    --------
    >>> most_confused(np.array([[5, 2, 0], [0, 4, 3], [1, 0, 6]]), k=2)
    [(1, 2, 3), (0, 1, 2)]
    """
    m = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(m, -1)
    order = np.argsort(-m, axis=None, kind="stable")[:k]
    pairs = [(int(i), int(j), int(m[i, j])) for i, j in zip(*np.unravel_index(order, m.shape))]
    return [p for p in pairs if p[2] > 0]


def format_confusion(matrix, labels=None) -> str:
    """The confusion matrix as a text table: rows are true classes, columns predictions.

    Examples
    --------
    >>> print(format_confusion(np.array([[3, 1], [0, 4]])))
    true\\pred    0    1
             0    3    1
             1    0    4
    """
    m = np.asarray(matrix)
    labels = [str(i) for i in range(m.shape[0])] if labels is None else [str(s) for s in labels]
    width = max(4, max(len(s) for s in labels), len(str(int(m.max()))) if m.size else 1)
    head = "true\\pred" + "".join(f" {s:>{width}}" for s in labels)
    rows = [f"{lab:>9}" + "".join(f" {int(v):>{width}}" for v in row) for lab, row in zip(labels, m)]
    return "\n".join([head, *rows])


@in_reader_language
def plot_confusion(matrix, labels=None, title: str | None = None) -> Figure:
    """The confusion matrix as an image with the counts written in each cell."""
    m = np.asarray(matrix)
    n = m.shape[0]
    labels = [str(i) for i in range(n)] if labels is None else [as_typed(s) for s in labels]
    fig = Figure(figsize=(6.4, 5.6))
    ax = fig.add_subplot()
    # Colour by the share of each true class on a square-root scale (PowerNorm), so that rare
    # mistakes stay visible next to the diagonal while the colour bar shows the shares themselves.
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=1))
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(m[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    long_names = max(len(s) for s in labels) > 2
    ax.set_xticks(range(n), labels, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel(_("predicted"))
    ax.set_ylabel(_("true"))
    ax.set_title(_("Confusion matrix (test data)") if title is None else as_typed(title))
    fig.colorbar(
        im, ax=ax, fraction=0.046, pad=0.04, label=_("fraction of the true class's images given this prediction")
    )
    fig.tight_layout()
    return fig

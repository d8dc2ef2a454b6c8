"""The chapter's figures, each returned as a :class:`matplotlib.figure.Figure`.

Figures are built with the object API (no ``pyplot``), so they work headless, in notebooks and in
tests without choosing a backend. :func:`save_figure` writes a PNG atomically. Titles, axes and
legends are in the reader's language where a font can draw it (:mod:`nnlearn.base.figtext`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nnlearn.base.figtext import in_reader_language
from nnlearn.base.files import atomic_write
from nnlearn.base.i18n import _
from nnlearn.common.gradient import gradient_descent, numerical_diff, numerical_gradient


def function_1(x):
    """The chapter's f(x) = 0.01x**2 + 0.1x."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    """The chapter's f(x0, x1) = x0**2 + x1**2, for one point or (along the first axis) many."""
    return np.sum(np.asarray(x) ** 2, axis=0)


def save_figure(fig: Figure, path, dpi: int = 100, *, in_run_folder: bool = False) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (a reader never sees half a file).

    ``in_run_folder``: see :func:`nnlearn.base.files.atomic_write` (only a run or sweep folder's writer sets it).
    """
    path = Path(path)
    with atomic_write(path, in_run_folder=in_run_folder) as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    return path


@in_reader_language
def plot_tangent(f=function_1, x=5.0, xlim=(0.0, 20.0)) -> Figure:
    """``f`` with its tangent line at ``x``, the slope taken by :func:`numerical_diff`."""
    slope = numerical_diff(f, x)
    xs = np.linspace(*xlim, 201)
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    ax.plot(xs, f(xs), label="f(x) = 0.01x² + 0.1x" if f is function_1 else "f(x)")
    ax.plot(xs, f(x) + slope * (xs - x), "--", label=_("tangent at x={x:g} (slope {slope:.4f})", x=x, slope=slope))
    ax.plot([x], [f(x)], "o", color="C1")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(_("Numerical differentiation: the slope at a point"))
    ax.legend()
    return fig


@in_reader_language
def plot_surface(lim=3.0) -> Figure:
    """The 3-D surface of f(x0, x1) = x0**2 + x1**2."""
    g = np.linspace(-lim, lim, 61)
    x0, x1 = np.meshgrid(g, g)
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(x0, x1, function_2(np.stack([x0, x1])), cmap="viridis", linewidth=0)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_zlabel("f(x0, x1)")
    ax.set_title(_("The surface of f(x0, x1) = x0² + x1²"))
    return fig


@in_reader_language
def plot_gradient_field(lim=2.0, step=0.25) -> Figure:
    """Arrows of the negative gradient of x0**2 + x1**2: they point to the minimum."""
    g = np.arange(-lim, lim + step / 2, step)
    x0, x1 = np.meshgrid(g, g)
    points = np.stack([x0.ravel(), x1.ravel()], axis=1)
    grad = np.array([numerical_gradient(function_2, p.copy()) for p in points])
    fig = Figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot()
    ax.quiver(points[:, 0], points[:, 1], -grad[:, 0], -grad[:, 1], angles="xy", color="#666666")
    ax.set_xlim(-lim - 0.5, lim + 0.5)
    ax.set_ylim(-lim - 0.5, lim + 0.5)
    ax.set_aspect("equal")
    ax.grid(True)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(_("Negative gradient of x0² + x1²"))
    return fig


#: The chapter's three learning rates: converges, diverges, barely moves.
BOOK_LEARNING_RATES = (0.1, 10.0, 1e-10)


@in_reader_language
def plot_descent_path(init_x=(-3.0, 4.0), lr=BOOK_LEARNING_RATES, step_num=100) -> Figure:
    """The path of :func:`gradient_descent` on x0**2 + x1**2, one panel per learning rate.

    ``lr`` is one learning rate or several (the chapter's 0.1, 10 and 1e-10 by default). A path that
    stays near the start is drawn on the contour plot; one that runs away (lr = 10 reaches about
    1e13 in 100 steps) gets symmetric-log axes, whose ticks are powers of ten, so all of it shows.
    """
    rates = [lr] if np.ndim(lr) == 0 else list(lr)
    start = np.array(init_x, dtype=np.float64)
    fig = Figure(figsize=(5.2 * len(rates), 5.4), layout="constrained")
    axes = fig.subplots(1, len(rates), squeeze=False)[0]
    for ax, rate in zip(axes, rates):
        _end, path = gradient_descent(function_2, start, lr=rate, step_num=step_num, return_path=True)
        end = path[-1]
        label = _("lr={rate:g}, {n} steps: ends at ({x0:.3g}, {x1:.3g})", rate=rate, n=step_num, x0=end[0], x1=end[1])
        if np.abs(path).max() <= 10 * np.abs(start).max():
            g = np.linspace(-4.5, 4.5, 181)
            x0, x1 = np.meshgrid(g, g)
            ax.contour(x0, x1, function_2(np.stack([x0, x1])), levels=12, colors="#bbbbbb", linewidths=0.8)
            ax.set_aspect("equal")
            moved = float(np.hypot(*(end - start)))
            if moved < 0.05:
                label += "\n" + _("(moved only {moved:.1e} from the start)", moved=moved)
        else:
            ax.set_xscale("symlog", linthresh=1.0)
            ax.set_yscale("symlog", linthresh=1.0)
            # Every fourth power of ten, so that the tick labels do not run into each other.
            top = int(np.ceil(np.log10(np.abs(path).max())))
            ticks = [s * 10.0**k for s in (-1, 1) for k in range(4, top + 4, 4)] + [0.0]
            ax.set_xticks(sorted(ticks))
            ax.set_yticks(sorted(ticks))
            label += "\n" + _("(diverges: axes in powers of ten)")
        ax.plot(path[:, 0], path[:, 1], "o-", markersize=3, linewidth=0.8, label=label)
        ax.plot([0], [0], "+", color="k", markersize=12, label=_("minimum (0, 0)"))
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        ax.set_title(f"lr = {rate:g}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8)
    fig.suptitle(
        _("Gradient descent on x0² + x1² from ({x0:g}, {x1:g}), {n} steps", x0=start[0], x1=start[1], n=step_num)
    )
    return fig

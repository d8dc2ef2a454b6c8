"""A sweep's two figures: validation accuracy per epoch of the best trials (the book's figure for a
sweep), and every trial placed at its first two parameters, coloured by validation accuracy.

matplotlib is imported when a figure is drawn: a Dask worker imports this package for its trial
and never draws.
"""

from __future__ import annotations

import numpy as np

from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import _


def _label(row, params) -> str:
    parts = []
    for p in params:
        v = row[p.name]
        parts.append(f"{p.name}={v:.3g}" if isinstance(v, float) else f"{p.name}={v}")
    from nnlearn.common.evaluation import as_typed  # matplotlib: a Dask worker imports this module and never draws

    return as_typed(f"#{row['number']} " + ", ".join(parts) + f" ({row['validation_accuracy']:.2%})")


@in_reader_language
def plot_validation_curves(rows, params):
    """The book's figure for a sweep: validation accuracy per epoch of the given trials, each
    labelled with its settings."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    for row in rows:
        ax.plot(row["curve_epochs"], row["curve"], marker="o", markersize=3, label=_label(row, params))
    ax.set_xlabel(_("epochs"))
    ax.set_ylabel(_("validation accuracy"))
    ax.set_title(_("Validation accuracy per epoch, the best {n} trials", n=len(rows)))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _axis(ax, which: str, p, rows):
    """Positions of ``p``'s values on an axis (choices at 0, 1, ...; a log axis for loguniform)."""
    from nnlearn.common.evaluation import as_typed  # matplotlib: a Dask worker imports this module and never draws

    values = [r[p.name] for r in rows]
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    set_label(p.name)
    if p.kind == "choice":
        index = {c: i for i, c in enumerate(p.choices)}
        (ax.set_xticks if which == "x" else ax.set_yticks)(range(len(p.choices)), [as_typed(c) for c in p.choices])
        (ax.set_xlim if which == "x" else ax.set_ylim)(-0.5, len(p.choices) - 0.5)
        jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(values))
        return np.array([index.get(v, np.nan) for v in values], dtype=float) + jitter
    if p.kind == "loguniform":
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@in_reader_language
def plot_search_space(rows, params):
    """Every trial at its first two parameters, coloured by validation accuracy (failed: grey x).
    With one parameter, the validation accuracy against it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5))
    ax = fig.add_subplot()
    done = [r for r in rows if r["state"] == "COMPLETE"]
    failed = [r for r in rows if r["state"] == "FAIL"]
    px = params[0]
    if len(params) >= 2:
        py = params[1]
        if done:
            sc = ax.scatter(
                _axis(ax, "x", px, done),
                _axis(ax, "y", py, done),
                c=[r["validation_accuracy"] for r in done],
                cmap="viridis",
                s=40,
                edgecolors="k",
                linewidths=0.5,
            )
            fig.colorbar(sc, ax=ax, label=_("validation accuracy"))
        if failed:
            ax.scatter(
                _axis(ax, "x", px, failed), _axis(ax, "y", py, failed), marker="x", color="grey", label=_("failed")
            )
            ax.legend(loc="best", fontsize=8)
        ax.set_title(_("Search space: {x} and {y} ({n} trials)", x=px.name, y=py.name, n=len(rows)))
    else:
        if done:
            ax.scatter(_axis(ax, "x", px, done), [r["validation_accuracy"] for r in done], s=40)
        ax.set_ylabel(_("validation accuracy"))
        ax.set_title(_("Search space: {x} ({n} trials)", x=px.name, n=len(rows)))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig

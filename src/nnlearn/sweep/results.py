"""What a sweep folder shows of its trials: ``trials.csv``, ``best.json`` and the two figures.

Written from the study and the trial records after every trial, so that the board and
``nnlearn report`` follow a sweep as it runs; only the driver writes them. The figures: validation
accuracy per epoch of the best trials (the book's figure for a sweep), and every trial placed at its
first two parameters, coloured by validation accuracy. matplotlib is imported only when a figure is
drawn: a Dask worker imports this package for its trial and never draws.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import _
from nnlearn.sweep.trial import read_record
from nnlearn.train.rundir import json_if_readable
from nnlearn.train.runs import write_json, write_text

#: How many of the best trials the validation-curve figure shows.
CURVES = 5
#: The columns of ``trials.csv`` after the trial's number, state and parameters.
_MEASURED = ("validation_accuracy", "epochs", "seconds", "worker", "reason")


def record_path(out, number: int) -> Path:
    return Path(out) / "trials" / f"{number:04d}.json"


def rows(out, spec, study) -> list[dict]:
    """One dict per trial: number, state, parameters, validation accuracy, epochs, seconds, worker, reason."""
    found = []
    for tr in study.get_trials(deepcopy=False):
        rec = read_record(record_path(out, tr.number), tr.number) or {}
        row = {"number": tr.number, "state": tr.state.name}
        for p in spec.params:
            # A trial drawn again after its driver died keeps its settings in its record only.
            row[p.name] = tr.params.get(p.name, rec.get("params", {}).get(p.name))
        curve_epochs = rec.get("epochs", [])
        row.update(
            {
                "validation_accuracy": tr.value if tr.state.name == "COMPLETE" else None,
                "epochs": curve_epochs[-1] if curve_epochs else None,
                "seconds": rec.get("seconds"),
                "worker": rec.get("worker"),
                "reason": rec.get("reason"),
                "curve": rec.get("curve", []),
                "curve_epochs": curve_epochs,
            }
        )
        found.append(row)
    return found


def write_trials_csv(out, spec, trial_rows) -> None:
    columns = ["number", "state", *[p.name for p in spec.params], *_MEASURED]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in trial_rows:
        writer.writerow(
            ["" if row[c] is None else (repr(row[c]) if isinstance(row[c], float) else row[c]) for c in columns]
        )
    write_text(Path(out) / "trials.csv", buf.getvalue())


def ranked(trial_rows) -> list[dict]:
    """The complete trials, best validation accuracy first (the first trial of equals first)."""
    return sorted(
        (r for r in trial_rows if r["state"] == "COMPLETE"), key=lambda r: (-r["validation_accuracy"], r["number"])
    )


def best_entry(spec, trial_rows, sizes) -> dict | None:
    """``best.json``'s content: the best complete trial, its settings and the counts of trials; None
    when no trial has completed. ``sizes``: the network's input and output sizes, for its description."""
    complete = ranked(trial_rows)
    if not complete:
        return None
    top = complete[0]
    values = {p.name: top[p.name] for p in spec.params}
    settings = spec.settings(values)
    return {
        "number": top["number"],
        "params": values,
        "validation_accuracy": top["validation_accuracy"],
        "settings": settings.to_dict(),
        "description": settings.describe(*sizes),
        "trials": {
            "complete": len(complete),
            "failed": sum(r["state"] == "FAIL" for r in trial_rows),
            "total": len(trial_rows),
        },
    }


def write_results(out, spec, study, sizes) -> dict | None:
    """``trials.csv``, ``best.json`` and the two figures from the trials so far; the best trial's
    entry (None when no trial has completed). A final run already made for the same best trial is kept."""
    from nnlearn.common.plots import save_figure  # matplotlib: not on the workers, which import this package

    out = Path(out)
    trial_rows = rows(out, spec, study)
    write_trials_csv(out, spec, trial_rows)
    if trial_rows:
        save_figure(plot_search_space(trial_rows, spec.params), out / "search_space.png", in_run_folder=True)
    best = best_entry(spec, trial_rows, sizes)
    if best is None:
        return None
    save_figure(
        plot_validation_curves(ranked(trial_rows)[:CURVES], spec.params),
        out / "validation_curves.png",
        in_run_folder=True,
    )
    old = json_if_readable(out / "best.json") or {}
    if old.get("number") == best["number"] and isinstance(old.get("final"), dict):
        best["final"] = old["final"]
    write_json(out / "best.json", best)
    return best


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

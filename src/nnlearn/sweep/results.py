"""What a sweep folder shows of its trials: ``trials.csv``, ``best.json`` and the two figures.

Written from the study and the trial records after every trial, so that the board and
``nnlearn report`` follow a sweep as it runs; only the driver writes them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import read_json
from nnlearn.sweep.figures import plot_search_space, plot_validation_curves
from nnlearn.sweep.trial import read_record
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
    try:
        old = read_json(out / "best.json")
    except (OSError, FileFormatError):
        old = None
    if isinstance(old, dict) and old.get("number") == best["number"] and isinstance(old.get("final"), dict):
        best["final"] = old["final"]
    write_json(out / "best.json", best)
    return best

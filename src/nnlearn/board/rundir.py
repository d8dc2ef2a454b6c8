"""Reading run and sweep directories: what the report and the board show, read without writing.

A *run directory* is what ``nnlearn train`` writes (it holds ``config.json``); a *sweep directory*
holds ``trials.csv``. Everything here only reads, and tolerates a run that is being written:
a missing file is "not yet", a column added later is carried along, a column missing is empty.

The state of a run comes from ``state.json`` (``{"state": "running"|"finished"|"stopped"|
"diverged", "pid": ..., "updated": ..., "reason": ...}``, written by the trainer) when present;
a "running" state whose process is no longer alive on this host reads as "stopped". Without
``state.json``: "finished" when ``summary.json`` exists, "diverged" when the last loss logged is
not finite, "running" when a metrics file changed in the last :data:`FRESH_SECONDS`, else "stopped".
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path

#: Without state.json, a run whose files changed within this many seconds counts as running.
FRESH_SECONDS = 600.0

STATES = ("running", "finished", "stopped", "diverged")


def is_run_dir(path: Path) -> bool:
    """True when ``path`` holds a training run (its ``config.json``)."""
    return (Path(path) / "config.json").is_file()


def is_sweep_dir(path: Path) -> bool:
    """True when ``path`` holds a hyper-parameter sweep (its ``trials.csv``)."""
    return (Path(path) / "trials.csv").is_file()


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, half-written or not an object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _number(text):
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def read_table(path: Path) -> tuple[list[str], list[dict]]:
    """A CSV file with a header as ``(columns, rows)``; numbers parsed, empty cells None.

    A missing file is an empty table; a last line cut short (a writer not yet done) is dropped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("epoch,iteration,test_accuracy\\n0.5,300,0.4964\\n1,600,\\n")
    >>> read_table(p)
    (['epoch', 'iteration', 'test_accuracy'], [{'epoch': 0.5, 'iteration': 300, 'test_accuracy': 0.4964}, {'epoch': 1, 'iteration': 600, 'test_accuracy': None}])
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [], []
    reader = csv.reader(io.StringIO(text))
    try:
        columns = [c.strip() for c in next(reader)]
    except StopIteration:
        return [], []
    rows = []
    for cells in reader:
        if len(cells) != len(columns):
            continue  # a line still being written, or damaged
        rows.append({c: _number(v) for c, v in zip(columns, cells)})
    return columns, rows


def read_losses(path: Path) -> tuple[list[int], list[float]]:
    """Iterations and losses from ``metrics.csv`` (columns ``iteration`` and ``loss``)."""
    columns, rows = read_table(path)
    if "loss" not in columns:
        return [], []
    its, losses = [], []
    for n, row in enumerate(rows, 1):
        loss = row.get("loss")
        if isinstance(loss, str):  # "nan", "inf" parse as floats; anything else is damage
            continue
        its.append(row.get("iteration") if isinstance(row.get("iteration"), int) else n)
        losses.append(float("nan") if loss is None else float(loss))
    return its, losses


def last_loss(path: Path) -> tuple[int, float | None]:
    """The last ``(iteration, loss)`` of ``metrics.csv``, read from its end only (cheap for long runs)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return 0, None
    # The first line is the header (a short file) or cut in half (a long one): skip it either way.
    for line in reversed(tail.strip().splitlines()[1:]):
        cells = line.split(",")
        if len(cells) >= 2:
            try:
                return int(cells[0]), float(cells[1])
            except ValueError:
                continue
    return 0, None


def pid_alive(pid) -> bool:
    """True when a process with this id exists on this host."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def run_state(path: Path, final_loss: float | None = None) -> tuple[str, str | None]:
    """``(state, reason)`` of the run in ``path``; see the module's description."""
    path = Path(path)
    state = read_json(path / "state.json")
    if state and state.get("state") in STATES:
        name, reason = state["state"], state.get("reason")
        if name == "running" and not pid_alive(state.get("pid")):
            return "stopped", reason or "its process is no longer running"
        return name, reason
    if (path / "summary.json").is_file():
        return "finished", None
    if final_loss is None:
        final_loss = last_loss(path / "metrics.csv")[1]
    if final_loss is not None and not math.isfinite(final_loss):
        return "diverged", "the loss became infinite or NaN"
    newest = 0.0
    for name in ("metrics.csv", "epochs.csv", "checkpoint.npz", "config.json"):
        try:
            newest = max(newest, (path / name).stat().st_mtime)
        except OSError:
            pass
    if time.time() - newest < FRESH_SECONDS:
        return "running", None
    return "stopped", "no summary.json and no progress for a while"


def accuracy_column(columns, prefer=("validation", "test"), rows=None) -> str | None:
    """The accuracy column to judge by: validation, else test; None when there is neither.

    With ``rows``, a column that holds no number in any row is passed over (``nnlearn train``
    writes an empty ``validation_accuracy`` column when no data are held back).

    Examples
    --------
    >>> accuracy_column(["epoch", "train_accuracy", "test_accuracy", "validation_accuracy"])
    'validation_accuracy'
    >>> accuracy_column(["epoch", "test_accuracy", "validation_accuracy"],
    ...                 rows=[{"test_accuracy": 0.9, "validation_accuracy": None}])
    'test_accuracy'
    >>> accuracy_column(["number", "state", "lr", "validation accuracy"])
    'validation accuracy'
    """
    for word in prefer:
        for c in columns:
            low = c.lower()
            if word in low and "acc" in low:
                if rows is None or any(isinstance(r.get(c), (int, float)) for r in rows):
                    return c
    return None


def run_info(path: Path, root: Path | None = None) -> dict:
    """A run's summary for listings: state, accuracy, settings (small; no curves)."""
    path = Path(path)
    config = read_json(path / "config.json") or {}
    summary = read_json(path / "summary.json") or {}
    columns, epochs = read_table(path / "epochs.csv")
    last_iteration, final_loss = last_loss(path / "metrics.csv")
    state, reason = run_state(path, final_loss)
    last = epochs[-1] if epochs else {}
    acc_col = accuracy_column(columns, rows=epochs)
    test = summary.get("test_accuracy")
    if test is None and acc_col:
        test = last.get(acc_col)
    train = summary.get("train_accuracy", last.get("train_accuracy"))
    settings = config.get("settings") or {}
    mtimes = []
    for name in ("metrics.csv", "epochs.csv", "summary.json", "state.json"):
        try:
            mtimes.append((path / name).stat().st_mtime)
        except OSError:
            pass
    return {
        "kind": "run",
        "path": _relative(path, root),
        "state": state,
        "reason": reason,
        "recipe": config.get("recipe", summary.get("recipe")),
        "dataset": config.get("dataset", summary.get("dataset")),
        "seed": config.get("seed", summary.get("seed")),
        "description": summary.get("description") or describe_settings(settings),
        "test_accuracy": test if isinstance(test, (int, float)) else None,
        "accuracy_name": "test" if summary.get("test_accuracy") is not None else (acc_col or "test"),
        "train_accuracy": train if isinstance(train, (int, float)) else None,
        "iterations": summary.get("iterations", last_iteration),
        "max_iterations": (config.get("trainer") or {}).get("max_iter") or settings.get("iters"),
        "seconds": summary.get("seconds"),
        "nnlearn_version": config.get("nnlearn_version"),
        "updated": max(mtimes) if mtimes else None,
        "has_model": (path / "model.npz").is_file(),
    }


def describe_settings(settings: dict) -> str:
    """A one-line description of a recipe's settings (for runs without a summary yet).

    Examples
    --------
    >>> describe_settings({"hidden": [50], "activation": "sigmoid", "optimizer": "sgd", "lr": 0.1})
    'hidden 50, sigmoid, sgd lr 0.1'
    """
    parts = []
    if settings.get("hidden"):
        parts.append("hidden " + "-".join(str(h) for h in settings["hidden"]))
    if settings.get("activation"):
        parts.append(str(settings["activation"]))
    if settings.get("optimizer"):
        parts.append(f"{settings['optimizer']} lr {settings.get('lr')}")
    return ", ".join(parts)


def sweep_info(path: Path, root: Path | None = None) -> dict:
    """A sweep's summary for listings: number of trials and the best validation accuracy."""
    path = Path(path)
    columns, rows = read_table(path / "trials.csv")
    col = accuracy_column(columns, rows=rows)
    values = [r[col] for r in rows if col and isinstance(r.get(col), (int, float))]
    states = [str(r.get("state", "")).lower() for r in rows]
    best = read_json(path / "best.json") or {}
    finished = bool(best) or (path / "final" / "summary.json").is_file()
    return {
        "kind": "sweep",
        "path": _relative(path, root),
        "state": "finished" if finished else ("running" if any(s in ("running", "") for s in states) else "stopped"),
        "trials": len(rows),
        "test_accuracy": max(values) if values else None,
        "accuracy_name": col,
        "final": _relative(path / "final", root) if is_run_dir(path / "final") else None,
        "updated": _mtime(path / "trials.csv"),
    }


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def run_curves(path: Path, max_points: int = 1000) -> dict:
    """A run's curves for the board: the loss (thinned to about ``max_points``) and the epochs table."""
    its, losses = read_losses(Path(path) / "metrics.csv")
    step = max(1, math.ceil(len(losses) / max_points))
    columns, epochs = read_table(Path(path) / "epochs.csv")
    # An empty column (validation_accuracy of a run without a validation split) draws no curve.
    columns = [c for c in columns if any(r.get(c) is not None for r in epochs)]
    smooth = smoothed(losses, window=max(1, min(100, len(losses) // 20)))
    pick = list(range(0, len(losses), step))
    if losses and pick[-1] != len(losses) - 1:
        pick.append(len(losses) - 1)
    return {
        "loss": [[its[i], _finite(losses[i]), _finite(smooth[i])] for i in pick],
        "iterations": its[-1] if its else 0,
        "epoch_columns": columns,
        "epochs": epochs,
    }


def _finite(x):
    return x if isinstance(x, float) and math.isfinite(x) else (x if isinstance(x, int) else None)


def smoothed(values, window: int) -> list[float]:
    """The running mean of the last ``window`` values at each position (same length as ``values``).

    Examples
    --------
    >>> smoothed([1.0, 3.0, 5.0, 7.0], 2)
    [1.0, 2.0, 4.0, 6.0]
    """
    out, total, window = [], 0.0, max(1, int(window))
    finite = [v if math.isfinite(v) else 0.0 for v in values]
    for i, v in enumerate(finite):
        total += v
        if i >= window:
            total -= finite[i - window]
        out.append(total / min(i + 1, window))
    return out


def find_entries(root: Path, max_depth: int = 3) -> list[dict]:
    """Every run and sweep under ``root`` (not following symbolic links), newest first."""
    root = Path(root)
    found = []
    base_depth = len(root.parts)
    for folder, dirs, _files in os.walk(root):
        here = Path(folder)
        dirs.sort()
        if is_sweep_dir(here):
            found.append(sweep_info(here, root))
            dirs.clear()  # the sweep's trials and final run belong to it
            continue
        if is_run_dir(here):
            found.append(run_info(here, root))
            dirs.clear()
            continue
        if len(here.parts) - base_depth >= max_depth:
            dirs.clear()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    found.sort(key=lambda e: (-(e.get("updated") or 0), e["path"]))
    return found


def _relative(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    rel = Path(os.path.relpath(path, root)).as_posix()
    return "" if rel == "." else rel

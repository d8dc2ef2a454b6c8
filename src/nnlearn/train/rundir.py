"""Reading run folders (``config.json``) and sweep folders (``trials.csv``) for the report and the board.

Everything here only reads, and survives a run being written and a folder from anywhere: a missing
file is "not yet"; files are read bounded, through :mod:`nnlearn.train.tables` (no FIFO, no link out
of the folder); NaN and infinity stay floats that charts skip; a folder whose files hold the wrong
kind of value is one entry of state ``"unreadable"`` naming which file and what (:func:`entry`).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path

from nnlearn.base.errors import FileFormatError, NnlearnError
from nnlearn.base.files import MAX_JSON_BYTES, MAX_PID, parse_json, pid_alive
from nnlearn.base.i18n import N_, _
from nnlearn.train.runs import STATES
from nnlearn.train.settings import TrainSettings
from nnlearn.train.tables import finite, loss_curve, open_file, read_bytes, read_table, thinned_table

#: Without state.json, a run whose files changed within this many seconds counts as running.
FRESH_SECONDS = 600.0
#: The accuracies a listing names in words (the request's or command's language); other columns by their name.
ACCURACY_NAMES = {"test": N_("test"), "validation": N_("validation")}


def is_run_dir(path) -> bool:
    """True when ``path`` holds a training run (its ``config.json``)."""
    return os.path.lexists(Path(path) / "config.json")


def is_sweep_dir(path) -> bool:
    """True when ``path`` holds a hyper-parameter sweep (its ``trials.csv``)."""
    return os.path.lexists(Path(path) / "trials.csv")


def load_json(path) -> dict | None:
    """The JSON object in ``path`` (NaN and infinity as None); None when the file is missing, else a
    :class:`~nnlearn.base.errors.FileFormatError` naming the file (damaged, not an object, too large)."""
    path = Path(path)
    try:
        data = read_bytes(path, MAX_JSON_BYTES)  # through open_file: no link out of the folder
    except FileNotFoundError:
        return None
    value = parse_json(data, path.name)
    if not isinstance(value, dict):
        raise FileFormatError(_("{name} is not a JSON object", name=path.name))
    return value


def json_if_readable(path) -> dict | None:
    """Like :func:`load_json`, but None for a damaged file too (for what is merely shown)."""
    try:
        return load_json(path)
    except (NnlearnError, OSError):
        return None


def last_loss(path) -> tuple[int, float | None]:
    """The last ``(iteration, loss)`` of ``metrics.csv``, read from its end only (cheap for long runs)."""
    try:
        fd = open_file(path)  # a regular file, not through a link out of the folder
    except (OSError, NnlearnError):
        return 0, None
    with os.fdopen(fd, "rb") as fh:
        fh.seek(max(0, os.fstat(fd).st_size - 4096))
        tail = fh.read(4096).decode("utf-8", "replace")
    # The first line is the header (a short file) or cut in half (a long one): skip it either way.
    for line in reversed(tail.strip().splitlines()[1:]):
        cells = line.split(",")
        with contextlib.suppress(ValueError, IndexError):  # a damaged line: the one before it
            return int(cells[0]), float(cells[1])
    return 0, None


def _check_state(state: dict) -> None:
    if state.get("state") not in STATES:
        raise FileFormatError(_("state.json: the state is not one of {states}", states=", ".join(STATES)))
    pid = state.get("pid")
    if pid is not None and not (isinstance(pid, int) and not isinstance(pid, bool) and 0 <= pid <= MAX_PID):
        raise FileFormatError(_("state.json: the pid is not a process id"))
    if not isinstance(state.get("reason"), (str, type(None))):
        raise FileFormatError(_("state.json: the reason is not text"))


def run_state(path, last_loss_seen: float | None = None) -> tuple[str, str | None]:
    """``(state, reason)`` of the run in ``path``: ``state.json``'s (a "running" run whose process is gone is
    "stopped"); without it "finished" when ``summary.json`` exists, "diverged" when the last loss is not
    finite, "running" when a file changed in the last :data:`FRESH_SECONDS`, else "stopped"."""
    path = Path(path)
    state = load_json(path / "state.json")
    if state is not None:
        _check_state(state)
        name, reason = state["state"], state.get("reason")
        if name == "running" and not pid_alive(state.get("pid")):
            return "stopped", reason or _("its process is no longer running")
        return name, reason
    if os.path.lexists(path / "summary.json"):
        return "finished", None
    if last_loss_seen is None:
        last_loss_seen = last_loss(path / "metrics.csv")[1]
    if last_loss_seen is not None and not math.isfinite(last_loss_seen):
        return "diverged", _("the loss became infinite or NaN")
    newest = _newest(path, ("metrics.csv", "epochs.csv", "checkpoint.npz", "config.json")) or 0
    if time.time() - newest < FRESH_SECONDS:
        return "running", None
    return "stopped", _("no summary.json and no progress for a while")


def accuracy_column(columns, prefer=("validation", "test"), rows=None) -> str | None:
    """The accuracy column to judge by: validation, else test; None when there is neither.

    With ``rows``, a column that holds no finite number in any row is passed over (``nnlearn train``
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
            if word in c.lower() and "acc" in c.lower() and (rows is None or any(finite(r.get(c)) for r in rows)):
                return c
    return None


def drawn_columns(columns, rows) -> list[str]:
    """The columns that hold at least one finite number: what a chart draws (no empty legend).

    Examples
    --------
    >>> drawn_columns(["epoch", "test_accuracy", "validation_accuracy"],
    ...               [{"epoch": 1, "test_accuracy": 0.9, "validation_accuracy": None}])
    ['epoch', 'test_accuracy']
    """
    return [c for c in columns if any(finite(r.get(c)) for r in rows)]


def _numbers(d: dict, keys, what: str) -> None:
    for key in keys:
        v = d.get(key)
        if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            raise FileFormatError(_("{what}: {key} is not a number", what=what, key=key))


def _texts(d: dict, keys, what: str) -> None:
    for key in keys:
        if not isinstance(d.get(key), (str, int, float, type(None))):
            raise FileFormatError(_("{what}: {key} is not text", what=what, key=key))


def read_run(path) -> tuple[dict, dict]:
    """``(config, summary)`` of a run folder, checked: every value the report and the board show
    has the kind they expect. :class:`~nnlearn.base.errors.FileFormatError` names what is wrong."""
    path = Path(path)
    config = load_json(path / "config.json") or {}
    summary = load_json(path / "summary.json") or {}
    for key in ("settings", "trainer", "network"):
        if not isinstance(config.get(key), (dict, type(None))):
            raise FileFormatError(_("{what} is not an object", what="config.json: " + key))
    _texts(config, ("recipe", "dataset", "seed", "nnlearn_version", "data_dir"), "config.json")
    _numbers(config.get("trainer") or {}, ("max_iter",), "config.json: trainer")
    _numbers(summary, ("test_accuracy", "train_accuracy", "validation_accuracy"), "summary.json")
    _numbers(summary, ("iterations", "epochs", "seconds", "final_loss", "last_batch_loss"), "summary.json")
    _texts(summary, ("recipe", "dataset", "seed", "description"), "summary.json")
    return config, summary


def run_info(path, root=None) -> dict:
    """A run's summary for listings: state, accuracy, settings (no curves); a damaged run raises
    :class:`~nnlearn.base.errors.FileFormatError` (see :func:`entry`)."""
    path = Path(path)
    config, summary = read_run(path)
    columns, epochs = thinned_table(path / "epochs.csv")
    last_iteration, last_batch_loss = last_loss(path / "metrics.csv")
    state, reason = run_state(path, last_batch_loss)
    last = epochs[-1] if epochs else {}
    acc_col = accuracy_column(columns, rows=epochs)
    test = summary.get("test_accuracy")
    name = "test"
    if test is None and acc_col:
        test, name = last.get(acc_col), acc_col
    train = summary.get("train_accuracy", last.get("train_accuracy"))
    settings = config.get("settings") or {}
    return {
        "kind": "run",
        "path": relative(path, root),
        "state": state,
        "reason": reason,
        "recipe": config.get("recipe", summary.get("recipe")),
        "dataset": config.get("dataset", summary.get("dataset")),
        "seed": config.get("seed", summary.get("seed")),
        "description": summary.get("description") or describe(settings, config.get("network") or {}),
        "test_accuracy": test if finite(test) else None,
        "accuracy_name": _accuracy_word(name),
        "train_accuracy": train if finite(train) else None,
        "iterations": summary.get("iterations", last_iteration),
        "max_iterations": (config.get("trainer") or {}).get("max_iter") or settings.get("iters"),
        "seconds": summary.get("seconds"),
        "nnlearn_version": config.get("nnlearn_version"),
        "updated": _newest(path, ("metrics.csv", "epochs.csv", "summary.json", "state.json")),
        "has_model": os.path.lexists(path / "model.npz"),
    }


def describe(settings: dict, network: dict) -> str | None:
    """:meth:`TrainSettings.describe` of a run's ``config.json`` (for runs without a summary yet); None where
    its settings are not those of any nnlearn run.

    Examples
    --------
    >>> describe({"hidden": [100, 100], "activation": "relu"}, {"input_size": 784, "output_size": 10})
    '784-100-100-10 relu, std 0.01, sgd lr 0.1, batch 100, 10000 iterations, float32'
    """
    ends = [network.get(key) for key in ("input_size", "output_size")]
    try:
        return TrainSettings.from_dict(settings).describe(*(n if type(n) is int else None for n in ends))
    except (NnlearnError, TypeError, ValueError):
        return None


def sweep_info(path, root=None) -> dict:
    """A sweep's summary for listings: number of trials and the best validation accuracy."""
    path = Path(path)
    columns, rows = read_table(path / "trials.csv")
    col = accuracy_column(columns, rows=rows)
    values = [r[col] for r in rows if col and finite(r.get(col))]
    states = [str(r.get("state", "")).lower() for r in rows]
    best = json_if_readable(path / "best.json") or {}
    finished = bool(best) or os.path.lexists(path / "final" / "summary.json")
    return {
        "kind": "sweep",
        "path": relative(path, root),
        "state": "finished" if finished else ("running" if any(s in ("running", "") for s in states) else "stopped"),
        "reason": None,
        "trials": len(rows),
        "test_accuracy": max(values) if values else None,
        "accuracy_name": _("best {which}", which=_accuracy_word(col)) if col else None,
        "final": relative(path / "final", root) if is_run_dir(path / "final") else None,
        "updated": _newest(path, ("trials.csv",)),
    }


def accuracy_label(column: str) -> str:
    """An accuracy column as a reader calls it, in the current language (``test_accuracy`` -> "test accuracy")."""
    return _("{which} accuracy", which=_accuracy_word(column))


def _accuracy_word(column: str) -> str:
    name = column.replace("_accuracy", "").replace(" accuracy", "").replace("_", " ")
    return _(ACCURACY_NAMES[name]) if name in ACCURACY_NAMES else name


def entry(path, root=None) -> dict:
    """:func:`sweep_info` or :func:`run_info` of ``path``; a folder that cannot be read is an
    entry of state ``"unreadable"`` whose ``reason`` says why (the listing goes on without it)."""
    path = Path(path)
    kind = "sweep" if is_sweep_dir(path) else "run"
    try:
        return sweep_info(path, root) if kind == "sweep" else run_info(path, root)
    except (NnlearnError, OSError, ValueError) as exc:
        reason = (
            str(exc).splitlines()[0]
            if isinstance(exc, NnlearnError)
            else _("cannot be read ({error})", error=type(exc).__name__)
        )
        return {
            "kind": kind,
            "path": relative(path, root),
            "state": "unreadable",
            "reason": reason,
            "test_accuracy": None,
            "accuracy_name": None,
            "updated": _newest(path, ("config.json", "trials.csv")),
        }


def _newest(path: Path, names) -> float | None:
    times = []
    for name in names:
        with contextlib.suppress(OSError):
            times.append(os.lstat(path / name).st_mtime)
    return max(times) if times else None


def run_curves(path) -> dict:
    """A run's curves for the board, bounded whatever the files hold (:mod:`nnlearn.train.tables`): the
    loss (iteration, loss, moving average) at most ``MAX_POINTS + 1`` times, and the epochs
    table's rows (as many at most) with the columns that hold numbers."""
    path = Path(path)
    curve = loss_curve(path / "metrics.csv")
    columns, epochs = thinned_table(path / "epochs.csv")
    return {
        "loss": [[it, loss if math.isfinite(loss) else None, smooth] for it, loss, smooth in curve["points"]],
        "iterations": curve["last_iteration"],
        "epoch_columns": drawn_columns(columns, epochs),
        "epochs": [{c: (v if finite(v) else None) for c, v in r.items()} for r in epochs],
    }


def find_entries(root, max_depth: int = 3) -> list[dict]:
    """Every run and sweep under ``root`` (not following symbolic links), newest first; each read
    on its own by :func:`entry`."""
    root = Path(root)
    found = []
    base_depth = len(root.parts)
    for folder, dirs, _files in os.walk(root, onerror=lambda exc: None):
        here = Path(folder)
        dirs.sort()
        if is_sweep_dir(here) or is_run_dir(here):
            found.append(entry(here, root))
            dirs.clear()  # a sweep's trials and final run belong to it
            continue
        if len(here.parts) - base_depth >= max_depth:
            dirs.clear()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    found.sort(key=lambda e: (-(e.get("updated") or 0), e["path"]))
    return found


def relative(path, root=None) -> str:
    """``path`` relative to ``root`` with forward slashes ("" for the root itself); ``path`` as it is without a root."""
    if root is None:
        return str(path)
    rel = Path(os.path.relpath(path, root)).as_posix()
    return "" if rel == "." else rel

"""The report's pages: what is shown of a run, of several runs and of a sweep (``templates/report/``).

Everything is read through :mod:`nnlearn.train.rundir`, tolerantly (a damaged file is a note in the page,
not a failed report), and reaches the page as text or numbers that the templates escape. The charts are
the run figures' own (:mod:`nnlearn.common.evaluation`) as inline SVG, whose texts matplotlib escapes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from markupsafe import Markup

from nnlearn.base.errors import NnlearnError
from nnlearn.base.files import atomic_write
from nnlearn.base.i18n import N_, _
from nnlearn.common.evaluation import figure_svg, plot_accuracy, plot_loss, plot_runs
from nnlearn.see.images import PNG_SIGNATURE, data_uri
from nnlearn.see.landscape import LANDSCAPE_FILE, landscape_png, read_landscape
from nnlearn.see.report.model import model_sections
from nnlearn.see.report.numbers import NONE, jsonish, num, pct, sci, seconds
from nnlearn.see.templating import render
from nnlearn.train import rundir, tables
from nnlearn.train.settings import RENAMED, specs

#: Most loss points drawn per series; longer runs are thinned evenly, or sampled (nnlearn.train.tables).
MAX_LOSS_POINTS = 2500
#: Largest PNG figure of a sweep folder embedded, in bytes.
MAX_FIGURE_BYTES = 2_000_000
#: A run's states (nnlearn.train.rundir) as the page names them; the state itself stays the class of its cell.
STATES = (N_("running"), N_("finished"), N_("stopped"), N_("diverged"), N_("unreadable"))


def state_name(state) -> str:
    """A state in the current language (one nnlearn does not know, as it is)."""
    return _(state) if state in STATES else num(state)


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _settings(config: dict) -> dict:
    """A run's settings under today's names (a run written before the book's names says ``hidden``)."""
    return {RENAMED.get(k, k): v for k, v in _object(config.get("settings")).items()}


def _curves(run: Path):
    """``(loss curve, columns, epochs, note)``, each thinned to what a chart draws
    (:func:`nnlearn.train.tables.loss_curve`): a file that cannot be read leaves its curve empty and a note."""
    try:
        curve = tables.loss_curve(run / "metrics.csv", MAX_LOSS_POINTS)
        columns, epochs = tables.thinned_table(run / "epochs.csv", MAX_LOSS_POINTS)
    except NnlearnError as exc:
        return {"points": []}, [], [], str(exc).splitlines()[0]
    return curve, columns, epochs, None


def numbers(rows, column) -> list:
    """A column of a table as numbers for a chart: a cell that is not a finite number (text, NaN) is None, a gap."""
    return [r.get(column) if tables.finite(r.get(column)) else None for r in rows]


def chart(fig, name: str) -> dict:
    """A figure of :mod:`nnlearn.common.evaluation` as an inline ``<svg>`` (matplotlib escapes its texts; the page's
    policy runs no script in it)."""
    return {"svg": Markup(figure_svg(fig, name))}


def loss_chart(curve: dict) -> dict:
    """The run's loss figure (``loss.png``'s, :func:`nnlearn.common.evaluation.plot_loss`) of the thinned curve."""
    points = curve["points"]
    if not points:
        return {"note": _("No loss logged yet (metrics.csv is empty).")}
    iterations, losses, means = (list(column) for column in zip(*points))  # points: (iteration, loss, mean)
    options = {"step": curve["step"], "sampled": curve["sampled"]}
    return chart(plot_loss(losses, curve["window"], iterations=iterations, means=means, **options), "loss")


def accuracy_chart(columns, epochs) -> dict:
    """The run's accuracy figure (``accuracy.png``'s): the training accuracy and the validation one, else the test one."""
    if not any("acc" in c.lower() for c in rundir.drawn_columns(columns, epochs)):
        return {"note": _("No epoch finished yet (epochs.csv is empty).")}
    other = rundir.accuracy_column(columns, rows=epochs)
    xcol = "epoch" if "epoch" in columns else columns[0]
    label = ("validation acc" if "valid" in other.lower() else "test acc") if other else "test acc"
    test = numbers(epochs, other) if other else None
    fig = plot_accuracy(numbers(epochs, xcol), numbers(epochs, "train_accuracy"), test, test_label=label)
    return chart(fig, "accuracy")


def settings_rows(config: dict, summary: dict, info: dict) -> list[dict]:
    """A run's state, result and settings, one labelled row each (a run's table; a column of the comparison)."""
    state = info.get("state")
    test_accuracy = pct(summary.get("test_accuracy", info.get("test_accuracy")))
    rows = [
        {"label": _("state"), "value": state_name(state), "state": state, "note": info.get("reason")},
        {"label": _("recipe"), "value": num(config.get("recipe"))},
        {"label": _("data set"), "value": num(config.get("dataset"))},
        {"label": _("network"), "value": num(summary.get("description") or info.get("description"))},
        {"label": _("test accuracy"), "value": test_accuracy, "id": "test-accuracy"},
        {"label": _("train accuracy"), "value": pct(summary.get("train_accuracy", info.get("train_accuracy")))},
        {"label": _("iterations"), "value": num(summary.get("iterations", info.get("iterations")))},
        {"label": _("epochs"), "value": num(summary.get("epochs"))},
        {"label": _("last batch loss"), "value": num(summary.get("last_batch_loss", summary.get("final_loss")))},
        {"label": _("time"), "value": seconds(summary.get("seconds"))},
        {"label": _("seed"), "value": num(config.get("seed"))},
        {"label": _("nnlearn version"), "value": num(config.get("nnlearn_version"))},
    ]
    settings, declared = _settings(config), specs()
    # Each setting under its declared label (nnlearn.train.settings), in declaration order; unknown ones after.
    order = [k for k in declared if k in settings] + sorted(k for k in settings if k not in declared)
    rows += [
        {"label": _(declared[k].label) if k in declared else _("setting: {name}", name=k), "value": num(settings[k])}
        for k in order
        if settings[k] is not None
    ]
    return [{"state": None, "note": None, "id": None} | r for r in rows]


def gradcheck_context(run: Path) -> dict | None:
    """The gradient check of ``gradcheck.json`` (see :mod:`nnlearn.see.report`), or None."""
    data = rundir.json_if_readable(run / "gradcheck.json")
    if not data or not isinstance(data.get("params"), dict):
        return None
    limit = data.get("limit", 1e-6)
    rows, worst = [], 0.0
    for key, r in data["params"].items():
        r = _object(r)
        rel = r.get("relative")
        if tables.finite(rel):
            worst = max(worst, rel)
        rows.append(
            {
                "name": key,
                "shape": num(r.get("shape")),
                "checked": num(r.get("checked")),
                "max_abs": sci(r.get("max_abs")),
                "relative": sci(rel),
            }
        )
    ok = tables.finite(limit) and worst <= limit
    return {
        "agree": ok,
        "batch": num(data["batch"]) if data.get("batch") else "",
        "worst": sci(worst),
        "limit": sci(limit),
        "rows": rows,
    }


def run_context(run: Path, *, where=None, test_data=None, data_dir=None, download: bool = True) -> dict:
    """What ``report/run.html`` shows of one run folder; ``where`` is the folder as shown (default: as given)."""
    run = Path(run)
    config, info, rows = _run_table(run)
    curve, columns, epochs, note = _curves(run)
    charts = (
        [{"note": _("The curves cannot be drawn: {why}.", why=note)}]
        if note
        else [loss_chart(curve), accuracy_chart(columns, epochs)]
    )
    return {
        "name": run.name,
        "where": str(run) if where is None else where,
        "rows": rows,
        "charts": charts,
        "model": model_sections(run, config, info, test_data, data_dir, download),
        "gradcheck": gradcheck_context(run),
        "landscape": landscape_context(run),
    }


def _run_table(run: Path) -> tuple[dict, dict, list[dict]]:
    """A run folder's config, its entry (:func:`nnlearn.train.rundir.entry`) and its :func:`settings_rows`."""
    config, info = rundir.json_if_readable(run / "config.json") or {}, rundir.entry(run)
    return config, info, settings_rows(config, rundir.json_if_readable(run / "summary.json") or {}, info)


def landscape_context(run: Path) -> dict | None:
    """The run's loss landscape (``nnlearn landscape RUN``) as a picture and a line, or None without one."""
    npz = run / LANDSCAPE_FILE
    if not os.path.lexists(npz):
        return None
    try:  # never through a link that leads out of the run folder (nnlearn.train.tables.open_file)
        land = read_landscape(tables.checked_path(npz))
    except (NnlearnError, OSError, ValueError) as exc:
        return {"note": _("The landscape cannot be read: {why}", why=str(exc).splitlines()[0])}
    alpha, beta, lowest = land.lowest()
    meta = land.meta
    return {
        "uri": data_uri(landscape_png(land, dpi=80)),
        "note": None,
        "text": _(
            "The training loss on {samples} training images over a plane through the trained weights "
            "({directions} directions, a {grid}x{grid} grid), with the path the weights took. The lowest "
            "loss, {lowest}, lies {cells} grid cells from the trained weights (loss {centre}).",
            samples=num(meta.get("samples")),
            directions=num(meta.get("directions")),
            grid=num(meta.get("grid")),
            lowest=format(lowest, ".4g"),
            cells=land.cells_from_centre(),
            centre=num(meta.get("centre_loss")),
        ),
    }


def overlaid(name: str, loss, columns, epochs) -> dict:
    """One run among others in :func:`nnlearn.common.evaluation.plot_runs`, from its loss points
    ``(iteration, loss, moving mean)`` and its epochs table (the report's comparison and the board's chart)."""
    col = rundir.accuracy_column(columns, rows=epochs)
    return {
        "name": name,
        "iterations": [p[0] for p in loss],
        "means": [p[2] for p in loss],
        "epochs": numbers(epochs, "epoch"),
        "accuracy": numbers(epochs, col),
        "column": col and rundir.accuracy_label(col),
    }


def compare_context(runs: list[Path]) -> dict:
    """Curves of several runs overlaid (:func:`nnlearn.common.evaluation.plot_runs`), and their settings side by side."""
    curves, columns = [], []
    for run, name in zip(runs, short_names(runs)):
        curve, epoch_columns, epochs, _extra = _curves(run)
        curves.append(overlaid(name, curve["points"], epoch_columns, epochs))
        columns.append({r["label"]: r["value"] for r in _run_table(run)[2]})
    labels = dict.fromkeys(label for column in columns for label in column)  # the first run's order, then others'
    rows = [(label, [column.get(label, NONE) for column in columns]) for label in labels]
    return {"names": [c["name"] for c in curves], "rows": rows, "chart": chart(plot_runs(curves), "runs")}


def short_names(runs: list[Path]) -> list[str]:
    names = [r.name or str(r) for r in runs]
    return [str(r) for r in runs] if len(set(names)) < len(names) else names


def figure(path: Path) -> dict:
    """A sweep's PNG figure as a ``data:`` URI, or why it is not embedded."""
    try:
        data = tables.read_bytes(path, MAX_FIGURE_BYTES)
    except (NnlearnError, OSError):
        data = b""
    if data.startswith(PNG_SIGNATURE):
        return {"name": path.name, "uri": data_uri(data)}
    why = _("not a PNG file of at most {mb} MB", mb=MAX_FIGURE_BYTES // 1_000_000)
    return {"name": path.name, "uri": "", "why": why}


def sweep_context(sweep: Path, *, where=None, **run_options) -> dict:
    """A sweep's trials sorted by validation accuracy, its best trial, figures and final run."""
    try:
        columns, rows = tables.read_table(sweep / "trials.csv")
    except NnlearnError:
        columns, rows = [], []
    col = rundir.accuracy_column(columns, rows=rows)
    if col:
        rows.sort(key=lambda r: -r[col] if tables.finite(r.get(col)) else math.inf)
    best = rundir.json_if_readable(sweep / "best.json") or {}
    final = sweep / "final"
    return {
        "name": sweep.name,
        "where": str(sweep) if where is None else where,
        "columns": columns,
        "trials": [[num(r.get(c)) for c in columns] for r in rows],
        "sort_column": col or _("first column"),
        "ranked": bool(col),
        "best": [(k, jsonish(v)) for k, v in best.items()],
        "figures": [figure(f) for f in sorted(sweep.glob("*.png"))],
        "final": run_context(final, where=f"{where}/final" if where is not None else None, **run_options)
        if rundir.is_run_dir(final)
        else None,
    }


def check_dirs(dirs) -> list[Path]:
    """The given folders as paths, each a run or sweep directory, else a one-line error."""
    paths = [Path(d) for d in dirs]
    if not paths:
        raise NnlearnError(_("give at least one run or sweep directory"))
    for p in paths:
        if not p.is_dir():
            raise NnlearnError(
                _("{path} is not a directory; give a run directory (from `nnlearn train`) or a sweep directory", path=p)
            )
        if not (rundir.is_run_dir(p) or rundir.is_sweep_dir(p)):
            raise NnlearnError(
                _(
                    "{path} holds neither config.json (a run) nor trials.csv (a sweep); give the folder "
                    "that `nnlearn train` wrote",
                    path=p,
                )
            )
    if len(paths) > 1 and any(rundir.is_sweep_dir(p) for p in paths):
        raise NnlearnError(_("a sweep is reported on its own; give one sweep directory, or several run directories"))
    return paths


def build_report(dirs, *, data_dir=None, download: bool = True, test_data=None, where=None, languages=None) -> str:
    """The HTML text of the report on ``dirs`` (one run, one sweep, or several runs), in the current
    language (:mod:`nnlearn.base.i18n`: a command's ``--lang``, ...).

    ``test_data`` (``(x_test, t_test)``) saves loading the test set again; ``download=False``
    never downloads it; ``where`` is how a single folder is named in the page (default: as given);
    ``languages``, the board's links to the page in each language (none in a file).
    """
    paths = check_dirs(dirs)
    options = {"data_dir": data_dir, "download": download, "test_data": test_data, "where": where}
    p = paths[0]
    if len(paths) > 1:
        kind, title, context = "compare", _("nnlearn: runs compared"), compare_context(paths)
    elif rundir.is_sweep_dir(p):
        kind, title, context = "sweep", _("nnlearn sweep {name}", name=p.name), sweep_context(p, **options)
    else:
        kind, title, context = "run", _("nnlearn run {name}", name=p.name), {"run": run_context(p, **options)}
    return render("report/page.html", title=title, kind=kind, languages=languages, **context)


def default_output(dirs) -> Path:
    """Where ``nnlearn report`` writes by default: ``DIR/report.html`` for one folder."""
    paths = [Path(d) for d in dirs]
    if len(paths) != 1:
        raise NnlearnError(_("several directories make one comparison report: say where it goes with --out FILE.html"))
    return paths[0] / "report.html"


def write_report(dirs, out=None, *, data_dir=None, download: bool = True) -> Path:
    """Write the report on ``dirs`` to ``out`` (default :func:`default_output`) atomically; return the path."""
    # The default, DIR/report.html, is the folder's own report; a path the user names must lie outside
    # every run or sweep folder.
    own = out is None
    out = Path(out) if out is not None else default_output(dirs)
    text = build_report(dirs, data_dir=data_dir, download=download)
    with atomic_write(out, "wb", in_run_folder=own) as fh:
        fh.write(text.encode("utf-8"))
    return out

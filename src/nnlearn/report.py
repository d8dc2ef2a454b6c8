"""A training run, several runs or a sweep as ONE self-contained HTML file.

Every chart is inline SVG, every picture an embedded PNG (``data:`` URI), the style sheet is in
the page: the file opens from disk, mailed or archived, with no network and no other file.

For a run directory the report shows the settings and the result; the loss per iteration (raw and
smoothed); the accuracies per epoch on an axis zoomed to the data; the confusion matrix with the
accuracy per class; the first layer's weights as 28x28 images; the most confident mistakes and the
least confident correct answers; and the gradient check when the run holds a ``gradcheck.json``.
For several run directories: their curves overlaid and their settings side by side. For a sweep
directory (``trials.csv``): the trials sorted by validation accuracy, ``best.json``, the sweep's
PNG figures and the report of its ``final/`` run.

``gradcheck.json`` (optional, in a run directory) is the result of comparing backpropagation
with the numerical gradient::

    {"params": {"W1": {"shape": [784, 50], "checked": 100, "max_abs": 2.1e-10, "relative": 3.4e-9}, ...},
     "limit": 1e-6,                       # optional: the largest relative difference accepted
     "batch": "mnist train[:3]",          # optional: what the gradient was taken on
     "seconds": 0.4}                      # optional

``params`` maps each parameter to what :func:`nnlearn.gradient_check` returns for it (``checked``,
``max_abs``, ``relative``) plus its ``shape``.

The confusion matrix and the example images need the model (``model.npz``) and the test set; when
either is missing the report says so in place of those sections and shows the rest.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from nnlearn.board import rundir
from nnlearn.board.png import data_uri, diverging, encode_png, tile
from nnlearn.board.svg import PALETTE, line_chart, zoomed_range
from nnlearn.errors import NnlearnError

#: Most hidden units drawn in the weight grid; the images of a wide layer would make the file large.
MAX_WEIGHT_TILES = 128
#: Example images per gallery (mistakes, doubtful correct answers).
GALLERY = 24
#: Most loss points drawn per series; longer runs are thinned evenly (the smoothed line is exact).
MAX_LOSS_POINTS = 2500
#: Largest PNG figure of a sweep folder embedded, in bytes.
MAX_FIGURE_BYTES = 2_000_000

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border:1px solid #ddd;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.big{font-size:1.4em;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1em}.note{color:#666;font-size:.9em}
.gallery{display:flex;flex-wrap:wrap;gap:.6em}.gallery figure{margin:0;text-align:center;font-size:.8em;width:84px}
.gallery img{width:84px;height:84px;image-rendering:pixelated;border:1px solid #ccc}
img.weights{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}
.state-running{color:#1565c0}.state-finished{color:#2e7d32}.state-stopped{color:#777}.state-diverged{color:#c62828}
.best td{background:#e8f5e9}img.figure{max-width:100%;border:1px solid #eee}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _pct(value, digits: int = 2) -> str:
    return f"{value:.{digits}%}" if isinstance(value, (int, float)) and math.isfinite(value) else "–"


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return _e(value if value is not None else "–")


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# -- the test set and the model ----------------------------------------------------------------


def load_test_set(config: dict, data_dir=None, download: bool = True):
    """The test images and labels of the run's data set, as training saw them (normalized, flat).

    ``download=False`` never reaches the network: missing files are an error instead.
    """
    from nnlearn.datasets import get_spec, load_dataset

    name = config.get("dataset") or "mnist"
    folder = data_dir or config.get("data_dir")
    if not download:
        from nnlearn.datasets.download import ensure_files

        ensure_files(get_spec(name), folder, download=False)
    _, (x_test, t_test) = load_dataset(name, normalize=True, flatten=True, data_dir=folder)
    return x_test, t_test


def _class_labels(dataset: str, n: int) -> list[str]:
    if dataset and dataset != "mnist":
        try:
            from nnlearn.datasets import class_names

            names = list(class_names(dataset))
            if len(names) == n:
                return names
        except Exception:  # an unknown data set: plain numbers
            pass
    return [str(k) for k in range(n)]


def _image_uri(row, side: int) -> str:
    return data_uri(encode_png(np.asarray(row, dtype=np.float64).reshape(side, side)))


# -- sections of a run -------------------------------------------------------------------------


def _settings_table(config: dict, summary: dict, info: dict) -> str:
    s = config.get("settings") or {}
    rows = [
        ("state", f'<span class="state-{_e(info["state"])}">{_e(info["state"])}</span>'
                  + (f' <span class="note">({_e(info["reason"])})</span>' if info.get("reason") else "")),
        ("recipe", _e(config.get("recipe"))),
        ("data set", _e(config.get("dataset"))),
        ("network", _e(summary.get("description") or info.get("description"))),
        ("test accuracy", f'<span class="big" id="test-accuracy">{_pct(summary.get("test_accuracy", info.get("test_accuracy")))}</span>'),
        ("train accuracy", _pct(summary.get("train_accuracy", info.get("train_accuracy")))),
        ("iterations", _e(summary.get("iterations", info.get("iterations")))),
        ("epochs", _num(summary.get("epochs"))),
        ("final loss", _num(summary.get("final_loss"))),
        ("time", f'{summary["seconds"]:.1f} s' if isinstance(summary.get("seconds"), (int, float)) else "–"),
        ("seed", _e(config.get("seed"))),
        ("nnlearn version", _e(config.get("nnlearn_version"))),
    ]
    rows += [(f"setting: {k}", _num(v)) for k, v in sorted(s.items()) if v is not None]
    return "<table>" + "".join(f'<tr><th class="l">{_e(k)}</th><td class="l">{v}</td></tr>' for k, v in rows) + "</table>"


def _loss_chart(its, losses, title="Loss per iteration") -> str:
    if not losses:
        return '<p class="note">No loss logged yet (metrics.csv is empty).</p>'
    window = max(1, min(100, len(losses) // 20))
    smooth = rundir.smoothed(losses, window)
    step = max(1, math.ceil(len(losses) / MAX_LOSS_POINTS))
    idx = list(range(0, len(losses), step))
    finite = [v for v in losses if math.isfinite(v)]
    top = float(np.quantile(finite, 0.995)) * 1.05 if finite else 1.0
    series = [
        {"label": "loss per iteration" + (f" (every {step}th)" if step > 1 else ""), "x": [its[i] for i in idx],
         "y": [losses[i] for i in idx], "width": 0.8, "opacity": 0.45, "color": PALETTE[0]},
        {"label": f"mean of the last {window}", "x": [its[i] for i in idx], "y": [smooth[i] for i in idx],
         "color": PALETTE[1], "width": 2},
    ]
    return line_chart(series, title=title, xlabel="iteration", ylabel="loss", ylim=(0.0, max(top, 1e-3)))


def _accuracy_chart(columns, epochs, title="Accuracy per epoch") -> str:
    acc_cols = [c for c in columns if "acc" in c.lower()]
    if not epochs or not acc_cols:
        return '<p class="note">No epoch finished yet (epochs.csv is empty).</p>'
    xcol = "epoch" if "epoch" in columns else columns[0]
    series = []
    for k, c in enumerate(acc_cols):
        ys = [r.get(c) if isinstance(r.get(c), (int, float)) else None for r in epochs]
        series.append({"label": c.replace("_", " "), "x": [r.get(xcol) for r in epochs], "y": ys,
                       "markers": True, "dash": k % 2 == 1, "color": PALETTE[k]})
    values = [y for s in series for y in s["y"]]
    return line_chart(series, title=title + " (axis zoomed to the data)", xlabel=xcol, ylabel="accuracy",
                      ylim=zoomed_range(values), percent=True, legend="lower right")


def _confusion_table(matrix: np.ndarray, labels: list[str]) -> str:
    n = len(labels)
    totals = matrix.sum(axis=1)
    head = "<tr><th class=\"l\">true \\ predicted</th>" + "".join(f"<th>{_e(l)}</th>" for l in labels) + \
        "<th>accuracy</th><th>count</th></tr>"
    rows = []
    for i in range(n):
        cells = []
        for j in range(n):
            share = matrix[i, j] / max(1, totals[i])
            # Colour by the share of the true class (square root: rare mistakes stay visible).
            alpha = math.sqrt(share)
            fg = "#fff" if alpha > 0.6 else "#222"
            base = "46,125,50" if i == j else "198,40,40"
            cells.append(f'<td style="background:rgba({base},{alpha:.2f});color:{fg}">{int(matrix[i, j])}</td>')
        acc = matrix[i, i] / totals[i] if totals[i] else float("nan")
        rows.append(f"<tr><th>{_e(labels[i])}</th>{''.join(cells)}<td>{_pct(acc, 1)}</td><td>{int(totals[i])}</td></tr>")
    return f'<table class="confusion">{head}{"".join(rows)}</table>'


def _weights_image(w1: np.ndarray) -> tuple[str, str]:
    n_in, hidden = w1.shape
    side = int(round(math.sqrt(n_in)))
    if side * side != n_in:
        return "", f"the first layer takes {n_in} inputs, not a square image"
    shown = min(hidden, MAX_WEIGHT_TILES)
    tiles = []
    for j in range(shown):
        w = w1[:, j].astype(np.float64).reshape(side, side)
        tiles.append(diverging(w))  # each unit on its own scale: the pattern is what matters
    grid = tile(np.stack(tiles), columns=min(16, shown), gap=1, fill=160)
    note = f"all {hidden} hidden units" if shown == hidden else f"the first {shown} of {hidden} hidden units"
    scale = 3 if grid.shape[1] * 3 <= 1050 else 2
    img = (f'<img class="weights" alt="first-layer weights" src="{data_uri(encode_png(grid))}" '
           f'width="{grid.shape[1] * scale}" height="{grid.shape[0] * scale}">')
    return img, note


def _gallery(items) -> str:
    return '<div class="gallery">' + "".join(
        f'<figure><img alt="{_e(cap)}" src="{uri}"><figcaption>{cap}</figcaption></figure>' for uri, cap in items
    ) + "</div>"


def _model_sections(run: Path, config: dict, test_data, data_dir, download: bool) -> list[str]:
    if not (run / "model.npz").is_file():
        return ['<h2>Confusion matrix, weights, examples</h2><p class="note">No model.npz yet: these sections '
                'appear once the run has finished.</p>']
    from nnlearn.evaluation import confusion_matrix
    from nnlearn.networks import load_network

    try:
        net = load_network(run / "model.npz")
    except (OSError, ValueError) as exc:
        return [f'<h2>Model</h2><p class="note">{_e(exc)}</p>']
    out = []
    w1 = net.params.get("W1")
    side = int(round(math.sqrt(net.sizes[0])))
    if w1 is not None:
        img, note = _weights_image(np.asarray(w1))
        out.append(f"<h2>First-layer weights</h2><p class=\"note\">Each square is one hidden unit's weights "
                   f"over the {side}x{side} input ({note}); red positive, blue negative, white zero, each unit on "
                   f"its own scale.</p>{img}")
    try:
        x_test, t_test = test_data if test_data is not None else load_test_set(config, data_dir, download)
    except (NnlearnError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        out.insert(0, f'<h2>Confusion matrix and examples</h2><p class="note">The test set could not be read '
                      f'({_e(first)}); give its folder with --data-dir.</p>')
        return out
    probs = np.concatenate([net.predict(x_test[i : i + 2000]) for i in range(0, len(x_test), 2000)])
    pred = np.argmax(probs, axis=1)
    t_test = np.asarray(t_test)
    n = probs.shape[1]
    labels = _class_labels(config.get("dataset"), n)
    matrix = confusion_matrix(t_test, pred, n)
    acc = float(np.trace(matrix)) / max(1, len(t_test))
    out.insert(0, f"<h2>Confusion matrix</h2><p>{int(np.trace(matrix))} of {len(t_test)} test images right "
                  f"({_pct(acc)}). Rows are the true classes, columns the predictions; the accuracy column is "
                  f"the share of each class recognised.</p>{_confusion_table(matrix, labels)}")
    if side * side == x_test.shape[1]:
        conf = probs[np.arange(len(pred)), pred]
        wrong = np.flatnonzero(pred != t_test)
        worst = wrong[np.argsort(-conf[wrong], kind="stable")][:GALLERY]
        right = np.flatnonzero(pred == t_test)
        doubtful = right[np.argsort(conf[right], kind="stable")][:GALLERY]
        mistakes = [(_image_uri(x_test[i], side),
                     f"#{i}: true {_e(labels[t_test[i]])}, said {_e(labels[pred[i]])} ({conf[i]:.1%})") for i in worst]
        unsure = [(_image_uri(x_test[i], side), f"#{i}: {_e(labels[pred[i]])} ({conf[i]:.1%})") for i in doubtful]
        out.append("<h2>Most confident mistakes</h2>" + (_gallery(mistakes) if mistakes else "<p>None.</p>"))
        out.append("<h2>Least confident correct answers</h2>" + (_gallery(unsure) if unsure else "<p>None.</p>"))
    return out


def _gradcheck_section(run: Path) -> str:
    data = rundir.read_json(run / "gradcheck.json")
    if not data or not isinstance(data.get("params"), dict):
        return ""
    limit = data.get("limit", 1e-6)
    rows = []
    worst = 0.0
    for key, r in data["params"].items():
        r = r if isinstance(r, dict) else {}
        rel = r.get("relative")
        if isinstance(rel, (int, float)):
            worst = max(worst, rel)
        rows.append(f"<tr><td class=\"l\">{_e(key)}</td><td>{_num(r.get('shape'))}</td><td>{_e(r.get('checked'))}</td>"
                    f"<td>{_sci(r.get('max_abs'))}</td><td>{_sci(rel)}</td></tr>")
    ok = isinstance(limit, (int, float)) and worst <= limit
    verdict = "agree" if ok else "DISAGREE"
    extra = f" on {_e(data['batch'])}" if data.get("batch") else ""
    return (f"<h2>Gradient check</h2><p>Backpropagation and the numerical gradient {verdict}{extra}: largest "
            f"relative difference {_sci(worst)} (limit {_sci(limit)}).</p><table><tr><th class=\"l\">parameter</th>"
            "<th>shape</th><th>checked</th><th>max |backprop − numerical|</th><th>relative</th></tr>"
            + "".join(rows) + "</table>")


def _sci(v) -> str:
    return f"{v:.2e}" if isinstance(v, (int, float)) else "–"


def run_sections(run: Path, *, test_data=None, data_dir=None, download: bool = True, level: str = "h1") -> list[str]:
    """The HTML sections of one run directory's report."""
    run = Path(run)
    config = rundir.read_json(run / "config.json") or {}
    summary = rundir.read_json(run / "summary.json") or {}
    info = rundir.run_info(run)
    its, losses = rundir.read_losses(run / "metrics.csv")
    columns, epochs = rundir.read_table(run / "epochs.csv")
    body = [f"<{level}>Training run {_e(run.name)}</{level}>",
            f'<p class="note">{_e(run.resolve())}</p>',
            _settings_table(config, summary, info),
            "<h2>Learning curves</h2>",
            f'<div class="charts">{_loss_chart(its, losses)}{_accuracy_chart(columns, epochs)}</div>']
    body += _model_sections(run, config, test_data, data_dir, download)
    body.append(_gradcheck_section(run))
    return body


# -- several runs --------------------------------------------------------------------------------


def compare_sections(runs: list[Path]) -> list[str]:
    """Curves of several runs overlaid, and their settings side by side."""
    loss_series, acc_series, infos, configs = [], [], [], []
    names = _short_names(runs)
    for k, (run, name) in enumerate(zip(runs, names)):
        color = PALETTE[k % len(PALETTE)]
        its, losses = rundir.read_losses(run / "metrics.csv")
        window = max(1, min(100, len(losses) // 20))
        smooth = rundir.smoothed(losses, window)
        step = max(1, math.ceil(len(losses) / MAX_LOSS_POINTS))
        loss_series.append({"label": name, "x": its[::step], "y": smooth[::step], "color": color})
        columns, epochs = rundir.read_table(run / "epochs.csv")
        col = rundir.accuracy_column(columns, rows=epochs)
        if col:
            acc_series.append({"label": f"{name} ({col.replace('_', ' ')})", "x": [r.get("epoch") for r in epochs],
                               "y": [r.get(col) for r in epochs], "color": color, "markers": True})
        infos.append(rundir.run_info(run))
        configs.append(rundir.read_json(run / "config.json") or {})
    finite = [v for s in loss_series for v in s["y"] if math.isfinite(v)]
    top = max(finite) * 1.05 if finite else 1.0
    body = [f"<h1>{len(runs)} training runs compared</h1>", "<h2>Learning curves</h2>", '<div class="charts">',
            line_chart(loss_series, title="Loss (smoothed)", xlabel="iteration", ylabel="loss", ylim=(0.0, top)),
            line_chart(acc_series, title="Accuracy per epoch (axis zoomed to the data)", xlabel="epoch",
                       ylabel="accuracy", ylim=zoomed_range([y for s in acc_series for y in s["y"]]), percent=True,
                       legend="lower right"),
            "</div>", "<h2>Side by side</h2>"]
    keys = sorted({k for c in configs for k, v in (c.get("settings") or {}).items() if v is not None})
    rows = [("state", [_e(i["state"]) for i in infos]),
            ("test accuracy", [_pct(i["test_accuracy"]) for i in infos]),
            ("train accuracy", [_pct(i["train_accuracy"]) for i in infos]),
            ("iterations", [_e(i["iterations"]) for i in infos]),
            ("time", [f"{i['seconds']:.1f} s" if isinstance(i["seconds"], (int, float)) else "–" for i in infos]),
            ("recipe", [_e(i["recipe"]) for i in infos]), ("data set", [_e(i["dataset"]) for i in infos]),
            ("seed", [_e(i["seed"]) for i in infos]), ("nnlearn version", [_e(i["nnlearn_version"]) for i in infos])]
    rows += [(k, [_num((c.get("settings") or {}).get(k)) for c in configs]) for k in keys]
    body.append("<table><tr><th></th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>" + "".join(
        f'<tr><th class="l">{_e(k)}</th>' + "".join(f"<td>{v}</td>" for v in vals) + "</tr>" for k, vals in rows)
        + "</table>")
    return body


def _short_names(runs: list[Path]) -> list[str]:
    names = [r.name or str(r) for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    return names


# -- a sweep -------------------------------------------------------------------------------------


def sweep_sections(sweep: Path, **run_options) -> list[str]:
    """A sweep's trials sorted by validation accuracy, its best trial, figures and final run."""
    columns, rows = rundir.read_table(sweep / "trials.csv")
    col = rundir.accuracy_column(columns, rows=rows)
    if col:
        rows.sort(key=lambda r: -r[col] if isinstance(r.get(col), (int, float)) else math.inf)
    body = [f"<h1>Sweep {_e(sweep.name)}</h1>", f'<p class="note">{_e(sweep.resolve())}</p>',
            f"<h2>Trials ({len(rows)}), best {_e(col or 'first')} first</h2>",
            "<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr>"]
    for k, r in enumerate(rows):
        cls = ' class="best"' if k == 0 and col else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_num(r.get(c))}</td>" for c in columns) + "</tr>")
    body.append("</table>")
    best = rundir.read_json(sweep / "best.json")
    if best:
        body.append("<h2>Best trial</h2><table>" + "".join(
            f'<tr><th class="l">{_e(k)}</th><td class="l">{_e(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)}</td></tr>'
            for k, v in best.items()) + "</table>")
    figures = sorted(sweep.glob("*.png"))
    if figures:
        body.append("<h2>Figures</h2>")
        for fig in figures:
            try:
                data = fig.read_bytes() if fig.stat().st_size <= MAX_FIGURE_BYTES else b""
            except OSError:
                data = b""
            if data.startswith(b"\x89PNG\r\n\x1a\n"):
                body.append(f'<figure><img class="figure" alt="{_e(fig.name)}" src="{data_uri(data)}">'
                            f"<figcaption>{_e(fig.name)}</figcaption></figure>")
            else:
                body.append(f'<p class="note">{_e(fig.name)}: not embedded (not a PNG, or over '
                            f"{MAX_FIGURE_BYTES // 1_000_000} MB).</p>")
    if rundir.is_run_dir(sweep / "final"):
        body.append('<hr>')
        body += run_sections(sweep / "final", level="h1", **run_options)
    return body


# -- the report ----------------------------------------------------------------------------------


def check_dirs(dirs) -> list[Path]:
    """The given folders as paths, each a run or sweep directory, else a one-line error."""
    paths = [Path(d) for d in dirs]
    if not paths:
        raise NnlearnError("give at least one run or sweep directory")
    for p in paths:
        if not p.is_dir():
            raise NnlearnError(f"{p} is not a directory; give a run directory (from `nnlearn train`) or a sweep directory")
        if not (rundir.is_run_dir(p) or rundir.is_sweep_dir(p)):
            raise NnlearnError(f"{p} holds neither config.json (a run) nor trials.csv (a sweep); "
                               "give the folder that `nnlearn train` wrote")
    if len(paths) > 1 and any(rundir.is_sweep_dir(p) for p in paths):
        raise NnlearnError("a sweep is reported on its own; give one sweep directory, or several run directories")
    return paths


def build_report(dirs, *, data_dir=None, download: bool = True, test_data=None) -> str:
    """The HTML text of the report on ``dirs`` (one run, one sweep, or several runs).

    ``test_data`` (``(x_test, t_test)``) saves loading the test set again; ``download=False``
    never downloads it.
    """
    paths = check_dirs(dirs)
    options = {"data_dir": data_dir, "download": download, "test_data": test_data}
    if len(paths) > 1:
        return _page("nnlearn: runs compared", compare_sections(paths))
    p = paths[0]
    if rundir.is_sweep_dir(p):
        return _page(f"nnlearn sweep {p.name}", sweep_sections(p, **options))
    return _page(f"nnlearn run {p.name}", run_sections(p, **options))


def default_output(dirs) -> Path:
    """Where ``nnlearn report`` writes by default: ``DIR/report.html`` for one folder."""
    paths = [Path(d) for d in dirs]
    if len(paths) != 1:
        raise NnlearnError("several directories make one comparison report: say where it goes with --out FILE.html")
    return paths[0] / "report.html"


def write_report(dirs, out=None, *, data_dir=None, download: bool = True) -> Path:
    """Write the report on ``dirs`` to ``out`` (default :func:`default_output`) atomically; return the path."""
    from nnlearn._io import atomic_write

    # The default, DIR/report.html, is the folder's own report; a path the user names must lie outside
    # every run or sweep folder.
    own = out is None
    out = Path(out) if out is not None else default_output(dirs)
    text = build_report(dirs, data_dir=data_dir, download=download)
    with atomic_write(out, "wb", in_run_folder=own) as fh:
        fh.write(text.encode("utf-8"))
    return out

"""The report's sections that need the trained network and the test set: the confusion matrix,
the first layer's weights as pictures, and the most and least confident answers."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.common.evaluation import confusion_matrix
from nnlearn.common.networks import load_network
from nnlearn.datasets import class_names, get_spec
from nnlearn.datasets.cache import load_arrays
from nnlearn.datasets.download import ensure_files
from nnlearn.see.images import data_uri, png_bytes
from nnlearn.see.report.numbers import pct
from nnlearn.train import tables
from nnlearn.train.runs import data_dir_of

#: Most hidden units drawn in the weight grid; the images of a wide layer would make the file large.
MAX_WEIGHT_TILES = 128
#: Example images per gallery (mistakes, doubtful correct answers).
GALLERY = 24


def load_test_set(config: dict, data_dir=None, download: bool = True):
    """The test images and labels of the run's data set, as training saw them (normalized, flat).

    ``data_dir`` first, else the folder the run was trained from; ``download=False`` never reaches
    the network: missing files are an error instead.
    """
    spec = get_spec(config.get("dataset") or "mnist")
    folder = data_dir_of(config, data_dir)
    arrays = load_arrays(spec, ensure_files(spec, folder, download=download), normalize=True)
    x = arrays["test-images"]
    return x.reshape(len(x), -1), arrays["test-labels"]


def class_labels(dataset, n: int) -> list[str]:
    """The names of the ``n`` classes of ``dataset`` (plain numbers for an unknown set)."""
    try:
        names = [str(c) for c in class_names(dataset or "mnist")]
    except (NnlearnError, LookupError, TypeError):
        names = []
    return names if len(names) == n else [str(k) for k in range(n)]


def diverging(values) -> np.ndarray:
    """Colour a signed array: negative blue, zero white, positive red (``(..., 3)`` uint8), the largest
    magnitude at full colour.

    Examples
    --------
    >>> diverging(np.array([-1.0, 0.0, 1.0])).tolist()
    [[33, 102, 172], [255, 255, 255], [178, 24, 43]]
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    scale = float(np.max(np.abs(v))) if v.size else 1.0
    t = np.clip(v / (scale or 1.0), -1.0, 1.0)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    neg = np.array([33.0, 102.0, 172.0])
    pos = np.array([178.0, 24.0, 43.0])
    out = np.where(t < 0, white + (neg - white) * -t, white + (pos - white) * t)
    return np.round(out).astype(np.uint8)


def tile(images, columns: int) -> np.ndarray:
    """Lay equal-sized images (``(n, h, w[, 3])``) out in a grid, a grey pixel between them.

    Examples
    --------
    >>> tile(np.zeros((3, 2, 2), np.uint8), columns=2).shape
    (5, 5)
    """
    n, h, w = images.shape[:3]
    rows = max(1, -(-n // columns))
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1) + images.shape[3:], 160, dtype=images.dtype)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[k]
    return out


def weights_section(w1: np.ndarray) -> dict:
    """The first layer's weights, one square picture per hidden unit (each on its own scale)."""
    n_in, hidden = w1.shape
    side = int(round(math.sqrt(n_in)))
    if side * side != n_in:
        return note(_("First-layer weights"), _("The first layer takes {n} inputs, not a square image.", n=n_in))
    shown = min(hidden, MAX_WEIGHT_TILES)
    tiles = np.stack([diverging(w1[:, j].astype(np.float64).reshape(side, side)) for j in range(shown)])
    grid = tile(tiles, columns=min(16, shown))
    scale = 3 if grid.shape[1] * 3 <= 1050 else 2
    some = _("the first {shown} of {n} hidden units", shown=shown, n=hidden)
    return {
        "kind": "weights",
        "side": side,
        "uri": data_uri(png_bytes(grid)),
        "shown": _("all {n} hidden units", n=hidden) if shown == hidden else some,
        "width": grid.shape[1] * scale,
        "height": grid.shape[0] * scale,
    }


def confusion_section(matrix: np.ndarray, labels: list[str]) -> dict:
    """The confusion matrix as table rows, each cell coloured by its share of the true class."""
    totals = matrix.sum(axis=1)
    rows = []
    for i, label in enumerate(labels):
        cells = []
        for j in range(len(labels)):
            # The square root of the share: rare mistakes stay visible.
            alpha = math.sqrt(matrix[i, j] / max(1, totals[i]))
            cells.append(
                {
                    "count": int(matrix[i, j]),
                    "alpha": f"{alpha:.2f}",
                    "fg": "#fff" if alpha > 0.6 else "#222",
                    "rgb": "46,125,50" if i == j else "198,40,40",
                }
            )
        rows.append(
            {
                "label": label,
                "cells": cells,
                "total": int(totals[i]),
                "accuracy": pct(matrix[i, i] / totals[i], 1) if totals[i] else pct(None),
            }
        )
    right, total = int(np.trace(matrix)), int(matrix.sum())
    return {
        "kind": "confusion",
        "labels": labels,
        "rows": rows,
        "right": right,
        "total": total,
        "accuracy": pct(right / max(1, total)),
    }


def galleries(x_test, t_test, probs, labels, side: int) -> list[dict]:
    """The most confident mistakes and the least confident correct answers, as pictures."""
    pred = np.argmax(probs, axis=1)
    conf = probs[np.arange(len(pred)), pred]
    wrong = np.flatnonzero(pred != t_test)
    right = np.flatnonzero(pred == t_test)
    worst = wrong[np.argsort(-conf[wrong], kind="stable")][:GALLERY]
    doubtful = right[np.argsort(conf[right], kind="stable")][:GALLERY]

    def uri(i):
        return data_uri(png_bytes(np.asarray(x_test[i], dtype=np.float64).reshape(side, side)))

    return [
        {
            "kind": "gallery",
            "heading": _("Most confident mistakes"),
            "pictures": [
                (
                    uri(i),
                    _(
                        "#{index}: true {label}, said {said} ({confidence})",
                        index=i,
                        label=labels[t_test[i]],
                        said=labels[pred[i]],
                        confidence=format(conf[i], ".1%"),
                    ),
                )
                for i in worst
            ],
        },
        {
            "kind": "gallery",
            "heading": _("Least confident correct answers"),
            "pictures": [(uri(i), f"#{i}: {labels[pred[i]]} ({conf[i]:.1%})") for i in doubtful],
        },
    ]


def note(heading: str, text: str) -> dict:
    """A section that says, in place of what cannot be shown, why."""
    return {"kind": "note", "heading": heading, "text": text}


def missing_model(state: str, reason, run: Path) -> str:
    """Why a run has no ``model.npz``, in the words of its state (a diverged run will never have one)."""
    if state == "running":
        return _("No model.npz yet: these sections appear once the run has finished.")
    if state == "diverged":
        return _(
            "No model.npz: the run diverged ({reason}), so there is no trained network to show; train again "
            "with a smaller learning rate.",
            reason=reason or _("the loss became infinite or NaN"),
        )
    if state == "stopped":
        return _(
            "No model.npz: the run stopped before it finished; continue it with: {command}",
            command="nnlearn train --resume " + str(run),
        )
    return _("No model.npz in the run folder: these sections need the trained network.")


def model_sections(run: Path, config: dict, info: dict, test_data, data_dir, download: bool) -> list[dict]:
    """The sections of a run that need its network (and the test set): see the module's description."""
    if not os.path.lexists(run / "model.npz"):
        return [
            note(_("Confusion matrix, weights, examples"), missing_model(info.get("state"), info.get("reason"), run))
        ]
    try:  # never through a link that leads out of the run folder (nnlearn.train.tables.open_file)
        net = load_network(tables.checked_path(run / "model.npz"))
    except (NnlearnError, OSError, ValueError) as exc:
        return [note(_("Model"), str(exc).splitlines()[0])]
    w1 = net.params.get("W1")
    out = [weights_section(np.asarray(w1))] if w1 is not None else []
    try:
        x_test, t_test = test_data if test_data is not None else load_test_set(config, data_dir, download)
    except (NnlearnError, OSError, ValueError) as exc:
        why = _(
            "The test set could not be read ({why}); give its folder with --data-dir.", why=str(exc).splitlines()[0]
        )
        return [note(_("Confusion matrix and examples"), why), *out]
    probs = np.concatenate([net.predict(x_test[i : i + 2000]) for i in range(0, len(x_test), 2000)])
    t_test = np.asarray(t_test)
    labels = class_labels(config.get("dataset"), probs.shape[1])
    out.insert(0, confusion_section(confusion_matrix(t_test, np.argmax(probs, axis=1), probs.shape[1]), labels))
    side = int(round(math.sqrt(net.sizes[0])))
    if side * side == x_test.shape[1]:
        out += galleries(x_test, t_test, probs, labels, side)
    return out

"""A run's CSV files read with bounded work (nnlearn.train.tables): a long metrics.csv is sampled with its
own values, a table too wide is one line, a parse is kept until the file changes; and the one rule
for links, whatever the file's name."""

from __future__ import annotations

import json
import os
import re
import shutil
import tracemalloc

import numpy as np
import pytest

from nnlearn.base.errors import FileFormatError
from nnlearn.train import rundir, tables


def write_metrics(path, n: int) -> np.ndarray:
    """A metrics.csv of ``n`` iterations whose losses are known (``2.3 * 0.99999**i`` to 6 places)."""
    losses = np.round(2.3 * 0.99999 ** np.arange(1, n + 1), 6)
    path.write_text("iteration,loss\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(losses.tolist(), 1)))
    return losses


def test_a_long_metrics_csv_is_sampled_with_its_own_values_in_bounded_memory(tmp_path, make_run):
    run = make_run(tmp_path / "long", test_accuracy=0.9)
    losses = write_metrics(run / "metrics.csv", 150_000)  # 2.4 MB: sampled
    assert (run / "metrics.csv").stat().st_size > tables.SMALL_BYTES
    sums = np.concatenate([[0.0], np.cumsum(losses)])
    tracemalloc.start()
    try:
        curves = rundir.run_curves(run)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20  # reading the file whole took 20 times its size
    points = curves["loss"]
    assert 900 <= len(points) <= tables.MAX_POINTS + 1
    assert points[0][0] == 1 and points[-1][0] == curves["iterations"] == 150_000
    assert [it for it, _, _ in points] == sorted({it for it, _, _ in points})
    assert all(loss == losses[it - 1] for it, loss, _ in points)  # the file's own values, not estimates
    smooth = [(it, s) for it, _, s in points if s is not None]
    assert len(smooth) == len(points) - 1  # all but the first row, which has no 100 losses before it
    assert max(abs(s - (sums[it] - sums[it - 100]) / 100) for it, s in smooth) < 1e-9


def test_a_short_metrics_csv_is_read_whole_and_thinned_evenly(tmp_path):
    path = tmp_path / "metrics.csv"
    losses = write_metrics(path, 2600)
    curve = tables.loss_curve(path)
    assert (curve["rows"], curve["step"], curve["window"], curve["sampled"]) == (2600, 3, 100, False)
    assert [p[0] for p in curve["points"]] == [*range(1, 2601, 3), 2600]
    assert curve["points"][-1][2] == pytest.approx(losses[-100:].mean(), abs=1e-12)


def test_a_long_table_is_thinned_evenly_in_bounded_memory(tmp_path):
    path = tmp_path / "epochs.csv"
    path.write_text("epoch,test_accuracy\n" + "".join(f"{e},{e / 10000}\n" for e in range(1, 2502)))
    columns, rows = tables.thinned_table(path)
    assert [r["epoch"] for r in rows] == [*range(1, 2502, 3), 2501] and rows[-1]["test_accuracy"] == 0.2501
    path.write_text(",".join(f"c{k}" for k in range(64)) + "\n" + ("," * 63 + "\n") * 16_000)  # 1 MB of empty cells
    tracemalloc.start()
    try:
        columns, rows = tables.thinned_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (len(columns), len(rows), peak < 16 << 20) == (64, 1001, True)  # read whole before: 67 MB


def test_a_quoted_cell_keeps_its_line_breaks(tmp_path):
    """csv's rule for lines, not str.splitlines (which also splits at U+2028, as hostile text has)."""
    path = tmp_path / "epochs.csv"
    path.write_text('epoch,test_accuracy,note\n1,0.5,"a\u2028b\nc"\n2,0.6,x\n', newline="")
    rows = [{"epoch": 1, "test_accuracy": 0.5, "note": "a\u2028b\nc"}, {"epoch": 2, "test_accuracy": 0.6, "note": "x"}]
    assert tables.thinned_table(path) == tables.read_table(path) == (["epoch", "test_accuracy", "note"], rows)


def test_a_parse_is_kept_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    write_metrics(path, 50)
    parses = []
    real = tables._loss_curve
    monkeypatch.setattr(tables, "_loss_curve", lambda *a: parses.append(a[1:]) or real(*a))
    first = tables.loss_curve(path)
    assert tables.loss_curve(path) is first and len(parses) == 1
    write_metrics(tmp_path / "new.csv", 60)
    os.replace(tmp_path / "new.csv", path)  # as the trainer writes it: a new file renamed over the old
    assert tables.loss_curve(path)["last_iteration"] == 60 and len(parses) == 2


def test_a_table_too_wide_is_one_line_and_the_other_runs_still_list(tmp_path, make_run, serve_board):
    """5,000 columns (under the size caps) made one poll take seconds and hundreds of MB."""
    import http.client
    from urllib.parse import urlsplit

    root = tmp_path / "runs"
    make_run(root / "good", test_accuracy=0.9)
    wide = make_run(root / "wide", test_accuracy=0.9)
    (wide / "epochs.csv").write_text(",".join(f"c{k}" for k in range(5000)) + "\n" + ",".join(["0.5"] * 5000) + "\n")
    u = urlsplit(serve_board(root))

    def get(path):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, json.loads(r.read())
        finally:
            conn.close()

    reason = "epochs.csv has 5000 columns; at most 64 are read (nnlearn writes a few)"
    status, body = get("/api/runs")
    assert status == 200
    assert {e["path"]: (e["state"], e["reason"]) for e in body["entries"]} == {
        "good": ("finished", None),
        "wide": ("unreadable", reason),
    }
    assert get("/api/run?path=wide") == (409, {"error": f"the run 'wide' is unreadable: {reason}"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("x" * (tables.MAX_LINE_BYTES + 10), "first line is longer than 65536 bytes"),
        (
            "a,b\n" + "1,2\n" * (tables.MAX_CELLS // 2 + 1),
            f"has 125001 rows of 2 columns; at most {tables.MAX_CELLS} cells",
        ),
        ("a,b\n\xff\xfe\n", "is not UTF-8 text"),
    ],
)
def test_a_table_read_whole_is_bounded(tmp_path, text, message):
    path = tmp_path / "trials.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if "\xff" not in text else b"a,b\n\xff\xfe\n")
    with pytest.raises(FileFormatError, match=message):
        tables.read_table(path)


# -- one rule for links ----------------------------------------------------------------------------


def test_a_link_is_followed_only_inside_its_folder_whatever_its_name(tmp_path):
    folder, outside = tmp_path / "run", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    for name in ("metrics.csv", "model.npz", "weights.png"):
        (outside / name).write_text("iteration,loss\n1,2.5\n")
        (folder / name).symlink_to(outside / name)
        with pytest.raises(FileFormatError, match=f"^{name} is a symbolic link leading outside its folder"):
            tables.checked_path(folder / name)
    (folder / "sub").mkdir()
    (folder / "sub" / "real.csv").write_text("iteration,loss\n1,2.5\n")
    (folder / "inside.csv").symlink_to("sub/real.csv")
    assert tables.loss_curve(folder / "inside.csv")["points"] == [(1, 2.5, 2.5)]
    (folder / "loop").symlink_to("loop")
    (folder / "dangling").symlink_to("nothing")
    for name, message in (("loop", "loop of symbolic links"), ("dangling", "symbolic link to nothing")):
        with pytest.raises(FileFormatError, match=message):
            tables.read_bytes(folder / name, 100)


@pytest.fixture
def linked_model(fast_run, tmp_path):
    """A finished run whose model.npz is a link to a (valid) model outside the run folder."""
    root = tmp_path / "runs"
    run = shutil.copytree(fast_run, root / "linked")
    outside = tmp_path / "outside.npz"
    (run / "model.npz").rename(outside)
    (run / "model.npz").symlink_to(outside)
    return root, run


def test_a_model_linked_from_outside_is_refused_by_the_report(linked_model):
    from nnlearn.see.report import build_report

    _, run = linked_model
    text = build_report([run], download=False)
    assert "model.npz is a symbolic link leading outside its folder" in text
    assert "First-layer weights" not in text


def test_a_landscape_linked_from_outside_is_refused_by_the_report(linked_model, tmp_path):
    from nnlearn.see.report import build_report

    _, run = linked_model
    (tmp_path / "landscape.npz").write_bytes(b"PK")
    (run / "landscape.npz").symlink_to(tmp_path / "landscape.npz")
    text = build_report([run], download=False)
    assert re.search(r"landscape\.npz is a symbolic link", text)


def test_a_model_linked_from_outside_is_refused_by_the_board(linked_model, serve_board):
    import http.client
    from urllib.parse import urlsplit

    root, _ = linked_model
    u = urlsplit(serve_board(root))
    for method, path in (("GET", "/api/sample?path=linked&class=1"), ("POST", "/api/predict?path=linked")):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request(
            method,
            path,
            body=b"\x89PNG\r\n\x1a\n" if method == "POST" else None,
            headers={"Content-Type": "image/png"} if method == "POST" else {},
        )
        r = conn.getresponse()
        answer = r.status, json.loads(r.read())["error"]
        conn.close()
        assert answer == (
            409,
            "the run's model.npz cannot be read: model.npz is a symbolic link leading outside its folder; "
            "a run folder's files are read only from inside it (copy the file in instead)",
        ), path


def test_a_number_beyond_any_float_is_not_finite():
    # JSON and CSV cells of a hostile folder may hold 10**400: no chart can draw it, and no OverflowError escapes
    from nnlearn.sweep.space import parse_param
    from nnlearn.train.tables import finite

    assert [finite(v) for v in (3, 1.5, 10**400, -(10**400), True, float("nan"), "1")] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert not parse_param("lr=uniform:0.1:1").holds(10**400)

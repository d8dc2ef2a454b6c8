"""``nnlearn report``: one self-contained HTML page for a run, several runs or a sweep."""

from __future__ import annotations

import html
import io
import json
import os
import re

import numpy as np
import pytest

from nnlearn.cli import main
from nnlearn.see.report import build_report, write_report


def _trials(folder):
    folder.mkdir()
    (folder / "trials.csv").write_text(
        "number,state,lr,hidden,validation accuracy,epochs,seconds,worker\n"
        "0,finished,0.1,50,0.9012,5,3.5,w1\n"
        "1,finished,0.5,100,0.9561,5,4.0,w2\n"
        "2,pruned,0.01,50,0.7003,2,1.0,w1\n"
        "3,running,1.0,100,,1,0.5,w2\n"
    )
    (folder / "best.json").write_text(json.dumps({"number": 1, "params": {"lr": 0.5, "hidden": 100}}))
    from nnlearn.see.images import png_bytes as encode_png

    (folder / "history.png").write_bytes(encode_png(np.eye(8)))
    return folder


def _points(text, gid):
    """The points of the chart's line ``gid`` (the vertices of its SVG path), or None without that line."""
    found = re.search(rf'<g id="{gid}">\s*<path d="([^"]*)"', text)
    return None if found is None else len(re.findall(r"[ML] ", found.group(1)))


def _texts(text):
    """The words of the page's charts (matplotlib's SVG writes each as a <text>)."""
    return [html.unescape(t) for t in re.findall(r"<text [^>]*>([^<]*)</text>", text)]


def test_run_report_states_the_settings_and_result_and_says_what_is_missing(tmp_path, make_run):
    run = make_run(tmp_path / "r", test_accuracy=0.8765)
    text = build_report([run], download=False)
    assert re.search(r'id="test-accuracy">87\.65%<', text)
    assert '<td class="l">book</td>' in text and '<td class="l">0.1.0</td>' in text
    # The curves, drawn as the run's figures are: 1200 raw losses thinned to at most 2500 points (all kept),
    # their moving average from the 60th on, and two epochs.
    assert (_points(text, "loss"), _points(text, "loss-mean"), _points(text, "test-acc")) == (1200, 1141, 2)
    words = _texts(text)
    assert {"Training loss", "loss per iteration", "mean of 60 iterations", "Accuracy per epoch", "test acc"} <= set(
        words
    )
    # The accuracy axis is zoomed to the data (0.79 .. 0.90), not 0 .. 100%.
    assert "accuracy (axis zoomed: starts at 0.78, not 0)" in words and "0.80" in words and "0.70" not in words
    assert "No model.npz in the run folder: these sections need the trained network." in text
    # Nothing runs and nothing is loaded: the SVG's namespaces are its only addresses.
    assert "<script" not in text and {h[0] for h in re.findall(r'href="([^"]*)"', text)} == {"#"}
    assert set(re.findall(r'"(https?://[^"]*)"', text)) == {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    # The same run gives the same page, byte for byte (matplotlib's made-up ids are salted, no date).
    assert build_report([run], download=False) == text


def test_a_run_without_a_model_says_why_in_the_words_of_its_state(tmp_path, make_run):
    """A diverged run never gets a model: its report must not promise one "once the run has finished"."""
    diverged = make_run(
        tmp_path / "d", state={"state": "diverged", "pid": 1, "reason": "loss became nan at iteration 7"}
    )
    text = build_report([diverged], download=False)
    assert (
        "No model.npz: the run diverged (loss became nan at iteration 7), so there is no trained network to "
        "show; train again with a smaller learning rate."
    ) in text
    assert "once the run has finished" not in text
    stopped = make_run(tmp_path / "s", state={"state": "stopped", "pid": 1, "reason": "interrupted (Ctrl-C)"})
    assert f"continue it with: nnlearn train --resume {stopped}" in build_report([stopped], download=False)
    running = make_run(tmp_path / "r", state={"state": "running", "pid": os.getpid(), "reason": None})
    assert "No model.npz yet: these sections appear once the run has finished." in build_report(
        [running], download=False
    )


def test_a_run_without_a_validation_split_has_no_validation_line(tmp_path, make_run):
    run = make_run(tmp_path / "r", test_accuracy=0.9)
    (run / "epochs.csv").write_text(
        "epoch,iteration,train_accuracy,test_accuracy,validation_accuracy\n1,600,0.8,0.79,\n2,1200,0.9,0.88,\n"
    )
    text = build_report([run], download=False)
    assert (_points(text, "train-acc"), _points(text, "test-acc")) == (2, 2)
    assert "test acc" in _texts(text) and "validation" not in text
    # With a validation split, the second line is validation's (as in the run's accuracy.png).
    (run / "epochs.csv").write_text(
        "epoch,iteration,train_accuracy,test_accuracy,validation_accuracy\n1,600,0.8,0.79,0.7\n2,1200,0.9,0.88,\n"
    )
    assert "validation acc" in _texts(build_report([run], download=False))


def test_gradcheck_json_is_shown_with_its_verdict(tmp_path, make_run):
    run = make_run(tmp_path / "r", test_accuracy=0.9)
    (run / "gradcheck.json").write_text(
        json.dumps(
            {
                "params": {
                    "W1": {"shape": [784, 50], "checked": 100, "max_abs": 2.5e-10, "relative": 3.25e-9},
                    "b1": {"shape": [50], "checked": 50, "max_abs": 1e-9, "relative": 4e-7},
                },
                "limit": 1e-6,
                "batch": "mnist train[:3]",
            }
        )
    )
    text = build_report([run], download=False)
    assert "numerical gradient agree on mnist train[:3]: largest relative difference 4.00e-07 (limit 1.00e-06)" in text
    assert "<td>784-50</td><td>100</td><td>2.50e-10</td><td>3.25e-09</td>" in text


def test_several_runs_are_overlaid_and_side_by_side(tmp_path, make_run):
    a = make_run(tmp_path / "a", test_accuracy=0.88)
    b = make_run(tmp_path / "b", test_accuracy=0.91, epochs=((1, 0.85, 0.86), (2, 0.92, 0.91)), recipe="strong")
    out = tmp_path / "both.html"
    assert main(["report", str(a), str(b), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<h1>2 training runs compared</h1>" in text
    # The moving average of 1,200 losses over windows of 60 (a twentieth): 1,141 points.
    assert (_points(text, "loss-0"), _points(text, "loss-1"), _points(text, "acc-1")) == (1141, 1141, 2)
    assert {"a", "b", "b (test accuracy)", "Loss (smoothed)"} <= set(_texts(text))
    assert re.search(r"test accuracy</th><td>88\.00%</td><td>91\.00%</td>", text)
    assert re.search(r"recipe</th><td>book</td><td>strong</td>", text)


def test_several_runs_need_out_and_a_non_run_is_a_one_line_error(tmp_path, capsys, make_run):
    a, b = make_run(tmp_path / "a"), make_run(tmp_path / "b")
    assert main(["report", str(a), str(b)]) == 1
    assert capsys.readouterr().err == (
        "nnlearn: error: several directories make one comparison report: say where it goes with --out FILE.html\n"
    )
    assert main(["report", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"nnlearn: error: {tmp_path} holds neither config.json (a run) nor "
        "trials.csv (a sweep); give the folder that `nnlearn train` wrote\n"
    )
    assert not list(tmp_path.glob("**/report.html"))


def test_sweep_report_sorts_trials_by_validation_accuracy(tmp_path):
    sweep = _trials(tmp_path / "sweep")
    out = write_report([sweep], download=False)
    assert out == sweep / "report.html"
    text = out.read_text(encoding="utf-8")
    order = re.findall(r"<tr(?: class=\"best\")?><td>(\d)</td><td>(\w+)</td>", text)
    assert order == [("1", "finished"), ("0", "finished"), ("2", "pruned"), ("3", "running")]
    assert '<tr class="best"><td>1</td>' in text
    assert "{&#34;hidden&#34;: 100, &#34;lr&#34;: 0.5}" in text and 'alt="history.png"' in text


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_report_of_a_real_run_opens_in_a_browser(short_run, tab, mnist_dir):
    from PIL import Image

    summary = json.loads((short_run / "summary.json").read_text())
    assert main(["report", str(short_run), "--data-dir", str(mnist_dir)]) == 0
    out = short_run / "report.html"
    assert out.stat().st_size <= 3_000_000
    page = tab.page
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert tab.errors == []
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    # The weight grid and 2 x 24 example images; every one decoded.
    assert len(sizes) == 49
    assert all(done and w > 0 and h > 0 for done, w, h in sizes)
    assert page.inner_text("#test-accuracy") == f"{summary['test_accuracy']:.2%}"
    rows = page.eval_on_selector_all("table.confusion tr", "rs => rs.length")
    assert rows == 11  # header and ten classes
    shot = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("L")
    lo, hi = shot.getextrema()
    assert hi - lo > 200 and len(shot.getcolors(1 << 16)) > 20  # text, charts and pictures, not a blank page

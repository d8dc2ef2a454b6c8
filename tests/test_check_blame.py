"""Blame once, where the mistake is (issue 28, points 1 and 2): a class's row is the worst of its
methods; the book's earlier versions are warnings until the same file uses them where they break."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnlearn.check import check_files

MISTAKES = Path(__file__).resolve().parent / "check_corpus" / "mistakes"


@pytest.fixture(scope="module")
def reports():
    names = ["net_no_softmax", "blame_deep_method"]
    return dict(zip(names, check_files([MISTAKES / f"{n}.py" for n in names], lang="en", timeout=10)))


def rows(report) -> dict:
    return {r.name: r for r in report.rows}


def test_a_class_row_is_the_worst_of_its_methods(reports):
    net = rows(reports["net_no_softmax"])["TwoLayerNet"]
    assert net.status == "fail" and net.findings == [] and net.note == "worst-of-methods"
    assert "the worst of its methods below" in reports["net_no_softmax"].text()
    assert not reports["net_no_softmax"].ok


def test_a_class_whose_methods_only_use_a_failing_function_passes(reports):
    got = rows(reports["blame_deep_method"])
    assert got["TwoLayerNet"].status == "pass" and got["TwoLayerNet"].note is None
    assert got["softmax"].status == "fail"
    assert {r: got[f"TwoLayerNet.{r}"].uses for r in ("predict", "loss", "accuracy")} == {
        "predict": ["softmax"], "loss": ["softmax"], "accuracy": ["softmax"]}

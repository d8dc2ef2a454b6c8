"""Blame once, where the mistake is (issue 28, points 1 and 2): a class's row is the worst of its
methods; the book's earlier versions are warnings until the same file uses them where they break."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnlearn.checker import check_files

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
        "predict": ["softmax"],
        "loss": ["softmax"],
        "accuracy": ["softmax"],
    }


@pytest.fixture(scope="module")
def earlier():
    files = [
        MISTAKES / "cee_sum.py",
        MISTAKES / "grad_one_d.py",
        MISTAKES / "earlier_one_d_in_net.py",
        MISTAKES.parent / "toplevel" / "one_d_gradient_simplenet.py",
    ]
    return [{r.name: r for r in rep.rows} for rep in check_files(files, lang="en", timeout=10)]


def finding(row, finding_id) -> dict:
    return next(f for f in row.findings if f["id"] == finding_id)


def test_the_books_earlier_versions_are_warnings_that_say_their_section(earlier):
    cee, grad = earlier[0]["cross_entropy_error"], earlier[1]["numerical_gradient"]
    assert cee.status == "warn" and finding(cee, "sum-not-mean")["section"] == "4.2.2"
    assert ["single-sample-cee", {}] in finding(cee, "sum-not-mean")["details"]
    assert grad.status == "warn" and ["one-d-version", {}] in finding(grad, "one-dimensional-only")["details"]


def test_an_earlier_version_fails_where_the_same_file_uses_it_where_it_breaks(earlier):
    in_net, top = earlier[2], earlier[3]
    grad = finding(in_net["numerical_gradient"], "one-dimensional-only")
    assert in_net["numerical_gradient"].status == "fail" and grad["severity"] == "fail"
    assert ["used-where-breaks", {"user": "TwoLayerNet.numerical_gradient"}] in grad["details"]
    assert in_net["TwoLayerNet.numerical_gradient"].uses == ["numerical_gradient"]
    grad = finding(top["numerical_gradient"], "one-dimensional-only")
    assert top["numerical_gradient"].status == "fail" and ["top-level-breaks", {"line": 22}] in grad["details"]
    assert top["cross_entropy_error"].status == "warn"  # one sample, as simpleNet uses it: still the book's

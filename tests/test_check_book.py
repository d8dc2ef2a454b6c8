"""The book's own ch04 scripts run under ``nnlearn check`` unchanged.

tests/check_corpus/book/ch04/ holds the six scripts in the book's layout: they import
``common.functions``, ``common.gradient`` and ``dataset.mnist`` from the folder above
(``sys.path.append(os.pardir)``), which has none here, so nnlearn's stand-ins serve them, and the
report says so. tests/check_corpus/book_own_common/ has the reader's own ``common/`` beside
``ch04/``: then theirs is imported and checked.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnlearn.checker import check, check_files

BOOK = Path(__file__).resolve().parent / "check_corpus" / "book" / "ch04"
OWN = Path(__file__).resolve().parent / "check_corpus" / "book_own_common" / "ch04"
TWO_LAYER_NET = [
    "TwoLayerNet",
    "TwoLayerNet.predict",
    "TwoLayerNet.loss",
    "TwoLayerNet.accuracy",
    "TwoLayerNet.numerical_gradient",
    "TwoLayerNet.gradient",
]


def statuses(report) -> dict:
    return {r.name: (r.status, sorted(f["id"] for f in r.findings)) for r in report.rows if r.status != "missing"}


@pytest.fixture(scope="module")
def book_reports(tmp_path_factory):
    import os

    # No MNIST for train_neuralnet.py: its load_mnist fails after TwoLayerNet was imported.
    saved = {k: os.environ.get(k) for k in ("NNLEARN_DATA", "NNLEARN_OFFLINE")}
    os.environ["NNLEARN_DATA"] = str(tmp_path_factory.mktemp("no-data"))
    os.environ["NNLEARN_OFFLINE"] = "1"
    try:
        names = [
            "gradient_1d",
            "gradient_2d",
            "gradient_method",
            "gradient_simplenet",
            "two_layer_net",
            "train_neuralnet",
        ]
        reports = check_files([BOOK / f"{n}.py" for n in names] + [OWN / "gradient_simplenet.py"], lang="en")
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return dict(zip(names + ["own_common"], reports))


def test_gradient_1d_whose_numerical_gradient_takes_one_number(book_reports):
    report = book_reports["gradient_1d"]
    assert statuses(report) == {"function_1": ("pass", []), "numerical_gradient": ("pass", [])}
    assert [r.note for r in report.rows if r.name == "numerical_gradient"] == ["one-d-note"]
    assert report.ok and report.status == "ok"


def test_gradient_2d_and_gradient_method_draw_only_the_books_own_warnings(book_reports):
    assert statuses(book_reports["gradient_2d"]) == {
        "function_2": ("pass", []),
        "_numerical_gradient_no_batch": ("warn", ["integer-input"]),
        "numerical_gradient": ("warn", ["integer-input"]),
    }
    # gradient_method.py imports numerical_gradient from its sibling gradient_2d.py
    assert statuses(book_reports["gradient_method"]) == {
        "function_2": ("pass", []),
        "numerical_gradient": ("warn", ["integer-input"]),
        "gradient_descent": ("warn", ["init-x-mutated"]),
    }
    assert book_reports["gradient_method"].ok


def test_the_stand_ins_serve_common_and_the_report_says_so(book_reports):
    report = book_reports["gradient_simplenet"]
    assert statuses(report) == {
        "simpleNet": ("pass", []),
        "simpleNet.predict": ("pass", []),
        "simpleNet.loss": ("pass", []),
    }
    not_checked = {r.name: r.origin["module"] for r in report.rows if r.origin}
    assert not_checked == {
        "softmax": "common.functions",
        "cross_entropy_error": "common.functions",
        "numerical_gradient": "common.gradient",
    }
    assert [n for n in report.notes if n["kind"] == "standin"] == [
        {"kind": "standin", "module": "common.functions, common.gradient"}
    ]
    assert re.search(r"common\.functions.*stand-in.*not checked", report.text())


def test_two_layer_net_and_train_neuralnet_check_the_network(book_reports):
    for name in ("two_layer_net", "train_neuralnet"):
        report = book_reports[name]
        assert {row: st for row, st in statuses(report).items()} == {row: ("pass", []) for row in TWO_LAYER_NET}
    train = book_reports["train_neuralnet"]
    assert train.status == "error"  # no MNIST here: load_mnist raised, after TwoLayerNet was imported
    error = [n for n in train.notes if n["kind"] == "exception"][0]
    assert error["exception"].startswith("DatasetError") and error["where"][0][:2] == ["train_neuralnet.py", 10]
    assert [n["module"] for n in train.notes if n["kind"] == "standin"] == [
        "common.functions, common.gradient, dataset.mnist"
    ]


def test_the_readers_own_common_is_imported_and_checked(book_reports):
    report = book_reports["own_common"]
    assert statuses(report) == {
        "softmax": ("pass", []),
        "cross_entropy_error": ("pass", []),
        "numerical_gradient": ("fail", ["x-not-restored"]),  # the mistake of their common/gradient.py
        "simpleNet": ("pass", []),
        "simpleNet.predict": ("pass", []),
        "simpleNet.loss": ("pass", []),
    }
    assert not [n for n in report.notes if n["kind"] == "standin"]


@pytest.mark.slow
@pytest.mark.realdata
def test_train_neuralnet_trains_until_its_budget_and_its_network_is_checked(mnist_dir, monkeypatch):
    monkeypatch.setenv("NNLEARN_DATA", str(mnist_dir))
    report = check(BOOK / "train_neuralnet.py", lang="en", timeout=2)
    assert report.status == "stopped" and report.ok
    stopped = [n for n in report.notes if n["kind"] == "top-stopped"][0]
    assert stopped["seconds"] == "4" and stopped["where"][0][0] in ("train_neuralnet.py", "two_layer_net.py")
    assert {row: st for row, st in statuses(report).items()} == {row: ("pass", []) for row in TWO_LAYER_NET}


def test_the_stand_ins_are_never_on_the_users_path():
    for name in ("common", "dataset"):
        spec = importlib.util.find_spec(name)
        assert spec is None or "booklayout" not in str(spec.origin)
    proc = subprocess.run(
        [sys.executable, "-c", "import nnlearn.checker, common.functions"], capture_output=True, text=True, cwd=BOOK
    )
    assert proc.returncode == 1 and "No module named 'common'" in proc.stderr

"""Reading the files learners really have (issue 28, point 4): a top level that stops (a missing
sibling module, MNIST that cannot be loaded, a loop past the time limit) still has everything it
defines checked; the book's modules under the names translations give them have stand-ins; the
chapter's names in their learners' variants are found, and the report says what each was taken for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnlearn.checker import check_files

TOPLEVEL = Path(__file__).resolve().parent / "check_corpus" / "toplevel"
FILES = {
    "sibling": TOPLEVEL / "missing_sibling.py",
    "mnist": TOPLEVEL / "mnist_pickle" / "train_neuralnet.py",
    "loop": TOPLEVEL / "training_loop_first.py",
    "variants": TOPLEVEL / "variants_and_standins.py",
}


@pytest.fixture(scope="module")
def reports():
    # timeout 1: the top level gets 2 s, then the loop of training_loop_first.py is stopped
    return dict(zip(FILES, check_files(list(FILES.values()), lang="en", timeout=1)))


def statuses(report) -> dict:
    return {r.name: r.status for r in report.rows if r.status != "missing"}


def note(report, kind) -> dict:
    return next(n for n in report.notes if n["kind"] == kind)


def test_a_missing_sibling_module_skips_that_import_and_checks_the_definitions_after_it(reports):
    report = reports["sibling"]
    assert statuses(report) == {
        "sigmoid": "pass",
        "softmax": "pass",
        "cross_entropy_error": "pass",
        "numerical_gradient": "warn",
    }
    assert note(report, "definitions-only") == {"kind": "definitions-only", "statements": 2, "lines": "49-50"}
    failed = note(report, "definition-failed")
    assert failed["line"] == 7 and "two_layer_net_old" in failed["exception"]
    assert "imports and definitions alone were run" in report.text()


def test_mnist_that_cannot_be_loaded_leaves_the_definitions_below_it_checked(reports):
    report = reports["mnist"]
    assert statuses(report) == {"sigmoid": "pass", "cross_entropy_error": "pass"}
    assert note(report, "definitions-only")["lines"] == "7, 26"


def test_a_loop_past_the_time_limit_leaves_the_definitions_below_it_checked(reports):
    report = reports["loop"]
    assert report.status == "stopped"
    assert statuses(report) == {"function_2": "pass", "gradient_descent": "pass"}
    assert note(report, "definitions-only")["lines"] == "9, 11"


def test_variants_are_found_and_said_what_they_were_taken_for(reports):
    report = reports["variants"]
    assert statuses(report) == {
        "mean_squared_error": "pass",
        "cross_entropy_error": "pass",
        "numerical_gradient": "warn",
        "simpleNet": "pass",
        "simpleNet.predict": "pass",
        "simpleNet.loss": "pass",
    }
    rows = {r.name: r for r in report.rows}
    assert rows["cross_entropy_error"].spelling == "cross_entropy_error_2"
    assert re.search(r"numerical_gradient_2d .*checked as .*numerical_gradient\b", report.text())
    assert note(report, "standin") == {"kind": "standin", "module": "functions"}


def test_many_imports_that_fail_alone_are_said_four_times_and_the_file_still_checked(tmp_path):
    """Each import that fails when the definitions are run alone is a note; the child may send the
    checker only a few notes a file (more is a forged answer), so the first four are said."""
    path = tmp_path / "imports.py"
    path.write_text(
        "import numpy as np\n"
        + "".join(f"import missing_{i}\n" for i in range(8))
        + "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
    )
    (report,) = check_files([path], lang="en", timeout=5)
    assert report.status == "error"
    failed = [n for n in report.notes if n["kind"] == "definition-failed"]
    assert [n["line"] for n in failed] == [2, 3, 4, 5] and "missing_0" in failed[0]["exception"]
    assert statuses(report) == {"sigmoid": "pass"}

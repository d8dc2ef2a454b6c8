"""The checker's verdicts on a corpus of reader files (tests/check_corpus/).

``mistakes/``: each file holds one known mistake, named in its header by ``# expect: ROW ID``; the
faulty row must get exactly that diagnosis, and every other function of the file must pass.
``correct/``: complete correct implementations in different styles (the book's loops, np.nditer,
vectorised, class-based, float32, other formulas: a complex step, clipping); they must get no failure. ``# expect-warn: ROW ID`` declares a
documented warning (the book's own code draws some), ``# expect-uses: ROW DEP`` that a right row
calls a failing one. All files are checked in one child process, once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnlearn.checker import check_files
from nnlearn.checker.catalogue import CATALOGUE

CORPUS = Path(__file__).resolve().parent / "check_corpus"
MISTAKES = sorted((CORPUS / "mistakes").glob("*.py"))
CORRECT = sorted((CORPUS / "correct").glob("*.py"))
#: Ids that describe how a call went rather than a mistake of the chapter; covered by test_check_runner.py.
GENERIC = {"timeout", "crashed", "wrong-result"}


def expectations(path: Path) -> dict:
    text = path.read_text()
    return {
        "fail": re.findall(r"^# expect: (\S+) (\S+)$", text, re.M),
        "warn": re.findall(r"^# expect-warn: (\S+) (\S+)$", text, re.M),
        "uses": re.findall(r"^# expect-uses: (\S+) (\S+)$", text, re.M),
    }


@pytest.fixture(scope="module")
def reports():
    files = MISTAKES + CORRECT
    return dict(zip(files, check_files(files, lang="en", timeout=10)))


def test_the_corpus_is_large_enough():
    assert len(MISTAKES) >= 30 and len(CORRECT) >= 5
    assert all(len(expectations(p)["fail"]) == 1 for p in MISTAKES)


def test_every_diagnosis_of_the_catalogue_is_in_the_corpus():
    expected = {i for p in MISTAKES for _, i in expectations(p)["fail"]}
    assert set(CATALOGUE) - GENERIC - expected == set()


def _judge(report, path):
    """{row: set of finding ids} for the rows with findings, and the rows' ``uses``."""
    rows = {r.name: r for r in report.rows}
    exp = expectations(path)
    declared = {}
    for row, finding_id in exp["fail"] + exp["warn"]:
        declared.setdefault(row, set()).add(finding_id)
    got = {name: {f["id"] for f in r.findings} for name, r in rows.items() if r.findings}
    untested = {name for name, r in rows.items() if r.status == "untested"}
    uses = {name: r.uses for name, r in rows.items() if r.uses}
    return declared, got, untested, uses


@pytest.mark.parametrize("path", MISTAKES, ids=[p.stem for p in MISTAKES])
def test_a_mistake_gets_exactly_its_diagnosis(reports, path):
    report = reports[path]
    declared, got, untested, uses = _judge(report, path)
    assert report.status == "ok"
    assert got == declared
    ((faulty, _),) = expectations(path)["fail"]
    # A class that cannot be built leaves its methods untested, nothing else does.
    assert all(row.startswith(faulty + ".") for row in untested)
    assert uses == {row: [dep] for row, dep in expectations(path)["uses"]}
    assert not report.ok or all(f["severity"] == "warn" for r in report.rows for f in r.findings)


@pytest.mark.parametrize("path", CORRECT, ids=[p.stem for p in CORRECT])
def test_a_correct_implementation_gets_no_failure(reports, path):
    report = reports[path]
    declared, got, untested, uses = _judge(report, path)
    assert got == declared and not untested and not uses
    assert report.ok and report.exit_code == 0
    assert report.count("pass", "warn") >= 9  # each file implements at least nine of the chapter's rows

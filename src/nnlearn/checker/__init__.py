"""Check a reader's own chapter-4 functions against nnlearn, and explain each mistake.

``nnlearn.check(target)`` finds the chapter's names the reader defined (:mod:`.names`), runs their code
in a child process with hard limits (:mod:`.remote`) and calls each name from here as the book does
(:mod:`.probes`, driven by :mod:`.runner`): the child only returns plain values, the verdicts are made
here, where the reader's code cannot reach them. The :class:`Report` explains each failure from the
catalogue (:mod:`.catalogue`, docs/check.md) in English, Chinese or Japanese.
"""

from __future__ import annotations

import math
import os

from nnlearn.base.i18n import N_, choose
from nnlearn.checker.confine import CHILD_VARIABLE
from nnlearn.checker.i18n import CheckInputError, CheckTypeError
from nnlearn.checker.live import job_for_object
from nnlearn.checker.names import ROWS, canonical_row, rows_of
from nnlearn.checker.report import Report, Row, escalated
from nnlearn.checker.runner import run_jobs
from nnlearn.checker.source import job_for_file

__all__ = ["check", "check_files", "Report", "CheckInputError", "DEFAULT_TIMEOUT"]

#: Seconds one call of the reader's code may take; the file's top level gets TOP_LEVEL_FACTOR times as long.
DEFAULT_TIMEOUT = 5.0
TOP_LEVEL_FACTOR = 2.0


def _rows(only) -> list[str]:
    if only is None:
        return list(ROWS)
    if isinstance(only, str):
        only = [only]
    only = [part.strip() for text in only for part in str(text).split(",") if part.strip()]
    chosen = []
    for text in only:
        row = canonical_row(str(text))
        if row is None:
            raise CheckInputError(
                N_("{name!r} is not one of the chapter's names; choose from {names}"),
                name=str(text),
                names=", ".join(ROWS),
            )
        chosen.append(row)
    return list(rows_of(chosen))


def _timeout(timeout) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise CheckTypeError(N_("timeout must be a number of seconds, got {type}"), type=type(timeout).__name__)
    if not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise CheckInputError(
            N_("timeout must be more than 0 and at most 3600 seconds, got {value}; the default is {default}"),
            value=repr(timeout),
            default=f"{DEFAULT_TIMEOUT:g}",
        )
    return float(timeout)


def _settings(lang, only, timeout, import_timeout) -> tuple:
    """The arguments every check takes, checked: ``(lang, rows, timeout, import_timeout)``."""
    lang = choose(lang)
    timeout = _timeout(timeout)
    import_timeout = _timeout(import_timeout if import_timeout is not None else TOP_LEVEL_FACTOR * timeout)
    return lang, _rows(only), timeout, import_timeout


def check_files(
    paths, lang: str | None = None, *, only=None, timeout: float = DEFAULT_TIMEOUT, import_timeout: float | None = None
) -> list[Report]:
    """Check several files (``.py`` or ``.ipynb``) in as few child processes as their code allows.

    Each file gets a fresh namespace, its own folder as working directory and first entry of
    ``sys.path``; the modules it imported from its folder are forgotten before the next file.
    """
    lang, rows, timeout, import_timeout = _settings(lang, only, timeout, import_timeout)
    if os.environ.get(CHILD_VARIABLE):
        return [_nested(str(p), lang) for p in paths]
    jobs = [dict(job_for_file(path), rows=rows) for path in paths]
    results = run_jobs(jobs, timeout=timeout, import_timeout=import_timeout)
    return [build_report(job, res, rows, lang) for job, res in zip(jobs, results)]


def check(
    target, lang: str | None = None, *, only=None, timeout: float = DEFAULT_TIMEOUT, import_timeout: float | None = None
) -> Report:
    """Check the reader's chapter functions in ``target`` and return the :class:`Report`.

    Parameters
    ----------
    target : path, module, dict, function or class
        A ``.py`` file or ``.ipynb`` notebook; a module (its file is checked); a namespace such as
        ``globals()`` in a notebook; or one function or class. The code runs in a child process,
        never in this one: for a namespace or a function, the source of the chapter's definitions
        (with the imports and simple constants they use) is what runs there.
    lang : {"en", "zh", "ja"}, optional
        The report's language; by default the locale's (``LANGUAGE``, ``LC_ALL``, ``LANG``), else English.
    only : name or list of names, optional
        Check only these (``"softmax"``, ``"TwoLayerNet"``, ``"TwoLayerNet.gradient"``).
    timeout : float, default 5
        Seconds one call of the reader's code may take; the file's top level gets twice as long
        (``import_timeout``), and when it runs longer (a training loop) it is stopped there and the
        names defined until then are checked.

    Returns
    -------
    Report
        Prints as a table, shows as an HTML table in Jupyter; ``report.ok``, ``report.to_json()``.
    """
    if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
        target = os.fsdecode(target)  # a bytes path too (b"/path.py" reached open() and raised a raw TypeError)
        return check_files([target], lang, only=only, timeout=timeout, import_timeout=import_timeout)[0]
    lang, rows, timeout, import_timeout = _settings(lang, only, timeout, import_timeout)
    if os.environ.get(CHILD_VARIABLE):
        return _nested(getattr(target, "__name__", type(target).__name__), lang)
    job = job_for_object(target)
    if job.get("path_target"):
        return check_files([job["path_target"]], lang, only=only, timeout=timeout, import_timeout=import_timeout)[0]
    if job.get("rows") is not None:  # one function or class: its rows only
        rows = [r for r in rows if r in job["rows"]]
    job["rows"] = rows
    result = run_jobs([job], timeout=timeout, import_timeout=import_timeout)[0]
    return build_report(job, result, rows, lang)


def _nested(target: str, lang: str) -> Report:
    """The report of a check asked for by a file that is itself being checked: nothing is run."""
    return Report(target, lang, "ok", [], [{"kind": "nested"}])


def build_report(job: dict, result, rows: list, lang: str) -> Report:
    """The report of one job from what the child process said about it."""
    out = []
    notes = [*job.get("notes", []), *result.notes]
    no_source = {canonical_row(n["name"]) for n in notes if n.get("kind") == "no-source"}
    for row in rows:
        found = result.found.get(row.partition(".")[0])
        if row in result.rows:
            out.append(result.rows[row])
        elif "." in row:  # a method row not probed: its class's row says why
            continue
        elif found is not None and not found.get("yours", True):
            out.append(Row(row, "missing", found.get("spelling", ""), origin=found))
        elif row in no_source:  # defined, but Python kept no source to check
            out.append(Row(row, "missing", origin={"no-source": True}))
        else:  # a class not found is one row; its methods are not listed
            out.append(Row(row, "missing"))
    return Report(job.get("display", ""), lang, result.status, escalated(out, notes), notes)

"""The study journal's lines, checked before Optuna replays them.

Optuna replays ``study.journal`` trusting every line: a foreign JSON object stops it with a
``KeyError``, an unknown ``op_code`` with an ``AssertionError``, a text where a number belongs
reaches ``trials.csv`` (and breaks the figures), and a parameter outside the sweep's declared range
(``lr`` NaN or 1e308) is taken as a trial's setting. So each line must be one of the operations
Optuna writes, with the fields it writes, of the types it writes; each trial's parameter one of the
sweep's, with the sweep's own distribution and a value inside it; each result a validation accuracy
in [0, 1]. The first line that is not is named, with the fix (:func:`check_journal`).
"""

from __future__ import annotations

import json
from datetime import datetime

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import parse_json, read_regular_file
from nnlearn.base.i18n import N_, _
from nnlearn.train.tables import finite

#: The largest journal read (a line is a few hundred bytes; a trial takes a few lines).
MAX_JOURNAL_BYTES = 256 * 2**20


class _NonFinite:
    """A NaN or Infinity in a line, kept apart from numbers: no number of a journal nnlearn writes is one."""

    def __repr__(self) -> str:
        return "NaN or Infinity"


_NONFINITE = _NonFinite()

#: Optuna's journal operations (``optuna.storages.journal._storage.JournalOperation``) and the fields
#: each writes: ``int``, ``str``, ``time`` (ISO 8601), ``attr`` (an object of one key), ``state``.
_FIELDS = {
    0: {"study_name": "str", "directions": "directions"},  # create a study
    1: {"study_id": "int"},  # delete a study
    2: {"study_id": "int", "user_attr": "attr"},
    3: {"study_id": "int", "system_attr": "attr"},
    4: {"study_id": "int"},  # create a trial (its optional fields: _trial_problem)
    5: {"trial_id": "int", "param_name": "str", "param_value_internal": "number", "distribution": "str"},
    6: {"trial_id": "int", "state": "state"},  # a trial's state and result
    7: {"trial_id": "int", "step": "int", "intermediate_value": "number"},
    8: {"trial_id": "int", "user_attr": "attr"},
    9: {"trial_id": "int", "system_attr": "attr"},
}
#: Optuna's TrialState values: RUNNING, COMPLETE, PRUNED, FAIL, WAITING.
_STATES = range(5)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_time(value) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


#: Each kind of field: its check, and its name in the message of a line that fails it.
_KINDS = {
    "int": (_is_int, N_("a whole number >= 0")),
    "str": (lambda v: isinstance(v, str), N_("a text")),
    "number": (finite, N_("a finite number")),
    "time": (_is_time, N_("a time")),
    "attr": (lambda v: isinstance(v, dict) and len(v) == 1, N_("an object of one key")),
    "state": (lambda v: _is_int(v) and v in _STATES, N_("a trial state 0-4")),
    "directions": (
        lambda v: isinstance(v, list) and len(v) > 0 and all(d in (1, 2) and _is_int(d) for d in v),
        N_("a list of directions 1 or 2"),
    ),
}


def check_journal(journal, folder, params) -> None:
    """Refuse a journal with a line that is cut off, not JSON, or not what an nnlearn sweep of
    ``params`` (its :class:`~nnlearn.sweep.space.Param` list) writes: one line naming the first bad
    line and the fix."""
    try:
        text = read_regular_file(journal, MAX_JOURNAL_BYTES)
    except FileNotFoundError:
        raise FileFormatError(
            _(
                "{journal} is missing: the sweep in {folder} cannot be resumed; start a new sweep with --out",
                journal=journal,
                folder=folder,
            )
        ) from None
    damage = first_damage(text.split(b"\n"), params)
    if damage:
        number, why = damage
        raise FileFormatError(
            _(
                "{journal} is damaged at line {number} ({why}); keep its first {kept} lines to resume "
                "with --resume {folder}, or start a new sweep with --out",
                journal=journal,
                number=number,
                why=why,
                kept=number - 1,
                folder=folder,
            )
        )


def first_damage(lines: list, params=()) -> tuple[int, str] | None:
    """``(line number, what is wrong)`` of the first bad line of a journal split at its ends of line
    (the last item is what follows the last end of line: nothing, in a whole journal); None if all are good."""
    declared = {p.name: p for p in params}
    for number, line in enumerate(lines[:-1], 1):
        try:
            parse_json(line, _("the line"))  # damage named as for any JSON file nnlearn reads
        except FileFormatError as exc:
            return number, str(exc)
        why = entry_problem(json.loads(line, parse_constant=lambda word: _NONFINITE), declared)
        if why:
            return number, why
    if lines[-1]:
        return len(lines), _("the line is cut off: a write that did not finish")
    return None


def entry_problem(entry, declared: dict) -> str | None:
    """What is wrong with one parsed journal line, in words; None when it is what a sweep writes."""
    if not isinstance(entry, dict) or "op_code" not in entry:
        return _("the line is not a journal entry")
    op = entry["op_code"]
    if not _is_int(op) or op not in _FIELDS:
        return _("op_code {op!r} is not an operation of Optuna's journal", op=op)
    if not isinstance(entry.get("worker_id"), str):
        return _("the line names no worker_id")
    for field, kind in _FIELDS[op].items():
        holds, words = _KINDS[kind]
        if field not in entry or not holds(entry[field]):
            return _("its {field} is {value}, not {kind}", field=field, value=_shown(entry.get(field)), kind=_(words))
    if op == 4:
        return _trial_problem(entry, declared)
    if op == 5:
        return _param_problem(entry["param_name"], entry["param_value_internal"], entry["distribution"], declared)
    if op == 6:
        # Optuna reads the start of a trial set running, the end of one finished
        needed = {0: "datetime_start", 1: "datetime_complete", 2: "datetime_complete", 3: "datetime_complete"}
        field = needed.get(entry["state"])
        if field and not _is_time(entry.get(field)):
            return _("its {field} is {value}, not a time", field=field, value=_shown(entry.get(field)))
        return _result_problem(entry) or _times_problem(entry)
    return None


def _shown(value) -> str:
    text = _("missing") if value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _times_problem(entry: dict) -> str | None:
    for field in ("datetime_start", "datetime_complete"):
        if entry.get(field) is not None and not _is_time(entry[field]):
            return _("its {field} is {value}, not a time", field=field, value=_shown(entry[field]))
    return None


def _result_problem(entry: dict) -> str | None:
    """A trial's result: none, or one validation accuracy in [0, 1] (what a sweep maximises)."""
    for field in ("value", "values"):
        value = entry.get(field)
        if value is None:
            continue
        numbers_ = value if field == "values" and isinstance(value, list) else [value]
        if len(numbers_) != 1 or not finite(numbers_[0]) or not 0 <= numbers_[0] <= 1:
            return _("its {field} is {value}, not a validation accuracy in [0, 1]", field=field, value=_shown(value))
    return None


def _trial_problem(entry: dict, declared: dict) -> str | None:
    """A created trial's optional fields (Optuna writes them when a trial is copied in whole)."""
    if "state" in entry and not _KINDS["state"][0](entry["state"]):
        return _("its state is {value}, not a trial state 0-4", value=_shown(entry["state"]))
    for field in ("distributions", "params", "user_attrs", "system_attrs", "intermediate_values"):
        if field in entry and not isinstance(entry[field], dict):
            return _("its {field} is {value}, not an object", field=field, value=_shown(entry[field]))
    distributions = entry.get("distributions", {})
    for name, value in entry.get("params", {}).items():
        if name not in distributions:
            return _("its parameter {name!r} has no distribution", name=name)
        why = _param_problem(name, value, distributions[name], declared)
        if why:
            return why
    if any(not finite(v) for v in entry.get("intermediate_values", {}).values()):
        return _("its intermediate_values are not all finite numbers")
    return _result_problem(entry) or _times_problem(entry)


def _param_problem(name, internal, distribution, declared: dict) -> str | None:
    """A trial's parameter: one of the sweep's, with the sweep's distribution, its value inside it."""
    from optuna.distributions import distribution_to_json

    param = declared.get(name)
    if param is None:
        return _(
            "{name!r} is not a parameter of this sweep ({declared})",
            name=name,
            declared=", ".join(declared) or _("none"),
        )
    try:
        same = isinstance(distribution, str) and json.loads(distribution) == json.loads(
            distribution_to_json(param.distribution())
        )
    except ValueError:
        same = False
    if not same:
        return _("{name}'s distribution is not the sweep's {spec}", name=name, spec=param.spec)
    if not param.holds(internal):
        return _("{name} is {value}, outside the sweep's {spec}", name=name, value=_shown(internal), spec=param.spec)
    return None

"""What every probe uses: a finding, the probe's context (calling the reader's code, collecting
findings) and the generic verdicts (an exception, a timeout, a wrong value)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nnlearn.checker.catalogue import CATALOGUE
from nnlearn.checker.targets import TARGETS
from nnlearn.checker.values import Opaque, changed, has_nan, show, snapshot, to_array
from nnlearn.checker.wire import Function, ReaderError, Timeout

#: "NameError: name 'f' is not defined", as the sandbox describes an exception.
NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
#: Builtins of Python 2 that Python 3 removed (code copied from older translations of the book).
PYTHON2_NAMES = frozenset(
    {"xrange", "raw_input", "unicode", "long", "basestring", "unichr", "execfile", "reduce", "file", "cmp"}
)


@dataclass
class Finding:
    """One diagnosis of one row: an id of the catalogue, what was observed, and details."""

    id: str
    severity: str
    section: str
    input: str = ""
    got: str = ""
    expected: str = ""
    details: list = field(default_factory=list)  # [key of catalogue.DETAILS, {field: value}]
    where: list = field(default_factory=list)  # the reader's frames, [label, line, code], innermost last
    names: dict = field(default_factory=dict)  # the book's parameter name -> the reader's, for the fix's code


class Stop(Exception):
    """Probing a row ends here (an exception, a timeout, a wrong value that makes the rest moot)."""

    def __init__(self, finding: Finding | None = None):
        super().__init__(finding.id if finding else "stop")
        self.finding = finding


@dataclass
class Outcome:
    """What a call gave: its ``value``, or the ``error`` it raised."""

    value: object = None
    error: ReaderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


#: The probes' own functions, by the name they cross to the child with.
_TARGET_NAMES = {f: name for name, f in TARGETS.items()}


def _wire(arg):
    """A probe's argument as it crosses to the child: one of the probes' functions by its name."""
    if callable(arg) and not isinstance(arg, (Function, Opaque, np.ndarray)) and arg in _TARGET_NAMES:
        return Function(_TARGET_NAMES[arg])
    return arg


class Probe:
    """The context of probing one row: calls into the reader's code (in the child process, through
    ``remote``, a :class:`nnlearn.checker.remote.Remote`) and the findings so far."""

    def __init__(self, remote, section: str, row: str = ""):
        self.remote = remote
        self.row = row
        self.section = section
        self.findings: list[Finding] = []
        self.note: str | None = None
        self.uses: list[str] = []  # the failing rows this row calls, stood in for while it was probed

    # -- findings ----------------------------------------------------------------------------------

    def finding(
        self,
        finding_id: str,
        show_input: str = "",
        got=None,
        expected=None,
        *,
        details=(),
        severity: str | None = None,
        section: str | None = None,
        where=(),
    ) -> Finding:
        """A finding of ``finding_id``; ``got`` and ``expected`` are values (shown) or ready strings."""
        cat = CATALOGUE[finding_id]  # a KeyError for an unknown id is a bug in a probe
        return Finding(
            id=finding_id,
            severity=severity or cat.severity,
            section=section or cat.section or self.section,
            input=show_input,
            got=got if isinstance(got, str) else ("" if got is None else show(got)),
            expected=expected if isinstance(expected, str) else ("" if expected is None else show(expected)),
            details=[[k, dict(v)] for k, v in details],
            where=list(where),
        )

    def add(self, finding: Finding) -> Finding:
        """Keep ``finding``, once per id (the first example of a mistake is the one shown)."""
        if all(f.id != finding.id for f in self.findings):
            self.findings.append(finding)
        return finding

    def fail(self, finding_id: str, *args, **kwargs):
        """Add the finding and stop probing this row."""
        raise Stop(self.add(self.finding(finding_id, *args, **kwargs)))

    # -- calls -------------------------------------------------------------------------------------

    def attempt(self, fn, *args, show_input: str = "", mutation: str | None = "input-modified", **kwargs) -> Outcome:
        """Call the reader's ``fn`` on the arguments (copies of them reach the reader's code); an
        exception is returned in the outcome, a timeout stops the row.

        When the call changes one of its array arguments, a ``mutation`` finding is added
        (``input-modified``; ``x-not-restored`` for a gradient; None: allowed).
        """
        if not isinstance(fn, Opaque) or not fn.callable:
            return Outcome(error=ReaderError("TypeError", f"TypeError: {show(fn)} is not callable", []))
        args = tuple(_wire(a) for a in args)
        copies = snapshot(args) if mutation else []
        self.remote.row = self.row
        try:
            value, after = self.remote.call(fn, args, kwargs, back=bool(copies))
        except Timeout as exc:
            self.fail("timeout", show_input, details=[("seconds", {"seconds": f"{exc.seconds:g}"})], where=exc.where)
        except ReaderError as exc:
            return Outcome(error=exc)
        moved = changed(after, copies)
        if moved:
            i = moved[0]
            details = [("after-call", {})] if mutation == "x-not-restored" else []
            self.add(self.finding(mutation, show_input, got=after[i], expected=dict(copies)[i], details=details))
        return Outcome(value=value)

    def attr(self, obj, name: str):
        """The reader's ``obj.name`` (arrays as copies, objects as handles); None when there is none."""
        if not isinstance(obj, Opaque) or obj.handle < 0:
            return None
        self.remote.row = self.row
        return self.remote.attr(obj, name)

    def write(self, obj, path: tuple, value, index=None) -> bool:
        """``obj.path[index] = value`` into the reader's own array (``[...]`` without ``index``)."""
        if not isinstance(obj, Opaque) or obj.handle < 0:
            return False
        self.remote.row = self.row
        return self.remote.write(obj, path, value, index)

    def call(self, fn, *args, show_input: str = "", mutation: str | None = "input-modified", **kwargs):
        """Call ``fn`` and return its value; an exception is a finding that stops the row."""
        outcome = self.attempt(fn, *args, show_input=show_input, mutation=mutation, **kwargs)
        if not outcome.ok:
            self.raised(outcome.error, show_input)
        return outcome.value

    def raised(self, error: ReaderError, show_input: str, book_call: str | None = None):
        """Stop the row with the finding for an exception (``signature`` when the arguments did not fit;
        a NameError said in one line: a Python 2 name, else a name renamed in the def line only)."""
        if error.signature:
            details = [("book-call", {"call": book_call or show_input})]
            self.fail("signature", show_input, got=error.text, details=details)
        undefined = NAME_ERROR.search(error.text or "")
        if undefined:
            name = undefined.group(1)
            finding_id = "python2-name" if name in PYTHON2_NAMES else "renamed-parameter"
            self.fail(finding_id, show_input, got=error.text, where=error.where, details=[("name", {"name": name})])
        self.fail("raised-exception", show_input, got=error.text, where=error.where)

    def wrong(self, show_input: str, got, expected, *, details=(), finding_id: str = "wrong-result"):
        """Stop the row with the generic verdict for a value that is not the expected one."""
        if got is None:
            self.fail("missing-return", show_input, got=None, expected=expected)
        arr, exp = to_array(got), to_array(expected)
        if arr is not None and exp is not None and arr.shape != exp.shape and not (arr.size == exp.size == 1):
            self.fail(
                "wrong-shape",
                show_input,
                got=f"shape {arr.shape}: {show(got)}",
                expected=f"shape {exp.shape}: {show(expected)}",
                details=details,
            )
        extra = [("nan", {})] if has_nan(got) and not has_nan(expected) else []
        self.fail(finding_id, show_input, got=got, expected=expected, details=[*details, *extra])

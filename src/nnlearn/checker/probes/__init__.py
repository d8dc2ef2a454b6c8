"""The probes: each chapter name called the way the book calls it, its results compared with
nnlearn's, and each difference turned into a diagnosis of the catalogue.

They run in the parent, where the reader's code cannot reach them, and call the reader's code in the
child through a :class:`~nnlearn.checker.remote.Remote`. A function's probe is ``probe_NAME(fn, p)``
with ``p`` a :class:`~.base.Probe`; it adds findings and may stop early by raising :class:`~.base.Stop`.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

from nnlearn.checker.catalogue import FAIL, WARN, earlier_version
from nnlearn.checker.names import rows_of
from nnlearn.checker.probes import activations, descent, losses, networks
from nnlearn.checker.probes.base import Probe, Stop
from nnlearn.checker.probes.isolation import Isolation, judged
from nnlearn.checker.report import Row

#: Each function row: its probe, its book section, and the book's positional parameters, in order;
#: the fixes' code is written with them (``a|x``: softmax's input is ``a`` or ``x`` in the book's two versions).
FUNCTION_PROBES = {
    "sigmoid": (activations.probe_sigmoid, "3.2.4", ("x",)),
    "softmax": (activations.probe_softmax, "3.5", ("a|x",)),
    "mean_squared_error": (losses.probe_mean_squared_error, "4.2.1", ("y", "t")),
    "cross_entropy_error": (losses.probe_cross_entropy_error, "4.2.2", ("y", "t")),
    "numerical_diff": (descent.probe_numerical_diff, "4.3.1", ("f", "x")),
    "function_1": (activations.probe_function_1, "4.3.2", ()),
    "function_2": (activations.probe_function_2, "4.3.3", ()),
    "_numerical_gradient_no_batch": (partial(descent.probe_gradient, two_d=False), "4.4", ("f", "x")),
    "numerical_gradient": (partial(descent.probe_gradient, two_d=True), "4.4", ("f", "x")),
    "gradient_descent": (descent.probe_gradient_descent, "4.4.1", ("f", "init_x", "lr", "step_num")),
}

#: Each class: its probe, and the book's section of each of its rows without a section of its own.
CLASS_PROBES = {"simpleNet": networks.probe_simple_net, "TwoLayerNet": networks.probe_two_layer_net}
SECTIONS = {"simpleNet": "4.4.2", "TwoLayerNet": "4.5.1", "TwoLayerNet.gradient": "5.7.2"}

PASS, MISSING, UNTESTED = "pass", "missing", "untested"


def section_of(row: str) -> str:
    if row in FUNCTION_PROBES:
        return FUNCTION_PROBES[row][1]
    return SECTIONS.get(row) or SECTIONS[row.partition(".")[0]]


def result(name: str, spelling: str, probe: Probe) -> Row:
    """The report's row of a probe: its verdict, its findings as data, the failing rows it uses."""
    severities = {f.severity for f in probe.findings}
    status = FAIL if FAIL in severities else WARN if WARN in severities else PASS
    return Row(name, status, spelling, [asdict(f) for f in probe.findings], probe.note, probe.uses)


def run_function(name: str, spelling: str, fn, remote, isolation: Isolation, parameters=()) -> Row:
    """Probe the reader's function ``fn`` as the book's ``name`` (see :mod:`.isolation` for the failing
    functions it calls); ``parameters``: its positional parameters' names, for the fixes' code."""

    def run():
        probe = Probe(remote, section_of(name), name)
        try:
            FUNCTION_PROBES[name][0](fn, probe)
        except Stop:
            pass
        return probe

    probe, probe.uses = judged(run, lambda only=None: isolation.applied(fn, only=only))
    for finding in probe.findings:
        finding.names = reader_names(name, parameters)
    row = result(name, spelling, probe)
    if row.status == FAIL or any(earlier_version(f) for f in row.findings):
        isolation.failed(name, fn)  # stood in for where it is used: a limited earlier version too
    return row


def reader_names(name: str, params) -> dict:
    """``{book's parameter: the reader's}`` where the reader named a parameter otherwise, so that a fix
    is shown in the reader's own names (``softmax(z)``: ``np.max(z)``, not ``np.max(a)``). ``params``:
    the reader's positional parameters, as the child read them from the function's code (identifiers,
    checked by the runner)."""
    books = FUNCTION_PROBES[name][2]
    return {book: theirs for both, theirs in zip(books, params) for book in both.split("|") if book != theirs}


def run_class(name: str, spelling: str, cls, remote, rows, isolation: Isolation, methods: dict) -> list[Row]:
    """Probe the reader's class ``cls`` as the book's ``name``: the ``rows`` asked for, in the book's order;
    ``methods`` maps each method row to the reader's spelling of it (None: the class has none).

    A method the class lacks is ``missing``; the methods of a class that cannot be built are
    ``untested``. The methods of rows not asked for are not called.
    """
    probes = {row: Probe(remote, section_of(row), row) for row in rows_of([name])}
    methods = {row: methods.get(row) for row in probes if "." in row}
    fresh = lambda row: Probe(remote, section_of(row), row)  # noqa: E731
    done = CLASS_PROBES[name](cls, probes, methods, set(rows), isolation, fresh)
    out = []
    for row, probe in probes.items():
        if row not in rows:
            continue
        if "." in row and methods[row] is None:
            out.append(Row(row, MISSING))
        elif row not in done:
            out.append(Row(row, UNTESTED, f"{spelling}.{methods.get(row) or ''}".rstrip(".")))
        else:
            out.append(result(row, spelling if "." not in row else f"{spelling}.{methods[row]}", probe))
    return _worst_of_methods(name, out)


def _worst_of_methods(name: str, rows: list) -> list:
    """The class's row is the worst of its own verdict and its methods': a class whose ``loss`` fails
    is not right, even when it can be built."""
    order = (PASS, WARN, FAIL)
    own = next((r for r in rows if r.name == name), None)
    methods = [r.status for r in rows if r.name != name and r.status in order]
    if own is None or own.status not in order or not methods:
        return rows
    worst = max(methods, key=order.index)
    if order.index(worst) > order.index(own.status):
        own.status, own.note = worst, "worst-of-methods"
    return rows

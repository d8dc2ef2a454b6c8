"""Probes of the loss functions: ``mean_squared_error`` (4.2.1) and ``cross_entropy_error`` (4.2.2,
4.2.4), on the book's two outputs and on a batch, with one-hot targets and with labels.

A target is one-hot rows or labels. The book's first cross-entropy takes one-hot targets only,
its label version labels only, and ``common/functions.py`` both; so a function that handles one
form and refuses the other (an exception) passes, one that returns a wrong number for the other
form gets a warning, and one that gets a form right in one case and wrong in another fails.
"""

from __future__ import annotations

import numpy as np

from nnlearn.checker.values import close, frozen, has_nan, ratio, show, to_scalar
from nnlearn.common.losses import cross_entropy_error, mean_squared_error

#: The book's outputs for the target "2": most confident in 2, then most confident in 7.
Y1 = frozen([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y2 = frozen([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
Y3 = frozen([0.7, 0.1, 0.05, 0.05, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0])
BATCH = frozen(np.stack([Y1, Y2, Y3]))
LABELS = frozen([2, 2, 0])
DELTA = 1e-7


def one_hot(labels, classes: int = 10) -> np.ndarray:
    """Integer one-hot rows, as ``load_mnist(one_hot_label=True)`` gives (but int, like the book's ``t``)."""
    return np.eye(classes, dtype=np.int64)[labels]


def swapped_values(y, t_one_hot) -> list[float]:
    """What ``cross_entropy_error(t, y)`` gives for the book's two ways of writing it: ``t * log(y)``
    and the label version that turns one-hot rows into ``argmax`` labels."""
    y2, t2 = np.atleast_2d(y), np.atleast_2d(t_one_hot).astype(np.float64)
    n = y2.shape[0]
    by_product = -np.sum(y2 * np.log(t2 + DELTA)) / n
    by_label = -np.sum(np.log(t2[np.arange(n), y2.argmax(axis=1)] + DELTA)) / n
    return [float(by_product), float(by_label)]


def loss_call(name, y, t) -> str:
    return f"{name}({show(y)}, {show(t)})"


def _cases(name):
    """The probes of each target form: (shown call, y, t, expected), single samples first."""
    forms = {"one-hot": [], "labels": []}
    for y, label in ((Y1, 2), (Y2, 2)):
        forms["one-hot"].append((y, one_hot(label)))
        forms["labels"].append((y, np.array(label)))
    forms["one-hot"].append((BATCH, one_hot(LABELS)))
    forms["labels"].append((BATCH, LABELS))
    return {
        form: [(loss_call(name, y, t), y, t, cross_entropy_error(y, t)) for y, t in cases]
        for form, cases in forms.items()
    }


def probe_cross_entropy_error(fn, p):
    cases = _cases("cross_entropy_error")
    results = {
        form: [(case, p.attempt(fn, case[1], case[2], show_input=case[0])) for case in form_cases]
        for form, form_cases in cases.items()
    }
    for (shown, y, t, expected), outcome in results["one-hot"][:2]:
        if outcome.ok and any(close(outcome.value, s, rtol=1e-6) for s in swapped_values(y, t)):
            p.fail("swapped-arguments", shown, outcome.value, expected)
    for form in results.values():
        for (shown, y, t, expected), outcome in form:
            if outcome.ok and has_nan(outcome.value):
                p.fail("log-of-zero", shown, outcome.value, expected)
    _single_sample(p, results)
    _judge_forms(p, results)
    _probe_zero(fn, p, results)


def _single_sample(p, results) -> None:
    """A batch summed by a loss right on single samples is the book's 4.2.2 version (a warning, and
    the sum is taken as that version's answer for the rest of the probe); summed in one target form
    and averaged in the other, it is a failure."""
    summed, averaged = [], False
    for form, items in results.items():
        singles_ok = all(_right(o, c[3]) for c, o in items[:2])
        (shown, y, t, expected), batch = items[2]
        if singles_ok and batch.ok and close(to_scalar(batch.value), expected * len(y), rtol=1e-5):
            summed.append(form)
        averaged = averaged or _right(batch, expected)
    if not summed:
        return
    (shown, y, t, expected), batch = results[summed[0]][2]
    if averaged:
        p.fail("sum-not-mean", shown, batch.value, expected)
    details = [("single-sample-cee", {})]
    if summed == ["labels"]:  # the fix's formula is the one-hot one: say the label one too
        details.append(("labels-fix", {}))
    p.add(p.finding("sum-not-mean", shown, batch.value, expected, severity="warn", section="4.2.2", details=details))
    for form in summed:
        (shown, y, t, expected), batch = results[form][2]
        results[form][2] = ((shown, y, t, expected * len(y)), batch)


def _right(outcome, expected) -> bool:
    return outcome.ok and close(to_scalar(outcome.value), expected, rtol=1e-5)


def _judge_forms(p, results):
    """One form fully right and the other refused (an exception each time): pass; the other silently
    wrong: a warning. A form right in one case but wrong or refused in another: a failure. No form
    right at all: the first wrong case."""
    verdict = {}
    for form, items in results.items():
        right = [_right(o, c[3]) for c, o in items]
        bad = [(c, o) for (c, o), r in zip(items, right) if not r]
        verdict[form] = (all(right), any(right), bad)
    one_hot_singles = results["one-hot"][:2]
    if verdict["one-hot"][1] and all(
        o.ok and close(to_scalar(o.value), c[3] / c[1].size, rtol=1e-5) for c, o in one_hot_singles
    ):
        (shown, y, t, expected), outcome = one_hot_singles[0]
        p.fail("no-reshape", shown, outcome.value, expected)
    for form, (all_right, any_right, bad) in verdict.items():
        if any_right and bad:
            (shown, y, t, expected), outcome = bad[0]
            other = "labels" if form == "one-hot" else "one-hot"
            if not verdict[other][0]:  # neither form is handled: this form's own case is the trouble
                if not outcome.ok:
                    p.raised(outcome.error, shown, "cross_entropy_error(y, t)")
                p.wrong(shown, outcome.value, expected)
            got = outcome.value if outcome.ok else outcome.error.text
            p.fail("labels-vs-one-hot", shown, got, expected, where=() if outcome.ok else outcome.error.where)
    good = [form for form, v in verdict.items() if v[0]]
    if len(good) == 2:
        return
    if len(good) == 1:
        other = "labels" if good[0] == "one-hot" else "one-hot"
        wrong = [(c, o) for c, o in verdict[other][2] if o.ok]
        if wrong:
            (shown, y, t, expected), outcome = wrong[0]
            detail = "one-hot-only" if good[0] == "one-hot" else "labels-only"
            p.add(
                p.finding("labels-vs-one-hot", shown, outcome.value, expected, severity="warn", details=[(detail, {})])
            )
        return
    (shown, y, t, expected), outcome = results["one-hot"][0]
    if not outcome.ok:
        p.raised(outcome.error, shown, "cross_entropy_error(y, t)")
    p.wrong(shown, outcome.value, expected)


def _probe_zero(fn, p, results):
    """The correct class at probability 0: -log(1e-7) = 16.118 with the book's delta; inf without one."""
    form = "one-hot" if all(_right(o, c[3]) for c, o in results["one-hot"]) else "labels"
    y = np.array([0.5, 0.5, 0.0])
    t = one_hot(2, 3) if form == "one-hot" else np.array(2)
    shown = loss_call("cross_entropy_error", y, t)
    expected = -np.log(DELTA)
    outcome = p.attempt(fn, y, t, show_input=shown)
    if not outcome.ok or close(to_scalar(outcome.value), expected, rtol=1e-6):
        return
    if has_nan(outcome.value):
        p.fail("log-of-zero", shown, outcome.value, expected)
    value = to_scalar(outcome.value)
    if value is not None and 5.0 < value < 100.0:
        p.add(p.finding("unusual-delta", shown, outcome.value, expected))
        return
    p.wrong(shown, outcome.value, expected)


def probe_mean_squared_error(fn, p):
    """The book's two examples (0.0975, 0.5975) and a batch, whose loss may be the book's sum over
    all rows or nnlearn's average over the samples."""
    for y in (Y1, Y2):
        t = one_hot(2)
        shown = loss_call("mean_squared_error", y, t)
        expected = mean_squared_error(y, t)
        got = p.call(fn, y, t, show_input=shown)
        if close(to_scalar(got), expected, rtol=1e-9):
            continue
        factor = ratio(to_scalar(got), expected) if to_scalar(got) is not None else None
        if factor is not None and abs(factor - 2.0) < 1e-6:
            p.fail("missing-half", shown, got, expected)
        if factor is not None and abs(factor - 0.2) < 1e-6:
            p.fail("mean-of-squares", shown, got, expected)
        p.wrong(shown, got, expected)
    t = one_hot(LABELS)
    shown = loss_call("mean_squared_error", BATCH, t)
    mean = mean_squared_error(BATCH, t)
    got = p.call(fn, BATCH, t, show_input=shown)
    if not (close(to_scalar(got), mean, rtol=1e-9) or close(to_scalar(got), mean * len(BATCH), rtol=1e-9)):
        p.wrong(shown, got, mean)

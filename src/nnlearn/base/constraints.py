"""What a setting may hold, declared once: the check, its message, the command line's parsing, the sweep's kinds.

A constraint (scikit-learn's ``_parameter_constraints`` is the model) knows three things about the
values of one setting:

- ``check(value, name)``: the value, normalised (``[512, 256]`` -> ``(512, 256)``), or one
  :class:`~nnlearn.base.errors.InputError` line naming the setting, what it must be and the fix;
- ``parse(text)``: the value a command-line word stands for (then checked); never ``eval``;
- ``sweep_kinds``: how ``nnlearn sweep --param`` may search it (``loguniform``, ``uniform``, ``int``,
  ``choice``).

:mod:`nnlearn.train.settings` declares each training setting with one of these, and everything else -- the
flags of ``nnlearn train``, the sweep's parameters, the checks -- is derived from the declaration.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from nnlearn.base.errors import InputError
from nnlearn.base.i18n import N_, _


def number_of(text, kind=float):
    """The ``int`` or ``float`` (``kind``) a typed word stands for, from ASCII characters only; else ValueError.

    Python's ``int`` and ``float`` read any script's digits: ``int("١٢")`` is 12 and ``"²".isdigit()`` is
    true, so ``--port ١٢`` bound port 12. A number typed for nnlearn is written in ASCII; anything else
    is refused as not a number, whatever it looks like.

    Examples
    --------
    >>> number_of("12", int), number_of(" 1e-3 ")
    (12, 0.001)
    >>> number_of("١٢", int)
    Traceback (most recent call last):
    ...
    ValueError: '١٢' is not a number written in ASCII digits
    """
    if not isinstance(text, str) or not text.isascii():
        raise ValueError(_("{text!r} is not a number written in ASCII digits", text=text))
    return kind(text)


class Constraint:
    """Base class: what a setting may hold (see the module's docstring)."""

    #: The values in words, completing "NAME must be ...": a message of the catalogue and its fields.
    what_message: tuple = (N_("a value"), {})
    sweep_kinds: tuple = ("choice",)

    def __init__(self, hint: str = ""):
        #: Said after the refusal: the book's value, an example (a message of the catalogue, marked N_).
        self.hint = hint

    @property
    def what(self) -> str:
        """The values in words, in English (help texts, the sweep's errors)."""
        msgid, fields = self.what_message
        return msgid.format(**fields)

    def what_said(self) -> str:
        """The values in words, in the current language."""
        msgid, fields = self.what_message
        return _(msgid, **fields)

    def hint_said(self) -> str:
        """``; `` and the hint in the current language, or nothing."""
        return _("; {hint}", hint=_(self.hint)) if self.hint else ""

    def refuse(self, value, name: str):
        return InputError(_("{name} must be {what}, got {value!r}", name=name, what=self.what_said(), value=value)
                          + self.hint_said())

    def check(self, value, name: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, text: str):
        """The value a command-line word stands for (checked by :meth:`check` afterwards)."""
        return text

    def metavar(self) -> str | None:
        return None


class Number(Constraint):
    """A finite number (``kind=int``: a whole number) between ``low`` and ``high``.

    Examples
    --------
    >>> Number(float, 0, None, low_open=True).check(0.1, "lr")
    0.1
    >>> Number(float, 0, 1, high_open=True, hint="the book uses 0.2").check(1.5, "dropout")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: dropout must be a number in [0, 1), got 1.5; the book uses 0.2
    """

    def __init__(self, kind, low=None, high=None, *, low_open=False, high_open=False, hint: str = ""):
        super().__init__(hint)
        self.kind, self.low, self.high, self.low_open, self.high_open = kind, low, high, low_open, high_open
        whole = kind is int
        if whole and low is not None and high is not None:
            self.what_message = (N_("a whole number from {low:,} to {high:,}"), {"low": low, "high": high})
        elif low is not None and high is not None:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            self.what_message = (N_("a whole number in {interval}") if whole else N_("a number in {interval}"),
                                 {"interval": interval})
        elif low is not None:
            bound = f"{'>' if low_open else '>='} {low:g}"
            self.what_message = (N_("a whole number {bound}") if whole else N_("a number {bound}"), {"bound": bound})
        else:
            self.what_message = (N_("a whole number") if whole else N_("a number"), {})
        if kind is int:
            self.sweep_kinds = ("int", "choice")
        else:
            positive = low is not None and low >= 0
            self.sweep_kinds = (("loguniform",) if positive else ()) + ("uniform", "choice")

    def check(self, value, name: str):
        wrong_type = isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
        if not wrong_type and self.kind is int and not isinstance(value, numbers.Integral):
            wrong_type = True
        if wrong_type or not math.isfinite(value) or not self.inside(value):
            raise self.refuse(value, name)
        return self.kind(value)

    def inside(self, value) -> bool:
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return low_ok and high_ok

    def parse(self, text: str):
        try:
            return number_of(text, self.kind)
        except ValueError:
            return text  # check() then names it

    def metavar(self) -> str | None:
        return "N" if self.kind is int else "X"


class Options(Constraint):
    """One of a list of names (``options`` may be a function returning them, for registries).

    Examples
    --------
    >>> Options(("sgd", "adam")).check("adagrad", "optimizer")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: unknown optimizer 'adagrad'; choose one of sgd, adam
    """

    def __init__(self, options, hint: str = ""):
        super().__init__(hint)
        self.source = options

    @property
    def options(self) -> tuple:
        return tuple(self.source() if callable(self.source) else self.source)

    @property
    def what_message(self) -> tuple:
        return N_("one of {options}"), {"options": ", ".join(self.options)}

    def check(self, value, name: str):
        if not isinstance(value, str) or value not in self.options:
            raise InputError(_("unknown {name} {value!r}; choose one of {options}", name=name, value=value,
                               options=", ".join(self.options)) + self.hint_said())
        return value


class Sizes(Constraint):
    """Layer sizes: one or more whole numbers >= 1, as a tuple. On the command line ``100 50`` or ``100-50``.

    Examples
    --------
    >>> Sizes().check([512, 256], "hidden"), Sizes().parse("512-256")
    ((512, 256), (512, 256))
    """

    what_message = (N_("one or more whole numbers >= 1 (units per hidden layer), such as 100 or 512-256"), {})

    def check(self, value, name: str):
        items = (value,) if isinstance(value, numbers.Integral) else value
        try:
            sizes = tuple(items)
        except TypeError:
            raise self.refuse(value, name) from None
        if not sizes or not all(isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) and s >= 1
                                for s in sizes):
            raise self.refuse(value, name)
        return tuple(int(s) for s in sizes)

    def parse(self, text: str):
        parts = str(text).strip().split("-")
        return tuple(int(p) for p in parts) if all(p.isascii() and p.isdigit() for p in parts) else text

    def metavar(self) -> str | None:
        return "N"


class Init(Constraint):
    """A weight initialisation: a standard deviation > 0, or ``xavier``/``he`` (the book's aliases too).

    Examples
    --------
    >>> Init(aliases={"xavier": "xavier", "sigmoid": "xavier", "he": "he", "relu": "he"}).check("relu", "init")
    'he'
    """

    what_message = (N_("a standard deviation > 0 (the book uses 0.01), or 'xavier' or 'he'"), {})

    def __init__(self, aliases: dict, hint: str = ""):
        super().__init__(hint)
        self.aliases = aliases

    def check(self, value, name: str):
        if isinstance(value, str):
            if value.lower() in self.aliases:
                return self.aliases[value.lower()]
        elif self.positive(value):
            return float(value)
        raise self.refuse(value, name)

    @staticmethod
    def positive(value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and \
            math.isfinite(value) and value > 0

    def parse(self, text: str):
        try:
            return number_of(text)
        except ValueError:
            return text

    def metavar(self) -> str | None:
        return "STD"


class ShareOrCount(Constraint):
    """A share in (0, 1) (a float) or a count >= 1 (an int): how much of a data set is held back.

    Examples
    --------
    >>> c = ShareOrCount()
    >>> c.check(0.1, "validation"), c.check(10000, "validation"), c.parse("10000"), c.parse("0.1")
    (0.1, 10000, 10000, 0.1)
    """

    what_message = (N_("a share of the training samples in (0, 1), such as 0.1, or a whole number of samples, such "
                       "as 10000"), {})

    def check(self, value, name: str):
        if isinstance(value, (bool, np.bool_)):
            raise self.refuse(value, name)
        if isinstance(value, numbers.Integral) and value >= 1:
            return int(value)
        if isinstance(value, numbers.Real) and 0 < value < 1:
            return float(value)
        raise self.refuse(value, name)

    def parse(self, text: str):
        for convert in (int, float):
            try:
                return number_of(text, convert)
            except ValueError:
                continue
        return text

    def metavar(self) -> str | None:
        return "SHARE"


class Optional(Constraint):
    """``None`` (the setting's "not set", e.g. the optimizer's own default) or what ``inner`` allows."""

    def __init__(self, inner: Constraint, none_means: str = "not set"):
        super().__init__(inner.hint)
        self.inner, self.none_means = inner, none_means
        self.what_message = inner.what_message
        self.sweep_kinds = inner.sweep_kinds

    def check(self, value, name: str):
        return None if value is None else self.inner.check(value, name)

    def parse(self, text: str):
        return self.inner.parse(text)

    def metavar(self) -> str | None:
        return self.inner.metavar()

    @property
    def options(self) -> tuple:
        return self.inner.options

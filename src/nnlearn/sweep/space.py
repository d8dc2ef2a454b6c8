"""The search space: ``--param NAME=KIND:ARGS``, derived from the settings' declarations.

Which settings a sweep may search, and how, is not decided here: a setting is searchable when its
:class:`~nnlearn.base.constraints.Declared` says ``tunable``, with the kinds its constraint lists in
``sweep_kinds`` (a float >= 0: ``loguniform``, ``uniform``, ``choice``; a whole number: ``int``,
``choice``; names and layer sizes: ``choice``). A choice is read by the constraint's own ``parse``
(``512-256`` is two layer sizes because :class:`~nnlearn.base.constraints.Sizes` says so), and every
value a range or a list can give is checked by the constraint before the first trial.

Optuna stores a choice as a number or a text: a value that is neither (layer sizes) is kept as the
text it was written in and read by the constraint again when a trial is built.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from nnlearn.base.errors import InputError, NnlearnError
from nnlearn.base.i18n import _
from nnlearn.train.settings import RENAMED, applies, specs
from nnlearn.train.tables import finite

#: Every kind a parameter may have (a setting's constraint allows some of them).
KINDS = ("loguniform", "uniform", "int", "choice")


def tunable() -> tuple:
    """The names of the settings a sweep may search (declared ``tunable``)."""
    return tuple(name for name, spec in specs().items() if spec.tunable)


def _stored(value, text: str):
    """The value Optuna stores for a choice: numbers and texts as they are, anything else as its text."""
    if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
        return value
    return text


@dataclass(frozen=True)
class Param:
    """One searched setting: ``NAME=KIND:ARGS`` parsed (see :func:`parse_param`)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    @property
    def setting_name(self) -> str:
        """The setting searched: ``name``, or the book's name of a sweep written before the settings took them
        (its journal knows the parameter as ``hidden``, the trial's settings as ``hidden_size``)."""
        return RENAMED.get(self.name, self.name)

    @property
    def constraint(self):
        """The declared constraint of the setting searched."""
        return specs()[self.setting_name].constraint

    @property
    def spec(self) -> str:
        """The text this parameter was parsed from (normalised).

        Examples
        --------
        >>> parse_param("lr=loguniform:1e-4:0.1").spec
        'lr=loguniform:0.0001:0.1'
        """
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(str(c) for c in self.choices)}"
        return f"{self.name}={self.kind}:{self.low:g}:{self.high:g}"

    def distribution(self):
        """The Optuna distribution of this parameter."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(self.low, self.high, log=self.kind == "loguniform")

    def grid_size(self) -> int:
        """How many values a grid search tries: the choices, or every whole number of an ``int`` range."""
        if self.kind == "choice":
            return len(self.choices)
        if self.kind == "int":
            return int(self.high) - int(self.low) + 1
        raise InputError(
            _(
                "--sampler grid tries listed values; --param {spec} is a continuous range -- write it as "
                "choice:A,B,... or int:LOW:HIGH",
                spec=self.spec,
            )
        )

    def grid_value(self, index: int):
        """The ``index``-th value of the grid (``0 <= index < grid_size()``)."""
        return self.choices[index] if self.kind == "choice" else int(self.low) + index

    def setting(self, value):
        """The TrainSettings value of a sampled ``value`` (``'512-256'`` -> ``(512, 256)``), checked."""
        constraint = self.constraint
        return constraint.check(constraint.parse(value) if isinstance(value, str) else value, self.setting_name)

    def holds(self, internal) -> bool:
        """Whether ``internal``, the value Optuna stores for this parameter (a choice's index, else the
        value itself), lies in the declared range: a journal's line is checked with it before it is trusted."""
        if not finite(internal):  # a number of a JSON line: an int or a float, never a bool, nan or 10**400
            return False
        if self.kind == "choice":
            return internal == int(internal) and 0 <= internal < len(self.choices)
        if self.kind == "int" and internal != int(internal):
            return False
        return self.low <= internal <= self.high

    def edges(self) -> list:
        """The values that decide whether the whole range is valid: both ends, or every choice."""
        if self.kind == "choice":
            return list(self.choices)
        return [self.low, self.high]


def parse_param(text: str) -> Param:
    """Parse ``NAME=KIND:ARGS``: ``loguniform:LOW:HIGH``, ``uniform:LOW:HIGH``, ``int:LOW:HIGH`` or
    ``choice:A,B,...``, for a tunable setting and a kind its constraint allows. Nothing is evaluated.

    Examples
    --------
    >>> parse_param("hidden_size=choice:256,512-256")
    Param(name='hidden_size', kind='choice', low=None, high=None, choices=('256', '512-256'))
    >>> parse_param("batch_size=int:32:256")
    Param(name='batch_size', kind='int', low=32, high=256, choices=())
    >>> parse_param("lr=loguniform:0:1")
    Traceback (most recent call last):
    nnlearn.base.errors.InputError: --param lr=loguniform:0:1: loguniform needs 0 < LOW < HIGH
    """
    name, eq, rest = str(text).partition("=")
    name = name.strip()
    kind, colon, args = rest.partition(":")
    kind = kind.strip()
    if not eq or not name or not colon:
        raise InputError(_("--param {text!r} is not NAME=KIND:ARGS, e.g. lr=loguniform:1e-4:1e-1", text=text))
    declared, written = specs(), name
    name = RENAMED.get(name, name)
    if name not in declared or not declared[name].tunable:
        what = (
            _("unknown setting {name!r}", name=name)
            if name not in declared
            else _("{name} is the same for every trial, not searched", name=name)
        )
        raise InputError(
            _(
                "--param {text}: {what}; a parameter is one of: {names}",
                text=text,
                what=what,
                names=", ".join(tunable()),
            )
        )
    kinds = declared[name].constraint.sweep_kinds
    if kind not in kinds:
        raise InputError(
            _(
                "--param {text}: {name} is searched with {kinds}; not {kind!r}",
                text=text,
                name=name,
                kinds=", ".join(kinds),
                kind=kind,
            )
        )
    if kind == "choice":
        return Param(written, kind, choices=_choices(text, name, args))
    return Param(written, kind, *_bounds(text, name, kind, args))


def _choices(text: str, name: str, args: str) -> tuple:
    constraint = specs()[name].constraint
    choices, seen = [], []
    for word in args.split(","):
        word = word.strip()
        if not word:
            raise InputError(
                _("--param {text}: an empty choice; separate choices with commas, e.g. choice:a,b", text=text)
            )
        value = _checked(text, name, constraint.parse(word))
        if value in seen:
            raise InputError(_("--param {text}: a choice is listed twice", text=text))
        seen.append(value)
        choices.append(_stored(value, word))
    return tuple(choices)


def _checked(text: str, name: str, value):
    """``value`` as the setting's constraint normalises it, or the constraint's refusal."""
    try:
        return specs()[name].constraint.check(value, name)
    except NnlearnError as exc:
        raise InputError(_("--param {text}: {reason}", text=text, reason=exc)) from None


def _bounds(text: str, name: str, kind: str, args: str) -> tuple:
    words = args.split(":")
    if len(words) != 2:
        raise InputError(
            _("--param {text}: {kind} takes LOW:HIGH, e.g. {name}={kind}:1:10", text=text, kind=kind, name=name)
        )
    bounds = [specs()[name].constraint.parse(w.strip()) for w in words]
    number = numbers.Integral if kind == "int" else numbers.Real
    for word, value in zip(words, bounds):
        if not isinstance(value, number) or not finite(value):
            what = _("a whole number") if kind == "int" else _("a finite number")
            raise InputError(_("--param {text}: {word!r} is not {what}", text=text, word=word.strip(), what=what))
    low, high = bounds
    if not low < high:
        raise InputError(_("--param {text}: {kind} needs LOW < HIGH", text=text, kind=kind))
    if kind == "loguniform" and low <= 0:
        raise InputError(_("--param {text}: loguniform needs 0 < LOW < HIGH", text=text))
    return tuple(_checked(text, name, b) for b in bounds)


def check_space(params, base) -> None:
    """Refuse a search space with a value the training settings ``base`` would refuse (one line)."""
    names = [p.setting_name for p in params]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(_("--param {name} is given twice; give each setting once", name=twice[0]))
    if not params:
        raise InputError(_("give at least one --param NAME=KIND:ARGS to search, e.g. --param lr=loguniform:1e-4:1e-1"))
    # A setting of some optimizers (momentum) is checked with each optimizer a trial may have that takes it.
    optimizers = next((p.edges() for p in params if p.name == "optimizer"), [base.optimizer])
    for p in params:
        takers = [o for o in optimizers if applies(p.setting_name, o)] or optimizers[:1]  # none: the refusal names it
        for value in p.edges():
            try:
                for optimizer in takers:
                    base.replace(**{"optimizer": optimizer, p.setting_name: p.setting(value)})
            except NnlearnError as exc:
                raise InputError(
                    _("--param {spec}: the value {value!r} is refused: {reason}", spec=p.spec, value=value, reason=exc)
                ) from None

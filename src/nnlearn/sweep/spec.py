"""What a sweep searches and how (:class:`SweepSpec`), each option declared once.

Every field is declared with :func:`~nnlearn.base.constraints.declared`: its default, its constraint
(the check and its message), its help text. ``nnlearn sweep``'s flags, their defaults in
``--help``, the checks here and ``sweep.json`` all come from that declaration, as the training
settings' flags come from :mod:`nnlearn.train.settings`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from nnlearn.base.constraints import (
    COUNT,
    POSITIVE_WHOLE,
    Constraint,
    Optional,
    Options,
    ShareOrCount,
    check_declared,
    declarations,
    declared,
)
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import N_, _
from nnlearn.datasets import DATASETS, validation_count
from nnlearn.sweep.space import Param, check_space, parse_param
from nnlearn.train.settings import RECIPES, applies, recipe_settings

SAMPLERS = ("random", "tpe", "grid")


def options() -> dict:
    """``{name: Declared}`` of every field of :class:`SweepSpec`, in declaration order."""
    return declarations(SweepSpec)


class ParamList(Constraint):
    """The searched settings: ``NAME=KIND:ARGS`` texts (or parsed :class:`Param`), as a tuple of Param."""

    what_message = (N_("a list of searched settings NAME=KIND:ARGS, such as ['lr=loguniform:1e-4:1e-1']"), {})

    def check(self, value, name: str):
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, (str, Param)) for p in value):
            raise self.refuse(value, name)
        return tuple(p if isinstance(p, Param) else parse_param(p) for p in value)

    def parse(self, text: str):
        return parse_param(text)


class Folder(Constraint):
    """A folder's path as text."""

    what_message = (N_("a folder's path"), {})

    def check(self, value, name: str):
        if not isinstance(value, str) or not value:
            raise self.refuse(value, name)
        return value


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep searches and how; saved as ``sweep.json`` so that ``--resume`` needs nothing else.

    Examples
    --------
    >>> spec = SweepSpec(params=("lr=loguniform:1e-4:1e-1",), train_size=20000)
    >>> spec.trials, spec.sampler, spec.data_sizes(60000)
    (30, 'random', (20000, 3333))
    """

    params: tuple = declared(
        dataclasses.MISSING,
        ParamList(),
        "a searched setting: loguniform:LOW:HIGH, "
        "uniform:LOW:HIGH, int:LOW:HIGH or choice:A,B,... (the kinds a setting allows; hidden "
        "sizes like 512-256); repeat for more",
        flag="--param",
        metavar="NAME=KIND:ARGS",
        repeated=True,
    )
    recipe: str = declared("strong", Options(tuple(RECIPES)), "settings to start from")
    trials: int = declared(30, POSITIVE_WHOLE, "number of trials")
    sampler: str = declared(
        "random",
        Options(SAMPLERS),
        "random, tpe (Optuna's Bayesian sampler) or grid (every combination of the choices and int ranges)",
    )
    seed: int = declared(0, COUNT, "seed of the sampler and of every trial's weights and batches")
    epochs: int | None = declared(None, Optional(POSITIVE_WHOLE), "epochs per trial", shown="the recipe's")
    train_size: int | None = declared(
        None, Optional(POSITIVE_WHOLE), "use the first N training images", shown="all", metavar="N"
    )
    validation: float | int = declared(
        1 / 6,
        ShareOrCount(),
        "held back from the end of the training images for choosing: a share (0.2) or a number (10000)",
        shown="a sixth, 10,000 of MNIST's 60,000",
    )
    dataset: str = declared("mnist", Options(DATASETS), "which data set", own_flag=False)
    data_dir: str | None = declared(
        None, Optional(Folder()), "where the data set's files are", searched=False, own_flag=False
    )

    def __post_init__(self):
        check_declared(self)
        check_space(self.params, self.base_settings())
        if self.sampler == "grid":
            for p in self.params:
                p.grid_size()

    def base_settings(self):
        """The recipe's settings with the sweep's epochs and seed (every trial starts from these)."""
        return recipe_settings(self.recipe, epochs=self.epochs, seed=self.seed)

    def settings(self, values: dict):
        """The TrainSettings of a trial whose sampled parameters are ``values``, checked against the trial's own
        optimizer: a sampled optimizer setting that this optimizer does not take (``momentum`` in a trial of
        ``adam``) is left out of that trial, as a conditional parameter is.

        Examples
        --------
        >>> spec = SweepSpec(params=("optimizer=choice:momentum,adam", "momentum=uniform:0.5:0.95"))
        >>> spec.settings({"optimizer": "momentum", "momentum": 0.7}).momentum
        0.7
        >>> spec.settings({"optimizer": "adam", "momentum": 0.7}).momentum is None
        True
        """
        by_name = {p.name: p for p in self.params}
        chosen = {by_name[k].setting_name: by_name[k].setting(v) for k, v in values.items()}
        base = self.base_settings()
        optimizer = chosen.get("optimizer", base.optimizer)
        return base.replace(**{k: v for k, v in chosen.items() if applies(k, optimizer)})

    def grid_size(self) -> int:
        """The number of points of the grid (every parameter a choice or an int range)."""
        return math.prod(p.grid_size() for p in self.params)

    def n_trials(self) -> int:
        """``trials``, or the grid's size when a grid search has fewer points."""
        return min(self.trials, self.grid_size()) if self.sampler == "grid" else self.trials

    def data_sizes(self, available: int) -> tuple[int, int]:
        """``(samples used, of them held back for validation)`` of a training set of ``available``."""
        n = available if self.train_size is None else self.train_size
        if n > available:
            raise InputError(
                _(
                    "train_size {n} is more than the {available} training samples; give at most "
                    "--train-size {available}",
                    n=n,
                    available=available,
                )
            )
        return n, validation_count(self.validation, n)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["params"] = [p.spec for p in self.params]
        return d

    @classmethod
    def from_dict(cls, d) -> "SweepSpec":
        """The spec :meth:`to_dict` wrote; anything else is one :class:`~nnlearn.base.errors.InputError`."""
        if not isinstance(d, dict):
            raise InputError(_("a sweep description is a JSON object, got {kind}", kind=type(d).__name__))
        unknown = sorted(set(d) - set(options()))
        if unknown or "params" not in d:
            raise InputError(
                _("unknown option(s) {names}", names=", ".join(map(repr, unknown))) if unknown else _("params missing")
            )
        return cls(**d)

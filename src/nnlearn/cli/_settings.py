"""Flags derived from declarations -- no hand-kept list of flags (nanoGPT's configurator is the model).

One flag per :class:`~nnlearn.train.settings.TrainSettings` field, and per field of the sweep's
:class:`~nnlearn.sweep.SweepSpec`. A flag is its setting's name with dashes (``--batch-size`` sets
``batch_size``); a flag left out keeps the recipe's value. argparse also takes a flag's unique prefix,
so the flags of the settings' older names (``--hidden``, ``--dropout``, ``--weight-decay``) still work.
"""

from __future__ import annotations

import argparse
import dataclasses

from nnlearn.base.constraints import Sizes, declarations
from nnlearn.cli._args import flag_type


def flag_of(name: str) -> str:
    """The command-line flag of setting ``name``: ``--`` and the name with dashes."""
    return "--" + name.replace("_", "-")


def add_declared_flag(target, flag: str, name: str, constraint, help: str, metavar=None, repeated=False) -> None:
    """Add ``flag`` (default None) setting ``name``: a choice among the constraint's options, else a word the
    constraint reads and checks; ``repeated``: given once per item, each only read (the whole is checked later)."""
    kwargs = {"dest": name, "default": None, "help": help.replace("%", "%%")}
    options = getattr(constraint, "options", None)
    if options is not None:
        kwargs["choices"] = options
    else:
        kwargs["type"] = flag_type(constraint, check=not repeated)
        kwargs["metavar"] = metavar or constraint.metavar
    if repeated:
        kwargs["action"] = "append"
    elif isinstance(getattr(constraint, "inner", constraint), Sizes):
        kwargs["nargs"] = "+"  # --hidden-size 100 50 (or 100-50)
    target.add_argument(flag, **kwargs)


def add_declared_flags(parser: argparse.ArgumentParser, cls, only=None, default: str | None = None) -> None:
    """Add a flag (default None) for every declared field of the dataclass ``cls`` that has its own (or those
    named in ``only``). Each help ends with the default: ``default`` (set the real ones with
    ``parser.set_defaults``), else the declaration's ``shown``, else the field's own."""
    exclusive = {}
    for f in dataclasses.fields(cls):
        declared = f.metadata["declared"]
        if not declared.own_flag or (only is not None and f.name not in only):
            continue
        target = parser
        if declared.exclusive:
            if declared.exclusive not in exclusive:
                exclusive[declared.exclusive] = parser.add_mutually_exclusive_group()
            target = exclusive[declared.exclusive]
        shown = default or declared.shown or f.default
        help = declared.help + ("" if shown is dataclasses.MISSING else f"; default: {shown}")
        flag = declared.flag or flag_of(f.name)
        add_declared_flag(target, flag, f.name, declared.constraint, help, declared.metavar, declared.repeated)


def given_flags(args: argparse.Namespace, cls, only=None) -> dict:
    """``{name: value}`` of the declared fields of ``cls`` whose flags were given (``--hidden-size 100 50`` ->
    ``(100, 50)``); ``only``: the fields :func:`add_declared_flags` was given."""
    given = {}
    for name, declared in declarations(cls).items():
        value = getattr(args, name, None)
        if value is None or (only is not None and name not in only):
            continue
        if isinstance(value, list) and not declared.repeated:  # nargs="+": each word is a tuple of sizes
            value = tuple(size for part in value for size in part)
        given[name] = value
    return given

"""The training settings as flags: one flag per :class:`~nnlearn.train.settings.TrainSettings` field, derived
from its declaration (nanoGPT's configurator is the model) -- no hand-kept list of flags.

A flag is its setting's name with dashes (``--batch-size`` sets ``batch_size``, ``--hidden-size``
``hidden_size``); a flag left out keeps the recipe's value. argparse also takes a flag's unique prefix,
so the flags of the settings' older names (``--hidden``, ``--dropout``, ``--weight-decay``) still work.
A value the setting's constraint refuses is a usage error naming the flag (exit 2).
"""

from __future__ import annotations

import argparse

from nnlearn.base.constraints import Sizes
from nnlearn.cli._args import flag_type
from nnlearn.train.settings import specs


def flag_of(name: str) -> str:
    """The command-line flag of setting ``name``: ``--`` and the name with dashes."""
    return "--" + name.replace("_", "-")


def add_settings_flags(parser: argparse.ArgumentParser, only=None, default: str = "the recipe's") -> None:
    """Add a flag for every training setting (or those named in ``only``) to ``parser``; defaults None.

    ``default`` completes each help text's "default: ..." (set real defaults with ``parser.set_defaults``).
    """
    exclusive = {}
    for name, spec in specs().items():
        if only is not None and name not in only:
            continue
        target = parser
        if spec.exclusive:
            if spec.exclusive not in exclusive:
                exclusive[spec.exclusive] = parser.add_mutually_exclusive_group()
            target = exclusive[spec.exclusive]
        constraint = spec.constraint
        kwargs = {"dest": name, "default": None, "help": f"{spec.help}; default: {default}".replace("%", "%%")}
        options = getattr(constraint, "options", None)
        if options is not None:
            kwargs["choices"] = options
        else:
            kwargs["type"] = flag_type(constraint, name)
            kwargs["metavar"] = spec.metavar or constraint.metavar
        if isinstance(getattr(constraint, "inner", constraint), Sizes):
            kwargs["nargs"] = "+"  # --hidden-size 100 50 (or 100-50)
        target.add_argument(flag_of(name), **kwargs)


def settings_given(args: argparse.Namespace, only=None) -> dict:
    """``{name: value}`` of the settings whose flags were given (``--hidden-size 100 50`` -> ``(100, 50)``);
    ``only``: the settings :func:`add_settings_flags` was given."""
    given = {}
    for name in only or specs():
        value = getattr(args, name, None)
        if value is None:
            continue
        if isinstance(value, list):  # nargs="+": each word is a tuple of sizes
            value = tuple(size for part in value for size in part)
        given[name] = value
    return given

"""The ``nnlearn`` command line.

Each module here has a ``register(commands)`` function that adds its sub-commands; heavy imports
(matplotlib, the data loader) happen inside the command functions so that ``nnlearn --help`` stays
instant. Every command takes ``--lang en|zh|ja``, the current language while it runs, its errors included.
"""

from __future__ import annotations

import argparse
import errno
import functools
import importlib
import os
import sys
import traceback
import warnings

from nnlearn import __version__
from nnlearn.base import i18n
from nnlearn.base.errors import NnlearnError, OutputError, end_quiet_start
from nnlearn.base.i18n import N_, _

# The modules of nnlearn.cli that register commands, in the order of `nnlearn --help`.
COMMAND_MODULES = ("demo", "data", "diff", "train", "gradcheck", "see", "sweep", "check")


@functools.cache  # built once per process (8 ms): a notebook or a test calls main() many times
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnlearn",
        description="A neural network that learns its weights from data (Deep Learning from Scratch, ch. 4).",
    )
    parser.add_argument("--version", action="version", version=f"nnlearn {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an internal error (or set NNLEARN_DEBUG=1)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_CommandParser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"nnlearn.cli.{name}").register(commands)
    return parser


LANG_HELP = (
    f"the language of the messages, explanations and figures (default: {i18n.LANG_VARIABLE}, "
    "else the locale's, from LANGUAGE, LC_ALL or LANG; else en)"
)


class _CommandParser(argparse.ArgumentParser):
    """A parser of the tree of sub-commands (sub-parsers inherit the class): a command -- one given the
    function it runs -- gets ``--lang``, declared here once for all of them."""

    def set_defaults(self, **kwargs):
        super().set_defaults(**kwargs)
        if "func" in kwargs and not getattr(self, "_has_lang", False):
            self.add_argument("--lang", choices=i18n.languages(), default=None, help=LANG_HELP)
            self._has_lang = True


def _show_warning(message, *_where):
    # A warning for the user is one line, like an error; not Python's file:line report.
    print(f"nnlearn: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = i18n.command_language(argv)  # a bad --lang: argparse names the choices; a bad NNLEARN_LANG: _main
    try:
        end_quiet_start()  # from here on Ctrl-C is a KeyboardInterrupt, caught here
        # catch_warnings puts Python's own warning display back when the command ends: main() runs in
        # notebooks and tests too, whose warnings are theirs to show.
        with i18n.use(lang), warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _main(argv)
    except KeyboardInterrupt:
        print("nnlearn: " + i18n.translate(N_("interrupted"), lang), file=sys.stderr)
        return 130


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)  # imports every command's module: a fifth of a second
    debug = args.debug or os.environ.get("NNLEARN_DEBUG", "") not in ("", "0")
    try:
        if getattr(args, "lang", None) is None:
            i18n.choose()  # NNLEARN_LANG naming no language of ours is an error, not a silent English
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            traceback.print_exc()
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            # A name the file system cannot hold is the user's to shorten, whichever command met it first.
            name = str(exc.filename or _("a path"))
            shown = name if len(name) <= 60 else f"{name[:28]}...{name[-28:]} ({len(name.encode())} bytes)"
            exc = OutputError(
                _(
                    "{name}: the name is too long for the file system (at most 255 bytes a "
                    "folder or file name); choose a shorter one",
                    name=shown,
                )
            )
        if isinstance(exc, NnlearnError):  # bad input, bad data, bad files: the message names the fix
            print(f"nnlearn: error: {exc}", file=sys.stderr)
            return exc.exit_code
        # Anything else is a bug in nnlearn, not a user mistake: say so, and how to see it.
        if not debug:
            print(
                "nnlearn: " + _("internal error: {kind}: {reason}", kind=type(exc).__name__, reason=exc),
                file=sys.stderr,
            )
            print(
                "  "
                + _(
                    "this is a bug in nnlearn; run again with --debug (or NNLEARN_DEBUG=1) to see the "
                    "traceback, and report it"
                ),
                file=sys.stderr,
            )
        return 70

"""The ``nnlearn`` command line.

Each area of the package owns one module here with a ``register(commands, demos)`` function that
adds its sub-commands to ``commands`` and its chapter demos (``nnlearn demo NAME``) to ``demos``.
Heavy imports (matplotlib, the data loader) happen inside the command functions so that
``nnlearn --help`` stays instant.

Every command takes ``--lang en|zh|ja`` (added here to each, not by the modules); the language is
chosen before the arguments are parsed (:func:`nnlearn.i18n.choose`: ``--lang``, ``NNLEARN_LANG``,
the locale) and is the current language while the command runs, its errors included.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
import traceback
import warnings

from nnlearn import __version__, i18n
from nnlearn.i18n import _
from nnlearn.errors import NnlearnError

# One entry per module of nnlearn.cli that registers commands.
COMMAND_MODULES = (
    "nnlearn.cli.demo",
    "nnlearn.cli.data",
    "nnlearn.cli.diff",
    "nnlearn.cli.train",
    "nnlearn.cli.gradcheck",
    "nnlearn.cli.routes",
    "nnlearn.cli.report",
    "nnlearn.cli.board",
    "nnlearn.cli.sweep",
    "nnlearn.cli.check",
    "nnlearn.cli.landscape",
)


@functools.cache  # built once per process (8 ms): a notebook or a test calls main() many times
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnlearn",
        description="A neural network that learns its weights from data (Deep Learning from Scratch, ch. 4).",
    )
    parser.add_argument("--version", action="version", version=f"nnlearn {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an internal error (or set NNLEARN_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_CommandParser)
    demo = commands.add_parser(
        "demo",
        help="reproduce a section of the chapter: numbers and figures",
        description="Reproduce a section of the chapter: print its numbers and write its figures.",
    )
    demos = demo.add_subparsers(dest="demo", metavar="SECTION", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, demos)
    return parser


LANG_HELP = (f"the language of the messages, explanations and figures (default: {i18n.LANG_VARIABLE}, "
             "else the locale's, from LANGUAGE, LC_ALL or LANG; else en)")


class _CommandParser(argparse.ArgumentParser):
    """A parser of the tree of sub-commands (sub-parsers inherit the class): a command -- one given the
    function it runs -- gets ``--lang``, declared here once for all of them."""

    def set_defaults(self, **kwargs):
        super().set_defaults(**kwargs)
        if "func" in kwargs and not getattr(self, "_has_lang", False):
            self.add_argument("--lang", choices=i18n.languages(), default=None, help=LANG_HELP)
            self._has_lang = True


def _lang_in(argv: list[str]) -> str | None:
    """The value of ``--lang`` in ``argv`` before parsing (argparse's own errors are then in it too)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # A warning for the user is one line, like an error; not Python's file:line report.
    print(f"nnlearn: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        lang = i18n.choose(_lang_in(argv))
    except NnlearnError:
        lang = i18n.SOURCE_LANGUAGE  # a bad --lang: argparse names the choices; a bad NNLEARN_LANG: below
    with i18n.use(lang):
        return _main(argv)


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("NNLEARN_DEBUG", "") not in ("", "0")
    warnings.showwarning = _show_warning
    try:
        if getattr(args, "lang", None) is None:
            i18n.choose()  # NNLEARN_LANG naming no language of ours is an error, not a silent English
        return int(args.func(args) or 0)
    except NnlearnError as exc:
        # nnlearn's own errors: bad input, bad data, bad files. The message names the fix.
        if debug:
            traceback.print_exc()
        print(f"nnlearn: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nnlearn: " + _("interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # Anything else is a bug in nnlearn, not a user mistake: say so, and how to see it.
        if debug:
            traceback.print_exc()
        else:
            print(f"nnlearn: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            print("  " + _("this is a bug in nnlearn; run again with --debug (or NNLEARN_DEBUG=1) to see the "
                           "traceback, and report it"), file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``nnlearn`` command line.

Each area of the package owns one module here with a ``register(commands, demos)`` function that
adds its sub-commands to ``commands`` and its chapter demos (``nnlearn demo NAME``) to ``demos``.
Heavy imports (matplotlib, the data loader) happen inside the command functions so that
``nnlearn --help`` stays instant.
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
from nnlearn.errors import NnlearnError, end_quiet_start

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="reproduce a section of the chapter: numbers and figures",
        description="Reproduce a section of the chapter: print its numbers and write its figures.",
    )
    demos = demo.add_subparsers(dest="demo", metavar="SECTION", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, demos)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # A warning for the user is one line, like an error; not Python's file:line report.
    print(f"nnlearn: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        end_quiet_start()  # from here on Ctrl-C is a KeyboardInterrupt, caught below
        args = build_parser().parse_args(argv)  # imports every command's module: a fifth of a second
    except KeyboardInterrupt:
        print("nnlearn: interrupted", file=sys.stderr)
        return 130
    debug = args.debug or os.environ.get("NNLEARN_DEBUG", "") not in ("", "0")
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except NnlearnError as exc:
        # nnlearn's own errors: bad input, bad data, bad files. The message names the fix.
        if debug:
            traceback.print_exc()
        print(f"nnlearn: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nnlearn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            # A name the file system cannot hold is the user's to shorten, whichever command met it first.
            if debug:
                traceback.print_exc()
            name = str(exc.filename or "a path")
            shown = name if len(name) <= 60 else f"{name[:28]}...{name[-28:]} ({len(name.encode())} bytes)"
            print(f"nnlearn: error: {shown}: the name is too long for the file system (at most 255 bytes a "
                  "folder or file name); choose a shorter one", file=sys.stderr)
            return 1
        # Anything else is a bug in nnlearn, not a user mistake: say so, and how to see it.
        if debug:
            traceback.print_exc()
        else:
            print(f"nnlearn: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            print("  this is a bug in nnlearn; run again with --debug (or NNLEARN_DEBUG=1) to see the "
                  "traceback, and report it", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

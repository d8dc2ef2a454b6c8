"""Exceptions that the command line turns into a one-line message instead of a traceback, and the one
line for Ctrl-C while the command line is still starting (:func:`quiet_start`)."""

import os
import signal
import sys


class NnlearnError(Exception):
    """An error caused by the user's input or environment, not by a bug: its message names the problem and
    the fix, and ``nnlearn`` prints it on one line and exits with :attr:`exit_code`."""

    exit_code = 1


class DivergenceError(NnlearnError, FloatingPointError):
    """An iteration (gradient descent, training) produced inf or NaN."""


class InputError(NnlearnError, ValueError):
    """A value given to nnlearn is wrong (shape, range, NaN, unknown name); the message says how."""


class InputTypeError(NnlearnError, TypeError):
    """A value given to nnlearn has the wrong type (a string for a number, a function for an array)."""


class FileFormatError(NnlearnError, ValueError):
    """A file nnlearn reads (model, checkpoint, run folder) is damaged or is not what it should be."""


class UsageError(NnlearnError):
    """A command-line argument is wrong in a way argparse cannot see (exit code 2, like argparse's)."""

    exit_code = 2


class OutputError(NnlearnError):
    """An output path cannot be written (no permission, not a folder, a read-only file system)."""


class _Interrupted:
    """Ctrl-C while the command line starts: the one line ``said(arguments)`` (the command's language), exit 130."""

    def __init__(self, said, arguments):
        self.said, self.arguments = said, arguments

    def __call__(self, signum, frame):
        try:
            text = self.said(self.arguments)
        except Exception:  # noqa: BLE001 - half-imported, the line in English is still one line
            text = "interrupted"
        print(f"nnlearn: {text}", file=sys.stderr)
        raise SystemExit(130)


def quiet_start(argv=None, said=lambda arguments: "interrupted") -> None:
    """When this process is the ``nnlearn`` command, make Ctrl-C before its ``main`` runs one line, exit 130.

    ``import nnlearn`` takes a fifth of a second before the command line can catch anything. Only for
    ``nnlearn ...`` and ``python -m nnlearn``, while SIGINT has Python's own handler; :func:`end_quiet_start`
    gives Ctrl-C back. ``said(argv[1:])`` is the line (``nnlearn/__init__`` says it in the command's language).
    """
    argv = sys.argv if argv is None else argv
    command = bool(argv) and os.path.basename(argv[0]) == "nnlearn"
    if (command or _run_as_module(getattr(sys, "orig_argv", []))) and signal.getsignal(
        signal.SIGINT
    ) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _Interrupted(said, list(argv[1:])))


def _run_as_module(words) -> bool:
    """Whether the interpreter's own options (before any script or -c) say ``-m nnlearn`` (or ``nnlearn.cli``)."""
    i = 1
    while i < len(words):
        word = words[i]
        if word == "-m" or (word.startswith("-m") and len(word) > 2):
            module = words[i + 1] if word == "-m" and i + 1 < len(words) else word[2:]
            return module in ("nnlearn", "nnlearn.cli")
        if not word.startswith("-") or word == "-" or word.startswith("-c"):
            return False  # a script, standard input or -c runs, with its own arguments after it
        i += 2 if word in ("-X", "-W") else 1
    return False


def end_quiet_start() -> None:
    """Ctrl-C raises KeyboardInterrupt again (a training run saves its checkpoint on it)."""
    if isinstance(signal.getsignal(signal.SIGINT), _Interrupted):
        signal.signal(signal.SIGINT, signal.default_int_handler)

"""Exceptions that the command line turns into a one-line message instead of a traceback."""


class NnlearnError(Exception):
    """An error caused by the user's input or environment, not by a bug.

    The message must name the problem and the fix; ``nnlearn`` prints it on one line and exits with
    :attr:`exit_code`.
    """

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

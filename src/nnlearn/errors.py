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
    """A value passed to the library is out of range or inconsistent (the message says which, and the fix)."""


class InputTypeError(NnlearnError, TypeError):
    """A value passed to the library has the wrong type (the message says which type it needs)."""

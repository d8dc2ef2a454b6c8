"""The check's input errors: a msgid and its fields, so that one error can be said in the report's
language (``nnlearn check --lang zh``), not only in the language the check was asked for in."""

from __future__ import annotations

from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import translate


class CheckInputError(InputError):
    """A user's mistake in asking for a check (a file that cannot be read, an unknown name)."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message.format(**params))

    def in_language(self, lang: str) -> str:
        return translate(self.message, lang, **self.params)


class CheckTypeError(CheckInputError, InputTypeError):
    """:class:`CheckInputError` for a value of the wrong type (also a ``TypeError``)."""

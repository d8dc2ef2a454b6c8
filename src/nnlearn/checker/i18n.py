"""The language of a check's report: English, simplified Chinese, Japanese -- nnlearn's languages.

The check's messages are written in English in the code, marked with :func:`N_`, and translated
through nnlearn's one gettext catalogue (:mod:`nnlearn.base.i18n`, domain ``nnlearn``); this module
re-exports what the check uses from there and adds the check's own input errors, whose message is a
msgid shown in any language. Fixes that are only code (:class:`nnlearn.checker.catalogue.Code`) are
the same in every language and stay out of the catalogue.
"""

from __future__ import annotations

from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import DOMAIN, LOCALE_DIR, N_, SOURCE_LANGUAGE, choose, languages, translate, translations

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "SOURCE_LANGUAGE",
    "N_",
    "choose",
    "languages",
    "translate",
    "translations",
    "CheckInputError",
    "CheckTypeError",
]


class CheckInputError(InputError):
    """A user's mistake in asking for a check (a file that cannot be read, an unknown name), whose
    message is a msgid of the check's catalogue: ``message`` with ``params``, shown in any language
    by :meth:`in_language`."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message.format(**params))

    def in_language(self, lang: str) -> str:
        return translate(self.message, lang, **self.params)


class CheckTypeError(CheckInputError, InputTypeError):
    """:class:`CheckInputError` for a value of the wrong type (also a ``TypeError``)."""

"""The language of a check's report: English, simplified Chinese, Japanese -- and any catalogue added later.

Messages are written in English in the code, marked with :func:`N_`, and translated through
gettext catalogues (domain ``nnlearn_check``) under ``nnlearn/check/locale/LANG/LC_MESSAGES/``.
The ``.po`` files are the sources; the ``.mo`` files beside them are compiled from them and shipped
in the package, so that installing nnlearn needs no build step and no Babel (``tests/test_check_i18n.py``
fails when a ``.mo`` disagrees with its ``.po``, or a message lacks a translation). A translator adds
a language by copying ``locale/nnlearn_check.pot`` to ``locale/LANG/LC_MESSAGES/nnlearn_check.po``,
translating it and compiling it (``pybabel compile``; the commands are in docs/check.md). Fixes that
are only code (:class:`nnlearn.check.catalogue.Code`) are the same in every language and stay out of
the catalogues.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

from nnlearn.errors import InputError, InputTypeError, UsageError

DOMAIN = "nnlearn_check"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The language of the messages as written in the code.
SOURCE_LANGUAGE = "en"
#: Environment variables that name the user's language, in gettext's order.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (it is translated where shown)."""
    return message


def languages() -> tuple[str, ...]:
    """The languages a report can be written in: English and every compiled catalogue.

    Examples
    --------
    >>> languages()
    ('en', 'ja', 'zh')
    """
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (SOURCE_LANGUAGE, *found)


def _from_locale_name(name: str) -> str | None:
    """``zh_CN.UTF-8`` -> ``zh``, ``ja_JP`` -> ``ja``, ``C`` -> None: the language part, if we have it."""
    lang = name.split(".")[0].split("@")[0].replace("-", "_")
    for candidate in (lang, lang.split("_")[0]):
        if candidate.lower() in languages():
            return candidate.lower()
    return None


def choose(lang: str | None = None, environ=None) -> str:
    """The language to use: ``lang`` if given (``zh``, ``zh_CN``, ``zh-CN``, ``ja``, ``en``), else the
    first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that names an available language,
    else English.

    Examples
    --------
    >>> choose("zh-CN"), choose(environ={"LANG": "ja_JP.UTF-8"}), choose(environ={"LC_ALL": "C"})
    ('zh', 'ja', 'en')
    >>> choose("fr")
    Traceback (most recent call last):
    ...
    nnlearn.errors.UsageError: no messages in language 'fr'; choose one of en, ja, zh
    """
    if lang is not None:
        found = _from_locale_name(str(lang))
        if found is None:
            raise UsageError(f"no messages in language {lang!r}; choose one of {', '.join(languages())}")
        return found
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        for name in environ.get(variable, "").split(":"):
            if name and name not in ("C", "POSIX"):
                found = _from_locale_name(name)
                if found:
                    return found
    return SOURCE_LANGUAGE


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations for ``lang`` (English: the messages as written)."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def translate(msgid: str, lang: str, /, **params) -> str:
    """``msgid`` in ``lang``, with ``{name}`` fields filled from ``params``.

    Examples
    --------
    >>> translate("{passed} of {found} correct", "en", passed=7, found=9)
    '7 of 9 correct'
    """
    text = translations(lang).gettext(msgid)
    return text.format(**params) if params else text


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

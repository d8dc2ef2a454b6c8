"""The reader's language: one gettext catalogue for the whole tool, in English, Chinese and Japanese.

Every string a user reads is written in English and marked: ``_("... {name}", name=...)`` translates
it now, ``N_("...")`` only marks it (translated where shown). Templates and the board's scripts go to
the same catalogue, ``nnlearn/base/locale/`` (``docs/i18n.md`` says how it is updated; the compiled
``.mo`` files ship, so installing needs no Babel). A command speaks ``--lang``, else ``NNLEARN_LANG``,
else the locale's language (:func:`choose`); called from Python, nnlearn speaks English until told
otherwise (:func:`set_language`), so a library's messages never depend on the machine.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext as _gettext
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

from nnlearn.base.errors import UsageError

DOMAIN = "nnlearn"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The language of the messages as written in the code.
SOURCE_LANGUAGE = "en"
#: The variable that chooses nnlearn's language over the locale's.
LANG_VARIABLE = "NNLEARN_LANG"
#: Environment variables that name the user's language, in gettext's order.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("nnlearn_language", default=SOURCE_LANGUAGE)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (it is translated where shown)."""
    return message


@lru_cache(maxsize=None)
def languages() -> tuple[str, ...]:
    """The languages nnlearn speaks: English and every compiled catalogue.

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
    """The language to use: ``lang`` if given (``zh``, ``zh_CN``, ``zh-CN``, ``ja``, ``en``), else
    ``NNLEARN_LANG``, else the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that names an
    available language, else English.

    Examples
    --------
    >>> choose("zh-CN"), choose(environ={"LANG": "ja_JP.UTF-8"}), choose(environ={"LC_ALL": "C"})
    ('zh', 'ja', 'en')
    >>> choose(environ={"NNLEARN_LANG": "ja", "LANG": "zh_CN.UTF-8"})
    'ja'
    >>> choose("fr")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.UsageError: no messages in language 'fr'; choose one of en, ja, zh
    """
    if lang is not None:
        found = _from_locale_name(str(lang))
        if found is None:
            raise UsageError(f"no messages in language {lang!r}; choose one of {', '.join(languages())}")
        return found
    environ = os.environ if environ is None else environ
    chosen = environ.get(LANG_VARIABLE, "").strip()
    if chosen:
        found = _from_locale_name(chosen)
        if found is None:
            raise UsageError(
                f"{LANG_VARIABLE}={chosen!r} names no language of nnlearn; set it to one of "
                f"{', '.join(languages())}, or unset it"
            )
        return found
    for variable in LOCALE_VARIABLES:
        for name in environ.get(variable, "").split(":"):
            found = _from_locale_name(name)  # None for C and POSIX too
            if found:
                return found
    return SOURCE_LANGUAGE


def command_language(argv, environ=None) -> str:
    """The language of the command line ``argv`` (without the program): its ``--lang``, else :func:`choose`'s;
    English where either names no language of ours (the command then names that mistake). Read before
    argparse runs, so that its errors are said in it too.

    Examples
    --------
    >>> command_language(["check", "a.py", "--lang", "ja"]), command_language(["demo", "--lang=zh"])
    ('ja', 'zh')
    >>> command_language(["diff", "--", "--lang", "ja"], environ={}), command_language(["--lang", "fr"], environ={})
    ('en', 'en')
    """
    asked = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            asked = argv[i + 1]
            break
        if arg.startswith("--lang="):
            asked = arg.split("=", 1)[1]
            break
    try:
        return choose(asked, environ)
    except UsageError:
        return SOURCE_LANGUAGE


@lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext translations for ``lang`` (English: the messages as written)."""
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def translate(msgid: str, lang: str, /, **params) -> str:
    """``msgid`` in ``lang``, with ``{name}`` fields filled from ``params``.

    Examples
    --------
    >>> translate("{passed} of {found} correct", "en", passed=7, found=9)
    '7 of 9 correct'
    >>> translate("{passed} of {found} correct", "ja", passed=7, found=9)
    '9 個中 7 個が正しい'
    """
    text = translations(lang).gettext(msgid)
    return text.format(**params) if params else text


def current() -> str:
    """The current language (English unless :func:`use` or :func:`set_language` chose another)."""
    return _current.get()


def set_language(lang: str | None) -> str:
    """Make ``lang`` (or :func:`choose`'s pick, for None) the current language; returns it."""
    chosen = choose(lang)
    _current.set(chosen)
    return chosen


@contextlib.contextmanager
def use(lang: str):
    """The current language is ``lang`` inside the ``with`` block (``lang`` as :func:`choose` takes it)."""
    token = _current.set(choose(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _(message: str, /, **params) -> str:
    """``message`` in the current language, with ``{name}`` fields filled from ``params``.

    Examples
    --------
    >>> with use("zh"):
    ...     _("{passed} of {found} correct", passed=7, found=9)
    '9 个中 7 个正确'
    """
    return translate(message, current(), **params)


def ngettext(singular: str, plural: str, n: int, /, **params) -> str:
    """The singular or plural form for ``n``, in the current language (``{n}`` is filled in too)."""
    text = translations(current()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese or Japanese character takes two.

    >>> width("loss"), width("损失")
    (4, 4)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, align: str = "<") -> str:
    """``text`` padded to ``columns`` terminal columns (:func:`width`), on the right (``<``) or the left (``>``):
    the columns of a table line up in every language.

    >>> pad("损失", 6) + "|", pad("x", 3, ">")
    ('损失  |', '  x')
    """
    spaces = " " * max(0, columns - width(text))
    return text + spaces if align == "<" else spaces + text

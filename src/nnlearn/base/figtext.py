"""Text in figures: titles, axes and legends in the reader's language, where a font can draw it.

Inside :func:`figure_text` (or a function decorated with :func:`in_reader_language`) ``_()`` speaks the
current language and matplotlib draws with DejaVu Sans followed by a Chinese or Japanese font of
:data:`CJK_FONTS` (per language: the same character is drawn differently in each). Where no such font
is installed the figure keeps its English labels -- never boxes -- and nnlearn warns once what to install.
"""

from __future__ import annotations

import contextlib
import functools
import warnings

from nnlearn.base import i18n
from nnlearn.base.i18n import _

#: Fonts that draw Chinese and Japanese, per language, in order of preference (matplotlib's names).
CJK_FONTS = {
    "zh": (
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "Noto Sans SC",
        "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei",
        "Microsoft YaHei",
        "PingFang SC",
        "Hiragino Sans GB",
        "SimHei",
        "Heiti SC",
        "Arial Unicode MS",
        "Noto Sans CJK JP",
        "Source Han Sans JP",
    ),
    "ja": (
        "Noto Sans CJK JP",
        "Source Han Sans JP",
        "Noto Sans JP",
        "IPAexGothic",
        "IPAGothic",
        "Yu Gothic",
        "Meiryo",
        "MS Gothic",
        "Hiragino Sans",
        "Hiragino Kaku Gothic Pro",
        "TakaoGothic",
        "VL Gothic",
        "Arial Unicode MS",
        "Noto Sans CJK SC",
        "Source Han Sans SC",
    ),
}
#: What to install, in words, where none of them is.
_LINUX_FONTS = "Debian/Ubuntu: apt install fonts-noto-cjk; Fedora: dnf install google-noto-sans-cjk-fonts; "
INSTALL_HINT = {
    "zh": _LINUX_FONTS + "Windows and macOS have one (Microsoft YaHei, PingFang SC)",
    "ja": _LINUX_FONTS + "Windows and macOS have one (Yu Gothic, Hiragino Sans)",
}
#: The font of everything else (matplotlib's own): digits, Latin letters, the minus sign, Greek.
BASE_FONT = "DejaVu Sans"


@functools.cache
def _installed_families() -> frozenset:
    """The font families matplotlib can use, those installed after its font cache was written included
    (the cache would otherwise hide a font installed for nnlearn until it is deleted by hand)."""
    from matplotlib import font_manager

    if {entry.name for entry in font_manager.fontManager.ttflist}.isdisjoint(CJK_FONTS["zh"] + CJK_FONTS["ja"]):
        known = {entry.fname for entry in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known and any(word in path for word in ("CJK", "Han", "wqy", "WenQuanYi", "Noto")):
                with contextlib.suppress(Exception):  # a font file matplotlib cannot read is skipped
                    font_manager.fontManager.addfont(path)
    return frozenset(entry.name for entry in font_manager.fontManager.ttflist)


def cjk_font(lang: str) -> str | None:
    """The first installed font of :data:`CJK_FONTS` for ``lang``, or None (English needs none)."""
    installed = _installed_families()
    return next((name for name in CJK_FONTS.get(lang, ()) if name in installed), None)


@functools.cache
def _warn_no_font(lang: str) -> None:
    # Once per language and process: every figure of a command would say it again.
    warnings.warn(
        _(
            "no font for {language} is installed, so the figures keep English labels; install one ({hint})",
            language=_(LANGUAGE_NAMES[lang]),
            hint=INSTALL_HINT[lang],
        ),
        UserWarning,
        stacklevel=4,
    )


LANGUAGE_NAMES = {"zh": i18n.N_("Chinese"), "ja": i18n.N_("Japanese")}


def figure_language() -> str:
    """The language figures are written in now: the current one if a font can draw it, else English."""
    lang = i18n.current()
    if lang == i18n.SOURCE_LANGUAGE or lang not in CJK_FONTS:
        return i18n.SOURCE_LANGUAGE
    if cjk_font(lang) is None:
        _warn_no_font(lang)
        return i18n.SOURCE_LANGUAGE
    return lang


@contextlib.contextmanager
def figure_text():
    """Inside: ``_()`` speaks the figures' language, and new text is drawn with a font that has its glyphs."""
    import matplotlib

    lang = figure_language()
    # The families by name, not "sans-serif": a text keeps the list it was made with, and the figure is
    # drawn (saved) after this block, when a generic name would be looked up in the default settings again.
    fonts = {} if lang == i18n.SOURCE_LANGUAGE else {"font.family": [BASE_FONT, cjk_font(lang)]}
    with i18n.use(lang), matplotlib.rc_context(fonts):
        yield lang


def in_reader_language(draw):
    """Decorate a function returning a figure: it draws inside :func:`figure_text`."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with figure_text():
            return draw(*args, **kwargs)

    return drawn

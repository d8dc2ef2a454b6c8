"""nnlearn check speaks English, simplified Chinese and Japanese through gettext catalogues.

Every message of the check is marked in the code; the template (.pot) holds exactly those, each
language's source (.po) translates every one of them with the same ``{fields}``, and the shipped
compiled catalogues (.mo) are exactly their sources compiled. A new message without a translation,
or a .po edited without recompiling its .mo, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnlearn.check import check_files
from nnlearn.check.catalogue import CATALOGUE, DETAILS, Code
from nnlearn.check.i18n import LOCALE_DIR, choose, languages, translate
from nnlearn.check.report import LABELS, NOTES

babel = pytest.importorskip("babel")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.mofile import read_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

SOURCE = Path(__file__).resolve().parent.parent / "src" / "nnlearn" / "check"
TRANSLATED = ("zh", "ja")
FIELD = re.compile(r"\{[^{}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def marked_messages() -> set:
    """The messages the code marks for translation, as ``pybabel extract -k N_ -k _`` finds them."""
    found = extract_from_dir(str(SOURCE), method_map=[("**.py", "python")], keywords={"N_": None, "_": None},
                             comment_tags=())
    return {message for _, _, message, _, _ in found}


def catalogue(lang: str) -> dict:
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn_check.po", "rb") as fh:
        return {m.id: m for m in read_po(fh) if m.id}


def test_the_three_languages_are_found():
    assert languages() == ("en", "ja", "zh")


def test_the_template_holds_exactly_the_marked_messages():
    with open(LOCALE_DIR / "nnlearn_check.pot", "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert template == marked_messages()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_fields(lang):
    po = catalogue(lang)
    assert set(po) == marked_messages()
    for msgid, message in po.items():
        assert message.string and not message.fuzzy, msgid
        assert message.string != msgid, f"{lang} leaves {msgid!r} in English"
        assert sorted(FIELD.findall(message.string)) == sorted(FIELD.findall(msgid)), msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_shipped_mo_is_the_po_compiled(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn_check.mo", "rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == {msgid: m.string for msgid, m in catalogue(lang).items()}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalogue_entry_exists_in_the_language(lang):
    po = catalogue(lang)
    for entry in CATALOGUE.values():
        texts = [entry.title, entry.explanation] + ([] if isinstance(entry.fix, Code) else [entry.fix])
        for text in texts:
            assert text in po and po[text].string, (entry.id, text)
            assert translate(text, lang) == po[text].string
    script = CJK if lang == "zh" else KANA
    for text in [*DETAILS.values(), *NOTES.values(), *LABELS.values()]:
        assert text in po
    assert all(script.search(po[e.explanation].string) for e in CATALOGUE.values())


def test_the_language_comes_from_the_locale_when_not_given():
    assert choose(environ={"LANGUAGE": "ja:en", "LANG": "zh_CN.UTF-8"}) == "ja"
    assert choose(environ={"LC_ALL": "zh_TW.UTF-8"}) == "zh"  # the closest catalogue: simplified Chinese
    assert choose(environ={"LANG": "de_DE.UTF-8"}) == "en"
    assert choose("ja_JP") == "ja"


@pytest.fixture(scope="module")
def mistakes_report():
    example = Path(__file__).resolve().parent.parent / "examples" / "check" / "losses_from_notes.py"
    return check_files([example], lang="en")[0]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_report_in_chinese_or_japanese_is_written_in_that_script(mistakes_report, lang):
    report = mistakes_report.in_language(lang)
    text = report.text()
    script = CJK if lang == "zh" else KANA
    explanations = [f["explanation"] for row in report.to_json()["functions"] for f in row["findings"]]
    assert len(explanations) == 2 and all(script.search(e) for e in explanations)
    swapped = {"zh": "参数顺序颠倒了 [swapped-arguments]", "ja": "引数の順序が逆 [swapped-arguments]"}[lang]
    assert "the arguments are swapped [swapped-arguments]" in mistakes_report.text() and swapped in text
    assert swapped.split(" [")[0] in report._repr_html_()

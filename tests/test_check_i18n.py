"""nnlearn check speaks English, simplified Chinese and Japanese through nnlearn's one catalogue.

Every diagnosis of the check's catalogue is translated, and a report shown in Chinese or Japanese is
written in that script. That every marked message is translated and every .mo is its .po compiled is
tests/test_i18n.py's, for the whole tool.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnlearn.base.i18n import LOCALE_DIR, translate
from nnlearn.checker import check_files
from nnlearn.checker.catalogue import CATALOGUE, DETAILS, Code
from nnlearn.checker.report import LABELS, NOTES

babel = pytest.importorskip("babel")
from babel.messages.pofile import read_po  # noqa: E402

TRANSLATED = ("zh", "ja")
CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def catalogue(lang: str) -> dict:
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn.po", "rb") as fh:
        return {m.id: m for m in read_po(fh) if m.id}


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

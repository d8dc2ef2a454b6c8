"""nnlearn speaks English, simplified Chinese and Japanese through one gettext catalogue.

Every message of the tool is marked (Python, the Jinja2 templates, the board's scripts: babel.cfg);
the template (.pot) holds exactly those, each language's source (.po) translates every one of them
with the same fields, and the shipped compiled catalogues (.mo) are exactly their sources compiled.
A new message without a translation, or a .po edited without recompiling its .mo, fails here.
The language is ``--lang`` on every command, then ``NNLEARN_LANG``, then the locale.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnlearn.base import i18n
from nnlearn.base.errors import UsageError
from nnlearn.base.i18n import LOCALE_DIR, choose, languages, translate
from nnlearn.cli import build_parser, main
from nnlearn.see.templating import environment

babel = pytest.importorskip("babel")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.mofile import read_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("zh", "ja")
#: The fields a message fills in: Python's ``{name}``, the templates' ``%(name)s``.
FIELD = re.compile(r"\{[^{}]*\}|%\(\w+\)[sd]")


def marked_messages() -> set:
    """The messages marked for translation, as ``pybabel extract -F babel.cfg`` finds them."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = extract_from_dir(str(ROOT), method_map, options_map, comment_tags=())
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.fixture(scope="module")
def marked():
    return marked_messages()


def catalogue(lang: str) -> dict:
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn.po", "rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fh) if m.id}


def test_the_three_languages_are_found():
    assert languages() == ("en", "ja", "zh")


def test_the_template_holds_exactly_the_marked_messages(marked):
    with open(LOCALE_DIR / "nnlearn.pot", "rb") as fh:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert template == marked
    assert "{passed} of {found} correct" in marked  # the check's messages are in the one catalogue


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_fields(lang, marked):
    po = catalogue(lang)
    assert set(po) == marked
    for msgid, message in po.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, msgid
        assert strings[0] != msgid, f"{lang} leaves {msgid!r} in English"
        for string in strings:
            assert sorted(FIELD.findall(string)) == sorted(FIELD.findall(msgid)), msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_shipped_mo_is_the_po_compiled(lang):
    def entries(messages):  # plural forms come back as lists from one reader, tuples from the other
        return {
            tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id: tuple(m.string)
            if isinstance(m.string, (list, tuple))
            else m.string
            for m in messages
            if m.id
        }

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn.mo", "rb") as fh:
        compiled = entries(read_mo(fh))
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "nnlearn.po", "rb") as fh:
        assert compiled == entries(read_po(fh))


def test_the_old_check_catalogue_is_gone():
    # One catalogue for the whole tool: a second one would drift apart from it.
    assert sorted(p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.po")) == [
        "nnlearn/base/locale/ja/LC_MESSAGES/nnlearn.po",
        "nnlearn/base/locale/zh/LC_MESSAGES/nnlearn.po",
    ]


def test_the_language_is_the_argument_then_nnlearn_lang_then_the_locale():
    assert choose("ja", environ={"NNLEARN_LANG": "zh"}) == "ja"
    assert choose(environ={"NNLEARN_LANG": "zh-CN", "LANGUAGE": "ja"}) == "zh"
    assert choose(environ={"LANGUAGE": "ja:en", "LANG": "zh_CN.UTF-8"}) == "ja"
    assert choose(environ={"LC_ALL": "zh_TW.UTF-8"}) == "zh"  # the closest catalogue: simplified Chinese
    assert choose(environ={"LANG": "de_DE.UTF-8"}) == "en"
    assert choose(environ={"NNLEARN_LANG": " "}) == "en"
    with pytest.raises(UsageError, match="NNLEARN_LANG='fr'.*en, ja, zh"):
        choose(environ={"NNLEARN_LANG": "fr"})


def test_python_speaks_english_until_told_otherwise(monkeypatch):
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert i18n.current() == "en" and i18n._("not found") == "not found"
    with i18n.use("zh-CN") as lang:
        assert lang == "zh" and i18n._("not found") == "未找到"
        with i18n.use("ja"):
            assert i18n._("{passed} of {found} correct", passed=1, found=2) == "2 個中 1 個が正しい"
        assert i18n.current() == "zh"
    assert i18n.current() == "en"


def _commands(parser, prefix=()):
    """``(words, parser)`` of every command that runs (the leaves of the tree of sub-commands)."""
    for action in parser._actions:  # argparse has no public walk of its sub-parsers
        for name, sub in getattr(action, "choices", None).items() if hasattr(action, "add_parser") else ():
            yield from _commands(sub, (*prefix, name))
    if parser.get_default("func") is not None:
        yield prefix, parser


def test_every_command_takes_lang():
    found = dict(_commands(build_parser()))
    assert {("train",), ("check",), ("demo", "all"), ("data", "info"), ("board",), ("sweep",)} <= set(found)
    for words, parser in found.items():
        (lang,) = [a for a in parser._actions if "--lang" in a.option_strings]
        assert lang.choices == ("en", "ja", "zh") and lang.default is None, words


def test_a_bad_lang_is_a_usage_error(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "losses", "--lang", "fr"])
    assert exc.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err
    monkeypatch.setenv("NNLEARN_LANG", "klingon")
    assert main(["demo", "losses"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnlearn: error: NNLEARN_LANG='klingon'") and err.count("\n") == 1


def test_the_command_runs_in_its_language_and_python_is_english_again(capsys, monkeypatch, tmp_path):
    missing = str(tmp_path / "missing.py")
    assert main(["check", missing, "--lang", "zh"]) == 1
    assert re.search(r"[\u4e00-\u9fff]", capsys.readouterr().err)
    monkeypatch.setenv("NNLEARN_LANG", "ja")
    assert main(["check", missing]) == 1
    assert re.search(r"[\u3040-\u30ff]", capsys.readouterr().err)
    assert i18n.current() == "en"


def test_the_locale_chooses_when_nothing_else_does(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "LANG": "zh_CN.UTF-8", "LC_ALL": ""}
    out = subprocess.run(
        [sys.executable, "-m", "nnlearn", "check", str(tmp_path / "missing.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 1 and re.search(r"[\u4e00-\u9fff]", out.stderr), out.stderr


def render_string(source: str, lang=None, **context) -> str:
    """``source`` rendered as :func:`nnlearn.see.templating.render` renders a template file."""
    return environment().from_string(source).render(lang=lang or i18n.current(), **context)


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("en", "your code: not found"),
        ("zh", "你的代码: 未找到"),
        ("ja", translate("your code", "ja") + ": " + translate("not found", "ja")),
    ],
)
def test_templates_translate_in_the_pages_language(lang, expected):
    source = "{% trans %}your code{% endtrans %}: {{ _('not found') }}"
    assert render_string(source, lang=lang) == expected
    assert render_string("{{ lang }}", lang=lang) == lang
    with i18n.use(lang):
        assert render_string(source) == expected  # the current language by default


def test_templates_fill_fields_and_escape_values():
    assert render_string("{% trans n=3 %}{{ n }} runs{% endtrans %}", lang="zh") == "3 runs"  # no entry: English
    assert render_string("{{ _('{file}, line {line}') }}", lang="en") == "{file}, line {line}"
    assert render_string("{% trans v=v %}not found{% endtrans %}{{ v }}", lang="en", v="<b>") == "not found&lt;b&gt;"


def test_no_module_hides_the_translation_function():
    """A module that translates with ``_`` never binds ``_`` as a throwaway name (``x, _ = ...``): inside
    that function ``_("...")`` would then call the wrong thing, or fail, only when the message is due."""
    import ast

    found = []
    for path in sorted((ROOT / "src" / "nnlearn").rglob("*.py")):
        tree = ast.parse(path.read_text())
        translates = any(
            isinstance(n, ast.ImportFrom)
            and n.module in ("nnlearn.base.i18n", "nnlearn.checker.i18n")
            and any(a.name == "_" for a in n.names)
            for n in ast.walk(tree)
        )
        if translates:
            found += [
                f"{path.name}:{n.lineno}"
                for n in ast.walk(tree)
                if isinstance(n, ast.Name)
                and n.id == "_"
                and not isinstance(n.ctx, ast.Load)
                or isinstance(n, ast.arg)
                and n.arg == "_"
            ]
        # pybabel does not look inside f-strings: a message marked there never reaches the catalogue.
        found += [
            f"{path.name}:{n.lineno} (in an f-string)"
            for f in ast.walk(tree)
            if isinstance(f, ast.JoinedStr)
            for n in ast.walk(f)
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) in ("_", "N_")
        ]
    assert found == []


CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana, or kanji alone ("予測")


def test_training_says_its_progress_and_summary_in_the_language(tmp_path, capsys, fake_data):
    from mnist_tiny import FAST_TRAIN

    assert main(["train", "--out", str(tmp_path / "run"), *FAST_TRAIN, "--lang", "zh"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("训练（book 配方）") and out[1].startswith("数据：")
    assert re.search(r"测试正确率 \d+\.\d+%", out[-1]) and str(tmp_path / "run") in out[-1]
    with pytest.raises(SystemExit) as exc:  # argparse's usage error, its reason in Japanese
        main(["train", "--out", str(tmp_path / "run"), *FAST_TRAIN, "--lang", "ja"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "にはすでに訓練の実行があります" in err and f"--resume {tmp_path / 'run'}" in err


@pytest.mark.parametrize("lang, script", [("zh", CJK), ("ja", JAPANESE)])
def test_predict_and_evaluate_speak_the_language(fast_run, fake_data, tmp_path, capsys, lang, script):
    assert main(["predict", str(fast_run), "--index", "0", "--lang", lang]) == 0
    lines = capsys.readouterr().out.splitlines()
    words = [line for line in lines if not re.fullmatch(r"\s+\d\s+[\d.]+", line)]  # the probabilities are numbers
    assert len(words) == 4 and all(script.search(line) for line in words)  # image, heading, the marked row, verdict
    assert main(["evaluate", str(fast_run), "--out", str(tmp_path / "c.png"), "--lang", lang]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert script.search(lines[0]) and script.search(lines[1]) and script.search(lines[-1])


def test_a_table_of_the_command_line_lines_up_in_chinese_and_japanese(capsys):
    # gradcheck's and demo numgrad's tables: translated headers, columns counted in terminal cells
    # (a CJK character takes two), so each column ends at the same place on every line.
    from nnlearn.base.i18n import width

    assert main(["gradcheck", "--synthetic", "--hidden-size", "4", "--batch-size", "2", "--lang", "zh"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("参数", "W1", "b1", "W2", "b2"))]
    assert lines[0].startswith("参数") and "相对" in lines[0] and len(lines) == 5
    assert len({width(line) for line in lines}) == 1, lines  # the last column ends alike
    shape_end = width(lines[0][: lines[0].index("形状") + 2])
    assert all(width(line[: line.index(")") + 1]) == shape_end for line in lines[1:]), lines  # and the shapes

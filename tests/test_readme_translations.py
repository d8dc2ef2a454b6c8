"""README.zh-CN.md and README.ja.md keep in step with README.md: every command README.md and docs/usage.md
give a reader (installation and tests, training and resuming, predict, report, board and lessons, landscape,
sweep on a cluster, data, diff, check) is in each, word for word; so is every picture; the three link each other; and the
commands the translations add (the demos and checks of the examples, in their language) run, their
example output being the real output."""

from __future__ import annotations

import linecache
import re
import shlex
from pathlib import Path

import pytest

from nnlearn.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
USAGE = (ROOT / "docs" / "usage.md").read_text()  # the details the README leaves out, its commands included
TRANSLATIONS = {"zh": "README.zh-CN.md", "ja": "README.ja.md"}
SCRIPTS = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ja": re.compile(r"[\u3040-\u30ff]")}


def reader_part(text: str) -> str:
    """README.md up to its developers' sections (conventions, development, the floors of the code)."""
    return text[: text.index("## Conventions")] if "## Conventions" in text else text


def commands(text: str) -> list[str]:
    """The commands of the ``sh`` blocks, comments dropped, continued lines joined, spaces normalised."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
            if command:
                found.append(" ".join(command.split()))
    return found


def pictures(text: str) -> set[str]:
    return set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))


@pytest.fixture(params=TRANSLATIONS, scope="module")
def translation(request):
    return request.param, (ROOT / TRANSLATIONS[request.param]).read_text()


def test_every_command_of_the_readme_is_in_each_translation(translation):
    lang, text = translation
    expected = commands(reader_part(README)) + commands(USAGE)
    assert len(expected) > 30 and any(c.startswith("nnlearn board --open lessons") for c in expected)
    assert any(c.startswith("dask worker") for c in expected)
    assert [c for c in expected if c not in commands(text)] == []


def test_every_picture_of_the_readme_is_in_each_translation(translation):
    lang, text = translation
    assert pictures(reader_part(README)) <= pictures(text)
    assert all((ROOT / picture).exists() for picture in pictures(text))


def test_the_readmes_link_each_other_near_the_top(translation):
    lang, text = translation
    top = README.splitlines()[:5]
    assert any(f"]({TRANSLATIONS[lang]})" in line for line in top)
    links = re.findall(r"\]\((README[^)]*\.md)\)", "\n".join(text.splitlines()[:15]))
    assert {"README.md", *TRANSLATIONS.values()} - {TRANSLATIONS[lang]} <= set(links)


def test_each_translation_is_written_in_its_language_and_covers_the_readers_topics(translation):
    lang, text = translation
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    assert len(SCRIPTS[lang].findall(prose)) > 2000
    for topic in (
        "nnlearn board",
        "/lessons/diff",
        "/lessons/gradient",
        "/lessons/descent",
        "/lessons/numgrad",
        "draw a digit",
        "nnlearn landscape",
        "nnlearn sweep",
        "--resume",
        "nnlearn predict",
        "nnlearn check",
        "NNLEARN_LANG",
        "fonts-noto-cjk",
    ):
        assert topic in text, topic


def run(capsys, line: str):
    args = shlex.split(line, comments=True)
    assert args[0] == "nnlearn"
    code = main([str(ROOT / a) if a.startswith("examples/") else a for a in args[1:]])
    return code, capsys.readouterr().out


def test_the_japanese_demos_and_checks_run_in_japanese(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / TRANSLATIONS["ja"]).read_text()
    own = [c for c in commands(text) if c.startswith(("nnlearn demo", "nnlearn check examples/"))]
    assert [shlex.split(c)[1:3] for c in own] == [
        ["demo", "losses"],
        ["demo", "all"],
        ["check", "examples/check/chapter4.py"],
        ["check", "examples/check/losses_from_notes.py"],
    ]
    assert all(c.endswith("--lang ja") for c in own)
    code, out = run(capsys, own[0])
    assert code == 0 and "4.2 損失関数" in out and "cross_entropy_error(y, t) = 0.510825457099338" in out
    code, out = run(capsys, own[2])
    assert code == 0 and "18 個中 18 個が正しい" in out
    block = re.search(r"```text\n\$ (nnlearn check [^\n]*)\n(.*?)```", text, re.S)
    assert block.group(1) == own[3]
    code, out = run(capsys, own[3])
    assert code == 1 and out == block.group(2)


def test_the_japanese_python_example_checks_a_notebooks_globals():
    text = (ROOT / TRANSLATIONS["ja"]).read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "nnlearn.check(" in b]
    filename = "<ipython-input-1-readme-ja>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)  # the project's own README, not user input
    assert namespace["report"].summary().startswith("1 個中 1 個が正しい")

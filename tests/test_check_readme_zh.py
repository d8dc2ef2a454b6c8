"""README.zh-CN.md's promises: its demos and checks run, its example output is the real output, its Python
example works; the English README links it near the top. (That it holds every command README.md gives a
reader is tests/test_readme_translations.py's.)"""

from __future__ import annotations

import linecache
import re
import shlex
from pathlib import Path

import pytest

from nnlearn.cli import main

ROOT = Path(__file__).resolve().parent.parent
README_ZH = (ROOT / "README.zh-CN.md").read_text()
CJK = re.compile(r"[\u4e00-\u9fff]")


def commands() -> list[str]:
    """The commands of its ``sh`` blocks that run here: the demos and the checks of the examples (the
    others need a run, a cluster or minutes of training)."""
    lines = [line.strip() for block in re.findall(r"```sh\n(.*?)```", README_ZH, re.S) for line in block.splitlines()]
    return [line for line in lines if line.startswith(("nnlearn demo", "nnlearn check examples/"))]


def argv(line: str, data: Path | None = None) -> list[str]:
    """The command's arguments after ``nnlearn``, with the README's paths made this checkout's."""
    args = shlex.split(line, comments=True)
    assert args[0] == "nnlearn"
    args = [str(ROOT / a) if a.startswith("examples/") else a for a in args[1:]]
    return [str(data) if a == "../shared/datasets" and data is not None else a for a in args]


def run(capsys, line: str, data: Path | None = None):
    """The command, in this process (as the console script runs it): ``(exit status, stdout)``."""
    code = main(argv(line, data))
    return code, capsys.readouterr().out


def test_the_english_readme_links_the_chinese_one_near_the_top():
    top = (ROOT / "README.md").read_text().splitlines()[:5]
    assert any("](README.zh-CN.md)" in line for line in top)
    assert "](README.md)" in README_ZH


def test_the_commands_are_the_chapters_demos_and_checks_in_chinese():
    assert [shlex.split(c, comments=True)[:3] for c in commands()] == [
        ["nnlearn", "demo", "losses"],
        ["nnlearn", "demo", "all"],
        ["nnlearn", "check", "examples/check/chapter4.py"],
        ["nnlearn", "check", "examples/check/losses_from_notes.py"],
    ]
    assert all(shlex.split(c, comments=True)[-2:] == ["--lang", "zh"] for c in commands())


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_the_demos_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    losses, everything = [c for c in commands() if c.startswith("nnlearn demo")]
    code, out = run(capsys, losses)
    assert code == 0 and "cross_entropy_error(y, t) = 0.510825457099338" in out and "4.2 损失函数" in out
    code, out = run(capsys, everything)
    assert code == 0 and {"tangent.png", "gradient_field.png", "descent_path.png"} <= {
        p.name for p in (tmp_path / "nnlearn-demo").iterdir()
    }


def test_the_checks_run_and_the_example_output_is_the_real_output(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    correct, mistakes = [c for c in commands() if c.startswith("nnlearn check")]
    code, out = run(capsys, correct)
    assert code == 0 and "18 个中 18 个正确" in out
    block = re.search(r"```text\n\$ (nnlearn check [^\n]*)\n(.*?)```", README_ZH, re.S)
    assert shlex.split(block.group(1)) == shlex.split(mistakes, comments=True)
    code, out = run(capsys, mistakes)
    assert code == 1 and out == block.group(2) and CJK.search(out)


@pytest.mark.slow
@pytest.mark.realdata
def test_the_training_command_runs(capsys, tmp_path, monkeypatch, mnist_dir):
    monkeypatch.chdir(tmp_path)
    (line,) = re.findall(r"`(nnlearn train --iters 200[^`]*)`", README_ZH)
    code, out = run(capsys, line, data=mnist_dir.parent)
    assert code == 0 and re.search(r"测试正确率 \d+\.\d+%", out)


def test_the_python_example_checks_a_notebooks_globals():
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", README_ZH, re.S) if "nnlearn.check(" in block]
    filename = "<ipython-input-1-readme>"  # as Jupyter names a cell, with its source in linecache
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)  # the project's own README, not user input
    report = namespace["report"]
    assert [(r.name, r.status) for r in report.found] == [("softmax", "pass")]
    assert report.summary().startswith("1 个中 1 个正确；未找到：sigmoid")

"""``nnlearn check FILE...``: the table, --json, --only, --lang, the exit status, and the README's example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nnlearn.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "check"
CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def run(capsys, *argv):
    code = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_correct_chapter_passes_with_exit_status_0(capsys):
    code, out, _ = run(capsys, EXAMPLES / "chapter4.py", "--lang", "en")
    assert code == 0
    rows = re.findall(r"^  (\S) (\S+)", out, re.M)
    assert len(rows) == 18 and {symbol for symbol, _ in rows} == {"✓"}
    assert out.rstrip().endswith("18 of 18 correct; not found: _numerical_gradient_no_batch")


def test_the_json_report(capsys):
    code, out, _ = run(capsys, EXAMPLES / "losses_from_notes.py", "--json", "--lang", "en")
    assert code == 1
    report = json.loads(out)
    functions = {f["name"]: f for f in report["functions"]}
    assert {k: f["status"] for k, f in functions.items() if f["status"] != "missing"} == {
        "softmax": "fail",
        "mean_squared_error": "pass",
        "cross_entropy_error": "fail",
    }
    (finding,) = functions["cross_entropy_error"]["findings"]
    assert set(finding) >= {"id", "severity", "message", "section", "input", "got", "expected"}
    assert (finding["id"], finding["severity"], finding["section"]) == ("swapped-arguments", "fail", "4.2.2")
    assert (finding["got"], finding["expected"]) == ("6.447238200383332", "0.510825457099338")
    assert functions["sigmoid"] == {
        "name": "sigmoid",
        "found_as": None,
        "status": "missing",
        "remark": "not found",
        "findings": [],
    }


def test_only_some_names(capsys):
    code, out, _ = run(
        capsys, EXAMPLES / "gradient_in_a_copy.py", "--only", "TwoLayerNet", "--only", "softmax,sigmoid", "--lang", "en"
    )
    assert code == 1
    assert re.findall(r"^  \S (\S+)", out, re.M) == [
        "sigmoid",
        "softmax",
        "TwoLayerNet",
        "TwoLayerNet.predict",
        "TwoLayerNet.loss",
        "TwoLayerNet.numerical_gradient",
    ]
    # its numerical_gradient, not checked this time, copies x: the network's own row says so
    assert "✗ TwoLayerNet.numerical_gradient\n      ✗ a copy is perturbed, not the array itself" in out
    assert "input     net.numerical_gradient(x, t)  # x.shape == (4, 5), t.shape == (4, 3)" in out


@pytest.mark.parametrize("lang, script", [("zh", CJK), ("ja", KANA)])
def test_chinese_and_japanese_output(capsys, lang, script):
    code, out, _ = run(capsys, EXAMPLES / "losses_from_notes.py", "--lang", lang)
    assert code == 1
    explanations = [line for line in out.splitlines() if line.strip().startswith(("原因", "理由"))]
    assert len(explanations) == 2 and all(script.search(line) for line in explanations)


def test_the_language_follows_the_locale(capsys, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for variable in ("NNLEARN_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    code, out, _ = run(capsys, EXAMPLES / "chapter4.py")
    assert code == 0 and "18 个中 18 个正确" in out


def test_user_mistakes_are_one_line_errors_in_the_chosen_language(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path / "missing.py", "--lang", "zh")
    # one line: the file named, what is wrong said in Chinese, the kinds of file that would do
    assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith("nnlearn: error: ")
    assert str(tmp_path / "missing.py") in err and ".py" in err and "notebook" in err and CJK.search(err), err
    code, _, err = run(capsys, EXAMPLES / "chapter4.py", "--only", "relu")
    assert code == 1 and err.startswith("nnlearn: error: 'relu'") and "sigmoid," in err, err
    (tmp_path / "notes.txt").write_text("x")
    code, _, err = run(capsys, tmp_path / "notes.txt", "--lang", "en")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "notes.txt" in err and ".py" in err and ".ipynb" in err, err
    with pytest.raises(SystemExit) as exc:
        main(["check", str(EXAMPLES / "chapter4.py"), "--timeout", "0"])
    assert exc.value.code == 2


def test_the_readme_shows_the_real_output(capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Check your own code: `nnlearn check`") :]
    block = re.search(r"```\n\$ nnlearn check examples/check/losses_from_notes.py\n(.*?)```", section, re.S).group(1)
    code, out, _ = run(capsys, EXAMPLES / "losses_from_notes.py", "--lang", "en")
    assert code == 1 and out == block

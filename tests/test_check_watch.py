"""``nnlearn check --watch FILE`` (issue 28, point 6): the file is checked again each time it is saved."""

from __future__ import annotations

import pytest

from nnlearn.checker import check_files
from nnlearn.checker import watch as watch_module
from nnlearn.checker.watch import watch
from nnlearn.cli import main

WRONG = "import numpy as np\n\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(x))\n"
RIGHT = "import numpy as np\n\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))  # fixed\n"


def test_a_saved_change_is_checked_again_and_an_unchanged_file_is_not(tmp_path):
    path = tmp_path / "my_functions.py"
    path.write_text(WRONG)
    statuses, sleeps = [], []

    def check_once():
        statuses.append(check_files([path], lang="en")[0].rows[0].status)

    def sleep(seconds):  # the learner saves the fix while the watcher waits
        sleeps.append(seconds)
        if len(sleeps) == 1:
            path.write_text(RIGHT)

    assert watch(path, check_once, poll=0.01, runs=2, sleep=sleep) == 0
    assert statuses == ["fail", "pass"] and len(sleeps) == 2  # one poll saw the change, one saw it stay
    statuses.clear()
    assert watch(path, check_once, poll=0.01, polls=3, sleep=lambda s: None) == 0
    assert statuses == ["pass"]


def test_the_cli_watches_one_file_until_ctrl_c(tmp_path, capsys, monkeypatch):
    path = tmp_path / "my_functions.py"
    path.write_text(WRONG)

    def interrupted(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_module.time, "sleep", interrupted)
    assert main(["check", "--watch", "--lang", "en", str(path)]) == 0
    out = capsys.readouterr().out
    assert "checking" in out and "Ctrl-C ends" in out and "[exp-sign]" in out


def test_watch_takes_one_file(tmp_path, capsys):
    files = [tmp_path / "a.py", tmp_path / "b.py"]
    for f in files:
        f.write_text(RIGHT)
    assert main(["check", "--watch", "--lang", "en", *map(str, files)]) != 0
    err = capsys.readouterr().err
    assert "--watch takes one file, got 2" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("lang, text", [("zh", "正在检查"), ("ja", "確認しています")])
def test_the_watch_line_is_in_the_chosen_language(tmp_path, capsys, monkeypatch, lang, text):
    path = tmp_path / "my_functions.py"
    path.write_text(RIGHT)
    monkeypatch.setattr(watch_module.time, "sleep", lambda s: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(["check", "--watch", "--lang", lang, str(path)]) == 0
    assert text in capsys.readouterr().out

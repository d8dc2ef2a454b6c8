"""A checked file cannot forge its verdict (tests/check_corpus/forging/): every wrong function it
defines still fails, the check answers within its limit plus five seconds, and no process it started
outlives the check. And what once ended in "internal error" is the reader's error, said in one line."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nnlearn.checker import check, check_files

FORGING = Path(__file__).resolve().parent / "check_corpus" / "forging"
FILES = sorted(FORGING.glob("*.py"))
TIMEOUT = 2.0


def wrong_rows(path: Path) -> list:
    (line,) = re.findall(r"^# wrong: (.+)$", path.read_text(), re.M)
    return line.split()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie -- ended, not yet reaped -- counts as alive: it is still there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Each forging file, copied to a folder of its own (the files write beside themselves), checked
    on its own, several at a time: {name: (report, seconds, folder)}."""

    def run(path):
        folder = tmp_path_factory.mktemp(path.stem)
        copy = folder / path.name
        shutil.copy(path, copy)
        start = time.monotonic()
        report = check(copy, lang="en", timeout=TIMEOUT)
        return report, time.monotonic() - start, folder

    with ThreadPoolExecutor(6) as pool:
        return dict(zip([p.stem for p in FILES], pool.map(run, FILES)))


def test_the_corpus_holds_each_attack():
    assert {p.stem for p in FILES} >= {
        "stack_walk",
        "answer_load",
        "answer_stopped",
        "forged_value",
        "patched_numpy",
        "patched_nnlearn",
        "escaped",
        "raised_limits",
        "ignored_alarm",
        "forged_tick",
        "garbage",
        "closed_channel",
        "slow_drip",
    }


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_no_wrong_function_passes(checked, path):
    report, _, _ = checked[path.stem]
    rows = {r.name: r.status for r in report.rows}
    assert not report.ok and report.exit_code == 1
    for row in wrong_rows(path):
        assert rows[row] not in ("pass", "warn"), (row, rows[row])


@pytest.mark.parametrize("name", ["ignored_alarm", "forged_tick", "slow_drip"])
def test_a_call_that_never_returns_is_answered_within_its_limit_plus_five_seconds(checked, name):
    _, seconds, _ = checked[name]
    assert seconds <= TIMEOUT + 5  # the acceptance bound; nothing the child sends moves the deadline


@pytest.mark.parametrize("name", ["stack_walk", "forged_value", "forged_tick"])
def test_a_line_on_the_channel_that_was_not_asked_for_fails_the_row_running(checked, name):
    report, _, _ = checked[name]
    sigmoid = {r.name: r for r in report.rows}["sigmoid"]
    assert [f["id"] for f in sigmoid.findings] == ["crashed"]
    assert sigmoid.findings[0]["details"] == [["forged", {}]]
    assert "wrote to the check's own channel" in report.text()


def test_code_that_forged_once_gets_no_other_process(checked):
    report, _, _ = checked["stack_walk"]
    assert {r.name: r.status for r in report.rows if r.status != "missing"} == {
        "sigmoid": "fail",
        "softmax": "untested",
        "mean_squared_error": "untested",
    }


@pytest.mark.parametrize("name", ["answer_load", "answer_stopped", "garbage"])
def test_a_forged_answer_to_loading_the_file_checks_nothing(checked, name):
    report, _, _ = checked[name]
    assert report.status == "crashed" and [n["kind"] for n in report.notes] == ["import-forged"]
    assert not report.found


@pytest.mark.parametrize("name", ["patched_numpy", "patched_nnlearn"])
def test_patching_numpy_or_nnlearn_in_the_checked_file_changes_no_verdict(checked, name):
    report, _, _ = checked[name]
    ids = {r.name: [f["id"] for f in r.findings] for r in report.rows}
    assert ids["sigmoid"] == ["exp-sign"] and ids["softmax"] == ["softmax-overflow"]
    assert ids["mean_squared_error"] == ["missing-half"]


@pytest.mark.parametrize("name", ["ignored_alarm", "slow_drip"])
def test_a_function_that_ignores_the_alarm_is_a_timeout(checked, name):
    report, _, _ = checked[name]
    (finding,) = {r.name: r for r in report.rows}["sigmoid"].findings
    assert finding["id"] == "timeout" and finding["details"] == [["seconds", {"seconds": "2"}]]


def test_the_limits_cannot_be_raised_again(checked):
    report, _, folder = checked["raised_limits"]
    limits = json.loads((folder / "raised_limits.json").read_text())
    soft, hard = limits["RLIMIT_AS"]
    assert soft == hard == 2048 << 20  # the 2 GiB cap, soft and hard alike, after trying to raise both
    assert limits["RLIMIT_CPU"][0] == limits["RLIMIT_CPU"][1]
    softmax = {r.name: r for r in report.rows}["softmax"]
    assert softmax.findings[0]["got"].startswith("MemoryError")


def test_no_process_the_file_started_outlives_the_check(checked):
    _, _, folder = checked["escaped"]
    pids = [int((folder / name).read_text()) for name in ("escaped.session.pid", "escaped.double.pid")]
    assert not [pid for pid in pids if alive(pid)]
    time.sleep(0.3)
    assert not (folder / "escaped.alive").exists()


# -- what once ended in "internal error" -------------------------------------------------------------------


def test_what_the_reader_raises_or_returns_is_never_an_internal_error(tmp_path):
    (tmp_path / "nul.py").write_bytes(b"import numpy as np\ndef sigmoid(x):\n    return x\n\x00\n")
    (tmp_path / "odd.py").write_text(
        "import numpy as np\n"
        "class Boom(BaseException):\n    pass\n"
        "class Bad(float):\n    def __float__(self):\n        raise RuntimeError('no float')\n"
        "class Worse:\n    def __float__(self):\n        raise RuntimeError('no float')\n"
        "    def __str__(self):\n        raise RuntimeError('no str')\n"
        "class Loud(Exception):\n    def __str__(self):\n        raise RuntimeError('no str')\n"
        "def sigmoid(x):\n    raise Boom('out')\n"
        "def softmax(x):\n    return Bad(0.5)\n"
        "def mean_squared_error(y, t):\n    return Worse()\n"
        "def cross_entropy_error(y, t):\n    raise Loud()\n"
        "raise Boom('at the top level')\n"
    )
    nul, odd = check_files([tmp_path / "nul.py", tmp_path / "odd.py"], lang="en", timeout=5)
    (note,) = nul.notes
    assert nul.status == "syntax" and note["where"][0][:2] == ["nul.py", 4] and "null bytes" in note["message"]
    rows = {r.name: r for r in odd.rows}
    assert rows["sigmoid"].findings[0]["got"] == "Boom: out"
    assert [f["id"] for f in rows["softmax"].findings] == ["wrong-shape"]
    assert rows["mean_squared_error"].findings[0]["got"] == "<Worse object>"
    assert rows["cross_entropy_error"].findings[0]["got"] == "Loud"
    assert odd.status == "error" and odd.notes[0]["exception"] == "Boom: at the top level"


def _notebook(source: str) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}],
        }
    )


def test_a_30_mb_notebook_cell_is_one_line_before_anything_runs(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_text(_notebook("x = 1\n# " + "a" * (30 << 20) + "\n"))
    run = subprocess.run(
        [sys.executable, "-m", "nnlearn", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "cell 1 holds" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_end_the_check_and_its_child(tmp_path, sig):
    path = tmp_path / "waits.py"
    path.write_text("import os, time\nopen('child.pid', 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlearn", "check", "--timeout", "60", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = tmp_path / "child.pid"
    for _ in range(600):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    child = int(pid_file.read_text())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not alive(child)


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_a_child_that_stops_reading_cannot_hold_the_check(tmp_path):
    """The first file answers its own loading and then never reads again: the check still ends, and
    the second file (its source larger than a pipe holds) is checked by a process of its own."""
    first = tmp_path / "first.py"
    first.write_text(
        "import json, signal, sys, time\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    local = frame.f_locals\n"
        "    if isinstance(local.get('request'), dict) and hasattr(local.get('replies'), 'write'):\n"
        "        answer = {'id': local['request']['id'], 'status': 'ok', 'notes': [], 'found': {}}\n"
        "        local['replies'].write(json.dumps(answer) + '\\n')\n"
        "        local['replies'].flush()\n"
        "        break\n"
        "    frame = frame.f_back\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "while True:\n"
        "    time.sleep(1)\n"
    )
    second = tmp_path / "second.py"
    second.write_text(
        "import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n# " + "x" * (3 << 20) + "\n"
    )
    done = []
    worker = threading.Thread(
        target=lambda: done.append(check_files([first, second], lang="en", timeout=1)), daemon=True
    )
    worker.start()
    worker.join(timeout=120)  # not a timing claim: without the deadline on writing, this waits forever
    assert done, "the check did not end"
    _, report = done[0]
    assert report.ok and [r.status for r in report.rows if r.name == "sigmoid"] == ["pass"]


def test_one_files_code_cannot_change_what_anothers_is_judged_by(tmp_path):
    """Files checked together share no process state: NumPy patched by the first (the way a file that
    wanted to pass another's wrong code would start) is NumPy again for the second."""
    first = tmp_path / "first.py"
    first.write_text(
        "import numpy as np\nnp.exp = lambda x: x * 0 + 7.0\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
    )
    second = tmp_path / "second.py"
    second.write_text("import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n")
    one, two = check_files([first, second], lang="en", timeout=5)
    assert [r.status for r in one.rows if r.name == "sigmoid"] == ["fail"]  # its own patch, its own result
    assert [r.status for r in two.rows if r.name == "sigmoid"] == ["pass"]


def test_what_a_file_left_running_ends_before_the_next_file_is_checked(tmp_path):
    shutil.copy(FORGING / "escaped.py", tmp_path / "escaped.py")
    (tmp_path / "after.py").write_text(
        "import os\nimport numpy as np\n"
        "pids = [int(open(n).read()) for n in ('escaped.session.pid', 'escaped.double.pid')]\n"
        "alive = []\n"
        "for pid in pids:\n"
        "    try:\n"
        "        os.kill(pid, 0)\n"
        "        alive.append(pid)\n"
        "    except ProcessLookupError:\n"
        "        pass\n"
        "def sigmoid(x):\n"
        "    return 1 / (1 + np.exp(-x)) if not alive else x\n"
    )
    _, after = check_files([tmp_path / "escaped.py", tmp_path / "after.py"], lang="en", timeout=5)
    assert [r.status for r in after.rows if r.name == "sigmoid"] == ["pass"]


def test_parameter_names_from_the_child_must_be_names(tmp_path):
    """The reader's parameter names are shown in a fix's code: an answer to loading the file that gives
    anything but identifiers is forged (else its text would be written into the report)."""
    path = tmp_path / "params.py"
    path.write_text(
        "import json, os, sys\n"
        "import numpy as np\n"
        "def softmax(x):\n    return np.exp(x) / np.sum(np.exp(x))\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    local = frame.f_locals\n"
        "    if isinstance(local.get('request'), dict) and hasattr(local.get('replies'), 'write'):\n"
        "        info = {'spelling': 'softmax', 'yours': True, 'handle': 1, 'parameters': ['x); see http://x']}\n"
        "        answer = {'id': local['request']['id'], 'status': 'ok', 'notes': [], 'found': {'softmax': info}}\n"
        "        local['replies'].write(json.dumps(answer) + '\\n')\n"
        "        local['replies'].flush()\n"
        "        os._exit(0)\n"
        "    frame = frame.f_back\n"
    )
    report = check(path, lang="en", timeout=TIMEOUT)
    assert report.status == "crashed" and [n["kind"] for n in report.notes] == ["import-forged"]
    assert "http://x" not in report.text()

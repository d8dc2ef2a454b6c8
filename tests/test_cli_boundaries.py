"""Every subcommand, walked with an output path it cannot write and with a data folder that is not
there: a short one-line error, a non-zero exit, never a traceback, nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from nnlearn.cli import main

# /proc refuses new files and folders, even to root.
NOWHERE = "/proc/nnlearn-test"
MISSING = "/nonexistent-nnlearn-data"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, mnist_dir):
    run = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", "--iters", "20", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(run)]) == 0
    return run


def output_commands(data: str, run: str) -> dict:
    demo_sections = ["derivative", "rounding", "partial", "gradient", "descent", "all"]  # losses draws nothing
    commands = {
        "train": ["train", "--iters", "5", "--no-progress", "--data-dir", data, "--out", f"{NOWHERE}/run"],
        "evaluate": ["evaluate", run, "--data-dir", data, "--out", f"{NOWHERE}/confusion.png"],
        "data download": ["data", "download", "--data-dir", f"{NOWHERE}/data"],
        "data show": ["data", "show", "--data-dir", data, "--out", f"{NOWHERE}/digit.png"],
        "demo minibatch": ["demo", "minibatch", "--data-dir", data, "--out", NOWHERE],
        "demo overfit": [
            "demo",
            "overfit",
            "--epochs",
            "1",
            "--train-size",
            "100",
            "--no-progress",
            "--data-dir",
            data,
            "--out",
            NOWHERE,
        ],
        "diff --plot": ["diff", "x**2", "--at", "1", "--plot", f"{NOWHERE}/tangent.png"],
    }
    commands |= {f"demo {s}": ["demo", s, "--out", NOWHERE] for s in demo_sections}
    return commands


def data_commands(run: str) -> dict:
    return {
        "train": ["train", "--iters", "5", "--no-progress", "--data-dir", MISSING],
        "evaluate": ["evaluate", run, "--data-dir", MISSING],
        "predict --index": ["predict", run, "--index", "0", "--data-dir", MISSING],
        "gradcheck": ["gradcheck", "--data-dir", MISSING],
        "data info": ["data", "info", "--data-dir", MISSING],
        "data verify": ["data", "verify", "--data-dir", MISSING],
        "data show": ["data", "show", "--data-dir", MISSING],
        "data import": ["data", "import", MISSING],
        "demo minibatch": ["demo", "minibatch", "--data-dir", MISSING],
        "demo overfit": ["demo", "overfit", "--data-dir", MISSING],
        "demo numgrad": ["demo", "numgrad", "--data-dir", MISSING],
    }


def assert_one_line_refusal(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code not in (0, None), argv
    assert "Traceback" not in err and "internal error" not in err, err
    first = err.splitlines()[0]
    assert first.startswith("nnlearn: error: ") or "error:" in first, err
    assert len(first) <= 220, first
    return first


@pytest.mark.slow
@pytest.mark.realdata
def test_every_subcommand_refuses_an_unwritable_output_path(capsys, monkeypatch, tmp_path, mnist_dir, trained_run):
    monkeypatch.chdir(tmp_path)
    for name, argv in output_commands(str(mnist_dir), str(trained_run)).items():
        first = assert_one_line_refusal(capsys, argv)
        assert NOWHERE in first, (name, first)
    assert not list(tmp_path.iterdir())  # nothing half-made in the working folder either
    # the cache folder itself unwritable: data import says so
    monkeypatch.setenv("XDG_CACHE_HOME", NOWHERE)
    assert NOWHERE in assert_one_line_refusal(capsys, ["data", "import", str(mnist_dir)])


@pytest.mark.realdata
def test_every_subcommand_refuses_a_missing_data_folder(capsys, tmp_path, monkeypatch, trained_run):
    monkeypatch.chdir(tmp_path)
    for name, argv in data_commands(str(trained_run)).items():
        first = assert_one_line_refusal(capsys, argv)
        assert MISSING in first, (name, first)
    assert not list(tmp_path.iterdir())  # no empty run directory left behind by train


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
@pytest.mark.realdata
def test_sigterm_during_training_saves_and_leaves_no_temporary_files(tmp_path, mnist_dir):
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "nnlearn",
        "train",
        "--iters",
        "200000",
        "--no-progress",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(run),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (run / "metrics.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; checkpoint at iteration" in err
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]
    assert '"state": "stopped"' in (run / "state.json").read_text()


@pytest.mark.slow
@pytest.mark.realdata
def test_leftovers_of_a_killed_run_go_when_it_resumes(tmp_path, mnist_dir):
    from nnlearn.base.files import temp_prefix

    run = tmp_path / "run"
    assert main(["train", "--iters", "100", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(run)]) == 0
    (run / "summary.json").unlink()  # as if killed before the end
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale_prefix = temp_prefix("model.npz").rsplit("-", 1)[0] + f"-{dead.stdout.strip()}."
    leftovers = [run / f"{stale_prefix}abc123.tmp", run / f"{stale_prefix.replace('model.npz', 'metrics.csv')}x.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert not any(path.exists() for path in leftovers)
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]


def test_no_help_text_shows_a_doubled_percent_sign():
    from nnlearn.cli import build_parser

    def walk(parser):
        yield parser
        for action in parser._actions:  # argparse keeps its subparsers here; no public accessor
            for sub in getattr(action, "choices", None).values() if isinstance(action.choices, dict) else ():
                yield from walk(sub)

    texts = {p.prog: p.format_help() for p in walk(build_parser())}
    assert "nnlearn demo overfit" in texts and "climbs to 100% while" in texts["nnlearn demo overfit"]
    assert [prog for prog, text in texts.items() if "%%" in text] == []


# -- runs that stop for a reason of the machine's: their state tells the truth (issue 17, items 9 and 10) --


def _state(run) -> dict:
    import json

    return json.loads((run / "state.json").read_text())


def test_a_full_disk_while_training_stops_the_run_with_one_line_and_it_resumes(
    tmp_path, fake_data, capsys, monkeypatch
):
    import errno
    import os

    import nnlearn.base.files

    real_fsync, calls = os.fsync, []

    def fsync(fd):  # the 6th file written (a checkpoint, mid-run) meets a full disk, once
        calls.append(fd)
        if len(calls) == 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(nnlearn.base.files.os, "fsync", fsync)
    run = tmp_path / "run"
    argv = ["train", "--iters", "100", "--batch-size", "20", "--no-progress", "--out", str(run)]
    assert main(argv) == 1  # was "internal error ... this is a bug" (exit 70), the state left "running"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnlearn: error: cannot write ")
    assert "No space left on device" in err[0] and f"nnlearn train --resume {run}" in err[0], err[0]
    state = _state(run)
    assert state["state"] == "stopped" and state["reason"].endswith(f"; resume with: nnlearn train --resume {run}")
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    monkeypatch.setattr(nnlearn.base.files.os, "fsync", real_fsync)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0 and _state(run)["state"] == "finished"


def test_ctrl_c_while_the_final_files_are_written_leaves_a_stopped_run_that_resumes(
    tmp_path, fake_data, capsys, monkeypatch
):
    from nnlearn.train.history import History

    real = History.figures

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(History, "figures", interrupted)
    run = tmp_path / "run"
    assert main(["train", "--iters", "50", "--batch-size", "20", "--no-progress", "--out", str(run)]) == 130
    said = capsys.readouterr().err.strip()
    assert said.startswith("nnlearn: interrupted") and said.endswith(f"nnlearn train --resume {run}"), said
    assert len(said.splitlines()) == 1
    assert _state(run) | {"pid": 0, "updated": 0} == {
        "state": "stopped",
        "pid": 0,
        "updated": 0,
        "reason": f"interrupted (Ctrl-C) while writing its final files; resume with: nnlearn train --resume {run}",
    }
    assert not (run / "summary.json").exists()
    monkeypatch.setattr(History, "figures", real)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _state(run)["state"] == "finished" and (run / "summary.json").is_file() and (run / "loss.png").is_file()


def test_settings_the_data_refuses_leave_no_run_folder_behind(tmp_path, fake_data, capsys):
    run = tmp_path / "run"
    assert main(["train", "--validation", "500", "--out", str(run), "--no-progress"]) == 1  # all 500 samples
    assert re.search(r"validation=500 .*500 samples", capsys.readouterr().err)
    assert not run.exists()


# -- folders, links and loops where a run's file belongs (issue 31) ----------------------------------


@pytest.mark.parametrize(
    "name, argv",
    [
        ("model.npz", ["evaluate", "RUN"]),
        ("checkpoint.npz", ["train", "--resume", "RUN", "--no-progress"]),
        ("trajectory.npz", ["landscape", "RUN", "--directions", "pca", "--grid", "3"]),
    ],
)
@pytest.mark.parametrize(
    "how, said",
    [("folder", "is a folder, not "), ("loop", "is a loop of links, not "), ("broken link", "is a link to nothing (")],
)
def test_a_folder_or_a_link_where_a_runs_file_belongs_is_one_line(
    trained, fake_data, capsys, monkeypatch, name, argv, how, said
):
    import os
    from pathlib import Path

    monkeypatch.chdir(trained.parent)  # short paths: the messages stay within a line
    trained = Path("run")
    path = trained / name
    path.unlink()
    if how == "folder":
        path.mkdir()
    elif how == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to("gone.npz")
    before = sorted(p.name for p in trained.iterdir())
    config = (trained / "config.json").read_bytes()
    first = assert_one_line_refusal(capsys, [a.replace("RUN", str(trained)) for a in argv])
    # was "internal error: IsADirectoryError", a loop "the run has not finished", a resume from iteration 0
    assert first.startswith(f"nnlearn: error: {path} {said}"), first
    assert sorted(p.name for p in trained.iterdir()) == before and (trained / "config.json").read_bytes() == config
    assert os.path.islink(path) or path.is_dir()


# -- a run folder is locked while it trains (issue 31) ------------------------------------------------


def test_a_run_folder_is_locked_while_it_trains_and_free_once_its_trainer_is_killed(
    tmp_path, fake_data, capsys, monkeypatch
):
    import json
    import os
    from pathlib import Path

    from nnlearn.train import runs

    run = tmp_path / "run"
    # A second process trains into the folder (the synthetic digits, for as long as it is let)
    script = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import nnlearn.datasets\nfrom mnist_tiny import synthetic_mnist\nfrom nnlearn.cli import main\n"
        "data = synthetic_mnist()\nnnlearn.datasets.load_dataset = lambda name, **kw: data\n"
        f"main(['train', '--out', {str(run)!r}, '--iters', '10000000', '--batch-size', '20', '--no-progress'])"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (run / "state.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads((run / "state.json").read_text())["state"] == "running", proc.stderr
        config = (run / "config.json").read_bytes()
        monkeypatch.setattr(runs, "finish_run", lambda *a, **kw: pytest.fail("a second trainer was let in"))
        # was accepted: two trainers writing one folder
        assert main(["train", "--resume", str(run), "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert err == (
            f"nnlearn: error: {run} is being trained by another process (pid {proc.pid}); wait for it "
            f"to finish, or stop it and then resume with: nnlearn train --resume {run}\n"
        )
        assert proc.poll() is None and json.loads((run / "state.json").read_text())["pid"] == proc.pid
        assert (run / "config.json").read_bytes() == config
    finally:
        proc.kill()
        proc.wait(timeout=30)
    # SIGKILL leaves no lock behind: the kernel released it with the process
    os.close(runs.claim_run_dir(run))


def test_where_the_file_system_cannot_lock_a_folder_the_run_goes_on_unlocked(tmp_path, fake_data, monkeypatch):
    import errno

    from mnist_tiny import FAST_TRAIN

    from nnlearn.train import runs

    def no_folder_locks(fd, operation):  # what an NFS mount answers for a folder opened read-only
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(runs.fcntl, "flock", no_folder_locks)
    assert runs.claim_run_dir(tmp_path / "unlocked") is None
    assert main(["train", "--out", str(tmp_path / "run"), *FAST_TRAIN]) == 0
    assert _state(tmp_path / "run")["state"] == "finished"


# -- Ctrl-C while the command line starts (issue 31) --------------------------------------------------

#: A process that starts as the console script `nnlearn` does and gets Ctrl-C the moment a module is
#: first imported: the same moment every run, where a timer would hit a different one each time.
_CTRL_C_AT_IMPORT = """
import os, signal, sys
target = sys.argv[1]
class Interrupt:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["nnlearn", *sys.argv[2:]]
from nnlearn.cli import main
sys.exit(main())
"""


@pytest.mark.parametrize(
    "module",
    [
        "numpy",  # while `import nnlearn` runs, before the command line's main: was a KeyboardInterrupt traceback
        "nnlearn.cli.train",  # while the parser is built: was a traceback too
        "matplotlib.figure",  # inside the command, where main already caught it
    ],
)
def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_130(tmp_path, module):
    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AT_IMPORT, module, "demo", "derivative", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (130, "nnlearn: interrupted\n")


@pytest.mark.parametrize("words, env, lang", [(["--lang", "zh"], {}, "zh"), ([], {"NNLEARN_LANG": "ja"}, "ja")])
def test_ctrl_c_while_the_command_starts_is_said_in_the_commands_language(tmp_path, words, env, lang):
    # Before the command line's main runs (the quiet start's handler): the language is --lang, then NNLEARN_LANG.
    from nnlearn.base.i18n import translate

    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AT_IMPORT, "numpy", "demo", "derivative", "--out", str(tmp_path), *words],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | env,
    )
    assert (proc.returncode, proc.stderr) == (130, f"nnlearn: {translate('interrupted', lang)}\n")
    assert translate("interrupted", lang) != "interrupted"


@pytest.mark.parametrize(
    "argv, orig, quiet",
    [
        (["/usr/bin/nnlearn", "train"], ["python", "/usr/bin/nnlearn", "train"], True),  # the console script
        (["-m"], ["python3", "-X", "importtime", "-m", "nnlearn", "train"], True),  # python -m nnlearn, while importing
        (["-m"], ["python", "-m", "nnlearn.cli", "--help"], True),
        (["-c"], ["python", "-c", "import nnlearn"], False),  # a program that imports nnlearn
        (["notebook.py"], ["python", "notebook.py", "-m", "nnlearn"], False),  # a script's own arguments
        (["-c"], ["python", "-c", "import nnlearn", "-m", "nnlearn"], False),
        (["-m"], ["python", "-mnnlearn"], True),
        ([""], ["python"], False),
    ],
)
def test_the_quiet_start_is_only_for_the_command_line(monkeypatch, argv, orig, quiet):
    import signal

    from nnlearn.base.errors import end_quiet_start, quiet_start

    monkeypatch.setattr(sys, "orig_argv", orig)
    try:
        quiet_start(argv)
        assert (signal.getsignal(signal.SIGINT) is not signal.default_int_handler) == quiet
    finally:
        end_quiet_start()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_program_that_imports_nnlearn_keeps_its_ctrl_c():
    import signal

    import nnlearn  # noqa: F401 - imported for its effect, or its lack of one

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import signal, nnlearn; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "True\n"


# -- numbers in ASCII digits only, names the file system can hold (issue 31) --------------------------


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["board", ".", "--port", "١٢"], "--port"),  # int("١٢") is 12: it bound port 12
        (["train", "--iters", "١٢"], "--iters"),
        (["train", "--hidden-size", "²-3"], "--hidden-size"),  # "²".isdigit() is true, int("²") fails
        (["train", "--lr", "٠.١"], "--lr"),
        (["train", "--weight-init-std", "٠.١"], "--weight-init-std"),
        (["train", "--validation", "١٠"], "--validation"),
        (["train", "--threads", "١٢"], "--threads"),
        (["landscape", ".", "--grid", "١٢"], "--grid"),
        (["data", "show", "--index", "١٢"], "--index"),
        (["check", "x.py", "--timeout", "١٢"], "--timeout"),
        (["diff", "x**2", "--at", "1", "--h", "١"], "--h"),  # float("١") is 1.0
        (["sweep", "--out", "s", "--param", "lr=uniform:0.1:1", "--trials", "١٢"], "--trials"),
    ],
)
def test_a_number_in_other_digits_than_ascii_is_refused(capsys, tmp_path, monkeypatch, argv, flag):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("nnlearn.see.board.server.serve", lambda *a, **kw: pytest.fail(f"the board served on {kw}"))
    with pytest.raises(SystemExit) as exit_:  # argparse's refusal: the usage, then one error line
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert f"error: argument {flag}: must be" in last and f"got '{argv[-1]}'" in last, last
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("port", ["65536", "-1", "80.5"])
def test_a_port_outside_0_to_65535_is_refused_before_the_board_serves(capsys, monkeypatch, port):
    monkeypatch.setattr("nnlearn.see.board.server.serve", lambda *a, **kw: pytest.fail(f"the board served on {kw}"))
    with pytest.raises(SystemExit) as exit_:
        main(["board", ".", "--port", port])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_.value.code == 2 and "argument --port: must be" in last and "65,535" in last, last


def test_diff_at_takes_ascii_digits_only(capsys):
    assert main(["diff", "x**2", "--at", "3"]) == 0
    capsys.readouterr()
    first = assert_one_line_refusal(capsys, ["diff", "x**2", "--at", "١٢"])  # was read as 12
    assert first.startswith("nnlearn: error: --at '١٢'") and "ASCII" in first and "--at 3,4" in first, first


LONG = "x" * 400  # longer than a file name may be (255 bytes)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--out", LONG],
        ["train", "--out", f"{LONG}/run"],
        ["train", "--resume", LONG],
        ["evaluate", LONG],
        ["landscape", LONG],
        ["data", "show", "--out", f"{LONG}.png"],
        ["report", LONG],
    ],
)
def test_a_name_too_long_for_the_file_system_is_one_line(capsys, tmp_path, monkeypatch, fake_data, argv):
    monkeypatch.chdir(tmp_path)
    code = main(argv)  # was "internal error: OSError: [Errno 36] File name too long", exit 70
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("nnlearn: error: "), err
    assert "too long" in err.lower() and "internal error" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_warning_is_one_line_while_a_command_runs_and_pythons_own_display_comes_back_after(capsys):
    import warnings

    before = warnings.showwarning
    code = main(["diff", "abs(x)", "--at", "0"])
    err = capsys.readouterr().err
    assert code == 0 and err.startswith("nnlearn: warning:") and err.count("\n") == 1
    assert warnings.showwarning is before

"""The thread rule: the count asked for, else the free cores at the start; recorded in the run, kept on
resume; and the contract that holds on every BLAS kernel: same seed, same count, same machine -> same bits."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlearn import TwoLayerNet
from nnlearn.base.errors import InputError
from nnlearn.cli import main
from nnlearn.train import threads
from nnlearn.train.callbacks import Callback, standard_callbacks
from nnlearn.train.settings import TrainSettings
from nnlearn.train.threads import blas_count, blas_threads, choose
from nnlearn.train.trainer import Trainer, TrainingInterrupted

two_cores = pytest.mark.skipif(
    min(threads.allowed_cores(), blas_count() or 1) < 2, reason="needs two cores and a BLAS allowed to use them"
)


def test_a_count_asked_for_is_applied_recorded_and_given_back(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    before = blas_count()
    with blas_threads(1) as choice:
        assert choice.count == blas_count() == 1
    assert blas_count() == before
    assert choice.record() == {"threads": 1, "source": "threads", "blas_default": before, "busy_cores": None}
    assert choice.note() is None


def test_nnlearn_threads_is_read_and_a_bad_value_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(threads.ENV, "1")
    assert (choose().count, choose().source) == (1, "NNLEARN_THREADS")
    assert (choose(2).count, choose(2).source) == (2, "threads")  # the argument wins
    assert choose("auto").source == "NNLEARN_THREADS"
    monkeypatch.setenv(threads.ENV, "auto")
    assert choose().source == "free cores"
    monkeypatch.setenv(threads.ENV, "two")
    with pytest.raises(InputError, match=r"NNLEARN_THREADS .*1 to 1024.*'auto'"):
        choose()


def _a_count(text: str) -> bool:
    """What NNLEARN_THREADS may hold: nothing or 'auto' (the free cores), or a count in ASCII digits."""
    text = text.strip()
    return text.lower() in ("", "auto") or (text.isascii() and text.isdigit() and 1 <= int(text) <= threads.MOST)


# Words, zero, fractions, overflowing and non-ASCII digits ('١٢' is 12 to int()): one line, no traceback.
@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["two", "0", "-1", "1.5", "1" * 31, "\u0661\u0662", "2000"])
    | st.integers().filter(lambda n: not 1 <= n <= threads.MOST).map(str)
    | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12).filter(
        lambda text: not _a_count(text)
    )
)
def test_nnlearn_threads_refuses_whatever_is_not_a_count(bad):
    with pytest.MonkeyPatch.context() as env:
        env.setenv(threads.ENV, bad)
        with pytest.raises(InputError) as info:
            threads.asked()
    said = str(info.value)
    assert said.startswith("NNLEARN_THREADS ") and "1024" in said and "'auto'" in said, said


@settings(max_examples=50, deadline=None)
@given(
    st.booleans()
    | st.floats()
    | st.integers().filter(lambda n: not 1 <= n <= threads.MOST)
    | st.text(st.characters(codec="ascii"), min_size=1).filter(lambda text: not _a_count(text))
)
def test_a_thread_count_argument_refuses_whatever_is_not_a_count(bad):
    with pytest.raises(InputError, match="^threads must be a whole number"):
        threads.asked(bad)


def test_busy_cores_are_the_busy_time_of_others_over_the_time_between_readings(monkeypatch):
    # (seconds, busy CPU seconds of the allowed cores, this process's own CPU seconds)
    readings = iter([(100.0, 50.0, 3.0), (100.05, 50.1, 3.04)])
    monkeypatch.setattr(threads, "cpu_reading", lambda: next(readings))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    assert threads.busy_elsewhere() == pytest.approx((0.1 - 0.04) / 0.05)
    # The real /proc/stat: a share of the allowed cores.
    monkeypatch.undo()
    assert 0.0 <= threads.busy_elsewhere() <= threads.allowed_cores() + 0.5


@pytest.mark.parametrize(
    "busy, ceiling, expected",
    [(0.0, 2, 2), (0.4, 2, 2), (0.6, 2, 1), (1.0, 2, 1), (2.0, 2, 1), (0.0, 1, 1), (3.0, 8, 5)],
)
def test_the_start_count_is_the_free_cores_rounded(monkeypatch, busy, ceiling, expected):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "allowed_cores", lambda: 8 if ceiling == 8 else 2)
    monkeypatch.setattr(threads, "blas_count", lambda: ceiling)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: busy)
    choice = choose()
    assert (choice.count, choice.source, choice.busy) == (expected, "free cores", busy)
    # The user hears of it in one line when it is not BLAS's own count.
    assert (choice.note() is None) == (expected == ceiling)
    if expected != ceiling:
        assert f"busy: using {expected} BLAS thread" in choice.note() and "--threads N" in choice.note()


def test_the_sweeps_workers_keep_one_thread():
    # The sweep starts its workers with OPENBLAS_NUM_THREADS=1: the rule never goes above what BLAS started with.
    code = "from nnlearn.train.threads import choose\nc = choose()\nprint(c.count, c.default)"
    env = {k: v for k, v in os.environ.items() if k != threads.ENV} | {"OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "1"]


# -- same seed, same count, same machine: the same bits ------------------------------------------------


def mnist_like(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)).astype(np.float32)  # sparse, like digits
    return x, rng.integers(0, 10, n)


def trainer(tmp_path, name, threads_asked, *, callbacks=(), iters=40):
    x, t = mnist_like()
    net = TwoLayerNet(784, 50, 10, seed=1, dtype=np.float32)
    settings = TrainSettings(lr=0.5, batch_size=50, iters=iters, epochs=None, seed=3, dtype="float32")
    return Trainer(
        net,
        x[:500],
        t[:500],
        x[500:],
        t[500:],
        settings=settings,
        threads=threads_asked,
        callbacks=[*standard_callbacks(False, tmp_path / name), *callbacks],
    )


class StopAt(Callback):
    def __init__(self, iteration):
        self.iteration = iteration

    def on_step_end(self, iteration, loss):
        if iteration == self.iteration:
            raise KeyboardInterrupt


def outcome(trainer):
    return (
        {k: v.copy() for k, v in trainer.network.params.items()},
        list(trainer.history.train_loss_list),
        list(trainer.history.test_acc_list),
    )


def assert_same(a, b):
    for k in a[0]:
        np.testing.assert_array_equal(a[0][k], b[0][k])
    assert a[1:] == b[1:]


@pytest.mark.parametrize("count", [1, pytest.param(2, marks=two_cores)])
def test_a_run_is_the_same_bits_again_on_its_count_and_resumes_on_it_whatever_is_asked(tmp_path, monkeypatch, count):
    monkeypatch.delenv(threads.ENV, raising=False)
    whole = trainer(tmp_path, "whole.npz", count)
    whole.train()
    again = trainer(tmp_path, "again.npz", count)
    again.train()
    assert_same(outcome(whole), outcome(again))
    assert whole.threads.record()["threads"] == count

    # Interrupted, then resumed with the other count asked for: it continues on its own, to the same bits.
    other = 3 - count
    first = trainer(tmp_path, "resumed.npz", count, callbacks=[StopAt(13)])
    with pytest.raises(TrainingInterrupted):
        first.train()
    resumed = trainer(tmp_path, "resumed.npz", other)
    resumed.load_checkpoint(tmp_path / "resumed.npz")
    assert (resumed.threads.count, resumed.threads.source, resumed.threads.asked) == (count, "run", other)
    assert f"continues on the {count} BLAS thread" in resumed.threads.note()
    resumed.train()
    assert_same(outcome(resumed), outcome(whole))


def test_a_checkpoint_of_an_older_nnlearn_keeps_its_count():
    from nnlearn.train.checkpoints import recorded_threads

    assert recorded_threads({"count": 3, "invariant": False}) == 3  # before 2026-12
    assert recorded_threads({"threads": 2, "source": "free cores"}) == 2
    assert recorded_threads({"threads": True}) is recorded_threads(None) is recorded_threads({"threads": 0}) is None


def test_train_records_its_threads_and_takes_the_flag(tmp_path, fake_data, capsys, monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--iters",
                "20",
                "--batch-size",
                "20",
                "--lr",
                "0.5",
                "--out",
                str(run),
                "--no-progress",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    config = json.loads((run / "config.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    assert config["threads"]["threads"] == summary["threads"]["threads"] == 1
    assert config["threads"]["source"] == summary["threads"]["source"] == "threads"
    # gradcheck and evaluate take it too
    assert (
        main(["gradcheck", "--synthetic", "--hidden-size", "4", "--batch-size", "2", "--sample", "3", "--threads", "1"])
        == 0
    )
    assert main(["evaluate", str(run), "--threads", "auto", "--out", str(tmp_path / "confusion.png")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--threads", "0", "--out", str(tmp_path / "x")])
    assert re.search(r"argument --threads: .*1 to 1024.*'auto'.*got '0'", capsys.readouterr().err)
    monkeypatch.setenv(threads.ENV, "many")
    assert main(["train", "--iters", "5", "--out", str(tmp_path / "bad"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "nnlearn: error: NNLEARN_THREADS must be a whole number of threads from 1 to 1024 or 'auto', got 'many'"
    ]


# -- a real process, interrupted and killed, resumed in a new shell ----------------------------------------


def train_process(args, env, stop=None):
    """Run ``nnlearn train ARGS``; with ``stop=(signal, file)``, send the signal once the run folder holds
    that file. Returns the exit status."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlearn", "train", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if stop is not None:
            sig, waited = stop
            deadline = time.monotonic() + 60
            while not waited.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130, -signal.SIGKILL), err
    return proc.returncode, out, err


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("count", [1, pytest.param(2, marks=two_cores)])
def test_resume_after_ctrl_c_and_after_a_kill_in_a_new_shell_is_bit_identical(tmp_path, mnist_dir, count):
    """The data come from NNLEARN_DATA; the resume runs in a shell without it, with the command the
    interruption printed, and ends with the very weights and losses of a run never interrupted."""
    import signal

    shell = {k: v for k, v in os.environ.items() if k not in ("NNLEARN_DATA", threads.ENV)}
    first_shell = shell | {"NNLEARN_DATA": str(mnist_dir.parent)}
    args = ["--iters", "1300", "--no-progress", "--threads", str(count)]
    code, _, _ = train_process([*args, "--out", str(tmp_path / "whole")], first_shell)
    assert code == 0
    whole = np.load(tmp_path / "whole" / "model.npz")
    for sig, waited in ((signal.SIGINT, "metrics.csv"), (signal.SIGKILL, "checkpoint.npz")):
        run = tmp_path / sig.name
        code, _, err = train_process([*args, "--out", str(run)], first_shell, stop=(sig, run / waited))
        assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
        if sig == signal.SIGINT:
            assert f"resume with: nnlearn train --resume {run}" in err
        code, out, err = train_process(["--resume", str(run), "--no-progress"], shell)
        assert code == 0 and f"resuming {run} at iteration" in out, err
        resumed = np.load(run / "model.npz")
        for key in whole.files:
            if key != "meta":
                np.testing.assert_array_equal(resumed[key], whole[key], err_msg=f"{sig.name} {key}")
        assert (run / "metrics.csv").read_bytes() == (tmp_path / "whole" / "metrics.csv").read_bytes()
        assert json.loads((run / "summary.json").read_text())["threads"]["threads"] == count

"""The thread policy: the count asked for, the start from the free cores, the rule during a run, and
runs whose bits do not depend on any of it (resumed on another count, switched halfway)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from nnlearn import MultiLayerNet, TwoLayerNet, engines, threads
from nnlearn.callbacks import Callback, standard_callbacks
from nnlearn.cli import main
from nnlearn.errors import InputError
from nnlearn.settings import TrainSettings
from nnlearn.threads import ThreadPolicy, blas_count, blas_threads, same_numbers
from nnlearn.trainer import Trainer, TrainingInterrupted

two_cores = pytest.mark.skipif(min(threads.allowed_cores(), blas_count() or 1) < 2,
                               reason="needs two cores and a BLAS allowed to use them")


def test_a_count_asked_for_is_applied_recorded_and_given_back(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    before = blas_count()
    policy = ThreadPolicy(1)
    policy.start()
    assert blas_count() == 1
    policy.stop()
    assert blas_count() == before
    record = policy.record()
    assert (record["threads"], record["first"], record["source"], record["adaptive"]) == (1, 1, "threads", False)
    with blas_threads(1) as count:
        assert count == blas_count() == 1
    assert blas_count() == before


def test_nnlearn_threads_is_read_and_a_bad_value_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(threads.ENV, "1")
    assert threads.requested() == (1, "NNLEARN_THREADS")
    assert threads.requested(2) == (2, "threads")  # the argument wins
    assert threads.requested("auto") == (None, "threads")
    monkeypatch.setenv(threads.ENV, "auto")
    assert threads.requested() == (None, "NNLEARN_THREADS")
    for bad in ("two", "0", "-1", "1.5"):
        monkeypatch.setenv(threads.ENV, bad)
        with pytest.raises(InputError, match=f"NNLEARN_THREADS must be a positive whole number of threads or 'auto', "
                                             f"got '{bad}'"):
            ThreadPolicy()
    with pytest.raises(InputError, match="threads must be a positive whole number"):
        ThreadPolicy(True)


def test_busy_cores_are_the_busy_time_of_others_over_the_time_between_readings(monkeypatch):
    # (seconds, busy CPU seconds of the allowed cores, this process's own CPU seconds)
    readings = iter([(100.0, 50.0, 3.0), (101.0, 51.9, 3.8), (101.05, 52.0, 3.85)])
    monkeypatch.setattr(threads, "cpu_reading", lambda: next(readings))
    monkeypatch.setattr(threads, "_last_reading", None)
    monkeypatch.setattr(threads, "_last_answer", None)
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    # No reading yet: one is taken, then another after a short wait.
    assert threads.busy_elsewhere() == pytest.approx((1.9 - 0.8) / 1.0)
    # A reading younger than SPAN gives the same answer again.
    assert threads.busy_elsewhere() == pytest.approx(1.1)
    # The real /proc/stat: a share of the allowed cores.
    monkeypatch.undo()
    assert 0.0 <= threads.busy_elsewhere() <= threads.allowed_cores() + 0.5


@pytest.mark.parametrize("busy, ceiling, expected", [(0.0, 2, 2), (0.4, 2, 2), (0.6, 2, 1), (1.0, 2, 1), (2.0, 2, 1),
                                                     (0.0, 1, 1), (3.0, 8, 5)])
def test_the_start_count_is_the_free_cores_rounded(monkeypatch, busy, ceiling, expected):
    monkeypatch.setattr(threads, "allowed_cores", lambda: 8 if ceiling == 8 else 2)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: busy)
    assert threads.start_count(ceiling)[0] == expected


def test_the_sweeps_workers_keep_one_thread():
    # The sweep starts its workers with OPENBLAS_NUM_THREADS=1: the policy never goes above what BLAS started with.
    code = ("from nnlearn.threads import ThreadPolicy\np = ThreadPolicy(check=lambda: [])\np.decide()\n"
            "print(p.count, p.adaptive)")
    env = {k: v for k, v in os.environ.items() if k != threads.ENV} | {"OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "False"]


# -- the rule during a run ---------------------------------------------------------------------------


def policy_on(monkeypatch, step_time):
    """An adaptive policy between 1 and 2 threads whose steps take ``step_time(count, step)`` seconds;
    the thread count is only recorded (BLAS is not touched)."""
    monkeypatch.setattr(threads, "set_blas_count", lambda count: None)
    policy = ThreadPolicy(check=lambda: [])
    policy.decided, policy.adaptive = True, True
    policy.count = policy.first = policy.high = 2
    policy.run = lambda steps: [policy.observe(step_time(policy.count, policy.steps)) for _ in range(steps)]
    return policy


def counts_over(policy):
    """The count after each switch, and the steps at which the switches that lasted happened."""
    lasting, previous = [], policy.first
    for (step, count), nxt in zip(policy.switches, [*policy.switches[1:], None]):
        if nxt is None or nxt[0] - step > threads.WINDOW + 2:  # not a probe undone after one window
            if count != previous:
                lasting.append((step, count))
            previous = count
    return lasting


QUIET = {2: 100e-6, 1: 130e-6}  # two threads are faster on a quiet machine
BUSY = {2: 230e-6, 1: 135e-6}  # beside a busy core, one thread is


def test_a_quiet_run_keeps_its_threads_and_probes_less_and_less(monkeypatch):
    policy = policy_on(monkeypatch, lambda count, step: QUIET[count])
    policy.run(100_000)
    assert policy.count == 2 and counts_over(policy) == []
    probes = [step for step, count in policy.switches if count == 1]
    gaps = np.diff(probes)
    windows = 100_000 / threads.WINDOW
    assert math.log2(windows / threads.FIRST_DWELL) - 1 <= len(probes) <= math.log2(windows / threads.FIRST_DWELL) + 1
    assert all(b >= 2 * a - 2 * threads.WINDOW for a, b in zip(gaps, gaps[1:]))  # the wait doubles


def test_a_busy_core_halfway_moves_to_one_thread_within_two_windows_and_back_when_it_is_free(monkeypatch):
    busy = range(3000, 12000)
    policy = policy_on(monkeypatch, lambda count, step: (BUSY if step in busy else QUIET)[count])
    policy.run(20_000)
    lasting = counts_over(policy)
    assert lasting[0][1] == 1 and 3000 < lasting[0][0] <= 3000 + 2 * threads.WINDOW + 2
    assert lasting[1][1] == 2 and 12000 < lasting[1][0] <= 12000 + 2 * policy.dwell * threads.WINDOW
    assert policy.count == 2 and len(lasting) == 2


def test_a_load_that_comes_and_goes_cannot_make_the_count_oscillate(monkeypatch):
    policy = policy_on(monkeypatch, lambda count, step: (BUSY if (step // 700) % 2 else QUIET)[count])
    steps = 200_000
    policy.run(steps)
    windows = steps / threads.WINDOW
    bound = 2 * math.log2(windows / threads.FIRST_DWELL) + 2
    ups = [s for s in counts_over(policy) if s[1] == 2]
    assert len(counts_over(policy)) <= 2 * len(ups) + 1 and len(ups) <= bound / 2
    # ... while a switch every 700 steps would have been 285 of them.
    assert len(policy.switches) < 40


def test_a_probe_that_cannot_win_ends_within_one_window_of_time(monkeypatch):
    # Beside a busy core two threads can be 100 times slower per step than one (BENCHMARKS.md).
    spent = {1: 0.0, 2: 0.0}

    def step_time(count, step):
        seconds = {2: 40e-3, 1: 400e-6}[count]
        spent[count] += seconds
        return seconds

    policy = policy_on(monkeypatch, step_time)
    policy.count = policy.first = 1
    policy.run(20_000)
    probes = [step for step, count in policy.switches if count == 2]
    assert policy.count == 1 and len(probes) == len(policy.switches) / 2 >= 5
    # each probe: at most one window's time at one thread, plus the step that crossed it
    assert spent[2] <= len(probes) * (threads.WINDOW * 400e-6 + 40e-3)
    assert spent[2] / (spent[1] + spent[2]) < 0.05


def test_a_run_that_started_on_too_many_threads_finds_one(monkeypatch):
    policy = policy_on(monkeypatch, lambda count, step: BUSY[count])
    policy.run(threads.WINDOW * (threads.FIRST_DWELL + 4))
    assert policy.count == 1 and counts_over(policy) == [(threads.WINDOW * threads.FIRST_DWELL, 1)]


# -- the numbers do not depend on the count -------------------------------------------------------------


def mnist_like(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)).astype(np.float32)  # sparse, like digits
    return x, rng.integers(0, 10, n)


@two_cores
def test_the_fused_step_gives_the_same_bits_on_one_thread_and_two():
    x, t = mnist_like(200)
    net = TwoLayerNet(784, 50, 10, seed=0, dtype=np.float32)
    before = blas_count()
    assert same_numbers(engines.step_check(net, net.engine("fused"), x[:100], t[:100], 100), (1, 2))
    assert blas_count() == before  # the check gives BLAS its count back
    # Every product the fused engine cuts: 301 inputs, 300 hidden units, a batch of 270.
    wide = MultiLayerNet(301, [300, 300], 10, activation="relu", weight_init_std="he", seed=0, dtype=np.float32)
    assert same_numbers(engines.step_check(wide, wide.engine("fused"), x[:270, :301], t[:270], 270), (1, 2))
    # The check can fail: here is a computation whose bits depend on the count.
    assert not same_numbers(lambda: [np.array(blas_count())], (1, 2))


def trainer(tmp_path, name, threads_asked, *, callbacks=(), iters=40):
    x, t = mnist_like()
    net = TwoLayerNet(784, 50, 10, seed=1, dtype=np.float32)
    settings = TrainSettings(lr=0.5, batch_size=50, iters=iters, epochs=None, seed=3, dtype="float32")
    return Trainer(net, x[:500], t[:500], x[500:], t[500:], settings=settings, threads=threads_asked,
                   callbacks=[*standard_callbacks(False, tmp_path / name), *callbacks])


class StopAt(Callback):
    def __init__(self, iteration):
        self.iteration = iteration

    def on_step_end(self, iteration, loss):
        if iteration == self.iteration:
            raise KeyboardInterrupt


def outcome(trainer):
    return {k: v.copy() for k, v in trainer.network.params.items()}, list(trainer.train_loss_list), \
        list(trainer.test_acc_list)


def assert_same(a, b):
    for k in a[0]:
        np.testing.assert_array_equal(a[0][k], b[0][k])
    assert a[1:] == b[1:]


@two_cores
def test_resume_is_bit_identical_on_one_thread_and_two_and_with_switches_halfway(tmp_path, monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    one = trainer(tmp_path, "one.npz", 1)
    one.train()
    two = trainer(tmp_path, "two.npz", 2)
    two.train()
    assert_same(outcome(one), outcome(two))

    # Interrupted on two threads, resumed on one: the checkpoint says the bits do not depend on it.
    first = trainer(tmp_path, "resumed.npz", 2, callbacks=[StopAt(13)])
    with pytest.raises(TrainingInterrupted):
        first.train()
    resumed = trainer(tmp_path, "resumed.npz", 1)
    resumed.load_checkpoint(tmp_path / "resumed.npz")
    assert resumed.threads.record()["threads"] == 1 and resumed.threads.pinned_by is None
    resumed.train()
    assert_same(outcome(resumed), outcome(one))

    # The policy left to itself, probing at every other window of two steps: many switches, same run.
    monkeypatch.setattr(threads, "WINDOW", 2)
    monkeypatch.setattr(threads, "FIRST_DWELL", 1)
    auto = trainer(tmp_path, "auto.npz", None)
    auto.train()
    record = auto.threads.record()
    assert record["adaptive"] and record["same_numbers_on_any_count"] and len(record["switches"]) >= 4
    assert {count for _, count in record["switches"]} == {1, 2}
    assert_same(outcome(auto), outcome(one))


def test_where_the_bits_depend_on_the_count_it_stays_put_and_a_checkpoint_keeps_it(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    default = blas_count()
    depends = ThreadPolicy(check=lambda: [np.array(blas_count())])
    depends.decide()
    if min(default, threads.allowed_cores()) > 1:
        assert depends.state() == {"count": default, "invariant": False} and not depends.adaptive
    # A run resumed from such a checkpoint uses the count it was on, whatever is asked now.
    resumed = ThreadPolicy(1, check=lambda: [np.array(blas_count())])
    resumed.resume({"count": 3, "invariant": False})
    assert (resumed.count, resumed.pinned_by) == (3, "checkpoint")
    free = ThreadPolicy(1, check=lambda: [])
    free.resume({"count": 3, "invariant": True})
    assert free.record()["threads"] == 1 and free.pinned_by is None


def test_train_records_its_threads_and_takes_the_flag(tmp_path, fake_data, capsys, monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    run = tmp_path / "run"
    assert main(["train", "--iters", "20", "--batch-size", "20", "--lr", "0.5", "--out", str(run), "--no-progress",
                 "--threads", "1"]) == 0
    config = json.loads((run / "config.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    assert config["threads"]["threads"] == summary["threads"]["threads"] == 1
    assert config["threads"]["source"] == "threads" and summary["threads"]["switches"] == []
    # gradcheck and evaluate take it too
    assert main(["gradcheck", "--synthetic", "--hidden", "4", "--batch-size", "2", "--sample", "3",
                 "--threads", "1"]) == 0
    assert main(["evaluate", str(run), "--threads", "auto", "--out", str(tmp_path / "confusion.png")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--threads", "0", "--out", str(tmp_path / "x")])
    assert "argument --threads: must be a positive integer, got '0'" in capsys.readouterr().err
    monkeypatch.setenv(threads.ENV, "many")
    assert main(["train", "--iters", "5", "--out", str(tmp_path / "bad"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["nnlearn: error: NNLEARN_THREADS must be a positive whole number of threads or 'auto', got 'many'"]

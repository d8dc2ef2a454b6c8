"""nnlearn sweep: the search space parser, and whole sweeps on real Dask clusters on 127.0.0.1.

Two clusters serve every test (module fixtures, torn down even on failure): a LocalCluster of two
worker processes in this process, and a one-worker cluster started as the ``dask scheduler`` and
``dask worker`` commands in subprocesses. The data is tiny and synthetic (tests/mnist_tiny.py).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlearn.base.errors import InputError, NnlearnError
from nnlearn.cli import main
from nnlearn.sweep import Param, Sweep, SweepSpec, parse_param

# Found, not imported: importing distributed (0.4 s) at collection would cost every test process,
# not only the one that runs these tests.
for _package in ("distributed", "optuna"):
    if importlib.util.find_spec(_package) is None:
        pytest.skip(f"{_package} is not installed (pip install -e '.[sweep]')", allow_module_level=True)

TESTS = Path(__file__).resolve().parent
PNG = b"\x89PNG\r\n\x1a\n"
# Adam with lr above about 1 diverges on this data: the range holds completing and failing trials.
PARAMS = ("lr=loguniform:1e-3:1e1", "hidden_size=choice:16,32-16")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def local_client():
    import logging

    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    """``dask scheduler`` and one ``dask worker`` as subprocesses; yields the scheduler's address."""
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--dashboard-address",
                    "127.0.0.1:0",
                    "--scheduler-file",
                    str(info),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert procs[0].poll() is None and time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            _kill(proc)


def _data(n_train=500, n_test=200):
    from mnist_tiny import synthetic_mnist

    return synthetic_mnist(n_train, n_test)


def _rows(folder) -> list[dict]:
    with open(Path(folder) / "trials.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# -- the search space ------------------------------------------------------------------------------


def test_parse_param_kinds():
    assert parse_param("lr=loguniform:1e-4:1e-1") == Param("lr", "loguniform", 1e-4, 0.1)
    assert parse_param("weight_decay_lambda=uniform:0:0.5") == Param("weight_decay_lambda", "uniform", 0.0, 0.5)
    assert parse_param("batch_size=int:32:256") == Param("batch_size", "int", 32, 256)
    # Each choice is read by the setting's constraint: layer sizes because Sizes says so.
    assert parse_param("hidden_size=choice:256,512-256,800-800").choices == ("256", "512-256", "800-800")
    assert parse_param("optimizer=choice:adam,sgd").choices == ("adam", "sgd")
    assert parse_param("lr=choice:0.1,1").choices == (0.1, 1.0)
    assert parse_param("weight_init_std=choice:0.01,relu").choices == (0.01, "he")
    assert Param("hidden_size", "choice", choices=("512-256",)).setting("512-256") == (512, 256)


@pytest.mark.parametrize(
    "text, tokens",
    [  # what the message must name: the value refused, the way out
        ("lr", ["'lr'", "NAME=KIND:ARGS", "lr=loguniform:1e-4:1e-1"]),
        ("speed=uniform:0:1", ["'speed'", "hidden_size,"]),
        ("lr=normal:0:1", ["loguniform, uniform, choice", "'normal'"]),
        ("hidden_size=int:1:9", ["choice", "'int'"]),
        ("batch_size=uniform:1:9", ["int, choice", "'uniform'"]),
        ("lr=uniform:1", ["LOW:HIGH", "lr=uniform:1:10"]),
        ("lr=uniform:__import__('os'):1", ["\"__import__('os')\"", "finite number"]),
        ("lr=uniform:nan:1", ["'nan'", "finite number"]),
        ("lr=uniform:0.5:0.1", ["LOW < HIGH"]),
        ("batch_size=int:1.5:9", ["'1.5'", "whole number"]),
        ("dropout_ratio=uniform:0:1", ["dropout_ratio", "[0, 1)", "1.0"]),
        ("hidden_size=choice:512-x", ["hidden_size", "whole numbers >= 1"]),
        ("activation=choice:relu,tanh", ["'tanh'", "relu"]),
        ("lr=choice:0.1,0.10", ["twice"]),
        ("seed=int:0:9", ["seed", "every trial", "hidden_size,"]),
        ("iters=int:1:9", ["iters", "every trial"]),
    ],
)
def test_parse_param_refuses(text, tokens):
    with pytest.raises(InputError) as info:
        parse_param(text)
    said = str(info.value)
    assert said.startswith(f"--param {text}" if "=" in text else f"--param '{text}'"), said
    assert all(token in said for token in tokens), said


def test_spec_refuses_values_the_settings_refuse():
    with pytest.raises(InputError, match=r"^--sampler grid .*--param lr=uniform:0\.1:1"):
        SweepSpec(params=("lr=uniform:0.1:1",), sampler="grid")
    with pytest.raises(InputError, match=r"^trials .*>= 1.*got 0"):
        SweepSpec(params=PARAMS, trials=0)
    assert (
        SweepSpec(params=("hidden_size=choice:8,16", "batch_size=int:10:12"), sampler="grid", trials=30).n_trials() == 6
    )
    # The one validation rule (datasets.validation_count): a share rounds, a count is taken as it is.
    assert SweepSpec(params=PARAMS).data_sizes(60000) == (60000, 10000)
    assert SweepSpec(params=PARAMS, train_size=20000).data_sizes(60000) == (20000, 3333)
    assert SweepSpec(params=PARAMS, validation=100, train_size=500).data_sizes(600) == (500, 100)
    with pytest.raises(InputError, match=r"^validation=500 .*500 samples"):
        SweepSpec(params=PARAMS, validation=500).data_sizes(500)
    with pytest.raises(InputError, match=r"^train_size 700 .*600"):
        SweepSpec(params=PARAMS, train_size=700).data_sizes(600)


def test_a_setting_of_one_optimizer_is_searched_with_a_sampled_optimizer():
    # Issue #30: momentum was refused because the check looked at the recipe's optimizer (adam), not the sampled one.
    import optuna

    from nnlearn.sweep.study import ask

    spec = SweepSpec(params=("optimizer=choice:momentum,adam", "momentum=uniform:0.5:0.95"), recipe="strong")
    assert SweepSpec.from_dict(spec.to_dict()) == spec
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(20):  # each trial is checked against its own optimizer: momentum only where it applies
        values = ask(study, spec).params
        settings = spec.settings(values)
        assert settings.optimizer == values["optimizer"]
        assert settings.momentum == (values["momentum"] if values["optimizer"] == "momentum" else None)
        assert 0.5 <= values["momentum"] <= 0.95
        seen.add(settings.optimizer)
    assert seen == {"momentum", "adam"}
    assert spec.settings({"optimizer": "momentum", "momentum": 0.7}).optimizer_options() == {
        "lr": 0.001,
        "momentum": 0.7,
    }
    # Still refused: a range the sampled optimizer refuses, and a setting no optimizer of the sweep takes.
    with pytest.raises(
        InputError,
        match=r"^--param momentum=uniform:0.5:1: momentum must be a number in \[0, 1\), "
        r"got 1.0",
    ):
        SweepSpec(params=("optimizer=choice:momentum,adam", "momentum=uniform:0.5:1"))
    for optimizers in ("optimizer=choice:sgd,adam", None):
        with pytest.raises(InputError, match=r"momentum is a setting of the momentum optimizer, not of (sgd|adam)"):
            SweepSpec(params=tuple(p for p in (optimizers, "momentum=uniform:0.5:0.9") if p))


def test_a_sweep_written_with_the_settings_old_names_is_still_read():
    # Its journal knows the parameters as hidden, dropout, weight_decay: they keep those names, the trials the book's.
    spec = SweepSpec.from_dict(
        {
            "params": ["hidden=choice:8,16-8", "dropout=uniform:0:0.5", "weight_decay=loguniform:1e-6:1e-3"],
            "recipe": "strong",
        }
    )
    assert [p.name for p in spec.params] == ["hidden", "dropout", "weight_decay"]
    settings = spec.settings({"hidden": "16-8", "dropout": 0.25, "weight_decay": 1e-4})
    assert (settings.hidden_size, settings.dropout_ratio, settings.weight_decay_lambda) == ((16, 8), 0.25, 1e-4)
    with pytest.raises(InputError, match=r"^--param hidden_size is given twice"):
        SweepSpec(params=("hidden=choice:8", "hidden_size=choice:16"))


def test_cli_refuses_bad_params_and_missing_packages(capsys, monkeypatch, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--param", "lr=loguniform:0:1", "--out", str(tmp_path / "s")])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "nnlearn sweep: error: argument --param: lr=loguniform:0:1: loguniform needs 0 < LOW < HIGH"
    )
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--resume", str(tmp_path / "s"), "--trials", "3"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "nnlearn sweep: error: --resume continues a sweep with the settings it was started with; drop --trials"
    )
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "sweep.json").write_text("{}")
    with pytest.raises(SystemExit) as info:  # before the data set is looked for: there is none here
        main(["sweep", "--param", "lr=loguniform:1e-4:1e-1", "--out", str(taken), "--data-dir", str(tmp_path / "x")])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "already holds a sweep" in err and f"--resume {taken}" in err
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(["sweep", "--param", "lr=loguniform:1e-4:1e-1", "--out", str(tmp_path / "s")]) == 1
    assert capsys.readouterr().err == (
        'nnlearn: error: nnlearn sweep needs optuna; install them with: pip install "nnlearn[sweep]"\n'
    )
    assert not (tmp_path / "s").exists()


# -- sweeps on clusters ---------------------------------------------------------------------------


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_sweep_completes_with_failed_trials_and_final_run(local_client, tmp_path, fake_data, capsys):
    (x, t), (xs, ts) = fake_data[0]
    spec = SweepSpec(params=PARAMS, trials=6, epochs=2, validation=100, seed=5)
    best = Sweep.create(tmp_path / "s", spec).run(x, t, xs, ts, client=local_client, progress=False)
    rows = _rows(tmp_path / "s")
    assert [r["number"] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert list(rows[0]) == [
        "number",
        "state",
        "lr",
        "hidden_size",
        "validation_accuracy",
        "epochs",
        "seconds",
        "worker",
        "reason",
    ]
    states = [r["state"] for r in rows]
    # Sampled from (seed 5, trial number): lr above ~1 diverges, and those trials fail with the reason.
    assert states == ["COMPLETE" if float(r["lr"]) < 0.5 else "FAIL" for r in rows]
    assert "COMPLETE" in states and "FAIL" in states
    for r in rows:
        if r["state"] == "FAIL":
            assert r["reason"].startswith("training diverged: the loss exploded") and r["validation_accuracy"] == ""
        else:
            assert r["reason"] == "" and r["epochs"] == "2.0" and r["worker"].startswith("tcp://127.0.0.1:")
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    top = max(complete, key=lambda r: (float(r["validation_accuracy"]), -int(r["number"])))
    saved = json.loads((tmp_path / "s" / "best.json").read_text())
    assert saved == best
    assert best["number"] == int(top["number"]) and best["validation_accuracy"] == float(top["validation_accuracy"])
    assert best["params"] == {"lr": float(top["lr"]), "hidden_size": top["hidden_size"]}
    assert best["description"].startswith(f"784-{top['hidden_size']}-10 relu, he init, adam lr {float(top['lr']):g}, ")
    assert best["settings"]["lr"] == float(top["lr"]) and best["settings"]["seed"] == 5
    summary = json.loads((tmp_path / "s" / "final" / "summary.json").read_text())
    assert best["final"]["test_accuracy"] == summary["test_accuracy"]
    assert summary["iterations"] == 2 * (500 // 128)  # the whole training set: validation part included
    for png in ("validation_curves.png", "search_space.png", "final/accuracy.png"):
        assert (tmp_path / "s" / png).read_bytes()[:8] == PNG
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "s" / "final")]) == 0
    assert f"test accuracy {summary['test_accuracy']:.2%}" in capsys.readouterr().out


def test_a_grid_sweep_runs_every_point_of_its_grid_once(local_client, tmp_path):
    # Optuna's grid sampler asks the study to stop when its grid is done; outside optimize() that
    # was an error after the last trial.
    (x, t), (xs, ts) = _data()
    spec = SweepSpec(
        params=("hidden_size=choice:4,8", "batch_size=int:10:11"),
        sampler="grid",
        trials=30,
        epochs=1,
        validation=100,
        seed=1,
    )
    Sweep.create(tmp_path / "g", spec).run(x, t, xs, ts, client=local_client, progress=False)
    rows = _rows(tmp_path / "g")
    assert sorted((r["hidden_size"], r["batch_size"]) for r in rows) == [
        ("4", "10"),
        ("4", "11"),
        ("8", "10"),
        ("8", "11"),
    ]
    assert {r["state"] for r in rows} == {"COMPLETE"}
    # Trial n takes the point the seed puts at place n, whichever of the two workers was free first.
    from nnlearn.sweep.study import grid_point

    assert [{"hidden_size": r["hidden_size"], "batch_size": int(r["batch_size"])} for r in rows] == [
        grid_point(spec, n) for n in range(4)
    ]


@pytest.mark.slow
def test_worker_killed_mid_trial_still_yields_every_trial(local_client, tmp_path):
    (x, t), _ = _data(600, 10)
    spec = SweepSpec(params=("hidden_size=choice:512-512,1024-512",), trials=4, epochs=2, validation=100)
    sweep = Sweep.create(tmp_path / "s", spec)
    errors = []
    thread = threading.Thread(
        target=lambda: _catch(errors, sweep.run, x, t, client=local_client, final=False, progress=False)
    )
    pids = local_client.run(os.getpid)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any(local_client.processing().values()):
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.01)
        victim = next(w for w, keys in local_client.processing().items() if keys)
        time.sleep(0.05)
        os.kill(pids[victim], signal.SIGKILL)
    finally:
        thread.join(120)
    assert not errors and not thread.is_alive()
    rows = _rows(tmp_path / "s")
    assert [(r["number"], r["state"]) for r in rows] == [(str(n), "COMPLETE") for n in range(4)]
    assert victim not in {r["worker"] for r in rows}
    local_client.wait_for_workers(2, timeout=60)  # the nanny restarted it, for the next test


def _catch(errors, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


DRIVER = """
import sys
sys.path.insert(0, {tests!r})
import nnlearn.datasets
from mnist_tiny import synthetic_mnist
data = synthetic_mnist(500, 200)
nnlearn.datasets.load_dataset = lambda *args, **kwargs: data
from nnlearn.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_driver_killed_resumes_and_sampling_ignores_workers(cli_cluster, local_client, tmp_path, fake_data, capsys):
    folder = tmp_path / "s"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(tests=str(TESTS)))
    args = [
        "sweep",
        "--param",
        PARAMS[0],
        "--param",
        PARAMS[1],
        "--trials",
        "8",
        "--epochs",
        "2",
        "--validation",
        "100",
        "--seed",
        "5",
        "--no-progress",
    ]
    driver = subprocess.Popen(
        [sys.executable, str(script), *args, "--scheduler", cli_cluster, "--out", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "trials" / "0001.json").exists():
            assert driver.poll() is None, driver.stderr.read().decode()
            assert time.monotonic() < deadline, "the driver finished no trial"
            time.sleep(0.01)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
    finally:
        _kill(driver)
    before = {p.name: p.read_bytes() for p in (folder / "trials").glob("*.json")}
    assert 2 <= len(before) < 8 and not (folder / "best.json").exists()

    assert main(["sweep", "--resume", str(folder), "--scheduler", cli_cluster, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"resuming: {len(before)} of 8 trials finished" in out
    assert "of the strong recipe: 784-512-256-10 relu, he init, adam lr 0.001, cosine lr decay, batch 128" in out
    assert "data: mnist, 400 images for training and 100 more held back for validation (" in out
    rows = _rows(folder)
    assert [r["number"] for r in rows] == [str(n) for n in range(8)]
    assert all(r["state"] in ("COMPLETE", "FAIL") for r in rows)
    # Finished trials were not run again: their records are untouched.
    assert {name: (folder / "trials" / name).read_bytes() for name in before} == before
    assert json.loads((folder / "final" / "summary.json").read_text())["test_accuracy"] is not None

    # The same seed on the two-worker cluster samples the very same settings, trial by trial.
    (x, t), _ = fake_data[0]
    spec = SweepSpec(params=PARAMS, trials=8, epochs=2, validation=100, seed=5)
    Sweep.create(tmp_path / "two", spec).run(x, t, client=local_client, final=False, progress=False)
    two = _rows(tmp_path / "two")
    assert [(r["lr"], r["hidden_size"]) for r in two] == [(r["lr"], r["hidden_size"]) for r in rows]


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_a_trial_left_without_settings_by_a_dead_driver_draws_the_same_ones_again(local_client, tmp_path):
    # SIGKILL can land between Optuna creating a trial and storing its values.
    (x, t), _ = _data()
    spec = SweepSpec(params=PARAMS, sampler="random", trials=2, epochs=1, validation=100, seed=5)
    killed = Sweep.create(tmp_path / "killed", spec)
    killed.study().ask()  # trial 0: RUNNING, no values, as such a driver leaves it
    killed.run(x, t, client=local_client, final=False, progress=False)
    Sweep.create(tmp_path / "straight", spec).run(x, t, client=local_client, final=False, progress=False)
    rows, straight = _rows(tmp_path / "killed"), _rows(tmp_path / "straight")
    assert [(r["state"], r["lr"], r["hidden_size"]) for r in rows] == [
        (r["state"], r["lr"], r["hidden_size"]) for r in straight
    ]
    assert all(r["lr"] and r["hidden_size"] for r in rows)


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_ctrl_c_stops_cleanly_and_keeps_finished_trials(local_client, tmp_path):
    import _thread

    from nnlearn.sweep import SweepInterrupted

    (x, t), _ = _data(600, 10)
    spec = SweepSpec(params=("hidden_size=choice:512-512,1024-512",), trials=30, epochs=2, validation=100)
    sweep = Sweep.create(tmp_path / "s", spec)

    def ctrl_c_after_first_trial():
        deadline = time.monotonic() + 60
        while not (tmp_path / "s" / "trials" / "0000.json").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _thread.interrupt_main()

    watcher = threading.Thread(target=ctrl_c_after_first_trial)
    watcher.start()
    try:
        with pytest.raises(SweepInterrupted) as info:
            sweep.run(x, t, client=local_client, progress=False)
    finally:
        watcher.join()
    rows = _rows(tmp_path / "s")
    finished = [r for r in rows if r["state"] == "COMPLETE"]
    assert 1 <= len(finished) < 30 and {r["state"] for r in rows} <= {"COMPLETE", "RUNNING"}
    said = str(info.value)  # how far it got, and the command that continues it
    assert f"{len(finished)} of 30" in said and said.endswith(f"nnlearn sweep --resume {tmp_path / 's'}"), said
    assert json.loads((tmp_path / "s" / "best.json").read_text())["trials"]["complete"] == len(finished)
    # No lock is left behind: the journal's lock is a flock, gone with its holder.
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "best.json",
        "search_space.png",
        "study.journal",
        "sweep.json",
        "trials",
        "trials.csv",
        "validation_curves.png",
    ]


# -- a damaged sweep folder -------------------------------------------------------------------------


def _cut_last_line(folder):
    journal = folder / "study.journal"
    journal.write_bytes(journal.read_bytes()[:-20])  # a write that did not finish


def _append_junk(folder):
    with open(folder / "study.journal", "ab") as fh:
        fh.write(b"\x80\x81\xfe\n\x00\xff junk\n")


def _params_five(folder):
    (folder / "sweep.json").write_text('{"params": 5}')


@pytest.mark.parametrize(
    "damage, file, tokens",
    [  # the line, what is wrong there, how many lines to keep, the fix
        (_cut_last_line, "study.journal", [" 3 ", "cut off", " 2 ", "--resume {s}", "--out"]),
        (_append_junk, "study.journal", [" 4 ", "JSON", "0x80", " 3 ", "--resume {s}", "--out"]),
        (_params_five, "sweep.json", ["params", "NAME=KIND:ARGS", "got 5", "--out"]),
    ],
)
def test_a_damaged_sweep_folder_is_one_line_naming_the_file_and_the_fix(
    tmp_path, fake_data, capsys, damage, file, tokens
):
    folder = tmp_path / "s"
    sweep = Sweep.create(folder, SweepSpec(params=PARAMS, trials=3, epochs=1, validation=100))
    study = sweep.study()
    study.tell(study.ask(), 0.5)  # one trial told: three lines in the journal
    damage(folder)
    assert main(["sweep", "--resume", str(folder), "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"nnlearn: error: {folder}/{file} ") and err.count("\n") == 1, err
    assert all(token.format(s=folder) in err for token in tokens), err
    assert fake_data[1] == []  # refused before the data set is loaded


def _edit_line(number, change):
    """A damage that rewrites journal line ``number`` (1-based) with ``change(entry)``."""

    def damage(folder):
        journal = folder / "study.journal"
        lines = journal.read_text().splitlines()
        entry = json.loads(lines[number - 1])
        lines[number - 1] = json.dumps(change(entry)) if callable(change) else change
        journal.write_text("\n".join(lines) + "\n")

    damage.line = number
    return damage


@pytest.mark.parametrize(
    "damage, why",
    [
        # was "internal error: KeyError: 'op_code'" (the README promises one line for a foreign line)
        (_edit_line(7, '{"hello": "world"}'), "the line is not a journal entry"),
        (
            _edit_line(7, lambda e: e | {"op_code": 99}),
            "op_code 99 is not an operation of Optuna's journal",
        ),  # AssertionError
        # was "internal error: ValueError: Unknown format code 'f' for object of type 'str'"
        (_edit_line(5, lambda e: e | {"values": ["x"]}), "its values is ['x'], not a validation accuracy in [0, 1]"),
        (
            _edit_line(9, lambda e: e | {"values": [float("inf")]}),
            "its values is [NaN or Infinity], not a validation accuracy in [0, 1]",
        ),
        (_edit_line(5, lambda e: e | {"trial_id": "0"}), "its trial_id is '0', not a whole number >= 0"),
        (_edit_line(2, lambda e: e | {"datetime_start": "yesterday"}), "its datetime_start is 'yesterday', not a time"),
        (
            _edit_line(5, lambda e: {k: v for k, v in e.items() if k != "datetime_complete"}),
            "its datetime_complete is missing, not a time",
        ),  # KeyError in Optuna's replay
        # lr outside the declared range was accepted into trials.csv
        (
            _edit_line(3, lambda e: e | {"param_value_internal": float("nan")}),
            "its param_value_internal is NaN or Infinity, not a finite number",
        ),
        (
            _edit_line(3, lambda e: e | {"param_value_internal": 1e308}),
            "lr is 1e+308, outside the sweep's lr=loguniform:0.001:10",
        ),
        (
            _edit_line(4, lambda e: e | {"param_value_internal": 2}),
            "hidden_size is 2, outside the sweep's hidden_size=choice:16,32-16",
        ),
        (
            _edit_line(3, lambda e: e | {"param_name": "momentum"}),
            "'momentum' is not a parameter of this sweep (lr, hidden_size)",
        ),
        (
            _edit_line(3, lambda e: e | {"distribution": e["distribution"].replace("10.0", "1e308")}),
            "lr's distribution is not the sweep's lr=loguniform:0.001:10",
        ),
    ],
)
def test_a_foreign_or_out_of_range_journal_line_is_one_line_before_the_data_is_loaded(
    tmp_path, fake_data, capsys, damage, why
):
    from nnlearn.sweep.study import ask

    folder = tmp_path / "s"
    sweep = Sweep.create(folder, SweepSpec(params=PARAMS, trials=3, epochs=1, validation=100))
    study = sweep.study()
    study.tell(ask(study, sweep.spec).number, 0.5)  # lines 1-5: the study, a trial, its 2 params, its result
    study.tell(ask(study, sweep.spec).number, 0.25)  # lines 6-9
    damage(folder)
    assert main(["sweep", "--resume", str(folder), "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    line = damage.line
    # one line naming the file, the line, what is wrong there, and both ways on
    assert err.startswith(f"nnlearn: error: {folder}/study.journal ") and err.count("\n") == 1, err
    assert all(token in err for token in (f" {line} ", f"({why})", f" {line - 1} ", f"--resume {folder}", "--out")), err
    assert fake_data[1] == [] and not (folder / "trials.csv").exists()


def test_a_damaged_trial_record_counts_as_no_record(tmp_path):
    from nnlearn.sweep.trial import read_record, record

    good = record(3) | {"value": 0.5, "curve": [0.4, 0.5], "epochs": [1.0, 2.0], "params": {"lr": 0.1}}
    path = tmp_path / "0003.json"
    for bad in (
        [good],
        good | {"number": 4},
        good | {"state": "RUNNING"},
        good | {"value": None},
        good | {"curve": ["<script>"]},
        good | {"curve": [0.5]},
        good | {"params": 5},
        good | {"reason": 5},
    ):
        path.write_text(json.dumps(bad))
        assert read_record(path, 3) is None, bad
    path.write_bytes(b"[" * 100000)
    assert read_record(path, 3) is None
    path.write_text(json.dumps(good))
    assert read_record(path, 3) == good


# Finite floats: a file's NaN and Infinity read as None (nnlearn.base.files.parse_json), which nnlearn never writes.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["number", "state", "value", "curve", "epochs", "params", "reason", "seconds", "worker"]), _JSON)
def test_a_trial_record_with_any_field_replaced_is_read_whole_or_not_at_all(field, value):
    from nnlearn.sweep.trial import read_record, record

    written = record(3) | {"value": 0.5, "curve": [0.4, 0.5], "epochs": [1.0, 2.0], "params": {"lr": 0.1}}
    written[field] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "0003.json"
        path.write_text(json.dumps(written))
        read = read_record(path, 3)  # damaged: None, a trial to run again; never an exception
    assert read is None or read == written


def test_a_sweep_is_not_made_inside_a_run_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "state.json").write_text("{}")
    with pytest.raises(NnlearnError, match=r"^refusing to write into .*run/s: it is inside the run or sweep folder"):
        Sweep.create(tmp_path / "run" / "s", SweepSpec(params=PARAMS))
    assert not (tmp_path / "run" / "s").exists()
    (tmp_path / "file").write_text("mine")
    with pytest.raises(NnlearnError, match=r"it is a regular file, not a folder"):
        Sweep.create(tmp_path / "file", SweepSpec(params=PARAMS))
    assert (tmp_path / "file").read_text() == "mine"


def test_a_second_driver_on_the_same_folder_is_refused(tmp_path):
    sweep = Sweep.create(tmp_path / "s", SweepSpec(params=PARAMS))
    with sweep.lock.hold(sweep.out):
        with pytest.raises(NnlearnError, match=r"s is being swept by another process"):
            Sweep.open(tmp_path / "s")
    assert Sweep.open(tmp_path / "s").spec == sweep.spec  # the lock went with its holder

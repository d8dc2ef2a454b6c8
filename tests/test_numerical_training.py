"""Training by the numerical gradient alone (``--grad numerical``) and ``gradcheck --all``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mnist_tiny import synthetic_mnist

from nnlearn import TwoLayerNet
from nnlearn.base.errors import InputError
from nnlearn.cli import main
from nnlearn.common.engines import loop, series
from nnlearn.train.callbacks import Callback, standard_callbacks
from nnlearn.train.settings import TrainSettings, recipe_settings
from nnlearn.train.trainer import Trainer, TrainingInterrupted


def test_numerical_and_backprop_training_follow_the_same_path(monkeypatch):
    (x, t), (xt, tt) = synthetic_mnist(200, 50)
    engine_calls = []
    real_engine = series.FastEngine.numerical_gradient
    monkeypatch.setattr(
        series.FastEngine, "numerical_gradient", lambda *a, **k: engine_calls.append(1) or real_engine(*a, **k)
    )
    runs = {}
    for grad in ("numerical", "backprop"):
        net = TwoLayerNet(784, 20, 10, seed=0)
        settings = TrainSettings(
            lr=0.5,
            batch_size=20,
            iters=30,
            seed=1,
            grad=grad,
            dtype="float64",
            engine="reference" if grad == "backprop" else None,
        )
        trainer = Trainer(net, x, t, xt, tt, settings=settings, callbacks=standard_callbacks(False))
        trainer.train()
        runs[grad] = (net, trainer)
    (num_net, num_tr), (bp_net, bp_tr) = runs["numerical"], runs["backprop"]
    # The central difference differs from the exact gradient by ~h^2 g''' (about 1e-9 relative here),
    # so the two runs stay together: same batches, same losses to many digits.
    np.testing.assert_allclose(num_tr.history.train_loss_list, bp_tr.history.train_loss_list, rtol=1e-7)
    for key in num_net.params:
        np.testing.assert_allclose(num_net.params[key], bp_net.params[key], rtol=1e-6, atol=1e-9)
    assert num_tr.config()["settings"]["grad"] == "numerical"
    # one numerical gradient per iteration, none for backprop
    assert len(engine_calls) == 30
    # ... and really a different computation: not bit for bit the backprop run
    assert num_tr.history.train_loss_list[1:] != bp_tr.history.train_loss_list[1:]


def test_numerical_recipe_uses_float64_unless_told_otherwise():
    assert recipe_settings("book", grad="numerical").dtype == "float64"
    with pytest.raises(InputError, match=r"float64.*h=1e-4.*dtype float64"):
        recipe_settings("book", grad="numerical", dtype="float32")
    assert recipe_settings("book").dtype == "float32"


def test_unknown_grad_is_refused():
    with pytest.raises(ValueError, match=r"'symbolic'.*backprop, numerical"):
        TrainSettings(grad="symbolic")


def test_cli_train_grad_numerical(tmp_path, fake_data, capsys):
    run = tmp_path / "num"
    assert (
        main(
            [
                "train",
                "--grad",
                "numerical",
                "--iters",
                "40",
                "--batch-size",
                "20",
                "--lr",
                "0.5",
                "--no-progress",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "float64, numerical gradient" in out.splitlines()[0]
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["grad"] == "numerical" and config["network"]["dtype"] == "float64"
    assert config["trainer"]["settings"]["grad"] == "numerical"
    assert json.loads((run / "summary.json").read_text())["test_accuracy"] > 0.5


def test_cli_rejects_a_bad_grad(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--grad", "symbolic"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["fast", "loop"])
def test_gradcheck_all_checks_every_parameter(engine, capsys):
    assert (
        main(["gradcheck", "--synthetic", "--all", "--engine", engine, "--hidden-size", "6", "--batch-size", "4"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert f"for all {784 * 6 + 6 + 6 * 10 + 10} parameters" in out[1]
    checked = {line.split()[0]: int(line.split()[-3]) for line in out[3:7]}
    assert checked == {"W1": 784 * 6, "b1": 6, "W2": 60, "b2": 10}
    assert out[-1].startswith("backpropagation and the numerical gradient agree")


def test_gradcheck_without_all_samples(capsys):
    assert main(["gradcheck", "--synthetic", "--hidden-size", "6", "--batch-size", "2", "--sample", "7"]) == 0
    out = capsys.readouterr().out.splitlines()
    checked = {line.split()[0]: int(line.split()[-3]) for line in out[3:7]}
    assert checked == {"W1": 7, "b1": 6, "W2": 7, "b2": 7}


@pytest.mark.slow
@pytest.mark.realdata
def test_short_real_training_by_numerical_gradient(tmp_path, mnist_dir):
    run = tmp_path / "num"
    assert (
        main(
            [
                "train",
                "--grad",
                "numerical",
                "--iters",
                "300",
                "--lr",
                "0.5",
                "--data-dir",
                str(mnist_dir),
                "--out",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    # Half an epoch of the book's network with lr 0.5: backpropagation gets 89.2 % there.
    assert json.loads((run / "summary.json").read_text())["test_accuracy"] >= 0.85


class CtrlCAt(Callback):
    """Ctrl-C (what the SIGINT handler does) at the ``n``-th progress report of the loop's gradient."""

    def __init__(self, n):
        self.n, self.reports = n, []

    def on_step_progress(self, done, total):
        self.reports.append((self.trainer.iteration, done, total))
        if len(self.reports) == self.n:
            self.trainer.stop.requested = True


def test_the_loop_engine_reports_its_progress_and_stops_inside_a_gradient(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "PROGRESS_SECONDS", 0.0)  # a report at every loss evaluation
    rng = np.random.default_rng(0)
    x, t = rng.random((40, 4)), rng.integers(0, 3, 40)
    settings = TrainSettings(
        hidden_size=(3,), lr=0.5, batch_size=10, iters=6, seed=2, grad="numerical", engine="loop", dtype="float64"
    )

    def trainer(*callbacks, name="c.npz"):
        net = TwoLayerNet(4, 3, 3, weight_init_std=0.5, seed=0)
        return Trainer(
            net, x, t, settings=settings, threads=1, callbacks=[*standard_callbacks(False, tmp_path / name), *callbacks]
        )

    straight = trainer(name="straight.npz")
    straight.train()
    n_params = 4 * 3 + 3 + 3 * 3 + 3
    stop = CtrlCAt(3 * 2 * n_params + 10)  # inside the fourth iteration's gradient
    stopped = trainer(stop)
    with pytest.raises(TrainingInterrupted) as info:
        stopped.train()
    assert stop.reports[0] == (0, 1, 2 * n_params) and stop.reports[-1] == (3, 10, 2 * n_params)
    assert info.value.iteration == stopped.iteration == 3  # the last whole iteration, saved
    resumed = trainer()
    resumed.load_checkpoint(tmp_path / "c.npz")
    resumed.train()
    assert resumed.history.train_loss_list == straight.history.train_loss_list
    for key in straight.network.params:
        assert np.array_equal(resumed.network.params[key], straight.network.params[key])

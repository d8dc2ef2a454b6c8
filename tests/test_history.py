"""The run record (nnlearn.train.history): the book's lists, written once per format, read back whole."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnlearn.base.errors import FileFormatError
from nnlearn.train.callbacks import Callback, Checkpoint
from nnlearn.train.history import History
from nnlearn.train.settings import TrainSettings
from nnlearn.train.training import build_trainer


def recorded(validation: bool) -> History:
    """Three iterations, two epoch ends (the second the last iteration, inside an epoch)."""
    history = History(validation=validation)
    history.train_loss_list.extend([0.5, 0.25, 0.1])
    history.add_epoch(2, 0.5, 0.375 if validation else None, None if validation else 0.75)
    history.add_epoch(3, 0.625, 0.5 if validation else None, None if validation else 0.8)
    history.final = {"train_accuracy": 0.625, "test_accuracy": 0.8, "validation_accuracy": 0.5 if validation else None}
    return history


def test_the_record_writes_its_csv_rows_and_summary_fields():
    history = recorded(validation=False)
    assert history.metrics_csv() == "iteration,loss\n1,0.5\n2,0.25\n3,0.1\n"
    assert history.epochs_csv(iter_per_epoch=2) == (
        "epoch,iteration,train_accuracy,test_accuracy,validation_accuracy\n1,2,0.5,0.75,\n1.5,3,0.625,0.8,\n"
    )
    assert history.summary() == {
        "train_accuracy": 0.625,
        "test_accuracy": 0.8,
        "validation_accuracy": None,
        "last_batch_loss": 0.1,
    }
    assert history.epochs(2) == [1.0, 1.5]
    assert history.mean_loss(2) == pytest.approx(0.175, rel=1e-15)
    with_validation = recorded(validation=True)
    assert with_validation.epochs_csv(iter_per_epoch=2).splitlines()[1:] == ["1,2,0.5,,0.375", "1.5,3,0.625,,0.5"]
    assert with_validation.summary()["validation_accuracy"] == 0.5


def test_an_empty_record_knows_nothing_yet():
    history = History()
    assert history.summary() == dict.fromkeys(
        ("train_accuracy", "test_accuracy", "validation_accuracy", "last_batch_loss")
    )
    assert history.mean_loss(10) is None
    assert history.metrics_csv() == "iteration,loss\n"


@pytest.mark.parametrize("validation", [False, True])
def test_the_record_comes_back_whole_from_its_state(validation):
    history = recorded(validation)
    state = history.state_dict()
    assert {k: (v.shape, v.dtype) for k, v in state["arrays"].items()} == history.layout(3, 2)
    assert state["arrays"]["test_acc"].tolist() == ([-1.0, -1.0] if validation else [0.75, 0.8])  # None: -1
    # Through JSON, as a checkpoint's meta goes.
    state = {"arrays": state["arrays"], "meta": json.loads(json.dumps(state["meta"]))}
    back = History(validation=validation)
    back.load_state_dict(state)
    assert vars(back) == vars(history)


class StopAt(Callback):
    def __init__(self, iteration):
        self.iteration = iteration

    def on_step_end(self, iteration, loss):
        if iteration == self.iteration:
            raise KeyboardInterrupt


def trainer(callbacks=()):
    rng = np.random.default_rng(0)
    x = rng.random((240, 6)).astype(np.float32)
    t = (x[:, 0] > x[:, 1]).astype(int)
    settings = TrainSettings(
        optimizer="adam", lr=0.01, batch_size=20, iters=None, epochs=3, sampling="shuffle", validation=0.25, seed=2
    )
    return build_trainer(settings, x[:200], t[:200], x[200:], t[200:], callbacks=list(callbacks), threads=1)


def test_a_checkpoint_keeps_format_2s_names_so_older_files_still_resume(tmp_path):
    """The names nnlearn's checkpoints have held since format 2: a file written before the History resumes."""
    path = tmp_path / "c.npz"
    with pytest.raises(KeyboardInterrupt):
        trainer([Checkpoint(path), StopAt(10)]).train()
    with np.load(path) as saved:
        names = sorted(saved.files)
        meta = json.loads(str(saved["meta"]))
    assert names == sorted(
        [
            "meta",
            "param_W1",
            "param_b1",
            "param_W2",
            "param_b2",
            "train_loss",
            "epoch_iterations",
            "train_acc",
            "test_acc",
            "val_acc",
            "perm",
        ]
        + [f"opt_{m}/{p}" for m in "mv" for p in ("W1", "b1", "W2", "b2")]
    )
    assert list(meta) == [
        "format",
        "iteration",
        "rng",
        "optimizer_scalars",
        "optimizer_lr",
        "threads",
        "seconds",
        "final",
        "config",
    ]
    assert meta["format"] == 2 and meta["iteration"] == 10 and meta["final"] is None

    resumed = trainer()
    resumed.load_checkpoint(path)
    straight = trainer()
    straight.train()
    resumed.train()
    assert vars(resumed.history) == vars(straight.history)
    assert resumed.history.epoch_iterations == [7, 14, 21] and len(resumed.history.train_loss_list) == 21


def test_a_checkpoint_whose_record_is_cut_short_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    with pytest.raises(KeyboardInterrupt):
        trainer([Checkpoint(path), StopAt(10)]).train()
    with np.load(path) as saved:
        arrays = {k: saved[k] for k in saved.files}
    arrays["train_loss"] = arrays["train_loss"][:-1]
    np.savez(path, **arrays)
    with pytest.raises(FileFormatError) as err:
        trainer().load_checkpoint(path)
    assert "train_loss" in str(err.value) and "(9,)" in str(err.value) and "(10,)" in str(err.value)

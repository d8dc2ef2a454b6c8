"""Weight decay, dropout and a validation set: settings, network, trainer, run files, CLI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from mnist_tiny import FAST_TRAIN as FAST

from nnlearn import MultiLayerNet
from nnlearn.base.errors import InputError
from nnlearn.cli import main
from nnlearn.common.networks import load_network
from nnlearn.train.callbacks import standard_callbacks
from nnlearn.train.settings import RECIPES, TrainSettings
from nnlearn.train.trainer import Trainer
from nnlearn.train.training import build_trainer


def blobs(n=300, n_in=12, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.random((n_classes, n_in))
    t = rng.integers(0, n_classes, n)
    return (centres[t] + 0.25 * rng.standard_normal((n, n_in))).astype(np.float32), t


def trainer_for(x, t, x_test=None, t_test=None, **settings):
    settings = TrainSettings(
        **{"hidden_size": (10,), "lr": 0.5, "batch_size": 25, "iters": None, "epochs": 3, "seed": 4, **settings}
    )
    return build_trainer(settings, x, t, x_test, t_test, callbacks=standard_callbacks(False))


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"weight_decay_lambda": -0.1},
            "weight_decay_lambda must be a number >= 0, got -0.1; the book's lambda is 0.1 (ch. 6.4); 0 for none",
        ),
        ({"weight_decay_lambda": float("nan")}, "weight_decay_lambda must be a number >= 0"),
        (
            {"dropout_ratio": 1.0},
            "dropout_ratio must be a number in [0, 1), got 1.0; the book uses 0.2 (ch. 6.4); 0 for none",
        ),
        (
            {"validation": 1.5},
            "validation must be a share of the training samples in (0, 1), such as 0.1, or a whole "
            "number of samples, such as 10000, got 1.5",
        ),
        ({"validation": 0}, "got 0"),
    ],
)
def test_settings_refuse_bad_regularisers(changes, message):
    with pytest.raises(InputError) as info:
        RECIPES["book"].replace(**changes)
    assert message in str(info.value)


def test_the_first_loss_is_the_books_regularised_loss_with_masks_from_the_runs_generator():
    x, t = blobs()
    trainer = trainer_for(
        x,
        t,
        hidden_size=(10, 8),
        activation="relu",
        weight_init_std="he",
        weight_decay_lambda=0.05,
        dropout_ratio=0.3,
        iters=1,
        epochs=None,
    )
    net = trainer.network
    before = {k: v.copy() for k, v in net.params.items()}
    trainer.train()
    # By hand: the batch, then one mask per hidden layer, all from the run's seeded Generator.
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 300, 25)
    masks = [rng.random((25, 10)) > 0.3, rng.random((25, 8)) > 0.3]
    fresh = MultiLayerNet(12, [10, 8], 3, dtype=np.float32, weight_decay_lambda=0.05, dropout_ratio=0.3)
    fresh.set_params(before)
    decay = 0.025 * sum(float(np.sum(before[f"W{i}"].astype(np.float64) ** 2)) for i in (1, 2, 3))
    assert fresh.weight_decay_loss() == pytest.approx(decay, rel=1e-6)
    assert trainer.history.train_loss_list[0] == pytest.approx(fresh.loss(x[idx], t[idx], masks), rel=1e-6)
    assert trainer.rng.bit_generator.state == rng.bit_generator.state
    # ... and the plain test-time loss (every unit, times 0.7) is another number.
    assert abs(fresh.loss(x[idx], t[idx]) - trainer.history.train_loss_list[0]) > 1e-3


def test_weight_decay_keeps_the_weights_small():
    x, t = blobs()
    norms = {}
    for lam in (0.0, 0.1):
        net = trainer_for(x, t, weight_decay_lambda=lam, epochs=10)
        net.train()
        norms[lam] = sum(float(np.sum(net.network.params[k] ** 2)) for k in ("W1", "W2"))
    assert norms[0.1] < 0.5 * norms[0.0]


def test_validation_holds_back_the_last_samples_and_the_test_set_is_judged_once():
    x, t = blobs()
    trainer = trainer_for(x[:250], t[:250], x[250:], t[250:], validation=0.2)
    assert trainer.train_size == 200 and trainer.x_val.shape == (50, 12)
    np.testing.assert_array_equal(trainer.x_val, x[200:250])
    summary = trainer.train()
    net = trainer.network
    assert trainer.history.test_acc_list == [None, None, None]
    assert len(trainer.history.val_acc_list) == 3
    assert trainer.history.val_acc_list[-1] == float(np.mean(net.classify(x[200:250]) == t[200:250]))
    test_accuracy = float(np.mean(net.classify(x[250:]) == t[250:]))
    assert summary["test_accuracy"] == trainer.history.final["test_accuracy"] == test_accuracy
    assert summary["validation_accuracy"] == trainer.history.val_acc_list[-1]
    assert summary["train_accuracy"] == float(np.mean(net.classify(x[:200]) == t[:200]))
    assert trainer_for(x, t, validation=40).train_size == 260


@pytest.mark.parametrize(
    "validation, message",
    [
        (
            300,
            "validation=300 holds back 300 of the 300 samples, leaving none for training; give a share in (0, 1), "
            "such as 0.1, or a whole number of samples from 1 to 299",
        ),
        (0.001, "validation=0.001 holds back 0 of the 300 samples, leaving none for validation"),
    ],
)
def test_a_validation_set_that_leaves_nothing_is_refused(validation, message):
    x, t = blobs()
    with pytest.raises(InputError) as info:
        trainer_for(x, t, validation=validation)
    assert message in str(info.value)


def test_network_and_settings_must_agree_on_the_regularisers():
    x, t = blobs()
    net = MultiLayerNet(12, [10], 3, dtype=np.float32, dropout_ratio=0.2)
    with pytest.raises(
        InputError,
        match=r"the network does not match the settings \(dropout_ratio: network 0.2, settings "
        r"0.0\); build it from the settings",
    ):
        Trainer(net, x, t, settings=TrainSettings(hidden_size=(10,)))


def test_dropout_masks_are_checked_and_a_saved_network_keeps_its_dropout(tmp_path):
    net = MultiLayerNet(4, [3], 2, dropout_ratio=0.5, weight_decay_lambda=0.1, seed=0)
    x, t = np.ones((2, 4)), np.array([0, 1])
    with pytest.raises(
        InputError,
        match=r"dropout masks have shapes \[\(3, 3\)\] but this network and batch need "
        r"\[\(2, 3\)\]; draw them with net.dropout_masks",
    ):
        net.loss(x, t, masks=[np.ones((3, 3), bool)])
    with pytest.raises(InputError, match="this network has no dropout"):
        MultiLayerNet(4, [3], 2).loss(x, t, masks=[np.ones((2, 3), bool)])
    back = load_network(net.save(tmp_path / "m.npz"))
    assert (back.dropout_ratio, back.weight_decay_lambda) == (0.5, 0.1)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


def test_train_with_validation_dropout_and_weight_decay(tmp_path, fake_data, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--out",
                str(run),
                *FAST,
                "--validation",
                "0.2",
                "--dropout-ratio",
                "0.1",
                "--weight-decay-lambda",
                "1e-4",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "784-50-10 sigmoid, std 0.01, sgd lr 0.5, batch 20, 60 iterations, float32, weight decay 0.0001, "
        "dropout 0.1, validation 0.2"
    ) in out
    assert "data: mnist, 500 training (100 of them, the last, held back for validation;" in out
    summary = json.loads((run / "summary.json").read_text())
    with open(run / "epochs.csv") as fh:
        rows = list(csv.DictReader(fh))
    # 400 samples / batch 20: an epoch is 20 iterations.
    assert [int(r["iteration"]) for r in rows] == [20, 40, 60]
    assert [r["test_accuracy"] for r in rows] == ["", "", ""]
    assert float(rows[-1]["validation_accuracy"]) == summary["validation_accuracy"]
    assert f"validation accuracy {summary['validation_accuracy']:.2%}, test accuracy" in out
    config = json.loads((run / "config.json").read_text())
    assert config["network"]["dropout_ratio"] == 0.1 and config["trainer"]["validation_size"] == 100
    with pytest.raises(SystemExit):
        main(["train", "--resume", str(run), "--dropout-ratio", "0.2"])
    assert "drop --dropout" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--dropout-ratio", "1"],
            "argument --dropout-ratio: must be a number in [0, 1), got '1'; the book uses 0.2 (ch. 6.4); 0 for none",
        ),
        (
            ["--weight-decay-lambda", "-1"],
            "argument --weight-decay-lambda: must be a number >= 0, got '-1'; the book's lambda is 0.1",
        ),
        (
            ["--validation", "1.5"],
            "argument --validation: must be a share of the training samples in (0, 1), such as 0.1, "
            "or a whole number of samples, such as 10000, got '1.5'",
        ),
        (["--validation", "0"], "argument --validation: must be a share of the training samples in (0, 1)"),
    ],
)
def test_bad_regulariser_flags_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err

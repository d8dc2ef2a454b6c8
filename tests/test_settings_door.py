"""A setting enters through one door: its declaration in nnlearn.train.settings gives the flag, the check,
the optimizer's argument, the sweep's parameter and the report's label (issue 19's proof, with the book's
ch. 6 Momentum, Adam's beta1/beta2 and AdaGrad's eps)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nnlearn import AdaGrad, Adam, Momentum, TrainSettings
from nnlearn.base.errors import InputError
from nnlearn.cli import main
from nnlearn.see.report import build_report
from nnlearn.sweep import parse_param
from nnlearn.train.training import build_trainer


@pytest.mark.parametrize(
    "optimizer, setting, value, attribute",
    [
        ("momentum", "momentum", 0.5, "momentum"),
        ("adam", "beta1", 0.8, "beta1"),
        ("adam", "beta2", 0.99, "beta2"),
        ("adam", "eps", 1e-6, "eps"),
        ("adagrad", "eps", 1e-3, "eps"),
    ],
)
def test_a_declared_setting_reaches_the_optimizer(optimizer, setting, value, attribute):
    x, t = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    settings = TrainSettings(hidden_size=(3,), optimizer=optimizer, lr=0.01, iters=1, **{setting: value})
    trainer = build_trainer(settings, x, t, callbacks=[])
    assert getattr(trainer.optimizer, attribute) == value
    assert f" {setting} {value:g}" in settings.describe(4, 2)


def test_without_them_the_optimizers_are_the_books():
    assert (Momentum().momentum, Adam().beta1, Adam().beta2, Adam().eps, AdaGrad().eps) == (0.9, 0.9, 0.999, 1e-7, 1e-7)
    assert TrainSettings(optimizer="adam").optimizer_options() == {"lr": 0.1}


def test_eps_is_the_one_added_to_the_root():
    params = {"W": np.array([1.0])}
    AdaGrad(lr=1.0, eps=1.0).update(params, {"W": np.array([3.0])})
    assert params["W"].tolist() == [1.0 - 3.0 / (3.0 + 1.0)]


def test_a_setting_of_another_optimizer_is_refused_in_one_line():
    with pytest.raises(
        InputError,
        match=r"^momentum is a setting of the momentum optimizer, not of sgd; drop it or "
        r"choose that optimizer$",
    ):
        TrainSettings(momentum=0.5)
    with pytest.raises(InputError, match=r"^eps is a setting of the adagrad or adam optimizer, not of momentum"):
        TrainSettings(optimizer="momentum", eps=1e-6)
    with pytest.raises(InputError, match=r"^beta2 must be a number in \[0, 1\), got 1\.0; the book uses 0\.999$"):
        TrainSettings(optimizer="adam", beta2=1.0)


@pytest.mark.parametrize("optimizer", ["adam", "adagrad"])
def test_an_eps_that_is_0_in_the_networks_dtype_is_named(optimizer, tmp_path, fake_data, capsys):
    # 1e-50 is 0 in float32: the update divided 0 by 0 where a gradient was 0, and the NaN was blamed on
    # the learning rate
    with pytest.raises(
        InputError,
        match=rf"^eps 1e-50 is 0 in float32 \(its smallest number above 0 is 1\.4e-45\), "
        rf"so {optimizer} would divide 0 by 0; choose eps of at least 1e-45 \(the "
        r"book uses 1e-7\) or dtype float64$",
    ):
        TrainSettings(optimizer=optimizer, eps=1e-50)
    assert TrainSettings(optimizer=optimizer, eps=1e-50, dtype="float64").eps == 1e-50
    assert TrainSettings(optimizer=optimizer, eps=1e-45).eps == 1e-45  # the smallest float32, rounded to it
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--optimizer", optimizer, "--eps", "1e-50", "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "error: eps 1e-50 is 0 in float32" in err and "learning rate" not in err
    assert not (tmp_path / "run").exists() and fake_data[1] == []


def test_flags_runs_reports_and_sweeps_know_them(tmp_path, fake_data, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--optimizer",
                "momentum",
                "--momentum",
                "0.5",
                "--lr",
                "0.05",
                "--iters",
                "10",
                "--batch-size",
                "20",
                "--out",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads((run / "config.json").read_text())["settings"]["momentum"] == 0.5
    assert (
        "784-50-10 sigmoid, std 0.01, momentum lr 0.05 momentum 0.5, batch 20, 10 iterations" in capsys.readouterr().out
    )
    rows = re.findall(
        r'<tr><th class="l">([^<]*)</th><td class="l">\s*([^<]*?)\s*<', build_report([run], download=False)
    )
    assert ("momentum", "0.5") in rows and ("learning rate", "0.05") in rows and ("beta1", "0.8") not in rows
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--momentum", "1.5", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "argument --momentum: must be a number in [0, 1), got '1.5'; the book uses 0.9" in capsys.readouterr().err
    p = parse_param("beta1=uniform:0.8:0.95")
    assert (p.name, p.kind, p.low, p.high) == ("beta1", "uniform", 0.8, 0.95)


def test_a_run_written_with_the_settings_old_names_resumes_bit_identical(tmp_path, fake_data, monkeypatch):
    # Before issue #30 the settings were hidden, weight_decay and dropout; a run of then still resumes.
    from mnist_tiny import FAST_TRAIN

    from nnlearn.train.trainer import Trainer

    regular = ["--dropout-ratio", "0.1", "--weight-decay-lambda", "1e-3", "--hidden-size", "12"]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert main(["train", "--out", str(straight), *FAST_TRAIN, *regular]) == 0
    original = Trainer.step

    def stop_at_33(self):
        if self.iteration == 32:
            self.stop.requested = True  # what Ctrl-C does
        return original(self)

    monkeypatch.setattr(Trainer, "step", stop_at_33)
    assert main(["train", "--out", str(killed), *FAST_TRAIN, *regular]) == 130
    monkeypatch.setattr(Trainer, "step", original)

    def old_names(settings: dict) -> dict:
        renamed = {"hidden_size": "hidden", "weight_decay_lambda": "weight_decay", "dropout_ratio": "dropout"}
        return {renamed.get(k, k): v for k, v in settings.items()}

    config = json.loads((killed / "config.json").read_text())
    (killed / "config.json").write_text(json.dumps(config | {"settings": old_names(config["settings"])}))
    with np.load(killed / "checkpoint.npz") as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["config"]["settings"] = old_names(meta["config"]["settings"])
    assert {"hidden", "dropout", "weight_decay"} <= set(meta["config"]["settings"])
    np.savez(killed / "checkpoint.npz", meta=np.array(json.dumps(meta)), **arrays)

    assert main(["train", "--resume", str(killed), "--no-progress"]) == 0
    with np.load(killed / "model.npz") as a, np.load(straight / "model.npz") as b:
        assert [k for k in a.files if k != "meta"] and all(np.array_equal(a[k], b[k]) for k in a.files if k != "meta")


def test_a_report_of_a_run_written_with_the_old_names_labels_them_as_today():
    from nnlearn.see.report.pages import settings_rows

    rows = settings_rows({"settings": {"hidden": [50], "dropout": 0.2, "weight_decay": 0.0}}, {}, {})
    shown = {r["label"]: r["value"] for r in rows}
    assert shown["hidden layers"] == "50" and shown["dropout"] == "0.2" and not any("setting:" in k for k in shown)

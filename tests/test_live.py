"""LivePlot: one figure per epoch end, replaced in place, holding the trainer's numbers."""

from __future__ import annotations

import gc
import warnings
import weakref

import matplotlib.pyplot as plt
import numpy as np
import pytest

import nnlearn.train.live
from nnlearn.train.live import NOWHERE, LivePlot, notebook_display
from nnlearn.train.training import train_arrays

PNG = b"\x89PNG\r\n\x1a\n"


class FakeDisplay:
    """IPython's ``display(obj, display_id=True)`` and the handle's ``update(obj)``, recorded."""

    def __init__(self):
        self.calls = []  # ("display" | "update", object shown)

    def __call__(self, obj, display_id=None):
        assert display_id is True
        self.calls.append(("display", obj))
        return self

    def update(self, obj):
        self.calls.append(("update", obj))


def data():
    rng = np.random.default_rng(0)
    x = rng.random((100, 4))
    t = (x[:, 0] > x[:, 1]).astype(int)
    return x[:80], t[:80], x[80:], t[80:]


def train(callbacks, epochs=3, **settings):
    # 80 samples in batches of 20: 4 iterations per epoch.
    return train_arrays(
        *data(),
        hidden_size=[8],
        iters=None,
        epochs=epochs,
        batch_size=20,
        lr=1.0,
        progress=False,
        callbacks=callbacks,
        **settings,
    )


def line(ax, label):
    (found,) = [ln for ln in ax.lines if ln.get_label() == label]
    return found.get_xdata().tolist(), found.get_ydata().tolist()


@pytest.fixture
def fake_display(monkeypatch):
    shown = FakeDisplay()
    monkeypatch.setattr(nnlearn.train.live, "notebook_display", lambda: shown)
    return shown


def test_one_display_then_one_update_per_epoch_holding_the_trainers_numbers(fake_display):
    before = plt.get_fignums()
    live = LivePlot()
    drawn = []
    original = live.draw
    live.draw = lambda trainer: drawn.append(weakref.ref(fig := original(trainer))) or fig
    model = train([live])
    tr = model.trainer

    assert [kind for kind, _ in fake_display.calls] == ["display", "update", "update"]
    assert live.frames == 3
    for _, shown in fake_display.calls:
        assert shown.format == "png" and shown.data.startswith(PNG)  # IPython shows it as an image
    assert len({shown.data for _, shown in fake_display.calls}) == 3  # every frame differs

    loss_ax, acc_ax = live.figure.axes
    xs, losses = line(loss_ax, "loss per iteration")
    assert losses == tr.history.train_loss_list and len(losses) == 12
    assert xs == [i / 4 for i in range(1, 13)]
    xs, means = line(loss_ax, "mean loss of the epoch")
    assert xs == [0.5, 1.5, 2.5]
    assert means == pytest.approx(np.mean(np.reshape(tr.history.train_loss_list, (3, 4)), axis=1).tolist(), rel=1e-15)
    assert line(acc_ax, "train accuracy") == ([1.0, 2.0, 3.0], tr.history.train_acc_list)
    assert line(acc_ax, "test accuracy") == ([1.0, 2.0, 3.0], tr.history.test_acc_list)
    _, _, x_test, t_test = data()
    assert tr.history.test_acc_list[-1] == np.mean(model.classify(x_test) == t_test)  # the final network's
    assert live.figure.get_suptitle() == (
        f"epoch 3.00   iteration 12   mean loss {means[-1]:.4f}   train accuracy {tr.history.train_acc_list[-1]:.4f}"
        f"   test accuracy {tr.history.test_acc_list[-1]:.4f}"
    )

    # No figure leaks: none is registered with pyplot, and only the last one drawn is still alive.
    assert plt.get_fignums() == before
    gc.collect()
    assert [ref() is not None for ref in drawn] == [False, False, True]


def test_without_validation_or_test_data_those_lines_are_absent(fake_display):
    live = LivePlot()
    x, t, _, _ = data()
    model = train_arrays(
        x, t, hidden_size=[8], iters=None, epochs=1, batch_size=20, lr=1.0, progress=False, callbacks=[live]
    )
    _, acc_ax = live.figure.axes
    assert [ln.get_label() for ln in acc_ax.lines] == ["train accuracy"]
    assert line(acc_ax, "train accuracy") == ([1.0], model.trainer.history.train_acc_list)


def test_each_training_shows_a_new_figure(fake_display):
    live = LivePlot()
    train([live], epochs=1)
    train([live], epochs=2)
    assert [kind for kind, _ in fake_display.calls] == ["display", "display", "update"]


def test_outside_a_notebook_it_warns_once_and_draws_nothing():
    live = LivePlot()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train([live], epochs=2)
        train([live], epochs=2)
    assert [(w.category, str(w.message)) for w in caught] == [(RuntimeWarning, NOWHERE)]
    assert NOWHERE.startswith("LivePlot draws only in a Jupyter notebook, and this is not one")
    assert (live.frames, live.figure) == (0, None)


def test_with_a_path_it_writes_the_figure_after_every_epoch(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(nnlearn.train.live, "save_figure", lambda fig, path, dpi: written.append((fig, path, dpi)))
    live = LivePlot(tmp_path / "live.png", dpi=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = train([live], epochs=2).trainer
    assert [(path, dpi) for _, path, dpi in written] == [(tmp_path / "live.png", 50)] * 2
    assert written[-1][0] is live.figure
    assert line(live.figure.axes[1], "test accuracy")[1] == tr.history.test_acc_list


def test_the_file_is_a_png_and_no_temporary_file_is_left(tmp_path):
    train([LivePlot(tmp_path / "live.png")], epochs=1)
    assert [p.name for p in tmp_path.iterdir()] == ["live.png"]
    assert (tmp_path / "live.png").read_bytes().startswith(PNG)


def test_notebook_display_means_a_jupyter_kernel(monkeypatch):
    pytest.importorskip("IPython")
    import IPython
    import IPython.display

    class Shell:
        kernel = None

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert notebook_display() is None  # plain Python
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert notebook_display() is None  # terminal IPython: no kernel to draw in
    Shell.kernel = object()
    assert notebook_display() is IPython.display.display
    monkeypatch.delitem(__import__("sys").modules, "IPython")
    assert notebook_display() is None  # IPython not loaded: not a kernel, and not imported for it


def test_a_validation_split_is_drawn_as_the_validation_curve(fake_display):
    live = LivePlot()
    model = train([live], validation=20)  # 60 samples train: 3 iterations per epoch
    tr = model.trainer
    assert len(tr.history.val_acc_list) == 3
    _, acc_ax = live.figure.axes
    assert line(acc_ax, "validation accuracy") == ([1.0, 2.0, 3.0], tr.history.val_acc_list)


def test_the_figure_speaks_the_readers_language():
    from nnlearn.base import i18n

    model = train([], epochs=1)
    with i18n.use("ja"):
        fig = LivePlot().draw(model.trainer)
    loss_ax, acc_ax = fig.axes
    assert fig.get_suptitle().startswith("エポック 1.00   反復 4") and loss_ax.get_xlabel() == "エポック"
    assert [ln.get_label() for ln in loss_ax.lines] == ["反復ごとの損失", "エポックの平均損失"]

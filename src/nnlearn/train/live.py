"""Watch a network learn in Jupyter: the loss and the accuracies, redrawn in place every epoch.

:class:`LivePlot` is a training callback (like d2l's ``Animator``). In a Jupyter notebook::

    from nnlearn import train_arrays
    from nnlearn.train.live import LivePlot

    model = train_arrays(x_train, t_train, x_test, t_test, callbacks=[LivePlot()])

shows one figure under the cell, replaced after every epoch: the loss of every iteration and its mean
over each epoch, and the accuracies per epoch. Outside a Jupyter kernel it warns once and draws
nothing, unless given ``path=``, where it writes the figure as a PNG after every epoch. The figure is
made without ``pyplot``: never registered with a backend, it leaks nothing and the notebook shows no
second, static copy at the end of the cell.
"""

from __future__ import annotations

import io
import math
import sys
import warnings
from pathlib import Path

from matplotlib.figure import Figure

from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import N_, _
from nnlearn.common.plots import save_figure
from nnlearn.train.callbacks import Callback

#: What LivePlot says, once, when it has neither a notebook nor a file to draw on.
NOWHERE = N_(
    "LivePlot draws only in a Jupyter notebook, and this is not one: nothing will be drawn; "
    "give LivePlot(path='live.png') to write the figure to a file after every epoch"
)


def notebook_display():
    """IPython's ``display`` function when running in a Jupyter kernel, else ``None`` (a terminal IPython
    would print ``<Figure ...>`` rather than draw)."""
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has loaded it already
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    from IPython.display import display

    return display


class LivePlot(Callback):
    """Redraw the loss and the accuracies in place after every epoch (a training callback).

    ``path``: also write the figure to this PNG file (atomically) after every epoch. :attr:`figure` is the
    figure as last drawn (None before the first epoch end, or with nowhere to draw), :attr:`frames`
    how many times it was drawn.
    """

    def __init__(self, path=None, *, figsize=(9.0, 3.4), dpi: int = 80):
        self.path = None if path is None else Path(path)
        self.figsize = tuple(figsize)
        self.dpi = int(dpi)
        self.figure: Figure | None = None
        self.frames = 0
        self.display = None
        self.handle = None
        self.warned = False

    def on_train_begin(self, logs) -> None:
        self.display = notebook_display()
        # A new call to train() shows a new figure under the cell that runs it.
        self.handle = None
        if self.display is None and self.path is None and not self.warned:
            self.warned = True
            warnings.warn(_(NOWHERE), RuntimeWarning, stacklevel=2)

    def on_epoch_end(self, epoch, logs) -> None:
        if self.display is None and self.path is None:
            return
        self.figure = self.draw(self.trainer)
        self.frames += 1
        if self.path is not None:
            save_figure(self.figure, self.path, dpi=self.dpi)
        if self.display is not None:
            from IPython.display import Image  # a kernel has IPython loaded already

            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=self.dpi)
            image = Image(data=buf.getvalue(), format="png")
            if self.handle is None:
                self.handle = self.display(image, display_id=True)
            else:
                self.handle.update(image)

    def on_train_end(self, logs) -> None:
        self.display = None
        self.handle = None

    @in_reader_language
    def draw(self, trainer) -> Figure:
        """A new figure of ``trainer``'s record so far (loss per iteration and per epoch, accuracies)."""
        per_epoch, history = trainer.iter_per_epoch, trainer.history
        losses = list(history.train_loss_list)
        # Epoch ends: where the accuracies were taken, plus the iteration now when the run stands inside an epoch.
        ends = list(history.epoch_iterations)
        if not ends or ends[-1] != trainer.iteration:
            ends.append(trainer.iteration)
        means, starts = [], [0, *ends[:-1]]
        for start, end in zip(starts, ends):
            chunk = losses[start:end]
            means.append(math.fsum(chunk) / len(chunk) if chunk else math.nan)

        fig = Figure(figsize=self.figsize, layout="constrained")
        loss_ax, acc_ax = fig.subplots(1, 2)
        steps = [i / per_epoch for i in range(1, len(losses) + 1)]
        loss_ax.plot(steps, losses, lw=0.6, alpha=0.4, color="C0", label=_("loss per iteration"))
        # Each epoch's mean sits in the middle of its epoch, on the curve it averages.
        middles = [(s + e) / 2 / per_epoch for s, e in zip(starts, ends)]
        loss_ax.plot(middles, means, "o-", color="C1", lw=1.6, ms=3, label=_("mean loss of the epoch"))
        loss_ax.set(xlabel=_("epoch"), ylabel=_("loss"))
        finite = [v for v in losses if math.isfinite(v)]
        if finite:
            loss_ax.set_ylim(0, max(sorted(finite)[int(0.995 * (len(finite) - 1))] * 1.05, 1e-3))
        loss_ax.legend(loc="upper right", fontsize=8)
        loss_ax.grid(alpha=0.3)

        epochs = history.epochs(per_epoch)
        series = [
            (_("train accuracy"), history.train_acc_list, "o-"),
            (_("test accuracy"), history.test_acc_list, "s--"),
        ]
        if history.validation:
            series.append((_("validation accuracy"), history.val_acc_list, "^:"))
        for label, values, style in series:
            points = [(x, v) for x, v in zip(epochs, values) if v is not None]
            if points:
                acc_ax.plot(*zip(*points), style, ms=4, label=label)
        acc_ax.set(xlabel=_("epoch"), ylabel=_("accuracy"), ylim=(0, 1.0))
        acc_ax.grid(alpha=0.3)
        if acc_ax.lines:
            acc_ax.legend(loc="lower right", fontsize=8)

        last = [_("epoch {epoch:.2f}", epoch=trainer.iteration / per_epoch), _("iteration {i}", i=trainer.iteration)]
        if means and math.isfinite(means[-1]):
            last.append(_("mean loss {loss:.4f}", loss=means[-1]))
        for label, values, _style in series:
            if values and values[-1] is not None and len(values) == len(epochs):
                last.append(f"{label} {values[-1]:.4f}")
        fig.suptitle("   ".join(last), fontsize=9)
        return fig

"""Engines: the ways of computing what a network needs, behind one small protocol.

A network (:class:`nnlearn.MultiLayerNet`) is a *description*: its sizes, activation, output, loss
and weights. An engine computes with that description. There are two kinds:

**backprop** engines compute the loss and its gradient by backpropagation::

    engine = Engine(net)
    engine.logits(x, masks=None)               # the last affine layer's output
    engine.loss(x, t, masks=None)              # a float, the weight decay term included
    engine.loss_and_gradient(x, t, masks=None)  # (loss, {"W1": dW1, ...})

``masks`` are the network's dropout masks (``net.dropout_masks(rng, n)``, one boolean array per
hidden layer): given, the pass is a training pass (the book's ``train_flg=True``) that keeps the
units where the mask is True; omitted, every hidden output is scaled by ``1 - dropout_ratio``.
The network's ``weight_decay_lambda`` adds ``lambda / 2 * sum ||W||**2`` to every loss.

- ``reference``: the book's layers (:mod:`nnlearn.common.layers`), one forward and one backward pass,
  written to be read. Every other engine is tested against it.
- ``fused``: the same arithmetic from preallocated buffers, operations in place; the training step.

**numerical** engines compute the chapter's numerical gradient -- the central difference
``(L(w + h) - L(w - h)) / 2h`` with ``h = 1e-4`` for every weight and bias::

    engine.numerical_gradient(x, t, masks=None)  # {"W1": ..., "b1": ..., ...} in float64; masks held fixed

- ``loop``: the book's plain loop: perturb one parameter, run the network twice, restore it.
- ``fast``: the same numbers from a Taylor expansion of the loss per pre-activation (see
  :mod:`nnlearn.common.engines.series`), about 2000 times faster; ``rows``: the same engine evaluating
  every perturbed loss directly, without the series.

Inputs reaching an engine have been checked by the network (shapes, dtype, labels). Engines are
found by name (:func:`get_engine`) in :data:`ENGINES`: a new engine is a class with a ``name`` in a
new module here, and one line there. Which engine computes when none is named is decided in
:data:`DEFAULTS` and nowhere else.
"""

from __future__ import annotations

import warnings

import numpy as np

from nnlearn.base.constraints import Options
from nnlearn.base.i18n import N_, _
from nnlearn.common.engines.fused import FusedEngine
from nnlearn.common.engines.loop import LoopEngine
from nnlearn.common.engines.reference import ReferenceEngine
from nnlearn.common.engines.series import FastEngine, RowsEngine, Unsupported

BACKPROP = "backprop"
NUMERICAL = "numerical"
#: Every engine, by kind, in the order messages list them.
ENGINES = {BACKPROP: (FusedEngine, ReferenceEngine), NUMERICAL: (LoopEngine, FastEngine, RowsEngine)}
#: The engine of each kind when none is named -- the one place this is decided. A network asked
#: directly (``net.gradient``, ``gradient_check``) answers by the book's layers, which a reader can
#: step through; training steps by the fused engine, the same arithmetic from preallocated buffers
#: (:func:`default_engine` with ``training=True``); the numerical gradient is the fast series.
DEFAULTS = {BACKPROP: "reference", NUMERICAL: "fast"}
TRAINING_DEFAULTS = {BACKPROP: "fused", NUMERICAL: "fast"}
#: What every numerical engine warns about a float32 network (one text, wherever it is asked).
FLOAT32_WARNING = N_(
    "the numerical gradient of a float32 network is inexact: the step h=1e-4 is rounded to a few "
    "hundred units in the last place of each weight; use dtype=np.float64"
)


def default_engine(kind: str, training: bool = False) -> str:
    """The name of the engine of ``kind`` used when none is named (in training, or asked directly)."""
    return (TRAINING_DEFAULTS if training else DEFAULTS)[kind]


def engine_names(kind: str | None = None) -> tuple[str, ...]:
    """The engines' names (of one kind, or all)."""
    return tuple(cls.name for k, classes in ENGINES.items() if kind in (None, k) for cls in classes)


def get_engine(name: str | None, kind: str) -> type:
    """The engine class called ``name`` (``None``: the default of ``kind``), refusing the wrong kind."""
    name = Options(engine_names(kind)).check(default_engine(kind) if name is None else name, f"{kind} engine")
    return next(cls for cls in ENGINES[kind] if cls.name == name)


def _progress_for(cls, progress) -> dict:
    """The ``progress`` keyword for an engine that reports its progress (a long one), else none."""
    return {"progress": progress} if progress is not None and getattr(cls, "reports_progress", False) else {}


def numerical_gradient(
    net, x, t, engine: str | None = None, elements: dict | None = None, masks=None, progress=None
) -> dict:
    """The numerical gradient of ``net``'s loss by the named engine (default ``fast``).

    The one place where numerical engines are run: a float32 network warns (:data:`FLOAT32_WARNING`),
    and an engine that cannot handle the network falls back to the plain loop with a warning that
    names the reason. ``elements`` (``{key: flat indices}``) asks the loop for those elements only.
    ``masks`` are the network's dropout masks, held fixed while the loss is differenced. ``progress``
    (``progress(done, total)``) is called by an engine whose gradient takes long (the loop) about every second.
    """
    cls = get_engine(engine, NUMERICAL)
    if net.dtype == np.float32:
        warnings.warn(_(FLOAT32_WARNING), RuntimeWarning, stacklevel=3)
    if elements is not None:
        return LoopEngine(net).numerical_gradient(x, t, elements=elements, masks=masks)
    try:
        return cls(net).numerical_gradient(x, t, masks=masks, **_progress_for(cls, progress))
    except Unsupported as exc:
        if cls is LoopEngine:  # pragma: no cover - the loop handles every network
            raise
        warnings.warn(
            _(
                "the {name!r} numerical-gradient engine cannot handle this ({reason}); using the plain loop instead, "
                "which is about 2000 times slower",
                name=cls.name,
                reason=exc,
            ),
            RuntimeWarning,
            stacklevel=3,
        )
        return LoopEngine(net).numerical_gradient(x, t, masks=masks, progress=progress)

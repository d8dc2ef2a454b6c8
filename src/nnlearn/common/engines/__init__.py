"""Engines: the ways of computing what a network (:class:`nnlearn.MultiLayerNet`, a description) needs.

**backprop** engines give ``logits``, ``loss`` and ``loss_and_gradient``: ``reference`` (the book's
layers, which every other engine is tested against) and ``fused`` (the same arithmetic from
preallocated buffers). **numerical** engines give ``numerical_gradient``, the chapter's central
differences: ``loop`` (the book's loop), ``fast`` (the same numbers from a Taylor series,
:mod:`~nnlearn.common.engines.series`) and ``rows`` (that engine without the series).
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


def numerical_gradient(
    net, x, t, engine: str | None = None, elements: dict | None = None, masks=None, progress=None
) -> dict:
    """The numerical gradient of ``net``'s loss by the named engine (default ``fast``): the one place
    where numerical engines run, so that a float32 network warns and an engine that cannot handle the
    network falls back to the loop, saying why. ``elements`` (``{key: flat indices}``) asks the loop
    for those only; ``progress(done, total)`` is called by the loop about every second.
    """
    cls = get_engine(engine, NUMERICAL)
    if net.dtype == np.float32:
        warnings.warn(_(FLOAT32_WARNING), RuntimeWarning, stacklevel=3)
    if elements is not None or cls is LoopEngine:
        return LoopEngine(net).numerical_gradient(x, t, elements=elements, masks=masks, progress=progress)
    try:
        return cls(net).numerical_gradient(x, t, masks=masks)
    except Unsupported as exc:
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

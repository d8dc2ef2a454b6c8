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
found by name (:func:`get_engine`); an engine is a class in a module of this package with a
``name`` and a ``kind``, registered with :func:`register` -- a new engine is one new file here.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import numpy as np

from nnlearn.base.constraints import Options
from nnlearn.base.i18n import N_, _

BACKPROP = "backprop"
NUMERICAL = "numerical"
#: The engine each kind uses unless told otherwise.
DEFAULTS = {BACKPROP: "reference", NUMERICAL: "fast"}
#: What every numerical engine warns about a float32 network (one text, wherever it is asked).
FLOAT32_WARNING = N_(
    "the numerical gradient of a float32 network is inexact: the step h=1e-4 is rounded to a few "
    "hundred units in the last place of each weight; use dtype=np.float64"
)

_REGISTRY: dict[str, type] = {}


class Unsupported(Exception):
    """An engine cannot compute for this network or batch; the message says why."""


def register(cls: type) -> type:
    """Class decorator: make ``cls`` findable by its ``name`` (its ``kind`` is backprop or numerical)."""
    if cls.kind not in (BACKPROP, NUMERICAL):
        raise TypeError(f"engine {cls.__name__} has kind {cls.kind!r}; use {BACKPROP!r} or {NUMERICAL!r}")
    _REGISTRY[cls.name] = cls
    return cls


def engine_names(kind: str | None = None) -> tuple[str, ...]:
    """The registered engines' names (of one kind, or all), in registration order."""
    return tuple(name for name, cls in _REGISTRY.items() if kind is None or cls.kind == kind)


def get_engine(name: str | None, kind: str) -> type:
    """The engine class called ``name`` (``None``: the default of ``kind``), refusing the wrong kind."""
    name = DEFAULTS[kind] if name is None else name
    return _REGISTRY[Options(engine_names(kind)).check(name, f"{kind} engine")]


def _progress_for(cls, progress) -> dict:
    """The ``progress`` keyword for an engine that reports its progress (a long one), else none."""
    return {"progress": progress} if progress is not None and getattr(cls, "reports_progress", False) else {}


def numerical_gradient(net, x, t, engine: str | None = None, elements: dict | None = None, masks=None,
                       progress=None) -> dict:
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
        return get_engine("loop", NUMERICAL)(net).numerical_gradient(x, t, elements=elements, masks=masks)
    try:
        return cls(net).numerical_gradient(x, t, masks=masks, **_progress_for(cls, progress))
    except Unsupported as exc:
        if cls.name == "loop":  # pragma: no cover - the loop handles every network
            raise
        warnings.warn(
            _("the {name!r} numerical-gradient engine cannot handle this ({reason}); using the plain loop instead, "
              "which is about 2000 times slower", name=cls.name, reason=exc),
            RuntimeWarning,
            stacklevel=3,
        )
        return get_engine("loop", NUMERICAL)(net).numerical_gradient(x, t, masks=masks, progress=progress)


# Each module of this package that defines engines registers them on import.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

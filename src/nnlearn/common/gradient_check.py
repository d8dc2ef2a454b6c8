"""The gradient check: backpropagation against the numerical gradient, parameter by parameter."""

from __future__ import annotations

import time
import timeit

import numpy as np

from nnlearn.base.constraints import POSITIVE_WHOLE, check
from nnlearn.base.errors import InputTypeError
from nnlearn.base.i18n import _
from nnlearn.common import engines
from nnlearn.common.layers import Relu
from nnlearn.common.multi_layer_net import MultiLayerNet

#: The largest relative difference at which ``nnlearn gradcheck`` says the two gradients agree.
AGREEMENT = 1e-6


def gradient_check(network, x, t, engine=None, sample=None, seed=0, backprop=None, masks=None) -> dict:
    """Compare backpropagation with the numerical gradient, parameter by parameter.

    Use a float64 network: the central difference with h = 1e-4 is then good to about 1e-10. The
    numerical gradient comes from ``engine``, or with ``sample`` from the plain loop on that many
    elements of each parameter (chosen by ``seed``); ``backprop`` names the engine checked. Dropout
    ``masks`` are held fixed for both (without them a network with dropout is checked in test mode).

    Returns ``{key: {"max_abs", "relative", "checked"}}``: the largest ``|backprop - numerical|``
    over the checked elements, and ``||backprop - numerical|| / (||backprop|| + ||numerical||)`` (0
    when both are zero) -- a per-element relative error would blow up on the many gradients that
    are exactly zero, such as the weights of MNIST's blank border pixels.

    Examples
    --------
    >>> from nnlearn import TwoLayerNet
    >>> net = TwoLayerNet(4, 3, 2, weight_init_std=0.5, seed=0)
    >>> x = np.random.default_rng(1).random((3, 4))
    >>> report = gradient_check(net, x, np.array([0, 1, 1]))
    >>> sorted(report)
    ['W1', 'W2', 'b1', 'b2']
    >>> max(r["relative"] for r in report.values()) < 1e-7
    True
    >>> gradient_check(net, x, np.array([0, 1, 1]), sample=2)["W1"]["checked"]
    2
    """
    _check_network(network)
    x, t = network.check_batch(x, t)
    masks = network.check_masks(masks, x.shape[0])
    if sample is not None:
        sample = POSITIVE_WHOLE.check(sample, "sample")
    seed = check("seed", seed)
    bp = network.gradient(x, t, engine=backprop, masks=masks)
    picks = _picks(network, sample, seed)
    if sample is None:
        num = network.numerical_gradient(x, t, engine=engine, masks=masks)
    else:
        num = engines.numerical_gradient(network, x, t, "loop", elements=picks, masks=masks)
    report = {}
    for key in network.params:
        a = np.asarray(bp[key], dtype=np.float64).reshape(-1)[picks[key]]
        b = np.asarray(num[key], dtype=np.float64).reshape(-1)[picks[key]]
        denom = float(np.linalg.norm(a) + np.linalg.norm(b))
        report[key] = {
            "max_abs": float(np.max(np.abs(a - b))) if a.size else 0.0,
            "relative": float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0,
            "checked": int(a.size),
        }
    return report


def time_gradients(network, x, t, loop_sample: int | None = 2000, repeat: int = 5, seed: int = 0) -> list[dict]:
    """The chapter's lesson in numbers: ``[{"method", "seconds", "speedup", "max_abs_diff"}]`` of the
    same gradient by the plain ``loop``, the ``fast`` engine and ``backprop``, each compared with the loop.

    The loop runs on ``loop_sample`` elements of each parameter (all with ``None``) and its time is
    extrapolated to all of them; the others compute everything (best of ``repeat``).
    """
    _check_network(network)
    x, t = network.check_batch(x, t)
    if loop_sample is not None:
        loop_sample = POSITIVE_WHOLE.check(loop_sample, "loop_sample")
    repeat = POSITIVE_WHOLE.check(repeat, "repeat")
    seed = check("seed", seed)
    n_params = sum(p.size for p in network.params.values())
    picks = _picks(network, loop_sample, seed)
    start = time.perf_counter()
    loop = engines.numerical_gradient(network, x, t, "loop", elements=picks)
    loop_seconds = (time.perf_counter() - start) / sum(len(i) for i in picks.values()) * n_params
    rows = [{"method": "loop", "seconds": loop_seconds, "speedup": 1.0, "max_abs_diff": 0.0}]
    for method, fn in (
        ("fast", lambda: network.numerical_gradient(x, t, engine="fast")),
        ("backprop", lambda: network.gradient(x, t)),
    ):
        grads, seconds = fn(), min(timeit.repeat(fn, number=1, repeat=repeat))
        diff = max(
            float(np.max(np.abs(np.asarray(grads[k], np.float64).reshape(-1)[i] - loop[k].reshape(-1)[i])))
            for k, i in picks.items()
        )
        rows.append({"method": method, "seconds": seconds, "speedup": loop_seconds / seconds, "max_abs_diff": diff})
    return rows


def kinks_near(network, x, within: float = 1e-3) -> int:
    """How many ReLU inputs of ``x``'s forward pass lie within ``within`` of the kink at 0.

    There the central difference straddles the kink and the numerical gradient is unreliable; a
    sigmoid network has none. The pass runs the network's own layers (its reference forward pass).

    Examples
    --------
    >>> from nnlearn import MultiLayerNet
    >>> net = MultiLayerNet(2, [3], 2, activation="relu", seed=0)
    >>> kinks_near(net, np.zeros((4, 2)))  # every pre-activation is its bias, 0
    12
    """
    if network.activation != "relu":
        return 0
    x, _single = network.check_x(x)
    near = 0
    for layer in network.layers.values():
        if isinstance(layer, Relu):
            near += int(np.count_nonzero(np.abs(x) < within))
        x = layer.forward(x)
    return near


def gradient_check_record(network, x, t, *, engine=None, sample=None, seed=0, batch: str = "") -> dict:
    """:func:`gradient_check` as the JSON a run keeps (``gradcheck.json``, shown by ``nnlearn report``):
    ``{"params": {key: {"shape", "checked", "max_abs", "relative"}}, "limit", "worst", "agree", "batch",
    "kinks", "network"}``."""
    report = gradient_check(network, x, t, engine=engine, sample=sample, seed=seed)
    worst = max(r["relative"] for r in report.values())
    params = {key: {"shape": list(network.params[key].shape), **r} for key, r in report.items()}
    return {
        "params": params,
        "limit": AGREEMENT,
        "worst": worst,
        "agree": worst <= AGREEMENT,
        "batch": batch,
        "kinks": kinks_near(network, x),
        "network": "-".join(map(str, network.sizes)) + f" {network.activation}",
        "engine": engine or engines.default_engine(engines.NUMERICAL) if sample is None else "loop",
        "sample": sample,
    }


def _picks(network, sample: int | None, seed) -> dict:
    """``{key: flat indices}``: every element of each parameter, or ``sample`` of them chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    return {
        key: np.arange(p.size)
        if sample is None or p.size <= sample
        else np.sort(rng.choice(p.size, sample, replace=False))
        for key, p in network.params.items()
    }


def _check_network(network) -> None:
    if not isinstance(network, MultiLayerNet):
        raise InputTypeError(
            _("network must be a MultiLayerNet or TwoLayerNet, got {type}", type=type(network).__name__)
        )

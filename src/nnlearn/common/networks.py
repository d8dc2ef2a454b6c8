"""Building networks: from a description (:meth:`~nnlearn.MultiLayerNet.config`), from training settings,
from a file -- the one place that decides between ``TwoLayerNet`` and ``MultiLayerNet``.

The network classes know nothing of this module; everything that makes a network from a
description (loading a model or checkpoint, a trainer building from its settings) comes here.
"""

from __future__ import annotations

import numpy as np

from nnlearn.base.constraints import Options, check_network_size
from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.base.i18n import N_, _
from nnlearn.common.multi_layer_net import DTYPES, MultiLayerNet
from nnlearn.common.saving import check_arrays, read_npz
from nnlearn.common.two_layer_net import TwoLayerNet

_NETWORK = N_("a network saved by nnlearn")
_NETWORK_FIX = N_("train one with `nnlearn train`")
REGULARISERS = ("weight_decay_lambda", "dropout_ratio")


def build_network(config: dict, seed=None, dtype=None) -> MultiLayerNet:
    """Build the network a :meth:`MultiLayerNet.config` dict describes (fresh weights).

    Examples
    --------
    >>> net = build_network({"class": "TwoLayerNet", "input_size": 4, "hidden_size_list": [3], "output_size": 2,
    ...                      "weight_init_std": 0.01})
    >>> type(net).__name__, net.sizes
    ('TwoLayerNet', (4, 3, 2))
    """
    # Files written before regularisation existed lack these keys: no decay, no dropout.
    options = {key: config.get(key, 0.0) for key in REGULARISERS}
    options |= {"weight_init_std": config["weight_init_std"], "seed": seed}
    options["dtype"] = np.dtype(dtype or config.get("dtype", "float64"))
    sizes = config["input_size"], config["hidden_size_list"], config["output_size"]
    if config.get("class") == "TwoLayerNet":
        return TwoLayerNet(sizes[0], sizes[1][0], sizes[2], **options)
    return MultiLayerNet(*sizes, activation=config["activation"], loss=config.get("loss", "cross_entropy"), **options)


def network_for(settings, input_size: int, output_size: int) -> MultiLayerNet:
    """A fresh network as training ``settings`` describe it (a :class:`TwoLayerNet` for the chapter's)."""
    # The chapter's network: one sigmoid hidden layer and the cross-entropy loss.
    two = len(settings.hidden_size) == 1 and settings.activation == "sigmoid" and settings.loss == "cross_entropy"
    config = {"class": "TwoLayerNet" if two else "MultiLayerNet", "hidden_size_list": list(settings.hidden_size)}
    config |= {"input_size": input_size, "output_size": output_size}
    config |= {key: getattr(settings, key) for key in ("activation", "loss", "weight_init_std", *REGULARISERS)}
    return build_network(config, seed=settings.seed, dtype=settings.dtype)


def with_dtype(network, dtype) -> MultiLayerNet:
    """``network`` itself when it already has ``dtype``, else a copy in ``dtype`` (same description and weights).

    Examples
    --------
    >>> net = TwoLayerNet(4, 3, 2, seed=0, dtype=np.float32)
    >>> wide = with_dtype(net, np.float64)
    >>> wide.dtype, bool(np.array_equal(wide.params["W1"], net.params["W1"]))
    (dtype('float64'), True)
    """
    if network.dtype == np.dtype(dtype):
        return network
    copy = build_network(network.config(), seed=0, dtype=dtype)
    copy.set_params(network.params)
    return copy


def settings_mismatch(settings, network) -> list[str]:
    """What of ``settings`` the given ``network`` contradicts, as ``"name: network N, settings S"`` lines.

    A trainer may train any network (its sizes and activation are its own), but how it trains must
    agree with the settings it records: the dtype, the weight decay and the dropout.
    """
    seen = {
        "dtype": network.dtype.name,
        "weight_decay_lambda": network.weight_decay_lambda,
        "dropout_ratio": network.dropout_ratio,
    }
    return [
        f"{name}: network {value!r}, settings {getattr(settings, name)!r}"
        for name, value in seen.items()
        if getattr(settings, name) != value
    ]


def load_network(path):
    """Load a network saved by :func:`~nnlearn.common.saving.save_network`, refusing anything incomplete or
    damaged: its sizes are checked against nnlearn's limits and the arrays' shapes before anything is built."""
    arrays, config = read_npz(path, _NETWORK, _NETWORK_FIX, expect=lambda meta: network_layout(path, meta))
    try:
        net = build_network(config, seed=0)
    except (KeyError, TypeError, IndexError, InputError) as exc:
        raise unbuildable(path, exc) from None
    check_arrays(path, arrays, network_layout(path, config), _NETWORK_FIX)
    net.set_params({k[len("param_") :]: v for k, v in arrays.items()})
    return net


def unbuildable(path, reason) -> FileFormatError:
    """The one error of a file whose network cannot be built, naming ``path``, the ``reason`` and the fix."""
    return FileFormatError(
        _(
            "{path} describes no network nnlearn can build ({reason}); {fix}",
            path=path,
            reason=reason,
            fix=_(_NETWORK_FIX),
        )
    )


def network_layout(path, config: dict) -> dict:
    """``{"param_" + key: (shape, dtype)}`` of the network a :meth:`~nnlearn.MultiLayerNet.config` describes,
    without building it: its sizes must be whole numbers and the network within
    :data:`~nnlearn.base.constraints.MAX_PARAMETERS`, else a :class:`FileFormatError` naming ``path``."""
    hidden = config.get("hidden_size_list")
    sizes = [config.get("input_size"), *(hidden if isinstance(hidden, list) else [None]), config.get("output_size")]
    dtype = config.get("dtype", "float64")
    try:
        Options(DTYPES).check(dtype, "dtype")
        if config.get("class") == "TwoLayerNet" and len(sizes) != 3:
            raise InputError(_("a TwoLayerNet has one hidden layer, not {n}", n=len(sizes) - 2))
        check_network_size(sizes, dtype)
    except InputError as exc:
        raise unbuildable(path, exc) from None
    layout = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        layout[f"param_W{i}"] = ((n_in, n_out), np.dtype(dtype))
        layout[f"param_b{i}"] = ((n_out,), np.dtype(dtype))
    return layout

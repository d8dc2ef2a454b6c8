"""Conformance: every engine against an independent oracle, over every kind of network.

The oracle is written here, in plain NumPy, apart from the package: the network's forward pass and
loss, and the book's central difference over that loss, one parameter at a time. A new engine is
one new module in ``nnlearn/common/engines``, one line in its ``ENGINES`` and one in the lists below.
"""

from __future__ import annotations

import functools
import itertools
import warnings
import zlib

import numpy as np
import pytest

from nnlearn import MultiLayerNet
from nnlearn.common import engines

# One line per engine. The reference engine is checked against the oracle's chain rule; every other
# backprop engine against the reference engine.
BACKPROP_ENGINES = [
    "reference",
    "fused",
]
NUMERICAL_ENGINES = [
    "loop",
    "fast",
    "rows",
]

KINDS = list(
    itertools.product(["sigmoid", "relu"], [0, 1, 2, 3], ["cross_entropy", "mse"], ["labels", "one-hot", "soft"])
)
BATCHES = [1, 7, 100]
N_IN, N_HIDDEN, N_OUT = 6, 5, 4


def test_every_registered_engine_is_in_the_conformance_lists():
    assert sorted(BACKPROP_ENGINES) == sorted(engines.engine_names(engines.BACKPROP))
    assert sorted(NUMERICAL_ENGINES) == sorted(engines.engine_names(engines.NUMERICAL))


@functools.lru_cache(maxsize=None)
def case(activation, depth, loss, target, batch, dtype_name):
    """A network and a batch, the same for every engine (seeded by the case itself)."""
    rng = np.random.default_rng(zlib.crc32(repr((activation, depth, loss, target, batch)).encode()))
    net = MultiLayerNet(
        N_IN,
        [N_HIDDEN] * depth,
        N_OUT,
        activation=activation,
        weight_init_std=0.7,
        loss=loss,
        seed=int(rng.integers(1 << 30)),
        dtype=np.dtype(dtype_name),
    )
    # Non-zero biases, so that no ReLU input sits exactly on its kink.
    for key, value in net.params.items():
        if key.startswith("b"):
            value[...] = rng.normal(0, 0.3, value.shape)
    x = rng.standard_normal((batch, N_IN)).astype(dtype_name)
    labels = rng.integers(0, N_OUT, batch)
    if target == "labels":
        t = labels
    elif target == "one-hot":
        t = np.eye(N_OUT, dtype=dtype_name)[labels]
    else:
        t = rng.random((batch, N_OUT))
        t = (t / t.sum(axis=1, keepdims=True)).astype(dtype_name)
    return net, x, t


def oracle_loss(params, activation, loss, x, t):
    """The network's loss, written out: affine, activation, ..., affine, softmax + CE (or MSE)."""
    n_layers = len(params) // 2
    h = x.astype(np.float64)
    for i in range(1, n_layers + 1):
        a = h @ params[f"W{i}"].astype(np.float64) + params[f"b{i}"].astype(np.float64)
        if i < n_layers:
            h = 1 / (1 + np.exp(-a)) if activation == "sigmoid" else np.where(a > 0, a, 0.0)
        else:
            h = a
    n = x.shape[0]
    target = np.eye(h.shape[1])[t] if t.ndim == 1 else t.astype(np.float64)
    if loss == "mse":
        return 0.5 * np.sum((h - target) ** 2) / n
    y = np.exp(h - h.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    return -np.sum(target * np.log(y + 1e-7)) / n


def oracle_gradient(params, activation, loss, x, t):
    """The gradient of :func:`oracle_loss` by the chain rule, written out (softmax's full Jacobian)."""
    n_layers = len(params) // 2
    p = {k: v.astype(np.float64) for k, v in params.items()}
    hs, pre = [x.astype(np.float64)], []
    for i in range(1, n_layers + 1):
        a = hs[-1] @ p[f"W{i}"] + p[f"b{i}"]
        pre.append(a)
        if i < n_layers:
            hs.append(1 / (1 + np.exp(-a)) if activation == "sigmoid" else np.where(a > 0, a, 0.0))
    z, n = pre[-1], x.shape[0]
    target = np.eye(z.shape[1])[t] if t.ndim == 1 else t.astype(np.float64)
    if loss == "mse":
        delta = (z - target) / n
    else:
        y = np.exp(z - z.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        g = -target / (y + 1e-7) / n  # dL/dy
        delta = y * (g - np.sum(y * g, axis=1, keepdims=True))
    grads = {}
    for i in range(n_layers, 0, -1):
        grads[f"W{i}"] = hs[i - 1].T @ delta
        grads[f"b{i}"] = delta.sum(axis=0)
        if i > 1:
            dh = delta @ p[f"W{i}"].T
            h = hs[i - 1]
            delta = dh * (h * (1 - h) if activation == "sigmoid" else (pre[i - 2] > 0))
    return grads


@functools.lru_cache(maxsize=None)
def oracle_numerical_gradient(*key):
    """The book's central difference (h = 1e-4) of :func:`oracle_loss`, element by element."""
    net, x, t = case(*key)
    return central_differences(net, lambda params: oracle_loss(params, net.activation, net.loss_type, x, t))


def central_differences(net, loss) -> dict:
    """``(loss(w + h) - loss(w - h)) / 2h`` for every element of a float64 copy of ``net.params``."""
    params = {k: v.astype(np.float64) for k, v in net.params.items()}
    grads = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in range(p.size):
            keep = p.flat[i]
            p.flat[i] = keep + 1e-4
            up = loss(params)
            p.flat[i] = keep - 1e-4
            down = loss(params)
            p.flat[i] = keep
            g.flat[i] = (up - down) / 2e-4
        grads[name] = g
    return grads


def relative(a, b) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom else 0.0


# Each test item runs its kind at every batch size (and dtype): one item per engine and kind keeps
# the matrix's 1,000 cases to 240 items, and an item's failure names the case it fails on.
@pytest.mark.parametrize("activation, depth, loss, target", KINDS)
@pytest.mark.parametrize("name", BACKPROP_ENGINES)
def test_backprop_engine(name, activation, depth, loss, target):
    for batch, dtype in itertools.product(BATCHES, ["float64", "float32"]):
        check_backprop_engine(name, (activation, depth, loss, target, batch, dtype))


def check_backprop_engine(name, key):
    activation, depth, loss, target, batch, dtype = key
    net, x, t = case(*key)
    t_checked = net.check_t(t, batch)
    engine = net.engine(name)
    loss_value, grads = engine.loss_and_gradient(x, t_checked)
    grads = {k: g.copy() for k, g in grads.items()}
    assert sorted(grads) == sorted(net.params), key
    assert all(grads[k].dtype == np.dtype(dtype) and grads[k].shape == net.params[k].shape for k in grads), key
    tol = 1e-12 if dtype == "float64" else 2e-5
    assert loss_value == pytest.approx(oracle_loss(net.params, activation, loss, x, t), rel=tol, abs=tol), key
    assert engine.loss(x, t_checked) == pytest.approx(loss_value, rel=tol, abs=tol), key
    np.testing.assert_allclose(
        engine.logits(x), net.engine("reference").logits(x), rtol=tol, atol=tol, err_msg=str(key)
    )
    if name == "reference":
        expected = oracle_gradient(net.params, activation, loss, x, t)
    else:
        _, expected = net.engine("reference").loss_and_gradient(x, t_checked)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=tol, atol=tol, err_msg=f"{key} {k}")


@pytest.mark.parametrize("activation, depth, loss, target", KINDS)
@pytest.mark.parametrize("name", NUMERICAL_ENGINES)
def test_numerical_engine(name, activation, depth, loss, target):
    for batch in BATCHES:
        key = (activation, depth, loss, target, batch, "float64")
        net, x, t = case(*key)
        before = {k: v.copy() for k, v in net.params.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback, no float32 warning
            grads = engines.numerical_gradient(net, x, net.check_t(t, batch), name)
        expected = oracle_numerical_gradient(*key)
        # Two central differences of the same loss differ by the rounding of that loss over 2h: 1e-10
        # for losses of order 1, proportionally more for the large losses of deep MSE networks.
        atol = 1e-10 * max(1.0, oracle_loss(net.params, activation, loss, x, t))
        for k in expected:
            np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=atol, err_msg=f"{key} {k}")
            np.testing.assert_array_equal(net.params[k], before[k], err_msg=f"{key} {k}")


def test_float32_warns_the_same_on_every_numerical_path():
    net, x, t = case("sigmoid", 1, "cross_entropy", "labels", 7, "float32")
    messages = set()
    for run in (
        lambda: net.numerical_gradient(x, t),
        lambda: net.numerical_gradient(x, t, engine="loop"),
        lambda: __import__("nnlearn").gradient_check(net, x, t, sample=3),
    ):
        with pytest.warns(RuntimeWarning) as record:
            run()
        messages |= {str(w.message) for w in record}
    assert messages == {engines.FLOAT32_WARNING}


def test_a_fallback_to_the_loop_warns_and_names_why(monkeypatch):
    net, x, t = case("relu", 1, "mse", "labels", 7, "float64")

    def refuse(self, x, t, masks=None):
        raise engines.Unsupported("no series for this network")

    monkeypatch.setattr(engines.get_engine("fast", engines.NUMERICAL), "numerical_gradient", refuse)
    with pytest.warns(RuntimeWarning) as record:
        grads = net.numerical_gradient(x, t)
    (said,) = {str(w.message) for w in record}  # the engine, why it cannot, what is used instead
    assert "'fast'" in said and "(no series for this network)" in said and "loop" in said, said
    np.testing.assert_allclose(
        grads["W1"], oracle_numerical_gradient("relu", 1, "mse", "labels", 7, "float64")["W1"], rtol=0, atol=1e-10
    )


def test_the_default_engines_are_decided_in_one_place(monkeypatch):
    """engines.DEFAULTS and TRAINING_DEFAULTS decide for the network, gradient_check, training and the CLI."""
    from nnlearn import TrainSettings
    from nnlearn.cli import build_parser
    from nnlearn.common.gradient_check import gradient_check_record

    net, x, t = case("relu", 1, "mse", "labels", 7, "float64")
    assert (net.engine().name, TrainSettings(iters=1).engine_name) == ("reference", "fused")
    monkeypatch.setitem(engines.DEFAULTS, engines.BACKPROP, "fused")
    monkeypatch.setitem(engines.DEFAULTS, engines.NUMERICAL, "rows")
    monkeypatch.setitem(engines.TRAINING_DEFAULTS, engines.BACKPROP, "reference")
    monkeypatch.setitem(engines.TRAINING_DEFAULTS, engines.NUMERICAL, "loop")
    assert net.engine().name == "fused"
    assert gradient_check_record(net, x, t)["engine"] == "rows"
    assert TrainSettings(iters=1).engine_name == "reference"
    assert TrainSettings(iters=1, grad="numerical", dtype="float64").engine_name == "loop"
    assert build_parser().parse_args(["gradcheck"]).engine == "rows"


def test_every_engine_has_its_kinds_methods():
    methods = {engines.BACKPROP: ("logits", "loss", "loss_and_gradient"), engines.NUMERICAL: ("numerical_gradient",)}
    for kind, classes in engines.ENGINES.items():
        for cls in classes:
            assert engines.get_engine(cls.name, kind) is cls
            assert all(callable(getattr(cls, m, None)) for m in methods[kind]), cls


def test_an_unknown_engine_is_a_one_line_error():
    net, x, t = case("relu", 1, "mse", "labels", 7, "float64")
    with pytest.raises(ValueError, match=r"'auto'.*loop, fast, rows"):
        net.numerical_gradient(x, t, engine="auto")
    with pytest.raises(ValueError, match=r"backprop.*'fast'.*fused, reference"):
        net.gradient(x, t, engine="fast")


# -- wide networks: long sums, which BLAS splits into blocks --------------------------------------

# Sums of 301 inputs, 300 hidden units and 270 samples: longer than one block of BLAS's kernels.
WIDE_KINDS = [
    ("sigmoid", 1, "cross_entropy", "labels"),
    ("relu", 2, "mse", "soft"),
    ("sigmoid", 2, "cross_entropy", "one-hot"),
    ("relu", 1, "cross_entropy", "labels"),
]


@functools.lru_cache(maxsize=None)
def wide_case(activation, depth, loss, target, batch, dtype_name):
    rng = np.random.default_rng(zlib.crc32(repr(("wide", activation, depth, loss, target, batch)).encode()))
    net = MultiLayerNet(
        301,
        [300] * depth,
        N_OUT,
        activation=activation,
        weight_init_std=0.1,
        loss=loss,
        seed=int(rng.integers(1 << 30)),
        dtype=np.dtype(dtype_name),
    )
    for key, value in net.params.items():
        if key.startswith("b"):
            value[...] = rng.normal(0, 0.3, value.shape)
    x = rng.standard_normal((batch, 301)).astype(dtype_name)
    labels = rng.integers(0, N_OUT, batch)
    t = {"labels": labels, "one-hot": np.eye(N_OUT, dtype=dtype_name)[labels]}.get(target)
    if t is None:
        t = rng.random((batch, N_OUT))
        t = (t / t.sum(axis=1, keepdims=True)).astype(dtype_name)
    return net, x, t


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [7, 270])
@pytest.mark.parametrize("activation, depth, loss, target", WIDE_KINDS)
def test_fused_engine_on_wide_networks(activation, depth, loss, target, batch, dtype):
    net, x, t = wide_case(activation, depth, loss, target, batch, dtype)
    t_checked = net.check_t(t, batch)
    loss_value, grads = net.engine("fused").loss_and_gradient(x, t_checked)
    ref_loss, ref = net.engine("reference").loss_and_gradient(x, t_checked)
    tol = 1e-12 if dtype == "float64" else 2e-5
    assert loss_value == pytest.approx(ref_loss, rel=tol, abs=tol)
    for k in ref:
        np.testing.assert_allclose(grads[k], ref[k], rtol=tol, atol=tol)
    np.testing.assert_allclose(net.engine("fused").logits(x), net.engine("reference").logits(x), rtol=tol, atol=tol)


def test_a_fused_engine_reused_on_new_batches_gives_what_a_fresh_one_gives():
    """The fused engine keeps its buffers between calls: another batch of the same size -- a new
    array, as classify's chunks are, or the same array refilled, as the trainer's batch is -- must
    give exactly what an engine that never saw the first one gives."""
    net, x, t = wide_case("sigmoid", 1, "cross_entropy", "labels", 7, "float32")
    other = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    t = net.check_t(t, 7)

    def fresh(batch):
        loss, grads = net.engine("fused").loss_and_gradient(batch, t)
        return loss, {k: g.copy() for k, g in grads.items()}

    reused, buffer = net.engine("fused"), x.copy()
    for batch in (x, other, x.copy(), buffer):
        if batch is buffer:
            buffer[...] = other
        loss, grads = reused.loss_and_gradient(batch, t)
        expected_loss, expected = fresh(batch)
        assert loss == expected_loss
        for k in expected:
            np.testing.assert_array_equal(grads[k], expected[k], err_msg=k)
    assert fresh(x)[0] != fresh(other)[0]  # the batches differ, so a stale view would show


# -- regularisers: weight decay and dropout with a fixed mask -------------------------------------

# A subset of the kinds keeps this quick; together they cover both activations, both losses, every
# target form and a network deeper than one hidden layer.
REGULAR_KINDS = [
    ("sigmoid", 2, "cross_entropy", "labels"),
    ("relu", 2, "mse", "soft"),
    ("relu", 1, "cross_entropy", "one-hot"),
]
REGULARISERS = ["decay", "dropout-train", "dropout-test", "both"]
LAMBDA, RATIO = 0.3, 0.4


@functools.lru_cache(maxsize=None)
def regular_case(activation, depth, loss, target, regulariser, dtype_name):
    """The plain case's network and batch (batch 7), with a regulariser and, for training passes, masks."""
    net, x, t = case(activation, depth, loss, target, 7, dtype_name)
    lam = LAMBDA if regulariser in ("decay", "both") else 0.0
    ratio = RATIO if regulariser != "decay" else 0.0
    reg = MultiLayerNet(
        N_IN,
        [N_HIDDEN] * depth,
        N_OUT,
        activation=activation,
        loss=loss,
        dtype=net.dtype,
        weight_decay_lambda=lam,
        dropout_ratio=ratio,
    )
    reg.set_params(net.params)
    rng = np.random.default_rng(zlib.crc32(regulariser.encode()))
    masks = reg.dropout_masks(rng, 7) if regulariser in ("dropout-train", "both") else None
    return reg, x, t, masks


def oracle_factors(net, masks, n):
    """What multiplies each hidden layer's output: the mask (training), 1 - ratio (test), or 1."""
    if not net.dropout_ratio:
        return [1.0] * (net.n_affine - 1)
    if masks is None:
        return [1.0 - net.dropout_ratio] * (net.n_affine - 1)
    return [np.asarray(m, dtype=np.float64) for m in masks]


def oracle_regular_loss(params, net, x, t, masks):
    """The oracle's loss with every hidden output times its factor, plus lambda/2 * sum of W**2."""
    factors = oracle_factors(net, masks, x.shape[0])
    n_layers = len(params) // 2
    h = x.astype(np.float64)
    for i in range(1, n_layers + 1):
        a = h @ params[f"W{i}"].astype(np.float64) + params[f"b{i}"].astype(np.float64)
        h = (
            (1 / (1 + np.exp(-a)) if net.activation == "sigmoid" else np.where(a > 0, a, 0.0)) * factors[i - 1]
            if i < n_layers
            else a
        )
    target = np.eye(h.shape[1])[t] if t.ndim == 1 else t.astype(np.float64)
    if net.loss_type == "mse":
        data = 0.5 * np.sum((h - target) ** 2) / x.shape[0]
    else:
        y = np.exp(h - h.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        data = -np.sum(target * np.log(y + 1e-7)) / x.shape[0]
    decay = sum(np.sum(params[f"W{i}"].astype(np.float64) ** 2) for i in range(1, n_layers + 1))
    return data + 0.5 * net.weight_decay_lambda * decay


def oracle_regular_gradient(params, net, x, t, masks):
    """Its gradient by the chain rule: each hidden output's factor on the way back, lambda * W added."""
    factors = oracle_factors(net, masks, x.shape[0])
    n_layers = len(params) // 2
    p = {k: v.astype(np.float64) for k, v in params.items()}
    hs, acts = [x.astype(np.float64)], []
    for i in range(1, n_layers + 1):
        a = hs[-1] @ p[f"W{i}"] + p[f"b{i}"]
        if i < n_layers:
            s = 1 / (1 + np.exp(-a)) if net.activation == "sigmoid" else np.where(a > 0, a, 0.0)
            acts.append((a, s))
            hs.append(s * factors[i - 1])
    z, n = a, x.shape[0]
    target = np.eye(z.shape[1])[t] if t.ndim == 1 else t.astype(np.float64)
    if net.loss_type == "mse":
        delta = (z - target) / n
    else:
        y = np.exp(z - z.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        g = -target / (y + 1e-7) / n
        delta = y * (g - np.sum(y * g, axis=1, keepdims=True))
    grads = {}
    for i in range(n_layers, 0, -1):
        grads[f"W{i}"] = hs[i - 1].T @ delta + net.weight_decay_lambda * p[f"W{i}"]
        grads[f"b{i}"] = delta.sum(axis=0)
        if i > 1:
            a, s = acts[i - 2]
            dh = (delta @ p[f"W{i}"].T) * factors[i - 2]
            delta = dh * (s * (1 - s) if net.activation == "sigmoid" else (a > 0))
    return grads


@functools.lru_cache(maxsize=None)
def oracle_regular_numerical(*key):
    """The book's central difference of :func:`oracle_regular_loss`, the masks held fixed."""
    net, x, t, masks = regular_case(*key)
    return central_differences(net, lambda params: oracle_regular_loss(params, net, x, t, masks))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("regulariser", REGULARISERS)
@pytest.mark.parametrize("activation, depth, loss, target", REGULAR_KINDS)
@pytest.mark.parametrize("name", BACKPROP_ENGINES)
def test_backprop_engine_with_regularisers(name, activation, depth, loss, target, regulariser, dtype):
    net, x, t, masks = regular_case(activation, depth, loss, target, regulariser, dtype)
    t_checked = net.check_t(t, 7)
    engine = net.engine(name)
    loss_value, grads = engine.loss_and_gradient(x, t_checked, masks=masks)
    grads = {k: g.copy() for k, g in grads.items()}
    tol = 1e-12 if dtype == "float64" else 2e-5
    expected_loss = oracle_regular_loss(net.params, net, x, t, masks)
    assert loss_value == pytest.approx(expected_loss, rel=tol, abs=tol)
    assert engine.loss(x, t_checked, masks) == pytest.approx(expected_loss, rel=tol, abs=tol)
    expected = oracle_regular_gradient(net.params, net, x, t, masks)
    for k in grads:
        assert grads[k].dtype == np.dtype(dtype)
        np.testing.assert_allclose(grads[k], expected[k], rtol=tol, atol=tol)
    # The regularisers do change the numbers: the plain network's loss differs.
    plain, _, _ = case(activation, depth, loss, target, 7, dtype)
    assert abs(plain.loss(x, t) - loss_value) > 1e-3


@pytest.mark.parametrize("regulariser", REGULARISERS)
@pytest.mark.parametrize("activation, depth, loss, target", REGULAR_KINDS)
@pytest.mark.parametrize("name", NUMERICAL_ENGINES)
def test_numerical_engine_with_regularisers(name, activation, depth, loss, target, regulariser):
    key = (activation, depth, loss, target, regulariser, "float64")
    net, x, t, masks = regular_case(*key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the series engines handle both: no fallback to the loop
        grads = engines.numerical_gradient(net, x, net.check_t(t, 7), name, masks=masks)
    expected = oracle_regular_numerical(*key)
    atol = 1e-10 * max(1.0, oracle_regular_loss(net.params, net, x, t, masks))
    for k in expected:
        np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=atol)


@pytest.mark.parametrize("regulariser", REGULARISERS)
def test_gradient_check_passes_with_regularisers(regulariser):
    net, x, t, masks = regular_case("sigmoid", 2, "cross_entropy", "labels", regulariser, "float64")
    report = __import__("nnlearn").gradient_check(net, x, t, masks=masks)
    assert max(r["relative"] for r in report.values()) <= 1e-7
    assert [r["checked"] for r in report.values()] == [p.size for p in net.params.values()]

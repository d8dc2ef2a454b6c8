"""The series engine's internals (kinks, large steps, zero inputs) against the plain per-parameter loop."""

import zlib

import numpy as np
import pytest

from nnlearn import MultiLayerNet
from nnlearn.common import gradient as diff
from nnlearn.common.engines import Unsupported
from nnlearn.common.engines.series import FastEngine, RowsEngine
from nnlearn.common.functions import relu, sigmoid, softmax
from nnlearn.common.losses import cross_entropy_error, mean_squared_error


def numerical_gradient(net, x, t, method="series"):
    return (FastEngine if method == "series" else RowsEngine)(net).numerical_gradient(x, t)


def plain_loss(net, x, t):
    """The network's loss written the plain way, with the library's own functions."""
    h = x
    for i in range(1, net.n_affine + 1):
        a = h @ net.params[f"W{i}"] + net.params[f"b{i}"]
        h = (sigmoid if net.activation == "sigmoid" else relu)(a) if i < net.n_affine else a
    if net.loss_type == "mse":
        return mean_squared_error(h, t)
    return cross_entropy_error(softmax(h), t)


def plain_gradient(net, x, t):
    """The book's loop: every parameter perturbed in place, two full forward passes each."""
    f = lambda _: plain_loss(net, x, t)  # noqa: E731
    return {key: diff.numerical_gradient(f, p) for key, p in net.params.items()}


def random_net(rng, sizes, activation, loss, scale=0.5, dtype=np.float64):
    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation, loss=loss, dtype=dtype)
    ws = {f"W{i}": rng.normal(0, scale, (m, n)) for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)}
    net.set_params(ws | {f"b{i}": rng.normal(0, scale, n) for i, n in enumerate(sizes[1:], start=1)})
    return net


def sparse_inputs(rng, n, d):
    x = rng.random((n, d))
    x[rng.random((n, d)) < 0.6] = 0.0  # many zeros, like MNIST's background
    return x


def assert_same(fast, plain, tol=1e-10):
    assert list(fast) == list(plain)
    for key in plain:
        assert np.max(np.abs(fast[key] - plain[key])) <= tol, key


KINDS = [("sigmoid", "cross_entropy"), ("relu", "cross_entropy"), ("relu", "mse"), ("sigmoid", "mse")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sizes", [[6, 4, 3], [5, 4, 3, 3], [4, 3]])
@pytest.mark.parametrize("batch", [1, 7, 64])
@pytest.mark.parametrize("method", ["series", "rows"])
def test_fast_equals_plain_loop(kind, sizes, batch, method):
    rng = np.random.default_rng(zlib.crc32(repr((kind, sizes, batch)).encode()))
    net = random_net(rng, sizes, *kind)
    x = sparse_inputs(rng, batch, sizes[0])
    t = rng.integers(0, sizes[-1], batch)
    assert_same(numerical_gradient(net, x, t, method=method), plain_gradient(net, x, t))


@pytest.mark.parametrize("target", ["one_hot", "soft"])
def test_dense_targets(target):
    rng = np.random.default_rng(1)
    net = random_net(rng, [5, 4, 3], "sigmoid", "cross_entropy")
    x = sparse_inputs(rng, 9, 5)
    t = np.eye(3)[rng.integers(0, 3, 9)] if target == "one_hot" else rng.dirichlet(np.ones(3), 9)
    assert_same(numerical_gradient(net, x, t), plain_gradient(net, x, t))


@pytest.mark.parametrize("layers", [1, 2])
def test_relu_kinks_crossed_by_the_step(layers):
    """Pre-activations at, or within h of, zero: the step crosses the kink and only exact rows are right."""
    rng = np.random.default_rng(2)
    sizes = [5] + [4] * layers + [3]
    net = random_net(rng, sizes, "relu", "cross_entropy")
    p = net.params
    x = sparse_inputs(rng, 16, 5)
    # Exactly on the kink: a zero column and bias make a_1[:, 0] == 0 for every sample.
    p["W1"][:, 0] = 0.0
    p["b1"][0] = 0.0
    # Just beside the kink: the bias puts a_1[:, 1] of sample 0 at +3e-5, well inside the step.
    p["b1"][1] = 3e-5 - x[0] @ p["W1"][:, 1]
    if layers == 2:
        h1 = relu(x @ p["W1"] + p["b1"])
        p["b2"][2] = -2e-5 - h1[3] @ p["W2"][:, 2]
    t = rng.integers(0, 3, 16)
    fast = numerical_gradient(net, x, t)
    assert_same(fast, plain_gradient(net, x, t))
    # a naive one-sided Taylor expansion would differ here by about the kink's jump in slope
    assert np.abs(fast["b1"][0]) > 1e-3


def test_large_steps_fall_back_to_exact_rows():
    # Inputs near 1e4 make eps = h * x near 1: far outside the region where the series converges fast.
    rng = np.random.default_rng(3)
    net = random_net(rng, [6, 5, 3], "sigmoid", "cross_entropy", scale=3e-4)
    x = np.round(sparse_inputs(rng, 8, 6) * 1e4)
    t = rng.integers(0, 3, 8)
    assert_same(numerical_gradient(net, x, t), plain_gradient(net, x, t), tol=1e-9)


def test_float32_parameters_use_their_own_rounded_steps():
    rng = np.random.default_rng(4)
    net = random_net(rng, [5, 4, 3], "sigmoid", "cross_entropy")
    x = sparse_inputs(rng, 6, 5)
    t = rng.integers(0, 3, 6)
    ref = numerical_gradient(net, x, t)
    net32 = MultiLayerNet(5, [4], 3, activation="sigmoid", dtype=np.float32)
    net32.set_params(net.params)
    fast32 = numerical_gradient(net32, x, t)
    # float32 steps are fl32(w + h) - w, off from h by up to 6e-8/1e-4: a relative error near 1e-3
    for key in ("W1", "W2"):
        np.testing.assert_allclose(fast32[key], ref[key], rtol=2e-3, atol=1e-6)


def test_a_forward_pass_that_overflows_is_left_to_the_loop():
    net = random_net(np.random.default_rng(5), [3, 2], "sigmoid", "cross_entropy", scale=1e306)
    with pytest.raises(Unsupported, match="not finite"):
        numerical_gradient(net, np.full((2, 3), 1e10), np.array([0, 1]))


def test_the_books_network_needs_no_exact_rows(monkeypatch):
    """The fast engine's speed is its series: for the book's TwoLayerNet on MNIST-like digits every
    (sample, unit) pair is summed by the series, none falls back to evaluating its rows (a lower
    ORDER in engines/series.py left the numbers right and made the gradient 125 times slower)."""
    from mnist_tiny import synthetic_mnist

    from nnlearn import TwoLayerNet
    from nnlearn.common.engines import series

    (x, t), _ = synthetic_mnist()
    net = TwoLayerNet(784, 50, 10, seed=0)
    exact = []
    engine = series._Engine  # the one place the rows are evaluated: counted here
    original = engine._add_exact
    monkeypatch.setattr(
        engine,
        "_add_exact",
        lambda self, layer, pairs, *a: exact.append(len(pairs)) or original(self, layer, pairs, *a),
    )
    net.numerical_gradient(x[:100].astype(np.float64), t[:100])
    assert sum(exact) == 0

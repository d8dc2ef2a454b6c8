"""The series engine's internals (kinks, large steps, zero inputs) against the plain per-parameter loop."""

import zlib

import numpy as np
import pytest

from nnlearn.common import gradient as diff
from nnlearn.common.engines import Unsupported
from nnlearn.common.engines.series import MLP, numerical_gradient
from nnlearn.common.functions import relu, sigmoid, softmax
from nnlearn.common.losses import cross_entropy_error, mean_squared_error


def plain_loss(net: MLP, x, t):
    """The network's loss written the plain way, with the library's own loss functions."""
    h = x
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        a = h @ w + b
        h = (sigmoid if net.activation == "sigmoid" else relu)(a) if i < len(net.weights) - 1 else a
    y = softmax(h) if net.output == "softmax" else h
    return (cross_entropy_error if net.loss == "cross_entropy" else mean_squared_error)(y, t)


def plain_gradient(net, x, t):
    """The book's loop: every parameter perturbed in place, two full forward passes each."""
    f = lambda _: plain_loss(net, x, t)  # noqa: E731
    return [(diff.numerical_gradient(f, w), diff.numerical_gradient(f, b)) for w, b in zip(net.weights, net.biases)]


def random_net(rng, sizes, activation, output, loss, scale=0.5):
    ws = [rng.normal(0, scale, (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(0, scale, n) for n in sizes[1:]]
    return MLP(ws, bs, activation, output, loss)


def sparse_inputs(rng, n, d):
    x = rng.random((n, d))
    x[rng.random((n, d)) < 0.6] = 0.0  # many zeros, like MNIST's background
    return x


def assert_same(fast, plain, tol=1e-10):
    for (fw, fb), (pw, pb) in zip(fast, plain):
        assert np.max(np.abs(fw - pw)) <= tol
        assert np.max(np.abs(fb - pb)) <= tol


KINDS = [
    ("sigmoid", "softmax", "cross_entropy"),
    ("relu", "softmax", "cross_entropy"),
    ("sigmoid", "softmax", "mse"),
    ("relu", "identity", "mse"),
    ("sigmoid", "identity", "mse"),
]


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
    net = random_net(rng, [5, 4, 3], "sigmoid", "softmax", "cross_entropy")
    x = sparse_inputs(rng, 9, 5)
    t = np.eye(3)[rng.integers(0, 3, 9)] if target == "one_hot" else rng.dirichlet(np.ones(3), 9)
    assert_same(numerical_gradient(net, x, t), plain_gradient(net, x, t))


@pytest.mark.parametrize("layers", [1, 2])
def test_relu_kinks_crossed_by_the_step(layers):
    """Pre-activations at, or within h of, zero: the step crosses the kink and only exact rows are right."""
    rng = np.random.default_rng(2)
    sizes = [5] + [4] * layers + [3]
    net = random_net(rng, sizes, "relu", "softmax", "cross_entropy")
    x = sparse_inputs(rng, 16, 5)
    # Exactly on the kink: a zero column and bias make a_1[:, 0] == 0 for every sample.
    net.weights[0][:, 0] = 0.0
    net.biases[0][0] = 0.0
    # Just beside the kink: the bias puts a_1[:, 1] of sample 0 at +3e-5, well inside the step.
    net.biases[0][1] = 3e-5 - x[0] @ net.weights[0][:, 1]
    if layers == 2:
        h1 = relu(x @ net.weights[0] + net.biases[0])
        net.biases[1][2] = -2e-5 - h1[3] @ net.weights[1][:, 2]
    t = rng.integers(0, 3, 16)
    fast = numerical_gradient(net, x, t)
    assert_same(fast, plain_gradient(net, x, t))
    # a naive one-sided Taylor expansion would differ here by about the kink's jump in slope
    assert np.abs(fast[0][1][0]) > 1e-3


def test_large_steps_fall_back_to_exact_rows():
    # Inputs near 1e4 make eps = h * x near 1: far outside the region where the series converges fast.
    rng = np.random.default_rng(3)
    net = random_net(rng, [6, 5, 3], "sigmoid", "softmax", "cross_entropy", scale=3e-4)
    x = np.round(sparse_inputs(rng, 8, 6) * 1e4)
    t = rng.integers(0, 3, 8)
    assert_same(numerical_gradient(net, x, t), plain_gradient(net, x, t), tol=1e-9)


def test_float32_parameters_use_their_own_rounded_steps():
    rng = np.random.default_rng(4)
    net = random_net(rng, [5, 4, 3], "sigmoid", "softmax", "cross_entropy")
    x = sparse_inputs(rng, 6, 5)
    t = rng.integers(0, 3, 6)
    ref = numerical_gradient(net, x, t)
    net32 = MLP([w.astype(np.float32) for w in net.weights], [b.astype(np.float32) for b in net.biases])
    fast32 = numerical_gradient(net32, x, t)
    # float32 steps are fl32(w + h) - w, off from h by up to 6e-8/1e-4: a relative error near 1e-3
    for (a, _), (b, _) in zip(fast32, ref):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-6)


def test_unsupported_inputs_are_refused():
    rng = np.random.default_rng(5)
    net = random_net(rng, [3, 2], "sigmoid", "softmax", "cross_entropy")
    with pytest.raises(Unsupported):
        numerical_gradient(net, np.ones((2, 4)), np.array([0, 1]))
    with pytest.raises(Unsupported):
        numerical_gradient(net, np.ones((2, 3)), np.array([[0.5, 0.5, 0.0]] * 2))


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

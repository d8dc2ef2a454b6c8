"""Layers: forward values by hand, backward passes against the numerical gradient (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from nnlearn.common.functions import softmax
from nnlearn.common.gradient import numerical_gradient
from nnlearn.common.layers import Affine, IdentityWithLoss, Relu, Sigmoid, SoftmaxWithLoss
from nnlearn.common.losses import cross_entropy_error, mean_squared_error


def rel_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def check_backward(layer, x, seed=0):
    """backward(G) must be the gradient of sum(forward(x) * G) with respect to x."""
    G = np.random.default_rng(seed).standard_normal(layer.forward(x.copy()).shape)
    out = layer.forward(x)
    dx = layer.backward(G.copy())
    num = numerical_gradient(lambda _: float(np.sum(layer.forward(x) * G)), x)
    layer.forward(x)
    return dx, num, out


def test_affine_forward_backward_by_hand():
    W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    b = np.array([0.1, 0.2, 0.3])
    layer = Affine(W, b)
    x = np.array([[2.0, 1.0], [-1.0, 4.0]])
    np.testing.assert_array_equal(layer.forward(x), [[2.1, -0.8, 2.3], [-0.9, 14.2, 3.8]])
    dout = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, [[2.0, 2.0], [-2.5, 2.0]])
    np.testing.assert_array_equal(layer.dW, [[2.0, -1.0, 5.0], [1.0, 4.0, -2.0]])
    np.testing.assert_array_equal(layer.db, [1.0, 1.0, 1.0])


def test_affine_backward_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    layer = Affine(rng.standard_normal((5, 4)), rng.standard_normal(4))
    x = rng.standard_normal((3, 5))
    dx, num, _ = check_backward(layer, x)
    assert rel_error(dx, num) < 1e-9
    # dW: gradient of sum(out * G) with respect to W.
    G = np.random.default_rng(0).standard_normal((3, 4))
    layer.forward(x)
    layer.backward(G)
    num_W = numerical_gradient(lambda _: float(np.sum(layer.forward(x) * G)), layer.W)
    num_b = numerical_gradient(lambda _: float(np.sum(layer.forward(x) * G)), layer.b)
    assert rel_error(layer.dW, num_W) < 1e-9
    assert rel_error(layer.db, num_b) < 1e-9


def test_affine_flattens_image_batches_and_restores_their_shape():
    rng = np.random.default_rng(2)
    layer = Affine(rng.standard_normal((12, 3)), np.zeros(3))
    x = rng.standard_normal((2, 1, 3, 4))
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(2, 12) @ layer.W)
    assert layer.backward(np.ones((2, 3))).shape == (2, 1, 3, 4)


def test_affine_without_input_grad_skips_it_but_keeps_weight_grads():
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    full, first = Affine(W, b), Affine(W, b, input_grad=False)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    full.forward(x), first.forward(x)
    assert first.backward(dout) is None
    full.backward(dout)
    np.testing.assert_array_equal(first.dW, full.dW)
    np.testing.assert_array_equal(first.db, full.db)


def test_sigmoid_layer():
    layer = Sigmoid()
    x = np.array([[-3.0, 0.0, 1.5], [200.0, -800.0, 0.3]])
    # 1 / (1 + exp(-x)) by Python's math module; exp(800) overflows there, and the limit is 0.
    expected = [[0.04742587317756678, 0.5, 0.8175744761936437], [1.0, 0.0, 0.574442516811659]]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=2e-16, atol=0)
    dx, num, _ = check_backward(Sigmoid(), np.random.default_rng(4).standard_normal((3, 4)))
    assert rel_error(dx, num) < 1e-9


def test_relu_layer_blocks_gradient_where_input_not_positive():
    layer = Relu()
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    np.testing.assert_array_equal(layer.forward(x), [[0, 0, 2], [3, 0, 0.25]])
    np.testing.assert_array_equal(layer.backward(np.full((2, 3), 7.0)), [[0, 0, 7], [7, 0, 7]])
    # The input is not modified (the book's version writes into it).
    np.testing.assert_array_equal(x, [[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    # Away from the kink, backward is the numerical gradient.
    xs = np.array([[-1.3, 0.7, 2.1], [0.4, -0.9, -2.2]])
    dx, num, _ = check_backward(Relu(), xs)
    assert rel_error(dx, num) < 1e-9


@pytest.mark.parametrize("targets", ["labels", "one-hot", "soft"])
def test_softmax_with_loss_is_the_book_loss_and_its_exact_gradient(targets):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    t = {"labels": labels, "one-hot": np.eye(4)[labels], "soft": softmax(rng.standard_normal((6, 4)))}[targets]
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert loss == cross_entropy_error(softmax(x), t)
    dx = layer.backward()
    num = numerical_gradient(lambda _: layer.forward(x, t), x)
    assert rel_error(dx, num) < 1e-9


def test_softmax_with_loss_differs_from_the_book_by_the_delta_factor():
    x = np.array([[0.3, 2.9, 4.0], [-1.0, 0.5, -2.0]])
    t = np.array([2, 0])
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    y = softmax(x)
    book = (y - np.eye(3)[t]) / 2
    r = y[[0, 1], t] / (y[[0, 1], t] + 1e-7)
    np.testing.assert_allclose(layer.backward(), book * r[:, None], rtol=1e-15, atol=1e-17)
    assert not np.array_equal(layer.backward(), book)


def test_identity_with_loss_is_mse_and_its_gradient():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 3))
    labels = rng.integers(0, 3, 5)
    for t in (labels, np.eye(3)[labels]):
        layer = IdentityWithLoss()
        assert layer.forward(x, t) == mean_squared_error(x, t)
        dx = layer.backward()
        num = numerical_gradient(lambda _: layer.forward(x, t), x)
        assert rel_error(dx, num) < 1e-9


def test_layers_keep_float32():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    W, b = rng.standard_normal((4, 2)).astype(np.float32), np.zeros(2, np.float32)
    assert Affine(W, b).forward(x).dtype == np.float32
    assert Sigmoid().forward(x).dtype == np.float32
    assert Relu().forward(x).dtype == np.float32
    layer = SoftmaxWithLoss()
    layer.forward(x[:, :2], np.array([0, 1, 1]))
    assert layer.backward().dtype == np.float32

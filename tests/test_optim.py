"""Optimizers: one step against values worked out by hand, state for bit-identical resumption."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlearn.common.optimizer import SGD, AdaGrad, Adam, Momentum, get_optimizer


def test_sgd_one_step():
    params = {"W": np.array([1.0, -2.0]), "b": np.array([0.5])}
    grads = {"W": np.array([0.5, 0.25]), "b": np.array([-1.0])}
    W = params["W"]
    SGD(lr=0.1).update(params, grads)
    assert params["W"] is W  # in place: the layers hold this very array
    np.testing.assert_allclose(params["W"], [0.95, -2.025], rtol=0, atol=1e-15)
    np.testing.assert_allclose(params["b"], [0.6], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(grads["W"], [0.5, 0.25])  # gradients untouched


def test_momentum_two_steps():
    params = {"W": np.array([1.0, 0.0])}
    opt = Momentum(lr=0.1, momentum=0.9)
    opt.update(params, {"W": np.array([1.0, -2.0])})
    # v = -0.1 * g = [-0.1, 0.2]; W = [0.9, 0.2]
    np.testing.assert_allclose(params["W"], [0.9, 0.2], rtol=0, atol=1e-15)
    opt.update(params, {"W": np.array([0.5, 0.0])})
    # v = 0.9 * [-0.1, 0.2] - 0.1 * [0.5, 0] = [-0.14, 0.18]; W = [0.76, 0.38]
    np.testing.assert_allclose(params["W"], [0.76, 0.38], rtol=0, atol=1e-15)


def test_adagrad_one_step():
    params = {"W": np.array([1.0, 1.0, 3.0])}
    AdaGrad(lr=0.5).update(params, {"W": np.array([2.0, -0.5, 0.0])})
    # h = g**2 = [4, 0.25, 0]; step = 0.5 * g / (sqrt(h) + 1e-7):
    #   0.5 * 2 / 2.0000001 = 0.499999975..., 0.5 * -0.5 / 0.5000001 = -0.49999990..., 0
    np.testing.assert_allclose(params["W"], [0.500000025, 1.4999999, 3.0], rtol=0, atol=1e-12)


def test_adam_one_step_and_a_second():
    params = {"W": np.array([1.0, 1.0])}
    opt = Adam(lr=0.1, beta1=0.9, beta2=0.999)
    opt.update(params, {"W": np.array([2.0, -0.5])})
    # Step 1: lr_1 = 0.1 * sqrt(0.001) / 0.1; m = 0.1 g; v = 0.001 g**2, so
    # lr_1 * m / sqrt(v) = 0.1 * sign(g) exactly, shrunk by the 1e-7 next to sqrt(v).
    s1, s2 = math.sqrt(0.004), math.sqrt(0.00025)
    expected = [1 - 0.1 * s1 / (s1 + 1e-7), 1 + 0.1 * s2 / (s2 + 1e-7)]
    np.testing.assert_allclose(params["W"], expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(params["W"], [0.90000016, 1.09999937], rtol=0, atol=5e-9)
    assert opt.iter == 1
    # Step 2, against a scalar transcription of the book's formulas.
    g2 = [1.0, 1.0]
    opt.update(params, {"W": np.array(g2)})
    lr_t = 0.1 * math.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    for i, g1 in enumerate([2.0, -0.5]):
        m = 0.1 * g1
        v = 0.001 * g1 * g1
        m += 0.1 * (g2[i] - m)
        v += 0.001 * (g2[i] ** 2 - v)
        expected[i] -= lr_t * m / (math.sqrt(v) + 1e-7)
    np.testing.assert_allclose(params["W"], expected, rtol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "adam"])
def test_state_dict_resumes_bit_for_bit(name):
    rng = np.random.default_rng(0)
    grads = [
        {"W": rng.standard_normal((3, 2)).astype(np.float32), "b": rng.standard_normal(2).astype(np.float32)}
        for _ in range(6)
    ]
    start = {"W": np.ones((3, 2), np.float32), "b": np.zeros(2, np.float32)}

    straight = {k: v.copy() for k, v in start.items()}
    opt = get_optimizer(name, lr=0.05)
    for g in grads:
        opt.update(straight, g)

    resumed = {k: v.copy() for k, v in start.items()}
    first = get_optimizer(name, lr=0.05)
    for g in grads[:3]:
        first.update(resumed, g)
    state = first.state_dict()
    second = get_optimizer(name, lr=0.05)
    second.load_state_dict(state)
    for g in grads[3:]:
        second.update(resumed, g)
    for k in start:
        assert resumed[k].dtype == np.float32
        np.testing.assert_array_equal(resumed[k], straight[k])


def test_get_optimizer_and_validation():
    assert isinstance(get_optimizer("ADAM"), Adam)
    assert get_optimizer("sgd", lr=0.3).lr == 0.3
    assert repr(Momentum(lr=0.1)) == "Momentum(lr=0.1, momentum=0.9)"
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        get_optimizer("rmsprop")
    with pytest.raises(ValueError, match="lr must be a number > 0, got 0"):
        SGD(lr=0)
    with pytest.raises(ValueError, match="lr must be a number > 0, got nan"):
        Adam(lr=float("nan"))
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), got 1.5"):
        Momentum(momentum=1.5)
    with pytest.raises(ValueError, match="does not belong to Adam"):
        Adam().load_state_dict({"arrays": {"h/W": np.zeros(1)}})


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "adam"])
def test_every_optimizer_shares_one_base(name):
    from nnlearn.common.optimizer import OPTIMIZERS, Optimizer

    assert OPTIMIZERS[name].__bases__ == (Optimizer,)  # no optimizer is another's subclass


def test_sgd_is_the_books_update_to_the_bit():
    rng = np.random.default_rng(4)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    book = {k: v.copy() for k, v in params.items()}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    for _ in range(3):
        SGD(lr=0.05).update(params, grads)
        for key in book:
            book[key] -= 0.05 * grads[key]
    for k in params:
        np.testing.assert_array_equal(params[k], book[k])


@pytest.mark.parametrize("name", ["momentum", "adagrad", "adam"])
def test_an_update_in_blocks_gives_the_numbers_of_one_in_a_piece(name, monkeypatch):
    import nnlearn.common.optimizer as optimizer

    rng = np.random.default_rng(5)
    start = {"W": rng.standard_normal((300, 250)).astype(np.float32), "b": rng.standard_normal(250).astype(np.float32)}
    grads = [{k: rng.standard_normal(v.shape).astype(np.float32) for k, v in start.items()} for _ in range(3)]

    def run(block):
        monkeypatch.setattr(optimizer, "BLOCK", block)
        params, opt = {k: v.copy() for k, v in start.items()}, optimizer.OPTIMIZERS[name](lr=0.01)
        for g in grads:
            opt.update(params, g)
        return params, opt.state_dict()["arrays"]

    (p_blocks, s_blocks), (p_whole, s_whole) = run(1 << 12), run(1 << 30)  # 300 x 250 = 75,000 elements
    for k in p_whole:
        np.testing.assert_array_equal(p_blocks[k], p_whole[k])
    for k in s_whole:
        np.testing.assert_array_equal(s_blocks[k], s_whole[k])
    assert not np.array_equal(p_whole["W"], start["W"])

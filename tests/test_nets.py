"""Networks: the chapter's numbers, backprop against the numerical gradient, the fast path, I/O."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

from nnlearn import gradient as diff
from nnlearn.functions import sigmoid, softmax
from nnlearn.losses import cross_entropy_error
from nnlearn.nets import MultiLayerNet, SimpleNet, TwoLayerNet, gradient_check, load_network

BOOK_W = [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]]


# -- SimpleNet: the chapter's 2x3 example ------------------------------------------------------------


def test_simple_net_reproduces_the_book():
    net = SimpleNet(W=BOOK_W)
    x = np.array([0.6, 0.9])
    p = net.predict(x)
    np.testing.assert_allclose(p, [1.05414809, 0.63071653, 1.1328074], rtol=0, atol=5e-9)
    assert int(np.argmax(p)) == 2
    t = np.array([0, 0, 1])
    assert repr(net.loss(x, t)) == "0.9280682857864075"
    dW = net.numerical_gradient(x, t)["W"]
    np.testing.assert_allclose(dW, [[0.21924757, 0.14356243, -0.36281], [0.32887136, 0.21534364, -0.544215]],
                               rtol=0, atol=5e-9)
    # The book's own spelling gives the same array, and W is restored exactly.
    np.testing.assert_array_equal(diff.numerical_gradient(lambda W: net.loss(x, t), net.W), dW)
    np.testing.assert_array_equal(net.W, np.array(BOOK_W))


def test_simple_net_gradient_is_analytic_softmax_gradient():
    net = SimpleNet(seed=3)
    x, t = np.array([0.6, 0.9]), np.array([0, 1, 0])
    y = softmax(net.predict(x))
    # d/dW of -log(y_1 + 1e-7): the softmax gradient (y - t) scaled by y_1 / (y_1 + 1e-7).
    exact = np.outer(x, y - t) * y[1] / (y[1] + 1e-7)
    np.testing.assert_allclose(net.numerical_gradient(x, t)["W"], exact, rtol=0, atol=1e-9)


def test_simple_net_seed_and_validation():
    np.testing.assert_array_equal(SimpleNet(seed=1).W, SimpleNet(seed=1).W)
    assert not np.array_equal(SimpleNet(seed=1).W, SimpleNet(seed=2).W)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        SimpleNet(W=np.zeros((3, 2)))
    net = SimpleNet(seed=0)
    net.W = np.ones((2, 3))
    assert net.params["W"] is net.W


# -- TwoLayerNet / MultiLayerNet -----------------------------------------------------------------------


def test_two_layer_net_has_the_book_interface():
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=0)
    assert {k: v.shape for k, v in net.params.items()} == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert list(net.layers) == ["Affine1", "Sigmoid1", "Affine2"]
    assert net.activation == "sigmoid" and net.loss_type == "cross_entropy" and net.sizes == (784, 50, 10)
    np.testing.assert_array_equal(net.params["b1"], 0)
    # Weights are weight_init_std * standard normal draws of the seeded Generator.
    expected = 0.01 * np.random.default_rng(0).standard_normal((784, 50))
    np.testing.assert_array_equal(net.params["W1"], expected)
    assert abs(float(net.params["W1"].std()) - 0.01) < 2e-4


def test_predict_loss_accuracy_follow_the_definitions():
    net = TwoLayerNet(5, 4, 3, weight_init_std=0.8, seed=1)
    rng = np.random.default_rng(2)
    x, t = rng.random((7, 5)), rng.integers(0, 3, 7)
    W1, b1, W2, b2 = (net.params[k] for k in ("W1", "b1", "W2", "b2"))
    y = softmax(sigmoid(x @ W1 + b1) @ W2 + b2)  # the book's ch. 4 predict
    np.testing.assert_allclose(net.predict(x), y, rtol=1e-14)
    assert net.loss(x, t) == pytest.approx(cross_entropy_error(y, t), rel=1e-14)
    assert net.accuracy(x, t) == np.mean(np.argmax(y, axis=1) == t)
    assert net.accuracy(x, np.eye(3)[t]) == net.accuracy(x, t)
    assert net.accuracy(x, t, chunk_size=2) == net.accuracy(x, t)
    np.testing.assert_allclose(net.predict(x[0]), y[0], rtol=1e-14)
    np.testing.assert_array_equal(np.argmax(net.logits(x), axis=1), np.argmax(y, axis=1))


KINDS = list(itertools.product(["sigmoid", "relu"], ["cross_entropy", "mse"], [[], [6], [7, 5]],
                               [0.5, "xavier", "he"]))


@pytest.mark.parametrize("activation, loss, hidden, init", KINDS)
def test_backprop_matches_numerical_gradient_for_every_kind(activation, loss, hidden, init):
    rng = np.random.default_rng(zlib.crc32(repr((activation, loss, hidden, init)).encode()))
    net = MultiLayerNet(8, hidden, 4, activation=activation, weight_init_std=init, loss=loss,
                        seed=int(rng.integers(1000)))
    # Non-zero biases: with zero ones, a sample whose ReLUs are all off puts the next layer exactly
    # on the kink, where the central difference straddles it and legitimately differs from backprop.
    for key, value in net.params.items():
        if key.startswith("b"):
            value[...] = rng.normal(0, 0.3, value.shape)
    x = rng.standard_normal((5, 8))
    labels = rng.integers(0, 4, 5)
    for t in (labels, np.eye(4)[labels]):
        report = gradient_check(net, x, t)
        assert set(report) == set(net.params)
        worst = max(r["relative"] for r in report.values())
        assert worst <= 1e-6, report


def test_backprop_matches_numerical_gradient_on_the_book_check():
    # The book's gradient_check.py, on random images instead of MNIST: TwoLayerNet(784, 50, 10), batch 3.
    net = TwoLayerNet(784, 50, 10, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((3, 784)) * (rng.random((3, 784)) < 0.2)
    report = gradient_check(net, x, np.array([5, 0, 4]))
    assert max(r["relative"] for r in report.values()) < 1e-7
    assert max(r["max_abs"] for r in report.values()) < 1e-9


def test_numerical_gradient_restores_parameters_exactly():
    net = MultiLayerNet(3, [4], 2, activation="relu", seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    net.numerical_gradient(np.ones((2, 3)), np.array([0, 1]))
    for k in before:
        np.testing.assert_array_equal(net.params[k], before[k])


@pytest.mark.parametrize("activation, loss", list(itertools.product(["sigmoid", "relu"], ["cross_entropy", "mse"])))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", [[7, 6], [7], []])
def test_fast_path_equals_layer_backprop(activation, loss, dtype, hidden):
    net = MultiLayerNet(9, hidden, 5, activation=activation, loss=loss, weight_init_std=0.7, seed=4, dtype=dtype)
    rng = np.random.default_rng(5)
    tol = 1e-13 if dtype == np.float64 else 2e-6
    for n in (6, 6, 3):  # the second call reuses the buffers, the third reallocates them
        x = rng.standard_normal((n, 9)).astype(dtype)
        labels = rng.integers(0, 5, n)
        for t in (labels, np.eye(5, dtype=dtype)[labels]):
            loss_plain, g_plain = net.loss_and_gradient(x, t)
            g_plain = {k: v.copy() for k, v in g_plain.items()}
            loss_fast, g_fast = net._fast_loss_and_gradient(x, t)
            assert loss_fast == pytest.approx(loss_plain, rel=tol, abs=tol)
            for k in g_plain:
                assert g_fast[k].dtype == dtype
                np.testing.assert_allclose(g_fast[k], g_plain[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_sgd_step_is_one_sgd_update_by_backprop(dtype):
    net = TwoLayerNet(9, 7, 5, weight_init_std=0.7, seed=4, dtype=dtype)
    twin = TwoLayerNet(9, 7, 5, weight_init_std=0.7, seed=4, dtype=dtype)
    rng = np.random.default_rng(6)
    tol = 1e-13 if dtype == np.float64 else 2e-6
    for _ in range(3):
        x = rng.standard_normal((80, 9)).astype(dtype)
        # uint8 labels, as MNIST's come from disk: their flat indices (label * 80 + sample, up to
        # 399) must not wrap around at 256.
        t = rng.integers(0, 5, 80).astype(np.uint8)
        loss_plain, grads = twin.loss_and_gradient(x, t)
        expected = {k: twin.params[k] - 0.5 * grads[k] for k in twin.params}
        with np.errstate(over="ignore"):
            loss_fast = net._fast_sgd_step(x, t, 0.5)
        assert loss_fast == pytest.approx(loss_plain, rel=tol, abs=tol)
        for k in expected:
            assert net.params[k].dtype == dtype
            np.testing.assert_allclose(net.params[k], expected[k], rtol=tol, atol=tol)
            twin.params[k][...] = expected[k]


def test_fast_path_follows_a_replaced_parameter_array():
    net = TwoLayerNet(4, 3, 2, weight_init_std=0.5, seed=0)
    x, t = np.random.default_rng(1).random((5, 4)), np.array([0, 1, 1, 0, 1])
    net._fast_loss_and_gradient(x, t)
    net.params["W1"] = np.full((4, 3), 0.25)  # as a reader of the book may do
    loss_fast, g_fast = net._fast_loss_and_gradient(x, t)
    loss_plain, g_plain = net.loss_and_gradient(x, t)
    assert loss_fast == pytest.approx(loss_plain, rel=1e-13)
    np.testing.assert_allclose(g_fast["W1"], g_plain["W1"], rtol=1e-12, atol=1e-15)


def test_float32_and_float64_nets_share_their_draws():
    a = MultiLayerNet(6, [5], 3, seed=9, dtype=np.float64)
    b = MultiLayerNet(6, [5], 3, seed=9, dtype=np.float32)
    for k in a.params:
        assert b.params[k].dtype == np.float32
        np.testing.assert_array_equal(b.params[k], a.params[k].astype(np.float32))


def test_init_scales():
    for init, scale in (("xavier", np.sqrt(1 / 400)), ("he", np.sqrt(2 / 400)), ("sigmoid", np.sqrt(1 / 400)),
                        ("relu", np.sqrt(2 / 400)), (0.05, 0.05)):
        net = MultiLayerNet(400, [300], 2, weight_init_std=init, seed=0)
        assert float(net.params["W1"].std()) == pytest.approx(scale, rel=0.02)


def test_assigning_a_new_parameter_array_takes_effect():
    net = TwoLayerNet(3, 2, 2, seed=0)
    x = np.ones((1, 3))
    net.params["W2"] = np.zeros((2, 2))
    net.params["b2"] = np.array([0.0, 5.0])
    assert int(np.argmax(net.predict(x)[0])) == 1


def test_bad_input_gives_clear_errors():
    net = TwoLayerNet(4, 3, 2, seed=0)
    with pytest.raises(ValueError, match="input_size is 4"):
        net.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="out of range"):
        net.loss(np.ones((2, 4)), np.array([0, 2]))
    with pytest.raises(ValueError, match="contains NaN"):
        net.loss(np.array([[np.nan, 0, 0, 0]]), np.array([0]))
    with pytest.raises(ValueError, match="t has shape"):
        net.loss(np.ones((2, 4)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="unknown activation"):
        MultiLayerNet(4, [3], 2, activation="tanh")
    with pytest.raises(ValueError, match="weight_init_std"):
        MultiLayerNet(4, [3], 2, weight_init_std=-1)
    with pytest.raises(ValueError, match="unknown weight_init_std"):
        MultiLayerNet(4, [3], 2, weight_init_std="lecun")
    with pytest.raises(ValueError, match="hidden size must be a positive integer"):
        MultiLayerNet(4, [0], 2)
    with pytest.raises(ValueError, match="unknown loss"):
        MultiLayerNet(4, [3], 2, loss="hinge")


def test_save_and_load_round_trip(tmp_path):
    net = TwoLayerNet(6, 4, 3, weight_init_std=0.5, seed=2, dtype=np.float32)
    net.params["b2"][:] = [0.1, -0.2, 0.3]
    path = net.save(tmp_path / "model.npz")
    back = load_network(path)
    assert type(back) is TwoLayerNet and back.dtype == np.float32 and back.sizes == (6, 4, 3)
    for k in net.params:
        np.testing.assert_array_equal(back.params[k], net.params[k])
    deep = MultiLayerNet(6, [5, 4], 3, activation="relu", weight_init_std="he", loss="mse", seed=1)
    back = load_network(deep.save(tmp_path / "deep.npz"))
    assert type(back) is MultiLayerNet and back.activation == "relu" and back.loss_type == "mse"
    x = np.random.default_rng(0).random((4, 6))
    np.testing.assert_array_equal(back.predict(x), deep.predict(x))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a network saved by nnlearn"):
        load_network(tmp_path / "junk.npz")
    # a real archive cut short (a zip header, then nothing)
    (tmp_path / "cut.npz").write_bytes((tmp_path / "deep.npz").read_bytes()[:100])
    with pytest.raises(ValueError, match="not a network saved by nnlearn"):
        load_network(tmp_path / "cut.npz")
    assert not list(tmp_path.glob(".*.tmp"))


def test_simple_net_example_prints_the_books_numbers(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "simple_net.py"
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for text in ("[1.05414809 0.63071653 1.1328074 ]", "0.9280682857864075",
                 "[[ 0.21924757  0.14356243 -0.36281   ]", " [ 0.32887136  0.21534364 -0.544215  ]]", "True"):
        assert text in proc.stdout

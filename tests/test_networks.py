"""Networks: the chapter's numbers, backprop against the numerical gradient, strict files, memory."""

from __future__ import annotations

import itertools
import warnings
import zlib

import numpy as np
import pytest

from nnlearn import MultiLayerNet, SimpleNet, TwoLayerNet, gradient_check, load_network
from nnlearn.base.errors import FileFormatError
from nnlearn.common import gradient as diff
from nnlearn.common.functions import sigmoid, softmax
from nnlearn.common.losses import cross_entropy_error

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
    np.testing.assert_allclose(
        dW, [[0.21924757, 0.14356243, -0.36281], [0.32887136, 0.21534364, -0.544215]], rtol=0, atol=5e-9
    )
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
    net.W = np.ones((2, 3))  # the book assigns new weights this way; predict must use them
    np.testing.assert_array_equal(net.predict(np.array([0.6, 0.9])), [1.5, 1.5, 1.5])


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


KINDS = list(itertools.product(["sigmoid", "relu"], ["cross_entropy", "mse"], [[], [6], [7, 5]], [0.5, "he"]))


@pytest.mark.parametrize("activation, loss, hidden, init", KINDS)
def test_backprop_matches_numerical_gradient_for_every_kind(activation, loss, hidden, init):
    rng = np.random.default_rng(zlib.crc32(repr((activation, loss, hidden, init)).encode()))
    net = MultiLayerNet(
        8, hidden, 4, activation=activation, weight_init_std=init, loss=loss, seed=int(rng.integers(1000))
    )
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


def test_float32_and_float64_nets_share_their_draws():
    a = MultiLayerNet(6, [5], 3, seed=9, dtype=np.float64)
    b = MultiLayerNet(6, [5], 3, seed=9, dtype=np.float32)
    for k in a.params:
        assert b.params[k].dtype == np.float32
        np.testing.assert_array_equal(b.params[k], a.params[k].astype(np.float32))


def test_init_scales():
    for init, scale in (
        ("xavier", np.sqrt(1 / 400)),
        ("he", np.sqrt(2 / 400)),
        ("sigmoid", np.sqrt(1 / 400)),
        ("relu", np.sqrt(2 / 400)),
        (0.05, 0.05),
    ):
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
    with pytest.raises(ValueError, match="weight_init_std must be a standard deviation > 0"):
        MultiLayerNet(4, [3], 2, weight_init_std="lecun")
    with pytest.raises(ValueError, match=r"hidden_size_list must be one or more whole numbers >= 1"):
        MultiLayerNet(4, [0], 2)
    with pytest.raises(ValueError, match="unknown loss"):
        MultiLayerNet(4, [3], 2, loss="hinge")


def test_a_network_too_large_is_refused_before_anything_is_allocated():
    from nnlearn.base.errors import InputError

    with pytest.raises(InputError) as e:  # was a raw MemoryError
        TwoLayerNet(784, 10**12, 10)
    said = str(e.value)  # the network, its size, the limit
    assert all(token in said for token in ("784-1000000000000-10", "7.95e+14", "100,000,000")), said
    with pytest.raises(InputError, match=r"^a 784-20000-10000-10 network has 2.16e\+08 parameters"):
        MultiLayerNet(784, [20000, 10000], 10)


@pytest.mark.parametrize("key", ["W1", "b2"])
def test_accuracy_and_classify_of_a_net_with_a_nan_weight_raise(key):
    from nnlearn.base.errors import DivergenceError

    net = TwoLayerNet(4, 3, 2, seed=0)
    net.params[key].flat[0] = np.nan
    x = np.random.default_rng(0).random((4, 4))
    with pytest.raises(DivergenceError) as e:
        net.accuracy(x, np.array([0, 0, 0, 1]))  # was 0.75
    said = str(e.value)  # the weight, what it holds, and the two ways on
    assert all(token in said for token in (f"network's {key}", "NaN or inf", "checkpoint", "learning rate")), said
    with pytest.raises(DivergenceError):
        net.classify(x, engine="reference")


def test_an_output_that_overflows_is_blamed_on_the_input():
    from nnlearn.base.errors import InputError

    net = MultiLayerNet(4, [3], 2, weight_init_std=1.0, dtype=np.float32, seed=0)
    x = np.full((3, 4), 3e38, dtype=np.float32)
    x[0] = 0.5
    with (
        np.errstate(all="ignore"),
        pytest.raises(InputError, match=r"^the network's output for row 1 of x is not finite"),
    ):
        net.classify(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_nan_or_inf_in_a_later_chunk_of_x_is_refused_as_the_inputs(bad):
    # classify looks for NaN or inf only in a chunk whose row sums are not finite: the look must
    # still happen in every chunk, and a finite chunk whose sums overflow must still pass.
    from nnlearn.base.errors import InputError

    net = MultiLayerNet(4, [3], 2, dtype=np.float32, seed=0)
    for p in net.params.values():
        p[...] = 0.0
    x = np.full((6, 4), 0.5, dtype=np.float32)
    x[1] = 3e38  # finite, but its row sums to inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and that overflow is not the user's business
        assert net.classify(x, chunk_size=2).tolist() == [0] * 6  # zero weights: every output 0, class 0
    x[4, 2] = bad
    name = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(InputError, match=rf"^x contains {name}; check the data$"):  # not "lower the learning rate"
        net.classify(x, chunk_size=2)


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
    with pytest.raises(FileFormatError, match="not a network saved by nnlearn"):
        load_network(tmp_path / "junk.npz")
    # a real archive cut short (a zip header, then nothing)
    (tmp_path / "cut.npz").write_bytes((tmp_path / "deep.npz").read_bytes()[:100])
    with pytest.raises(FileFormatError, match="not a network saved by nnlearn"):
        load_network(tmp_path / "cut.npz")
    assert not list(tmp_path.glob(".*.tmp"))


def test_simple_net_example_prints_the_books_numbers(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "simple_net.py"
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for text in (
        "[1.05414809 0.63071653 1.1328074 ]",
        "0.9280682857864075",
        "[[ 0.21924757  0.14356243 -0.36281   ]",
        " [ 0.32887136  0.21534364 -0.544215  ]]",
        "True",
    ):
        assert text in proc.stdout


def _write_npz(path, **arrays):
    import io
    import json

    buf = io.BytesIO()
    np.savez(buf, **{k: (np.array(json.dumps(v)) if k == "meta" else v) for k, v in arrays.items()})
    path.write_bytes(buf.getvalue())
    return path


def test_loading_checks_the_exact_arrays_their_shapes_and_finiteness(tmp_path):
    net = TwoLayerNet(6, 4, 3, weight_init_std=0.5, seed=2)
    good = {f"param_{k}": v for k, v in net.params.items()}
    meta = net.config()
    cases = {
        "lacks param_W2": {k: v for k, v in good.items() if k != "param_W2"},
        "has unexpected param_W9": good | {"param_W9": np.zeros(2)},
        r"param_b1 has shape \(5,\), expected \(4,\)": good | {"param_b1": np.zeros(5)},
        "param_W1 holds NaN or inf": good | {"param_W1": np.full((6, 4), np.nan)},
        "param_W1 is int64, expected float64": good | {"param_W1": np.zeros((6, 4), dtype=np.int64)},
    }
    for i, (message, arrays) in enumerate(cases.items()):
        path = _write_npz(tmp_path / f"m{i}.npz", meta=meta, **arrays)
        with pytest.raises(FileFormatError, match=message) as info:
            load_network(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    bad_meta = _write_npz(tmp_path / "meta.npz", meta={"class": "MultiLayerNet"}, **good)
    with pytest.raises(FileFormatError, match="describes no network"):
        load_network(bad_meta)
    back = load_network(_write_npz(tmp_path / "ok.npz", meta=meta, **good))
    np.testing.assert_array_equal(back.params["W2"], net.params["W2"])


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


@pytest.mark.parametrize("net_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_accuracy_on_60000_images_costs_at_most_64_mib_beyond_the_input(net_dtype, x_dtype):
    import threading

    net = MultiLayerNet(784, [50], 10, activation="sigmoid", weight_init_std=0.01, seed=0, dtype=net_dtype)
    x = np.full((60000, 784), 0.5, dtype=x_dtype)  # what it costs, not what it says: any numbers do
    t = np.zeros(60000, dtype=np.int64)
    base, peak, done = _rss_mib(), [0.0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mib())
            done.wait(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        acc = net.accuracy(x, t)
    finally:
        done.set()
        watcher.join()
    assert 0.0 <= acc <= 1.0
    assert peak[0] - base <= 64, f"accuracy grew the process by {peak[0] - base:.0f} MiB"

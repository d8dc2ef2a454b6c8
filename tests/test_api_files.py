"""Model and checkpoint files are hostile until checked: sizes before unpacking, meta before building."""

from __future__ import annotations

import io
import json
import os
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from nnlearn import MultiLayerNet, TwoLayerNet, load_network
from nnlearn.base.errors import FileFormatError

FIX = "train one with `nnlearn train`"


def npz(path, meta, **arrays):
    """An archive as np.savez writes it; ``meta`` a JSON text (any text: the tests write damaged ones)."""
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(meta), **arrays)
    path.write_bytes(buf.getvalue())
    return path


def params(net):
    return {f"param_{k}": v for k, v in net.params.items()}


def peak_bytes(fn):
    """``(result or exception, peak bytes traced)``; NumPy's array buffers are traced too."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 - returned for the test to judge
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def write_bomb(path, meta: str, member: str, n_bytes: int):
    """A model.npz whose ``member`` is ``n_bytes`` of zeros, deflated (about 1000:1), beside a real meta."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("meta.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array(meta))
        with zf.open(f"{member}.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (n_bytes // 8,)})
            chunk = bytes(2**20)
            for _ in range(n_bytes // 2**20):
                fh.write(chunk)
    return path


def test_a_zip_bomb_member_is_refused_before_it_is_unpacked(tmp_path):
    net = TwoLayerNet(4, 3, 2, seed=0)
    path = write_bomb(tmp_path / "model.npz", json.dumps(net.config()), "param_W1", 64 * 2**20)
    assert path.stat().st_size < 200_000  # 64 MiB of zeros in about 64 KB
    error, peak = peak_bytes(lambda: load_network(path))
    assert isinstance(error, FileFormatError)
    message = str(error)
    assert message.startswith(f"{path} is not a network saved by nnlearn or is damaged (its ")
    assert " bytes would unpack to 67," in message and message.endswith(f"(a zip bomb?)); {FIX}")
    assert peak < 4 * 2**20  # the old reader unpacked all 64 MiB (1.5 GB for the 1.6 MB file)


def test_meta_with_a_huge_hidden_layer_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    import nnlearn.common.networks

    def no_build(*args, **kwargs):
        raise AssertionError("a network was built")

    monkeypatch.setattr(nnlearn.common.networks, "build_network", no_build)
    net = TwoLayerNet(4, 3, 2, seed=0)
    path = npz(
        tmp_path / "model.npz",
        json.dumps(net.config() | {"hidden_size_list": [10**9], "hidden_size": 10**9}),
        **params(net),
    )
    with pytest.raises(FileFormatError) as e:  # was a MemoryError ("internal error")
        load_network(path)
    said = str(e.value)  # the file, the network it describes, its size and the limit, and the fix
    assert said.startswith(str(path)) and said.endswith(FIX), said
    assert all(token in said for token in ("4-1000000000-2", "7e+09", "100,000,000")), said
    # Within the limit but not what the arrays hold: refused from the headers, still without building.
    path = npz(tmp_path / "wide.npz", json.dumps(net.config() | {"hidden_size_list": [1000]}), **params(net))
    with pytest.raises(FileFormatError, match=r"param_W1 has shape \(4, 3\), expected \(4, 1000\)"):
        load_network(path)


@pytest.mark.parametrize(
    "meta, reason",
    [
        ("[" * 100_000, "meta is not valid JSON (nested too deeply)"),  # was a RecursionError
        ('{"class": ', "meta is not valid JSON (Expecting value: line 1 column 11 (char 10))"),
        ("[1, 2]", "its meta is not a JSON object"),
        ('{"input_size": 4, "hidden_size_list": "abc", "output_size": 2}', None),
        ('{"input_size": true, "hidden_size_list": [3], "output_size": 2}', None),
        ('{"input_size": 4, "hidden_size_list": [3], "output_size": 2, "dtype": "float16"}', None),
    ],
)
def test_damaged_meta_is_one_file_format_error(tmp_path, meta, reason):
    net = TwoLayerNet(4, 3, 2, seed=0)
    path = npz(tmp_path / "model.npz", meta, **params(net))
    with pytest.raises(FileFormatError) as e:
        load_network(path)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(path)) and message.endswith(FIX)
    if reason:
        assert f"({reason})" in message and "damaged" in message, message
    else:
        assert "no network" in message, message


def test_an_oversized_meta_and_pickled_objects_are_refused(tmp_path):
    net = TwoLayerNet(4, 3, 2, seed=0)
    path = npz(tmp_path / "model.npz", json.dumps(net.config() | {"pad": "x" * 300_000}), **params(net))
    with pytest.raises(FileFormatError, match=r"meta .*1,2\d\d,\d{3} bytes.*1,048,576"):
        load_network(path)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(net.config())), **params(net) | {"param_b1": np.array([None] * 3)})
    (tmp_path / "objects.npz").write_bytes(buf.getvalue())
    with pytest.raises(FileFormatError, match="param_b1 holds Python objects"):
        load_network(tmp_path / "objects.npz")


def test_a_header_that_lies_about_its_size_is_refused(tmp_path):
    net = TwoLayerNet(4, 3, 2, seed=0)
    good = npz(tmp_path / "model.npz", json.dumps(net.config()), **params(net))
    data = good.read_bytes()
    # The header of b1 claims (3000,) values where 3 are stored.
    lied = data.replace(b"'shape': (3,), }", b"'shape': (3000,), }", 1)
    assert lied != data and len(lied) == len(data) + 3
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(tmp_path / "lied.npz", "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "param_b1.npy":
                body = body.replace(b"'shape': (3,), }", b"'shape': (3000,), }")
            zout.writestr(info.filename, body)
    with pytest.raises(FileFormatError, match=r"\(param_b1's header does not match its size\)"):
        load_network(tmp_path / "lied.npz")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    result = []
    reader = threading.Thread(
        target=lambda: result.append(pytest.raises(FileFormatError, load_network, fifo)), daemon=True
    )
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("load_network waited on a FIFO")
    said = str(result[0].value)
    assert said.startswith(str(fifo)) and "FIFO" in said and said.endswith(FIX), said


def test_files_of_nnlearn_itself_still_load(tmp_path):
    deep = MultiLayerNet(
        6,
        [5, 4],
        3,
        activation="relu",
        loss="mse",
        seed=1,
        dtype=np.float32,
        weight_decay_lambda=0.1,
        dropout_ratio=0.2,
    )
    back = load_network(deep.save(tmp_path / "deep.npz"))
    assert back.sizes == (6, 5, 4, 3) and back.dtype == np.float32 and back.dropout_ratio == 0.2
    for k in deep.params:
        np.testing.assert_array_equal(back.params[k], deep.params[k])
    # Networks saved before checkpoints kept their description under "config".
    buf = io.BytesIO()
    np.savez(buf, config=np.array(json.dumps(deep.config())), **params(deep))
    (tmp_path / "old.npz").write_bytes(buf.getvalue())
    assert load_network(tmp_path / "old.npz").sizes == (6, 5, 4, 3)


# -- checkpoints ----------------------------------------------------------------------------------


def checkpoint_trainer(tmp_path):
    from nnlearn.train.callbacks import standard_callbacks
    from nnlearn.train.settings import TrainSettings
    from nnlearn.train.trainer import Trainer

    rng = np.random.default_rng(0)
    x, t = rng.random((60, 5)).astype(np.float32), rng.integers(0, 3, 60)
    net = MultiLayerNet(5, [4], 3, seed=1, dtype=np.float32)
    settings = TrainSettings(optimizer="adam", lr=0.01, batch_size=20, iters=3, epochs=None, seed=7, dtype="float32")
    return Trainer(net, x, t, settings=settings, callbacks=standard_callbacks(False, tmp_path / "ckpt.npz"))


@pytest.mark.parametrize(
    "field, text, shown, expected",
    [
        ("seconds", "NaN", "missing (or NaN)", "a finite number >= 0"),  # was NaN in summary.json
        ("optimizer_lr", "-0.1", "-0.1", "a finite number > 0"),  # was a false "diverged"
        ("iteration", "1e400", "inf", "a whole number from 0 to 1000000000000"),  # was an OverflowError
        ("iteration", "2.5", "2.5", "a whole number from 0 to 1000000000000"),
        ("optimizer_scalars", '{"iter": "x"}', "'x'", "a finite number"),
        ("rng", "[]", "[]", "an object"),
    ],
)
def test_checkpoint_meta_no_run_writes_is_one_line(tmp_path, field, text, shown, expected):
    from nnlearn.common.saving import read_npz

    trainer = checkpoint_trainer(tmp_path)
    trainer.train()
    arrays, meta = read_npz(tmp_path / "ckpt.npz", "a checkpoint", "")
    marker = "\u0000MARK\u0000"
    meta_text = json.dumps(meta | {field: marker}).replace(json.dumps(marker), text)
    path = npz(tmp_path / "bad.npz", meta_text, **arrays)
    with pytest.raises(FileFormatError) as e:
        checkpoint_trainer(tmp_path).load_checkpoint(path)
    field_name = "optimizer_scalars.iter" if field == "optimizer_scalars" else field
    message = str(e.value)
    assert message.startswith(f"{path} is a damaged nnlearn checkpoint: its {field_name} is {shown}, not {expected}; ")
    assert "\n" not in message

"""``nnlearn data download|verify|info|show`` and ``nnlearn demo minibatch``."""

import functools
import gzip
import http.server
import socket
import struct
import threading
import time

import numpy as np
import pytest
from mnist_tiny import NAMES, tiny_payloads, write_tiny
from PIL import Image

from nnlearn.cli import main
from nnlearn.cli.data import render_text
from nnlearn.datasets import write_idx

MNIST_FILES = list(NAMES.values())


@pytest.fixture(autouse=True)
def _no_download(monkeypatch):
    monkeypatch.setenv("NNLEARN_MIRRORS", "")
    # The local test servers must be reached directly even where a proxy is configured.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- verify -----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_verify_real_mnist(mnist_dir, capsys):
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(mnist_dir))
    lines = out.splitlines()
    assert code == 0
    assert [ln.split()[0] for ln in lines[:4]] == ["OK"] * 4
    assert "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db (matches the known digest)" in lines[0]
    assert lines[-1] == "MNIST: all 4 files verified"


def _tiny_image_file(folder, kind):
    """A broken train-images file of the given kind."""
    path = folder / "train-images-idx3-ubyte.gz"
    good = tiny_payloads(n_train=3)["train-images"]
    # The header MNIST's file has, then only 3 images: each kind below breaks what comes after the header.
    cut = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28) + good[16:]
    if kind == "truncated":
        path.write_bytes(gzip.compress(cut)[:-40])
    elif kind == "truncated payload":
        path.write_bytes(gzip.compress(cut))
    elif kind == "corrupt gzip":
        raw = bytearray(gzip.compress(cut, compresslevel=1))
        raw[-40:-30] = b"\xff" * 10
        path.write_bytes(bytes(raw))
    elif kind == "html instead of data":
        path.write_bytes(b"<!DOCTYPE html><title>403 Forbidden</title>")
    elif kind == "wrong element type":
        # MNIST's header with int16 (0x0B) for uint8, over 3 images' bytes: refused from the header.
        path.write_bytes(gzip.compress(bytes([0, 0, 0x0B, 3]) + cut[4:]))
    elif kind == "labels file named as images":
        write_idx(path, np.zeros(60000, dtype=np.uint8))
    elif kind == "not MNIST (wrong size)":
        path.write_bytes(gzip.compress(good))
    elif kind == "missing":
        pass
    return path


KINDS = {
    "truncated": "the compressed data is truncated",
    "truncated payload": "truncated: the header announces shape (60000, 28, 28) of uint8 (47040000 bytes) but the file "
    "holds 2352 payload bytes",
    "corrupt gzip": "the gzip data is corrupt",
    "html instead of data": "not an IDX file",
    "wrong element type": "holds int16 elements, expected uint8",
    "labels file named as images": "has shape (60000,), expected (60000, 28, 28)",
    "not MNIST (wrong size)": "has shape (3, 28, 28), expected (60000, 28, 28)",
    "missing": "missing",
}


@pytest.mark.realdata
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_verify_fails_on_each_kind_of_broken_file(mnist_dir, tmp_path, capsys, kind):
    for name in MNIST_FILES[1:]:
        (tmp_path / name).symlink_to(mnist_dir / name)
    _tiny_image_file(tmp_path, kind)
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(tmp_path))
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("FAIL train-images-idx3-ubyte.gz: ")
    assert KINDS[kind] in lines[0]
    assert [ln.split()[0] for ln in lines[1:4]] == ["OK"] * 3
    assert lines[-1] == "MNIST: 1 of 4 files failed"


def test_verify_without_files_or_with_wrong_files_exits_non_zero(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(tmp_path))
    assert code == 1
    assert out.splitlines()[0] == "FAIL train-images-idx3-ubyte.gz: missing"
    assert "MNIST: no files found" in out
    write_tiny(tmp_path / "mnist", tiny_payloads())
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(tmp_path))
    assert code == 1 and out.count("FAIL") == 4 and "has shape (12, 28, 28), expected (60000, 28, 28)" in out


# --- info, show, demo ---------------------------------------------------------------------------


@pytest.mark.realdata
def test_info_real_mnist(mnist_dir, capsys):
    code, out, _ = _run(capsys, "data", "info", "--data-dir", str(mnist_dir))
    assert code == 0
    assert str(mnist_dir / "train-images-idx3-ubyte.gz") in out
    assert "train: images (60000, 28, 28) uint8, labels (60000,) uint8" in out
    assert "class counts: 0=5923, 1=6742, 2=5958, 3=6131, 4=5842, 5=5421, 6=5918, 7=6265, 8=5851, 9=5949" in out
    assert "class counts: 0=980, 1=1135, 2=1032, 3=1010, 4=982, 5=892, 6=958, 7=1028, 8=974, 9=1009" in out


def test_info_without_files_says_how_to_provide_them(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    start = time.monotonic()
    code, out, err = _run(capsys, "data", "info", "--data-dir", str(tmp_path))
    assert time.monotonic() - start < 10
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[:3] == [
        "nnlearn: error: MNIST files not found; looked in:",
        f"    {tmp_path}/mnist: no such folder",
        f"    {tmp_path}: none of the files",
    ]
    assert "nnlearn data import FOLDER --dataset mnist" in lines[-2] and "NNLEARN_DATA" in lines[-2]


@pytest.mark.realdata
def test_show_writes_the_png_and_prints_the_digit(mnist_dir, tmp_path, capsys):
    png = tmp_path / "five.png"
    code, out, _ = _run(capsys, "data", "show", "--index", "0", "--out", str(png), "--data-dir", str(mnist_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "MNIST test[0]: label 7"  # the test split by default, as `predict --index`
    assert lines[1 + 28].startswith(f"wrote {png}  (28x28, white on black")
    art = lines[1:29]
    assert all(len(ln) <= 56 for ln in art) and sum(ch == "@" for ln in art for ch in ln) > 20
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (28, 28)
    code, out, _ = _run(
        capsys, "data", "show", "--split", "train", "--index", "0", "--out", str(png), "--data-dir", str(mnist_dir)
    )
    assert out.splitlines()[0] == "MNIST train[0]: label 5"


@pytest.mark.realdata
def test_show_index_out_of_range_is_a_one_line_error(mnist_dir, capsys, tmp_path):
    code, out, err = _run(
        capsys,
        "data",
        "show",
        "--split",
        "test",
        "--index",
        "10000",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(tmp_path / "x.png"),
    )
    assert code == 2
    assert err == "nnlearn: error: --index 10000 is out of range: the test split has 10000 images (0..9999)\n"
    assert not (tmp_path / "x.png").exists()


def test_render_text_maps_dark_to_blank_and_bright_to_at():
    img = np.zeros((2, 3), dtype=np.uint8)
    img[0, 1] = 255
    img[1, 2] = 128
    assert render_text(img) == "  @@\n    ++"


@pytest.mark.realdata
def test_demo_minibatch_prints_the_chapters_shapes(mnist_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default --out is ./nnlearn-demo: here, never in the checkout
    code, out, _ = _run(capsys, "demo", "minibatch", "--data-dir", str(mnist_dir))
    assert code == 0
    assert out.splitlines()[-1] == "  wrote nnlearn-demo/minibatch.png"
    assert (tmp_path / "nnlearn-demo" / "minibatch.png").is_file()
    assert "x_train.shape = (60000, 784)" in out
    assert "t_train.shape = (60000, 10)" in out
    assert "batch_mask = [51037, 38217, 30668, 16187, 18469, 2458, 4514, 991, 10516, 48796]" in out
    assert "x_batch.shape = (10, 784), t_batch.shape = (10, 10)" in out


# --- download -----------------------------------------------------------------------------------


@pytest.fixture
def file_server(mnist_dir):
    """A local HTTP server handing out the real MNIST files."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mnist_dir))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.realdata
def test_download_into_a_folder_then_verify(mnist_dir, file_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NNLEARN_MIRRORS", file_server)
    dest = tmp_path / "data"
    code, out, _ = _run(capsys, "data", "download", "--data-dir", str(dest))
    assert code == 0
    assert out.splitlines()[-1] == f"MNIST: all 4 files verified in {dest}"
    for name in MNIST_FILES:
        assert (dest / name).read_bytes() == (mnist_dir / name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(MNIST_FILES)
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(dest))
    assert code == 0


@pytest.mark.realdata
def test_download_does_nothing_when_the_files_are_already_available(mnist_dir, capsys, monkeypatch):
    monkeypatch.setenv("NNLEARN_DATA", str(mnist_dir.parent))
    code, out, _ = _run(capsys, "data", "download")
    assert code == 0 and out == f"MNIST: all 4 files present and verified in {mnist_dir}\n"


def test_download_with_every_mirror_down_fails_fast_with_one_line(tmp_path, capsys, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("NNLEARN_MIRRORS", f"http://127.0.0.1:{port}/")
    start = time.monotonic()
    code, out, err = _run(capsys, "data", "download", "--data-dir", str(tmp_path / "d"), "--timeout", "1")
    assert time.monotonic() - start < 10
    assert code == 1
    lines = err.splitlines()
    assert lines[:4] == [
        f"nnlearn: error: MNIST: 4 of 4 files could not be downloaded into {tmp_path / 'd'}",
        "  train-images-idx3-ubyte.gz: no mirror delivered it",
        f"    http://127.0.0.1:{port}/train-images-idx3-ubyte.gz: cannot connect (Connection refused)",
        "  train-labels-idx1-ubyte.gz: not tried, every mirror failed for an earlier file (no answer, or too slow)",
    ]
    assert lines[-1].startswith(
        "  without network: copy the four files to any folder and run `nnlearn data import FOLDER"
    )
    assert list((tmp_path / "d").iterdir()) == []

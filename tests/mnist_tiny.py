"""Tiny MNIST-format data sets for the datasets tests: four gzip IDX files and a matching spec."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np

from nnlearn.datasets.sources import DataFile, DatasetSpec

NAMES = {
    "train-images": "train-images-idx3-ubyte.gz",
    "train-labels": "train-labels-idx1-ubyte.gz",
    "test-images": "t10k-images-idx3-ubyte.gz",
    "test-labels": "t10k-labels-idx1-ubyte.gz",
}


def idx_bytes(arr: np.ndarray) -> bytes:
    """IDX bytes built by hand (independently of nnlearn's writer): uint8 only."""
    assert arr.dtype == np.uint8
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def tiny_arrays(n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test-images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test-labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def tiny_payloads(**kw) -> dict[str, bytes]:
    """Decompressed file contents, by role."""
    return {role: idx_bytes(arr) for role, arr in tiny_arrays(**kw).items()}


def tiny_spec(payloads: dict[str, bytes], name: str = "tiny", mirrors=()) -> DatasetSpec:
    """A spec whose known digests are those of ``payloads``."""
    files = []
    for role, data in payloads.items():
        n = struct.unpack(">I", data[4:8])[0]
        shape = (n, 28, 28) if role.endswith("images") else (n,)
        files.append(DataFile(role, NAMES[role], hashlib.sha256(data).hexdigest(), shape))
    return DatasetSpec(
        name=name,
        title=name.upper(),
        files=tuple(files),
        classes=tuple(str(i) for i in range(10)),
        mirrors=tuple(mirrors),
    )


def write_tiny(folder: Path, payloads: dict[str, bytes], compresslevel: int = 9) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, data in payloads.items():
        (folder / NAMES[role]).write_bytes(gzip.compress(data, compresslevel=compresslevel, mtime=0))
    return folder


#: The quick training of the CLI tests on these digits: the book's network, 60 iterations. One list,
#: because the resume tests compare a run trained with it to the shared one (conftest ``fast_run``).
FAST_TRAIN = ["--iters", "60", "--batch-size", "20", "--lr", "0.5", "--no-progress"]


def synthetic_mnist(n_train=500, n_test=200, seed=0):
    """Ten noisy, learnable 28x28 'digits' (each class a fixed random stroke pattern), float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((10, 784)) < 0.15).astype(np.float32)

    def draw(n):
        t = rng.integers(0, 10, n).astype(np.uint8)
        x = np.clip(protos[t] * rng.uniform(0.6, 1.0, (n, 784)) + 0.1 * rng.random((n, 784)), 0, 1)
        return x.astype(np.float32), t

    return draw(n_train), draw(n_test)


def gzip_bomb(head: bytes, zeros: int) -> bytes:
    """A gzip stream of ``head`` followed by ``zeros`` zero bytes: about 1/1000 of its decompressed size."""
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [c.compress(head)]
    block = bytes(1 << 20)
    for start in range(0, zeros, len(block)):
        parts.append(c.compress(block[: min(len(block), zeros - start)]))
    parts.append(c.flush())
    return b"".join(parts)


class InflateCounter:
    """Counts the bytes every ``zlib.decompressobj`` puts out (gzip.decompress and GzipFile both use it)."""

    def __init__(self, monkeypatch):
        self.total = 0
        real = zlib.decompressobj
        counter = self

        class Counting:
            def __init__(self, *args, **kwargs):
                self._d = real(*args, **kwargs)

            def decompress(self, *args, **kwargs):
                out = self._d.decompress(*args, **kwargs)
                counter.total += len(out)
                return out

            def __getattr__(self, name):
                return getattr(self._d, name)

        monkeypatch.setattr(zlib, "decompressobj", Counting)


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def finishes(func, fifos=(), seconds: float = 5.0):
    """``func()``'s result or exception, in a thread; fails if it blocks (opening one of ``fifos``, say).

    On failure the blocked reader is released by opening the FIFOs for writing, so nothing hangs.
    """
    outcome = {}

    def run():
        try:
            outcome["result"] = func()
        except BaseException as exc:  # noqa: BLE001 -- handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(seconds)
        raise AssertionError(f"blocked for over {seconds} s (reading a FIFO?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]

"""The IDX reader and writer: exact bytes, every element type, and every kind of broken file."""

import gzip
import hashlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mnist_tiny import InflateCounter, finishes, gzip_bomb, idx_bytes, make_fifo

from nnlearn.base.errors import InputError, InputTypeError, NnlearnError
from nnlearn.datasets import DatasetError, read_idx, write_idx
from nnlearn.datasets.idx import PAYLOAD_MARGIN, payload_sha256

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
CODES = {np.uint8: 8, np.int8: 9, np.int16: 11, np.int32: 12, np.float32: 13, np.float64: 14}


def test_dataset_error_is_an_nnlearn_error_and_a_value_error():
    assert issubclass(DatasetError, NnlearnError) and issubclass(DatasetError, ValueError)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_idx_bytes_are_the_format_and_read_back(tmp_path, dtype, suffix):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = write_idx(tmp_path / f"a{suffix}", arr)
    raw = path.read_bytes()
    if suffix:
        assert raw[:2] == b"\x1f\x8b"
        raw = gzip.decompress(raw)
    expected = (
        bytes([0, 0, CODES[dtype], 3]) + struct.pack(">3I", 2, 3, 4) + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    )
    assert raw == expected
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)


def test_write_idx_gzip_output_is_reproducible(tmp_path):
    arr = np.arange(100, dtype=np.uint8)
    a = write_idx(tmp_path / "a.gz", arr).read_bytes()
    b = write_idx(tmp_path / "b.gz", arr).read_bytes()
    assert a == b


def test_write_idx_refuses_unsupported_dtype(tmp_path):
    with pytest.raises(InputError, match="uint16 has no IDX code"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=40, deadline=None, database=None)  # database=None: nothing written into the checkout
@given(
    hnp.arrays(
        st.sampled_from([np.uint8, np.int16, np.float32]),
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    )
)
def test_roundtrip_property(tmp_path_factory, arr):
    path = write_idx(tmp_path_factory.mktemp("h") / "x.gz", arr)
    np.testing.assert_array_equal(read_idx(path), arr)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    arr = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    plain_named_gz = tmp_path / "plain.gz"
    plain_named_gz.write_bytes(idx_bytes(arr))
    gz_without_suffix = tmp_path / "compressed"
    gz_without_suffix.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(plain_named_gz), arr)
    np.testing.assert_array_equal(read_idx(gz_without_suffix), arr)


def test_digest_is_of_decompressed_content_so_recompression_keeps_it(tmp_path):
    data = idx_bytes(np.arange(784 * 3, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28))
    want = hashlib.sha256(data).hexdigest()
    for level in (1, 9):
        p = tmp_path / f"l{level}.gz"
        p.write_bytes(gzip.compress(data, compresslevel=level))
        assert payload_sha256(p) == want
    # Two gzip members (as `cat a.gz b.gz` makes) decompress to the concatenation; zero bytes may pad the end.
    p = tmp_path / "multi.gz"
    p.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:]) + bytes(7))
    assert payload_sha256(p) == want
    np.testing.assert_array_equal(read_idx(p).reshape(-1), np.frombuffer(data, np.uint8, offset=16))
    p.write_bytes(gzip.compress(data) + b"junk")
    with pytest.raises(
        DatasetError,
        match=r"multi\.gz: the gzip data is corrupt \(Not a gzipped file .*\); delete it",
    ):
        payload_sha256(p)
    plain = tmp_path / "plain"
    plain.write_bytes(data)
    assert payload_sha256(plain) == want


def _good():
    return idx_bytes(np.arange(2 * 28 * 28, dtype=np.int64).astype(np.uint8).reshape(2, 28, 28))


# Each broken file, as (file bytes, gzip it?, expected message fragment).
BROKEN = {
    "empty": (b"", False, "the file is empty"),
    "truncated payload": (
        _good()[:-10],
        False,
        "truncated: the header announces shape (2, 28, 28) of uint8 (1568 bytes) but the file holds 1558",
    ),
    "truncated payload, gzip": (_good()[:-10], True, "truncated: the header announces shape (2, 28, 28)"),
    "truncated gzip stream": (gzip.compress(_good())[:-30], False, "the compressed data is truncated"),
    "too long": (
        _good() + b"\x00" * 3,
        False,
        "too long: the header announces shape (2, 28, 28) of uint8 (1568 bytes) but the file holds 1571",
    ),
    "too long, gzip": (_good() + b"\x00", True, "too long"),
    "truncated header": (_good()[:9], False, "truncated inside the IDX header"),
    "short header": (b"\x00\x00", False, "truncated inside the IDX header (2 bytes)"),
    "html page": (b"<html><body>403 Forbidden</body></html>", False, "not an IDX file (it starts with bytes 3c68746d"),
    "unknown type": (b"\x00\x00\x07\x01" + struct.pack(">I", 3) + b"abc", False, "unknown IDX element type 0x07"),
    "huge shape": (
        b"\x00\x00\x0e\x04" + struct.pack(">4I", *[2**32 - 1] * 4),
        False,
        "the header announces shape (4294967295, 4294967295, 4294967295, 4294967295) of float64 (",
    ),
    "huge shape, gzip": (
        b"\x00\x00\x0e\x04" + struct.pack(">4I", *[2**32 - 1] * 4),
        True,
        "bytes), more than the 268435456 bytes the file can have; is it the right file?",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_file_gives_dataset_error_naming_file_and_problem(tmp_path, kind):
    data, compress, fragment = BROKEN[kind]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DatasetError) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert fragment in message
    assert "\n" not in message


def test_corrupt_gzip_data_gives_dataset_error(tmp_path):
    raw = bytearray(gzip.compress(_good(), compresslevel=1))
    raw[len(raw) // 2] ^= 0xFF
    raw[len(raw) // 2 + 1] ^= 0xFF
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(raw))
    for reader in (read_idx, payload_sha256):
        with pytest.raises(DatasetError, match=r"x\.gz: the (gzip data is corrupt|compressed data is truncated)"):
            reader(path)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(_good())[:-30])
    with pytest.raises(DatasetError, match=r"cut\.gz: the compressed data is truncated"):
        payload_sha256(cut)


def test_wrong_type_and_mislabelled_file_are_refused(tmp_path):
    labels = write_idx(tmp_path / "labels.gz", np.array([1, 2, 3], dtype=np.uint8))
    ints = write_idx(tmp_path / "ints.gz", np.zeros((2, 28, 28), dtype=np.int32))
    with pytest.raises(
        DatasetError, match=r"labels\.gz: has shape \(3,\), expected \(N, 28, 28\); is it the right file\?"
    ):
        read_idx(labels, dtype=np.uint8, shape=(None, 28, 28))
    with pytest.raises(DatasetError, match=r"ints\.gz: holds int32 elements, expected uint8"):
        read_idx(ints, dtype=np.uint8, shape=(None, 28, 28))
    with pytest.raises(DatasetError, match=r"has shape \(3,\), expected \(60000,\)"):
        read_idx(labels, shape=(60000,))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DatasetError, match=r"nothere\.gz: file not found"):
        read_idx(tmp_path / "nothere.gz")
    with pytest.raises(DatasetError, match="is a folder"):
        read_idx(tmp_path)


# --- bounded reads: bombs, huge headers, FIFOs ----------------------------------------------------


@pytest.fixture(scope="module")
def bomb():
    """A valid header for 2 images, then 16 MiB of zeros: 16 KiB of gzip."""
    return gzip_bomb(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 28, 28), 16 << 20)


def test_a_gzip_bomb_is_refused_without_decompressing_past_the_cap(tmp_path, monkeypatch, bomb):
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb)
    assert len(bomb) < 20_000
    cap = 16 + 2 * 784 + PAYLOAD_MARGIN
    for reader in (payload_sha256,):
        counter = InflateCounter(monkeypatch)
        with pytest.raises(DatasetError) as info:
            reader(path, cap)
        assert str(info.value) == (
            f"{path}: decompresses to more than {cap} bytes, more than the file can hold "
            "(a wrong file, or a decompression bomb); delete it and get it again"
        )
        assert 0 < counter.total <= cap + 1
    # Without a known size, the header's own announcement bounds it: "too long", a block past it at most.
    counter = InflateCounter(monkeypatch)
    with pytest.raises(
        DatasetError,
        match=r"bomb\.gz: too long: the header announces shape \(2, 28, 28\) of uint8 "
        r"\(1568 bytes\) but the file holds \d+ payload bytes",
    ):
        read_idx(path)
    assert 0 < counter.total <= cap + (1 << 20)


def test_a_header_announcing_more_than_the_cap_is_refused_before_decompressing_the_rest(tmp_path, monkeypatch):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip_bomb(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10**6, 28, 28), 4 << 20))
    counter = InflateCounter(monkeypatch)
    with pytest.raises(
        DatasetError,
        match=r"big\.gz: the header announces shape \(1000000, 28, 28\) of uint8 "
        r"\(784000016 bytes\), more than the 268435456 bytes the file can have",
    ):
        read_idx(path)
    assert counter.total <= 1 << 20
    # The caller's own cap, and the expected shape, are checked on the header too.
    with pytest.raises(DatasetError, match=r"has shape \(1000000, 28, 28\), expected \(5, 28, 28\)"):
        read_idx(path, shape=(5, 28, 28))
    with pytest.raises(DatasetError, match="more than the 100000 bytes the file can have"):
        read_idx(path, max_bytes=100_000)


def test_a_plain_file_larger_than_the_cap_is_refused_unread(tmp_path):
    path = tmp_path / "plain"
    path.write_bytes(_good())
    with pytest.raises(DatasetError, match=r"plain: holds 1584 bytes, more than the 1000 the file can have"):
        payload_sha256(path, 1000)
    path.write_bytes(_good() * 4)
    with pytest.raises(
        DatasetError, match=r"plain: 6336 bytes, more than any copy of the file can take \(4106\); is it the right"
    ):
        payload_sha256(path, 10)  # larger than any copy of 10 bytes can be: not even read


def test_a_fifo_is_refused_at_once_never_read(tmp_path):
    fifo = make_fifo(tmp_path / "t10k-labels-idx1-ubyte.gz")
    for reader in (read_idx, payload_sha256):
        with pytest.raises(DatasetError) as info:
            finishes(lambda: reader(fifo), [fifo])
        assert str(info.value).startswith(f"{fifo} is a FIFO (named pipe), not a regular file")


def test_arguments_of_the_wrong_type_are_input_type_errors(tmp_path):
    with pytest.raises(InputTypeError, match="path must be a file's path .a str or a Path., got 5"):
        read_idx(5)
    with pytest.raises(InputTypeError, match="path must be a file's path .a str or a Path., got None"):
        write_idx(None, np.zeros(3, dtype=np.uint8))
    path = write_idx(tmp_path / "x.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(InputTypeError, match="dtype must be a numpy dtype such as np.uint8, got 'bytes please'"):
        read_idx(path, dtype="bytes please")
    with pytest.raises(
        InputTypeError, match=r"shape must be a tuple of lengths \(None for any\), such as \(None, 28, 28\); got 3"
    ):
        read_idx(path, shape=3)


@pytest.mark.parametrize("where", ["opening", "decompressing"])
def test_a_read_error_half_way_is_one_line_naming_the_file(tmp_path, monkeypatch, where):
    import errno
    import io

    import nnlearn.datasets.idx

    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))))

    def pulled_disk(self, *args):  # a USB disk pulled out, a stale NFS handle
        raise OSError(errno.EIO, "Input/output error")

    class Pulled(io.BufferedReader):
        peek = read = read1 = pulled_disk

    if where == "opening":
        monkeypatch.setattr(nnlearn.datasets.idx.os, "fdopen", lambda fd, mode: Pulled(io.FileIO(fd, "rb")))
    else:
        monkeypatch.setattr(gzip.GzipFile, "read1", pulled_disk)
    with pytest.raises(DatasetError, match="cannot be read") as info:
        payload_sha256(path)
    assert str(path) in str(info.value) and "Input/output error" in str(info.value)

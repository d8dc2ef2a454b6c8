"""The IDX file format of MNIST: a reader that refuses anything wrong, and a writer.

An IDX file is a header -- two zero bytes, an element-type code, the number of dimensions, then
each dimension as a big-endian 32-bit integer -- followed by the elements in C order, big-endian.
MNIST ships its four files gzip-compressed; both plain and gzip-compressed files are read here
(recognised by their content, not by their name).

Every problem -- a missing, truncated or corrupt file, a wrong element type, a labels file where
images were expected -- raises :class:`~nnlearn.datasets.errors.DatasetError` naming the file and
what is wrong, instead of a silent wrong array or a raw zlib/struct traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from nnlearn._io import atomic_write
from nnlearn.datasets.errors import DatasetError

#: IDX element-type codes and the (big-endian) dtypes they stand for.
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
# zlib/gzip report damage with any of these; each becomes a DatasetError naming the file.
_DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error)


def _open(path: Path):
    """Open ``path`` for reading its decompressed content.

    Returns (reader, raw file, is_gzip); the reader decompresses when the content is gzip.
    """
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, expected an IDX file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    is_gzip = f.read(2) == _GZIP_MAGIC
    f.seek(0)
    return (gzip.GzipFile(fileobj=f, mode="rb") if is_gzip else f), f, is_gzip


def _read_exactly(f, buf: memoryview, path: Path, is_gzip: bool) -> int:
    """Fill ``buf`` from ``f``; return the number of bytes read (short only at the end of the data)."""
    got = 0
    try:
        while got < len(buf):
            n = f.readinto(buf[got:])
            if not n:
                break
            got += n
    except _DECOMPRESS_ERRORS as exc:
        raise DatasetError(_damage(path, is_gzip, exc)) from None
    return got


def _damage(path: Path, is_gzip: bool, exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        what = "the compressed data is truncated (the download or copy was cut short)"
    elif is_gzip:
        what = f"the gzip data is corrupt ({exc})"
    else:
        what = f"read error ({exc})"
    return f"{path}: {what}; delete it and download it again"


def _read(path: str | os.PathLike, *, want_digest: bool) -> tuple[np.ndarray, str | None]:
    """Parse one IDX file into an array of its on-disk dtype, and the SHA-256 of its content."""
    path = Path(path)
    f, raw, is_gzip = _open(path)
    sha = hashlib.sha256() if want_digest else None
    with raw, f:
        head = bytearray(4)
        n = _read_exactly(f, memoryview(head), path, is_gzip)
        if n == 0:
            raise DatasetError(f"{path}: the file is empty; delete it and download it again")
        if n < 4:
            raise DatasetError(f"{path}: truncated inside the IDX header ({n} bytes)")
        if head[0] != 0 or head[1] != 0:
            raise DatasetError(
                f"{path}: not an IDX file (it starts with bytes {bytes(head[:4]).hex()}, "
                "an IDX file starts with 0000); is it an HTML error page or another format?"
            )
        code, ndim = head[2], head[3]
        if code not in IDX_TYPES:
            raise DatasetError(f"{path}: unknown IDX element type 0x{code:02x} (known: 08 09 0b 0c 0d 0e)")
        dims_raw = bytearray(4 * ndim)
        if _read_exactly(f, memoryview(dims_raw), path, is_gzip) < len(dims_raw):
            raise DatasetError(f"{path}: truncated inside the IDX header (its {ndim} dimensions are cut short)")
        shape = struct.unpack(f">{ndim}I", bytes(dims_raw))
        dtype = IDX_TYPES[code]
        expected = math.prod(shape) * dtype.itemsize
        if not is_gzip:
            size = os.fstat(raw.fileno()).st_size
            if 4 + len(dims_raw) + expected != size:
                _length_error(path, shape, dtype, expected, size - 4 - len(dims_raw))
        try:
            arr = np.empty(shape, dtype=dtype)
        except (MemoryError, ValueError):
            raise DatasetError(f"{path}: the IDX header announces an impossible shape {shape}; the file is corrupt") from None
        got = _read_exactly(f, memoryview(arr.reshape(-1).view(np.uint8)), path, is_gzip)
        if got < expected:
            _length_error(path, shape, dtype, expected, got)
        extra = _read_exactly(f, memoryview(bytearray(1)), path, is_gzip)
        if extra:
            rest, chunk = 1, memoryview(bytearray(_CHUNK))
            while n := _read_exactly(f, chunk, path, is_gzip):
                rest += n
            _length_error(path, shape, dtype, expected, expected + rest)
    if sha is not None:
        sha.update(head)
        sha.update(dims_raw)
        sha.update(arr.reshape(-1).view(np.uint8).data)
    return arr, (sha.hexdigest() if sha is not None else None)


def _length_error(path, shape, dtype, expected, got):
    how = "truncated" if got < expected else "too long"
    raise DatasetError(
        f"{path}: {how}: the header announces shape {tuple(shape)} of {dtype.name} ({expected} bytes) "
        f"but the file holds {got} payload bytes; delete it and download it again"
    )


def _check(arr: np.ndarray, path, dtype, shape) -> None:
    if dtype is not None and arr.dtype.newbyteorder("=") != np.dtype(dtype).newbyteorder("="):
        raise DatasetError(f"{path}: holds {arr.dtype.name} elements, expected {np.dtype(dtype).name}")
    if shape is not None:
        ok = len(arr.shape) == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise DatasetError(f"{path}: has shape {arr.shape}, expected {want}; is it the right file?")


def read_idx(path: str | os.PathLike, *, dtype=None, shape=None) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-endian array.

    Parameters
    ----------
    path : str or path-like
        The file; gzip compression is recognised by content, whatever the name.
    dtype : dtype, optional
        Refuse the file unless its elements have this type.
    shape : tuple, optional
        Refuse the file unless its shape matches; ``None`` entries match any length.

    Raises
    ------
    DatasetError
        When the file is missing, truncated, too long, corrupt, not IDX, or of the wrong type/shape.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_idx(folder / "labels.gz", np.array([7, 2, 1], dtype=np.uint8))
    >>> read_idx(folder / "labels.gz")
    array([7, 2, 1], dtype=uint8)
    >>> read_idx(folder / "labels.gz", shape=(None, 28, 28))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnlearn.datasets.errors.DatasetError: .../labels.gz: has shape (3,), expected (N, 28, 28); is it the right file?
    """
    arr, _ = _read(path, want_digest=False)
    _check(arr, path, dtype, shape)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def read_idx_with_digest(path: str | os.PathLike, *, dtype=None, shape=None) -> tuple[np.ndarray, str]:
    """Like :func:`read_idx`, also returning the SHA-256 of the decompressed content (one pass)."""
    arr, digest = _read(path, want_digest=True)
    _check(arr, path, dtype, shape)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False), digest


def payload_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's decompressed content (of the file itself when it is not gzip).

    A re-compressed copy of a file has the same payload digest as the original.
    """
    path = Path(path)
    f, raw, is_gzip = _open(path)
    sha = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with raw, f:
        while n := _read_exactly(f, view, path, is_gzip):
            sha.update(view[:n])
    return sha.hexdigest()


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzip-compressed when ``compress`` (default: name ends ``.gz``).

    The gzip header carries no time stamp, so the same array always gives the same bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_idx(pathlib.Path(tempfile.mkdtemp()) / "x", np.zeros((2, 3), dtype=np.uint8))
    >>> p.read_bytes().hex()
    '000008020000000200000003000000000000'
    """
    path = Path(path)
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in _CODES:
        raise ValueError(f"write_idx: dtype {arr.dtype} has no IDX code; use uint8, int8, int16, int32, float32 or float64")
    if arr.ndim > 255:
        raise ValueError(f"write_idx: an IDX file holds at most 255 dimensions, got {arr.ndim}")
    code = _CODES[native]
    data = (
        bytes([0, 0, code, arr.ndim])
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    )
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    with atomic_write(path) as f:
        f.write(data)
    return path

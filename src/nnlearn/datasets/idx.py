"""The IDX file format of MNIST: a reader that refuses anything wrong, and a writer.

An IDX file is a header -- two zero bytes, an element-type code, the number of dimensions, then
each dimension as a big-endian 32-bit integer -- followed by the elements in C order, big-endian.
MNIST ships its four files gzip-compressed; both plain and gzip-compressed files are read here
(recognised by their content, not by their name).

A file is read in two steps: :func:`read_payload` decompresses it into memory (an MNIST file is
at most 47 MB), and :func:`parse_idx` checks the header against the length and views the rest
with ``numpy.frombuffer``. Every problem -- a missing, truncated or corrupt file, a wrong element
type, a labels file where images were expected -- raises
:class:`~nnlearn.datasets.errors.DatasetError` naming the file and what is wrong, instead of a
silent wrong array or a raw zlib/struct traceback.
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


def read_payload(path: str | os.PathLike) -> bytes:
    """The decompressed content of ``path`` (the file itself when it is not gzip-compressed).

    Raises
    ------
    DatasetError
        When the file is missing, a folder, unreadable, or its gzip data is truncated or corrupt.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, expected an IDX file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)  # several members (`cat a.gz b.gz`) give the concatenation
    except EOFError:
        what = "the compressed data is truncated (the download or copy was cut short)"
    except (OSError, zlib.error) as exc:
        what = f"the gzip data is corrupt ({exc})"
    raise DatasetError(f"{path}: {what}; delete it and download it again")


def payload_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's decompressed content (of the file itself when it is not gzip).

    A re-compressed copy of a file has the same payload digest as the original.
    """
    return hashlib.sha256(read_payload(path)).hexdigest()


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """The array held by the IDX bytes ``data`` (a read-only view, big-endian as stored).

    ``path`` only names the file in error messages.
    """
    if not data:
        raise DatasetError(f"{path}: the file is empty; delete it and download it again")
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated inside the IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{path}: not an IDX file (it starts with bytes {data[:4].hex()}, "
            "an IDX file starts with 0000); is it an HTML error page or another format?"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise DatasetError(f"{path}: unknown IDX element type 0x{code:02x} (known: 08 09 0b 0c 0d 0e)")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DatasetError(f"{path}: truncated inside the IDX header (its {ndim} dimensions are cut short)")
    shape = struct.unpack(f">{ndim}I", data[4:start])
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - start != expected:
        how = "truncated" if len(data) - start < expected else "too long"
        raise DatasetError(
            f"{path}: {how}: the header announces shape {tuple(shape)} of {dtype.name} ({expected} bytes) "
            f"but the file holds {len(data) - start} payload bytes; delete it and download it again"
        )
    return np.frombuffer(data, dtype=dtype, offset=start).reshape(shape)


def check_array(arr: np.ndarray, path, dtype=None, shape=None) -> None:
    """Refuse ``arr`` (read from ``path``) unless its element type and shape are as expected.

    ``None`` entries of ``shape`` match any length.
    """
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
    arr = parse_idx(read_payload(path), path)
    check_array(arr, path, dtype, shape)
    # A writable native-endian copy: frombuffer over bytes is read-only.
    return arr.astype(arr.dtype.newbyteorder("="))


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

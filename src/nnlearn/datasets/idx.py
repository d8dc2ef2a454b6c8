"""The IDX file format of MNIST: a reader that refuses anything wrong, and a writer.

An IDX file is a header (two zero bytes, an element-type code, the number of dimensions, each
dimension as a big-endian uint32) and the elements in C order, big-endian; plain or gzip (by content).
Everything read is hostile until checked: the file's size is capped, decompression stops past
``max_bytes``, and the header is checked before the rest is decompressed; every problem is a
:class:`~nnlearn.datasets.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nnlearn.base.errors import FileFormatError, InputError, InputTypeError
from nnlearn.base.files import atomic_write, open_regular_file
from nnlearn.base.i18n import _
from nnlearn.datasets.errors import DatasetError, OversizeDataError, TruncatedDataError

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
#: The most bytes a file of unknown size may decompress to (every MNIST-format file is under 48 MB).
MAX_PAYLOAD_BYTES = 256 << 20
#: Slack over a file's known decompressed size, so that a file a little too long is reported as such.
PAYLOAD_MARGIN = 64 << 10
#: Bytes decompressed (and hashed) at a time.
_BLOCK = 1 << 20
#: The largest IDX header (255 dimensions): the first block decompressed, checked before the rest.
_HEADER_MAX = 4 + 4 * 255


def compressed_bound(payload_bytes: int) -> int:
    """The most bytes a copy (plain or gzip) of a payload of ``payload_bytes`` can take.

    Deflate's stored blocks add 5 bytes per 64 KiB, the gzip header and trailer a few dozen.

    Examples
    --------
    >>> compressed_bound(47040016)  # MNIST's training images
    47049854
    """
    return payload_bytes + payload_bytes // 8192 + 4096


def _as_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(_("path must be a file's path (a str or a Path), got {path!r}", path=path))
    return Path(path)


def _open_raw(path, max_bytes: int) -> tuple[int, int]:
    """A read-only descriptor of the regular file ``path`` and its size, at most :func:`compressed_bound` of
    ``max_bytes`` (a FIFO is refused without being read: reading one waits for a writer forever)."""
    path = _as_path(path)
    try:
        fd = open_regular_file(path)
    except FileNotFoundError:
        raise DatasetError(_("{path}: file not found", path=path)) from None
    except FileFormatError as exc:
        raise DatasetError(str(exc)) from None
    except OSError as exc:
        raise DatasetError(_("{path}: cannot be read ({reason})", path=path, reason=exc.strerror or exc)) from None
    size, bound = os.fstat(fd).st_size, compressed_bound(max_bytes)
    if size > bound:
        os.close(fd)
        raise OversizeDataError(
            _(
                "{path}: {n} bytes, more than any copy of the file can take ({bound}); is it the right file?",
                path=path,
                n=size,
                bound=bound,
            )
        )
    return fd, size


def _pieces(path, max_bytes: int) -> Iterator[bytes]:
    """The decompressed content of ``path`` in blocks, the first at most a header's size.

    gzip's reader (every member, zero padding allowed) decompresses only what ``read1`` asks for --
    ``read`` would fill an 8 KiB buffer ahead -- so never more than ``max_bytes + 1`` bytes are
    decompressed: OversizeDataError as soon as that one is out.
    """
    fd, size = _open_raw(path, max_bytes)
    with os.fdopen(fd, "rb") as raw:
        total = 0
        try:
            packed = raw.peek(2)[:2] == _GZIP_MAGIC
            stream = gzip.GzipFile(fileobj=raw) if packed else raw
            while block := stream.read1(min(_HEADER_MAX if total == 0 else _BLOCK, max_bytes + 1 - total)):
                total += len(block)
                if total > max_bytes:
                    raise OversizeDataError(
                        _(
                            "{path}: decompresses to more than {n} bytes, more than the file can hold (a wrong file, "
                            "or a decompression bomb); delete it and get it again",
                            path=path,
                            n=max_bytes,
                        )
                        if packed
                        else _(
                            "{path}: holds {n} bytes, more than the {most} the file can have; is it the right file?",
                            path=path,
                            n=size,
                            most=max_bytes,
                        )
                    )
                yield block
        except EOFError:
            raise TruncatedDataError(
                _(
                    "{path}: the compressed data is truncated (the download or copy was cut short); delete "
                    "it and download it again",
                    path=path,
                )
            ) from None
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise DatasetError(
                _(
                    "{path}: the gzip data is corrupt ({reason}); delete it and download it again",
                    path=path,
                    reason=exc,
                )
            ) from None
        except OSError as exc:  # after BadGzipFile, one of them: EIO from a pulled USB disk, ESTALE on NFS
            raise DatasetError(_("{path}: cannot be read ({reason})", path=path, reason=exc.strerror or exc)) from None


def payload_sha256(path: str | os.PathLike, max_bytes: int = MAX_PAYLOAD_BYTES) -> str:
    """SHA-256 of a file's decompressed content (of the file itself when it is not gzip), at most ``max_bytes``.

    Computed as the content is decompressed, so it needs a block of memory, not the whole file. A
    re-compressed copy of a file has the same payload digest as the original.
    """
    sha = hashlib.sha256()
    for block in _pieces(path, max_bytes):
        sha.update(block)
    return sha.hexdigest()


def parse_header(data, path: str | os.PathLike = "<bytes>") -> tuple[np.dtype, tuple[int, ...], int]:
    """``(dtype, shape, offset of the elements)`` from the start of the IDX bytes ``data`` (of ``path``).

    Examples
    --------
    >>> parse_header(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    (dtype('uint8'), (3,), 8)
    """
    if not data:
        raise DatasetError(_("{path}: the file is empty; delete it and download it again", path=path))
    if len(data) < 4:
        raise DatasetError(_("{path}: truncated inside the IDX header ({n} bytes)", path=path, n=len(data)))
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            _(
                "{path}: not an IDX file (it starts with bytes {start}, an IDX file starts with 0000); is it "
                "an HTML error page or another format?",
                path=path,
                start=bytes(data[:4]).hex(),
            )
        )
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise DatasetError(
            _(
                "{path}: unknown IDX element type {code} (known: 08 09 0b 0c 0d 0e)",
                path=path,
                code=format(code, "#04x"),
            )
        )
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DatasetError(
            _("{path}: truncated inside the IDX header (its {ndim} dimensions are cut short)", path=path, ndim=ndim)
        )
    return IDX_TYPES[code], struct.unpack(f">{ndim}I", data[4:start]), start


def parse_idx(data, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """The array held by the IDX bytes ``data`` of ``path`` (a read-only view, big-endian as stored)."""
    dtype, shape, start = parse_header(data, path)
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - start != expected:
        how = _("truncated") if len(data) - start < expected else _("too long")
        raise DatasetError(
            _(
                "{path}: {how}: the header announces shape {shape} of {dtype} ({expected} bytes) but the file holds {n} "
                "payload bytes; delete it and download it again",
                path=path,
                how=how,
                shape=tuple(shape),
                dtype=dtype.name,
                expected=expected,
                n=len(data) - start,
            )
        )
    arr = np.frombuffer(data, dtype=dtype, offset=start).reshape(shape)
    arr.flags.writeable = False
    return arr


def check_header(dtype, shape, path, want_dtype=None, want_shape=None) -> None:
    """Refuse a file (``path``) whose elements are not ``want_dtype`` or whose shape is not ``want_shape``.

    ``None`` entries of ``want_shape`` match any length.
    """
    if want_dtype is not None and dtype.newbyteorder("=") != np.dtype(want_dtype).newbyteorder("="):
        raise DatasetError(
            _(
                "{path}: holds {dtype} elements, expected {want}",
                path=path,
                dtype=dtype.name,
                want=np.dtype(want_dtype).name,
            )
        )
    if want_shape is not None:
        ok = len(shape) == len(want_shape) and all(s is None or s == a for s, a in zip(want_shape, shape))
        if not ok:
            want = str(tuple("N" if s is None else s for s in want_shape)).replace("'", "")
            raise DatasetError(
                _(
                    "{path}: has shape {shape}, expected {want}; is it the right file?",
                    path=path,
                    shape=tuple(shape),
                    want=want,
                )
            )


def read_idx_payload(path, max_bytes: int = MAX_PAYLOAD_BYTES, *, dtype=None, shape=None) -> bytes | bytearray:
    """The decompressed IDX bytes of ``path``, its header checked before the rest is decompressed.

    The header must announce elements of ``dtype`` in ``shape`` (when given) and at most
    ``max_bytes`` in all; decompression then stops a little (:data:`PAYLOAD_MARGIN`) past the size
    it announces. So neither a header announcing a huge array nor a gzip bomb behind a good header
    costs more memory than the file should take.
    """
    pieces = _pieces(path, max_bytes)
    out = bytearray()
    for block in pieces:  # the first block holds the header, unless the file is shorter than it
        out += block
        if len(out) >= _HEADER_MAX:
            break
    got_dtype, got_shape, start = parse_header(out, path)
    check_header(got_dtype, got_shape, path, dtype, shape)
    announced = start + math.prod(got_shape) * got_dtype.itemsize
    if announced > max_bytes:
        raise OversizeDataError(
            _(
                "{path}: the header announces shape {shape} of {dtype} ({n} bytes), more than the {most} bytes the file "
                "can have; is it the right file?",
                path=path,
                shape=tuple(got_shape),
                dtype=got_dtype.name,
                n=announced,
                most=max_bytes,
            )
        )
    for block in pieces:
        out += block
        if len(out) > announced + PAYLOAD_MARGIN:
            break  # too long: parse_idx says so, from what is there
    return out


def read_idx(path: str | os.PathLike, *, dtype=None, shape=None, max_bytes: int = MAX_PAYLOAD_BYTES) -> np.ndarray:
    """Read an IDX file (plain or gzip, recognised by content) into a native-endian array.

    The file is refused (:class:`DatasetError`) unless its elements are ``dtype`` and its shape
    matches ``shape`` (``None`` entries match any length), when given, and its decompressed content
    is at most ``max_bytes`` -- checked against the header before anything past it is decompressed.

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
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise InputTypeError(
                _("dtype must be a numpy dtype such as np.uint8, got {dtype!r}", dtype=dtype)
            ) from None
    if shape is not None and not (
        isinstance(shape, (tuple, list))
        and all(s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)) for s in shape)
    ):
        raise InputTypeError(
            _("shape must be a tuple of lengths (None for any), such as (None, 28, 28); got {shape!r}", shape=shape)
        )
    arr = parse_idx(read_idx_payload(path, max_bytes, dtype=dtype, shape=shape), path)
    # A writable native-endian copy: the view is read-only.
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
    path = _as_path(path)
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in _CODES:
        raise InputError(
            _(
                "write_idx: dtype {dtype} has no IDX code; use uint8, int8, int16, int32, float32 or float64",
                dtype=arr.dtype,
            )
        )
    if arr.ndim > 255:
        raise InputError(_("write_idx: an IDX file holds at most 255 dimensions, got {n}", n=arr.ndim))
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

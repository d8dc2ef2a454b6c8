"""Small images as PNG bytes and ``data:`` URIs, with no imaging library: a page that carries its own pictures."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels) -> bytes:
    """PNG bytes of an image: ``(h, w)`` grey or ``(h, w, 3)`` RGB, uint8 or floats in [0, 1].

    Examples
    --------
    >>> data = encode_png(np.zeros((2, 3)))
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", struct.unpack(">II", data[16:24])
    (True, (3, 2))
    """
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        a = np.round(np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0) * 255).astype(np.uint8)
    if a.ndim == 2:
        colour = 0
    elif a.ndim == 3 and a.shape[2] == 3:
        colour = 2
    else:
        raise ValueError(f"an image must be (h, w) or (h, w, 3), got shape {a.shape}")
    h, w = a.shape[:2]
    rows = np.ascontiguousarray(a).reshape(h, -1)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter 0 on every row
    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI for PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def diverging(values, scale: float | None = None) -> np.ndarray:
    """Colour a signed array: negative blue, zero white, positive red (``(..., 3)`` uint8).

    ``scale`` is the magnitude drawn at full colour (default: the largest magnitude).

    Examples
    --------
    >>> diverging(np.array([-1.0, 0.0, 1.0])).tolist()
    [[33, 102, 172], [255, 255, 255], [178, 24, 43]]
    """
    v = np.asarray(values, dtype=np.float64)
    if scale is None:
        scale = float(np.max(np.abs(v))) if v.size else 1.0
    t = np.clip(v / (scale or 1.0), -1.0, 1.0)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    neg = np.array([33.0, 102.0, 172.0])
    pos = np.array([178.0, 24.0, 43.0])
    out = np.where(t < 0, white + (neg - white) * -t, white + (pos - white) * t)
    return np.round(out).astype(np.uint8)


def tile(images, columns: int, gap: int = 1, fill=255) -> np.ndarray:
    """Lay equal-sized images (``(n, h, w[, 3])``) out in a grid, ``gap`` pixels of ``fill`` between them.

    Examples
    --------
    >>> tile(np.zeros((3, 2, 2), np.uint8), columns=2).shape
    (5, 5)
    """
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    rows = max(1, -(-n // columns))
    shape = (rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap) + images.shape[3:]
    out = np.full(shape, fill, dtype=images.dtype)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = images[k]
    return out

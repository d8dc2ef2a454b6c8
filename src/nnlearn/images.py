"""Image files as network inputs: the preparation MNIST's own digits went through."""

from __future__ import annotations

import numpy as np

from nnlearn.errors import NnlearnError


def image_to_input(path, size: int = 28):
    """Read an image file and turn it into one MNIST-format input row (``size * size`` floats).

    The steps, as MNIST's own preparation: grey levels in [0, 1] (transparent pixels count as
    white paper); a light background is inverted so that the digit is white on black; an image of
    any other size is cropped to the digit, scaled so that its longer side is 20 pixels, and
    pasted into a 28x28 black square with its centre of mass in the middle. A 28x28 image is used
    as it is (after the polarity check).

    Returns
    -------
    (ndarray of float32, shape (size * size,), bool)
        The input row and whether the image was inverted.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = Image.alpha_composite(paper, rgba).convert("L")
            else:
                grey = img.convert("L")
    except FileNotFoundError:
        raise NnlearnError(f"no such image file: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NnlearnError(f"cannot read {path} as an image ({exc}); give a PNG or JPEG file") from None
    a = np.asarray(grey, dtype=np.float32) / 255.0
    if a.ndim != 2 or min(a.shape) < 2:
        raise NnlearnError(f"{path} is {a.shape} pixels; give an image of at least 2x2 pixels")
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    inverted = bool(np.median(border) > 0.5)
    if inverted:
        a, border = 1.0 - a, 1.0 - border
    if a.max() - a.min() < 0.05:
        raise NnlearnError(f"{path} is (almost) one colour: there is no digit to recognise")
    if a.shape == (size, size):
        return np.clip(a, 0.0, 1.0).reshape(-1), inverted
    # The background (the border's typical grey) becomes exactly 0; then crop to the ink.
    background = float(np.median(border))
    a = np.clip((a - background) / max(1e-6, 1.0 - background), 0.0, 1.0)
    rows, cols = np.nonzero(a > 0.1 * a.max())
    a = a[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    box = size * 20 // 28
    scale = box / max(a.shape)
    h, w = max(1, round(a.shape[0] * scale)), max(1, round(a.shape[1] * scale))
    small = Image.fromarray(np.uint8(np.round(a * 255))).resize((w, h), Image.Resampling.LANCZOS)
    digit = np.asarray(small, dtype=np.float32) / 255.0
    out = np.zeros((size, size), dtype=np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    out[top : top + h, left : left + w] = digit
    # Shift so that the centre of mass sits in the middle, as MNIST's images are centred.
    total = out.sum()
    if total > 0:
        yy, xx = np.indices(out.shape)
        dy = int(round(size / 2 - 0.5 - (yy * out).sum() / total))
        dx = int(round(size / 2 - 0.5 - (xx * out).sum() / total))
        dy = max(-top, min(dy, size - top - h))
        dx = max(-left, min(dx, size - left - w))
        out = np.roll(out, (dy, dx), axis=(0, 1))
    return np.clip(out, 0.0, 1.0).reshape(-1), inverted

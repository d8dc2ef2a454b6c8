"""Image files as network inputs (the preparation MNIST's own digits went through), and digits as image files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from nnlearn.base.errors import NnlearnError, OutputError
from nnlearn.base.files import atomic_write
from nnlearn.base.files import check_output_path as check_ours_to_replace
from nnlearn.base.i18n import _

#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: More than this share of bright pixels (after the polarity check) is no digit: MNIST's most is 40 %.
MAX_INK = 0.42
#: More than this share of border pixels away from the border's typical grey is no plain background.
MAX_BUSY_BORDER = 0.15


class ImageWarning(UserWarning):
    """An image was read, but it does not look like what the network was trained on."""


def _looks_like_a_digit(path, a: np.ndarray, border: np.ndarray) -> None:
    """Warn when ``a`` (white on black, in [0, 1]) is not one digit on a plain background."""
    busy = float(np.mean(np.abs(border - np.median(border)) > 0.2))
    ink = float(np.mean(a > 0.5))
    if busy > MAX_BUSY_BORDER:
        why = _("{share} of its border is not the background colour", share=format(busy, ".0%"))
    elif ink > MAX_INK:
        why = _(
            "{share} of it is bright ink after the polarity check, MNIST digits have at most 40%",
            share=format(ink, ".0%"),
        )
    else:
        return
    warnings.warn(
        _(
            "{path} does not look like one digit on a plain background ({why}); the prediction may be meaningless: crop "
            "the image to the digit (a figure with a title and margins is not a digit)",
            path=path,
            why=why,
        ),
        ImageWarning,
        stacklevel=3,
    )


def image_to_input(path, size: int = 28):
    """An image file as one MNIST-format input row (``size * size`` float32), and whether it was inverted.

    As MNIST's own preparation: grey levels in [0, 1] (transparent pixels are white paper), a light
    background inverted, the digit cropped, scaled to a longer side of 20 pixels and pasted into a 28x28
    black square with its centre of mass in the middle. A 28x28 image is used as it is, so what ``nnlearn
    data show --out`` writes comes back exactly. An image that does not look like one digit on a plain
    background gives an :class:`ImageWarning`.
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
        raise NnlearnError(_("no such image file: {path}", path=path)) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NnlearnError(
            _("cannot read {path} as an image ({reason}); give a PNG or JPEG file", path=path, reason=exc)
        ) from None
    a = np.asarray(grey, dtype=np.float32) / 255.0
    if a.ndim != 2 or min(a.shape) < 2:
        raise NnlearnError(
            _("{path} is {shape} pixels; give an image of at least 2x2 pixels", path=path, shape=a.shape)
        )
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    inverted = bool(np.median(border) > 0.5)
    if inverted:
        a, border = 1.0 - a, 1.0 - border
    if a.max() - a.min() < 0.05:
        raise NnlearnError(_("{path} is (almost) one colour: there is no digit to recognise", path=path))
    _looks_like_a_digit(path, a, border)
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


def image_format(path) -> str:
    """The image format Pillow writes for ``path``'s suffix (``"PNG"`` for ``.png``); NnlearnError if none."""
    from PIL import Image

    Image.init()
    formats = {ext: fmt for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE}
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise NnlearnError(
            _(
                "{path}: unknown image type {suffix}; name the file .png (or .bmp, .tif, .jpg -- JPEG blurs "
                "the pixels)",
                path=path,
                suffix=repr(suffix) if suffix else _("(no suffix)"),
            )
        )
    return formats[suffix]


def figure_format(path) -> str:
    """The matplotlib output format for ``path``'s suffix (``"png"``, ``"pdf"``, ``"svg"``...); NnlearnError if none."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in supported:
        raise NnlearnError(
            _(
                "{path}: unknown figure type {suffix}; use one of {types}",
                path=path,
                suffix=repr("." + suffix) if suffix else _("(no suffix)"),
                types=", ".join("." + s for s in sorted(supported)),
            )
        )
    return suffix


def check_output_path(path) -> Path:
    """Refuse, before any work, an output path that is not ours to replace
    (:func:`nnlearn.base.files.check_output_path`) or whose folder does not exist."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(
            _("{path} is a folder; give a file name, e.g. {example}", path=path, example=path / "digit.png")
        )
    path = check_ours_to_replace(path)
    if not path.parent.is_dir():
        raise OutputError(_("cannot write {path}: the folder {folder} does not exist", path=path, folder=path.parent))
    return path


def _write(path: Path, write) -> Path:
    try:
        with atomic_write(path) as fh:
            write(fh)
    except OSError as exc:
        raise NnlearnError(_("cannot write {path} ({reason})", path=path, reason=exc.strerror or exc)) from None
    return path


def save_image(image, path) -> Path:
    """Write a 2-D uint8 image, pixel for pixel, in the format ``path``'s suffix names; atomically."""
    from PIL import Image

    path = check_output_path(path)
    fmt = image_format(path)
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode="L")
    return _write(path, lambda fh: img.save(fh, format=fmt))


def save_figure_as(fig, path, dpi: int = 100) -> Path:
    """Write a matplotlib figure in the format ``path``'s suffix names, atomically; NnlearnError if it cannot."""
    path = check_output_path(path)
    fmt = figure_format(path)
    return _write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi))


def digits_figure(images, titles, columns: int = 10):
    """A grid of 28x28 uint8 or [0, 1] images with a title each (a figure for people, not for ``predict``)."""
    from matplotlib.figure import Figure

    from nnlearn.common.evaluation import as_typed  # matplotlib: `predict` and the board's drawings go without it

    images = np.asarray(images)
    n = len(images)
    rows = max(1, -(-n // columns))
    cols = min(columns, max(n, 1))
    fig = Figure(figsize=(1.2 * cols, 1.4 * rows))
    vmax = 255 if images.dtype == np.uint8 else 1.0
    for k, (img, title) in enumerate(zip(images, titles)):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(np.asarray(img).reshape(28, 28), cmap="gray", vmin=0, vmax=vmax)
        ax.set_title(as_typed(title), fontsize=9)
        ax.set_axis_off()
    return fig


def png_bytes(pixels) -> bytes:
    """PNG bytes (Pillow's encoder) of ``(h, w)`` grey or ``(h, w, 3)`` RGB pixels, uint8 or floats in [0, 1].

    Floats are clipped to [0, 1] (NaN as 0) and rounded to 256 levels.

    Examples
    --------
    >>> from PIL import Image
    >>> import io
    >>> img = Image.open(io.BytesIO(png_bytes(np.eye(3))))
    >>> img.size, img.mode, np.asarray(img).tolist()
    ((3, 3), 'L', [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    """
    import io

    from PIL import Image

    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        a = np.round(np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0) * 255).astype(np.uint8)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise NnlearnError(_("an image must be (h, w) or (h, w, 3) pixels, got shape {shape}", shape=a.shape))
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(out, format="PNG")  # uint8: L for (h, w), RGB for (h, w, 3)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI for PNG bytes: a picture a page carries inside itself.

    Examples
    --------
    >>> data_uri(b"\\x89PNG")
    'data:image/png;base64,iVBORw=='
    """
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

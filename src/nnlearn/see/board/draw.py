"""The draw page's work: a drawing (PNG) read as ``nnlearn predict`` reads an image, and test
images with the network's probabilities. Everything here is bounded before it allocates."""

from __future__ import annotations

import io
import math

import numpy as np

from nnlearn.base import i18n
from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.see.board.web import Refused, query_number
from nnlearn.see.images import PNG_SIGNATURE, image_to_input

#: Largest drawing accepted, in bytes, pixels per side and pixels in all (checked in the PNG's
#: header, before anything is decoded).
MAX_DRAWING_BYTES = 1_000_000
MAX_DRAWING_SIDE = 2048
MAX_DRAWING_PIXELS = MAX_DRAWING_SIDE * MAX_DRAWING_SIDE


def drawing_size(png: bytes) -> tuple[int, int]:
    """The ``(width, height)`` in the PNG's header, refused (:class:`Refused`) when it is not a PNG
    or larger than :data:`MAX_DRAWING_SIDE` / :data:`MAX_DRAWING_PIXELS`. Nothing is decoded."""
    from PIL import Image, UnidentifiedImageError

    if not png.startswith(PNG_SIGNATURE):
        raise Refused(400, _("the drawing must be a PNG image (image/png)"))
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as img:  # reads the header only
            w, h = img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Refused(400, _("the drawing is not a readable PNG")) from None
    if max(w, h) > MAX_DRAWING_SIDE or w * h > MAX_DRAWING_PIXELS:
        raise Refused(413, _("the drawing is {w}x{h} pixels; at most {most} per side", w=w, h=h, most=MAX_DRAWING_SIDE))
    return w, h


def predict_drawing(net, png: bytes) -> dict:
    """The input ``nnlearn predict`` would make of the PNG ``png``, and the network's probabilities.

    Raises :class:`Refused` (400/409/413) for anything that is not a PNG drawing of a sensible size.
    """
    from PIL import Image

    drawing_size(png)
    side = int(round(math.sqrt(net.sizes[0])))
    if side * side != net.sizes[0]:
        raise Refused(409, _("this model takes {n} inputs, not a square image", n=net.sizes[0]))
    try:  # its message is told apart by its words, in English: the board answers with its own
        with i18n.use(i18n.SOURCE_LANGUAGE):
            x, _inverted = image_to_input(io.BytesIO(png), side)
    except NnlearnError as exc:
        if "one colour" in str(exc):
            raise Refused(400, _("the drawing is empty: draw a digit")) from None
        raise Refused(400, _("the drawing cannot be read as an image")) from None
    except (OSError, ValueError, Image.DecompressionBombError):
        raise Refused(400, _("the drawing cannot be read as an image")) from None
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return {"preview": [float(v) for v in x]} | answer_to(net, x)


def answer_to(net, x) -> dict:
    """The network's probabilities for the image ``x``, and the class it says."""
    probs = net.predict(x)
    return {"probabilities": [float(p) for p in probs], "predicted": int(np.argmax(probs))}


#: The largest seed and class a query may give (19 and 5 digits).
MAX_SEED = 10**19 - 1
MAX_CLASS = 99999


def sample(net, x_test, t_test, query: dict) -> dict:
    """A random test image -- of class ``query["class"]``, or one the network gets wrong -- with
    the network's probabilities; ``query["seed"]`` makes the choice repeatable."""
    rng = np.random.default_rng(query_number(query, "seed", 0, MAX_SEED, whole=True))
    t_test = np.asarray(t_test)
    if "class" in query:
        k = query_number(query, "class", 0, MAX_CLASS, whole=True)
        if k is None or k >= net.sizes[-1]:
            raise Refused(400, _("class must be a whole number 0..{last}", last=net.sizes[-1] - 1))
        pool = np.flatnonzero(t_test == k)
    else:
        pool = np.flatnonzero(net.classify(x_test) != t_test)
    if pool.size == 0:
        raise Refused(404, _("no test image of that kind"))
    i = int(rng.choice(pool))
    x = np.asarray(x_test[i], dtype=np.float64)
    return {"index": i, "true": int(t_test[i]), "preview": [round(float(v), 6) for v in x]} | answer_to(net, x)

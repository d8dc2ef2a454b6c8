"""The lesson of numerical differentiation: truncation error against rounding error.

For the chapter's f(x) = 0.01x**2 + 0.1x at x = 5 (true slope 0.2) the error of a difference
quotient falls with h while the secant approaches the tangent (truncation, ~h for the forward and
~h**2 for the central difference) and rises again once ``f(x+h) - f(x)`` cancels most of its digits
(rounding, ~eps/h): a V on a log-log plot, whose bottom sits near h = 1e-8 (forward) or 1e-5
(central) in float64 and much higher in float32. The complex step ``Im f(x+ih)/h`` has no
subtraction, hence no V: its error stays at the rounding level down to the tiniest h.
"""

from __future__ import annotations

import numpy as np

from nnlearn.base.errors import InputError
from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import _
from nnlearn.common.derivatives import derivative

#: The book's function, its point and the exact slope there.
X0 = 5.0
TRUE_SLOPE = 0.2
BOOK_H = 1e-4
SEED_H = 1e-50
TABLE_STEPS = (1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-16, 1e-20, SEED_H)
_COMPLEX = {np.float64: np.complex128, np.float32: np.complex64}


def _f(x, dtype):
    # Coefficients in the same precision, so float32 is float32 throughout.
    return dtype(0.01) * x * x + dtype(0.1) * x


def rounding_errors(h, dtype=np.float64, x=X0, f=None, slope=None):
    """``{"forward", "central", "complex"}``: the absolute errors (float64) of those slopes of the
    chapter's function at ``x`` for the steps ``h``, every operation in ``dtype`` (so 1e-50 becomes 0
    in float32, and its slope NaN). Another vectorised ``f`` computing in the precision of its argument
    (``np.exp``, a formula of :mod:`~nnlearn.common.derivatives.expr` with ``dtype=``) comes with its
    exact ``slope``; one that refuses complex numbers gets NaN complex-step errors.

    Examples
    --------
    The book's step and its "bad" step 1e-50 (where 5 + h == 5, so the forward slope is exactly 0):

    >>> err = rounding_errors([1e-4, 1e-50])
    >>> [f"{e:.1e}" for e in err["central"]]
    ['9.1e-13', '2.0e-01']
    >>> float(err["forward"][1]), float(err["complex"][1])
    (0.2, 0.0)
    """
    if dtype not in _COMPLEX:
        raise InputError(_("dtype must be numpy.float64 or numpy.float32, got {dtype!r}", dtype=dtype))
    if f is None:
        f, slope = (lambda t: _f(t, dtype)), 0.02 * x + 0.1
    elif slope is None:
        raise InputError(_("give the exact slope of f at x with slope=; the errors are measured against it"))
    h = np.asarray(h, dtype=np.float64).astype(dtype)
    xd = dtype(x)
    true = slope
    with np.errstate(all="ignore"):
        forward = (f(xd + h) - f(xd)) / h
        central = (f(xd + h) - f(xd - h)) / (dtype(2) * h)
        z = (xd + h * _COMPLEX[dtype](1j)).astype(_COMPLEX[dtype])
        try:
            complex_step = np.imag(f(z)) / h
        except TypeError:  # abs, relu: no complex step through them
            complex_step = np.full(h.shape, np.nan)
    return {
        name: np.abs(np.asarray(d, dtype=np.float64) - true)
        for name, d in (("forward", forward), ("central", central), ("complex", complex_step))
    }


def rounding_table() -> str:
    """A short table of the errors at a few steps, float64 and float32, as text.

    Examples
    --------
    >>> print(rounding_table().splitlines()[0])
    h          |  forward   central   complex  (float64) |  forward   central   complex  (float32)
    """
    cols = {dt: rounding_errors(TABLE_STEPS, dt) for dt in (np.float64, np.float32)}
    lines = [
        "h          |  forward   central   complex  (float64) |  forward   central   complex  (float32)",
        "-" * 95,
    ]
    for i, h in enumerate(TABLE_STEPS):
        cells = ["  ".join(f"{cols[dt][m][i]:8.1e}" for m in ("forward", "central", "complex")) for dt in cols]
        lines.append(f"{h:<10.0e} | {cells[0]}            | {cells[1]}")
    return "\n".join(lines)


@in_reader_language
def plot_rounding_lesson(floor: float = 1e-18):
    """The V of truncation against rounding: absolute error against h, log-log, h from 1e-20 to 1e-1
    growing to the right, as the board's lesson 4.3 draws it.

    One panel per precision, one line per method, Richardson extrapolation as a horizontal
    reference, the book's h = 1e-4 marked, an arrow towards its bad step h = 1e-50 (off the axis);
    errors of exactly 0 are drawn at ``floor``.
    """
    from matplotlib.figure import Figure

    hs = np.logspace(-1, -20, 191)
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    styles = {
        "forward": ("C0", _("forward (f(x+h) - f(x)) / h")),
        "central": ("C1", _("central (f(x+h) - f(x-h)) / 2h, the book's (no truncation error for a quadratic)")),
        "complex": ("C2", _("complex step Im f(x+ih) / h (no subtraction, so its error does not grow as h shrinks)")),
    }
    # Where the labels go: (h, error) in regions the curves leave empty.
    places = {
        np.float64: {"truncation": (7e-2, 2e-2), "rounding": (1e-9, 3e-3), "seed": (1.5e-19, 1e-14), "book": 1e-9},
        np.float32: {"truncation": None, "rounding": (1e-12, 1e-4), "seed": (1.5e-19, 1e-12), "book": 1e-13},
    }
    richardson = derivative(lambda t: _f(t, np.float64), X0, method="richardson")
    rich = max(abs(richardson - (0.02 * X0 + 0.1)), floor)
    for ax, dtype in zip(axes, (np.float64, np.float32)):
        errors = rounding_errors(hs, dtype)
        for name, (color, label) in styles.items():
            ax.loglog(hs, np.maximum(errors[name], floor), color=color, label=label if dtype is np.float64 else None)
        if dtype is np.float64:
            ax.axhline(
                rich,
                color="C3",
                linestyle=":",
                label=_("Richardson extrapolation, float64 (error {error:.0e})", error=rich),
            )
        where = places[dtype]
        ax.axvline(BOOK_H, color="gray", linestyle="--", linewidth=1)
        ax.text(
            BOOK_H, where["book"], _("book's h = 1e-4"), color="gray", rotation=90, va="center", ha="right", fontsize=8
        )
        ax.axhline(TRUE_SLOPE, color="gray", linewidth=0.5)
        seed = (
            _("5 + h == 5, so the forward difference is exactly 0:\nthe error is the whole slope, 0.2")
            if dtype is np.float64
            else _("float32(1e-50) == 0, so the difference is 0/0 = NaN")
        )
        ax.annotate(
            _("the book's bad step h = 1e-50 is off the axis, to the left:") + "\n" + seed,
            xy=(hs[-1], TRUE_SLOPE),
            xytext=where["seed"],
            fontsize=8,
            ha="left",
            arrowprops={"arrowstyle": "->", "color": "gray"},
        )
        if where["truncation"]:
            ax.text(
                *where["truncation"], _("truncation: secant ≠ tangent\n(forward error ~ h)"), fontsize=8, ha="right"
            )
        ax.text(*where["rounding"], _("rounding:\nf(x+h) - f(x) cancels\n(error ~ eps / h)"), fontsize=8, ha="center")
        ax.set_xlim(hs[-1], hs[0])  # h grows to the right, as on the board's lesson
        ax.set_ylim(floor / 2, 10)
        ax.set_xlabel(_("step h"))
        ax.set_title(f"{np.dtype(dtype).name} (eps = {np.finfo(dtype).eps:.1e})")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(_("absolute error of the slope (exact 0 drawn at {floor:g})", floor=floor))
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(_("f(x) = 0.01x² + 0.1x at x = 5: truncation error against rounding error"))
    return fig

"""The recording probe of ``derivative(method="auto")``: a complex point that notes what ``f`` does to it.

``auto`` hands ``f`` the point ``x + ih`` as a :class:`Probe`, a NumPy array that notes the
operations applied to it. ``np.maximum(0, x)`` (``nnlearn.relu``), ``np.where(x > 0, x, 0)``,
``abs``, rounding and comparisons give a right-looking complex step by accident -- NumPy compares
complex numbers by their real part -- but no derivative one can trust (:data:`NON_ANALYTIC`).
"""

from __future__ import annotations

import numpy as np

#: Operations that are not complex-analytic. On x + ih they drop, compare or round the imaginary
#: part (NumPy orders complex numbers by their real part), so Im f(x+ih)/h is no derivative even
#: where the real function is smooth. NumPy ufuncs, then array functions and attributes.
NON_ANALYTIC = frozenset(
    {
        "absolute", "fabs", "sign", "conjugate", "copysign",
        "maximum", "minimum", "fmax", "fmin", "clip",
        "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
        "logical_and", "logical_or", "logical_xor", "logical_not",
        "floor", "ceil", "trunc", "rint", "heaviside", "fmod", "remainder", "floor_divide", "divmod", "modf",
        "real", "imag", "angle", "round", "sort", "partition", "argsort", "argpartition", "argmax", "argmin",
        "median", "percentile", "quantile", "select", "piecewise", "interp", "searchsorted", "digitize",
    }
)  # fmt: skip


def _noted(name: str) -> property:
    """ndarray's attribute ``name`` (``real``, ``imag``), noted when it is read."""
    attribute = getattr(np.ndarray, name)

    def read(self):
        self._note(name)
        return attribute.__get__(self)

    return property(read, attribute.__set__)


class Probe(np.ndarray):
    """A complex point ``x + ih`` as a NumPy array that notes the operations applied to it.

    Every NumPy result computed from a probe (by a ufunc, an array function, indexing) is again a
    probe sharing the same notes, so ``np.where(x > 0, x, 0)`` is seen through its comparison and
    ``np.maximum(0, x) * 2`` through the maximum. What leaves NumPy (``float(x)``, ``math.exp``) or
    strips the subclass (``np.asarray``) is not seen.
    """

    _notes: set | None = None

    def __new__(cls, value, notes: set):
        probe = np.asarray(value, dtype=np.complex128).view(cls)
        probe._notes = notes
        return probe

    def __array_finalize__(self, obj):
        self._notes = getattr(obj, "_notes", None)

    def _note(self, name: str) -> None:
        if self._notes is not None:
            self._notes.add(name)

    def _wrap(self, result):
        """``result`` as probes sharing these notes (arrays, NumPy scalars, plain tuples/lists of them)."""
        if isinstance(result, (np.ndarray, np.generic)):
            probe = np.asarray(result).view(Probe)
            probe._notes = self._notes
            return probe
        if type(result) in (tuple, list):
            return type(result)(self._wrap(r) for r in result)
        return result

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # Noted before the call: np.floor and friends refuse complex input, but they were applied.
        self._note(ufunc.__name__)
        inputs = tuple(_plain(v) for v in inputs)
        kwargs = {k: tuple(_plain(o) for o in v) if k == "out" else _plain(v) for k, v in kwargs.items()}
        return self._wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        self._note(func.__name__)
        return self._wrap(super().__array_function__(func, types, args, kwargs))

    def __getitem__(self, key):
        return self._wrap(super().__getitem__(key))

    def __round__(self, ndigits=None):
        self._note("round")
        return round(complex(self), ndigits)  # refused, as for a Python complex

    real = _noted("real")
    imag = _noted("imag")


def _plain(value):
    """A probe as a plain ndarray (so the operation itself does not recurse), anything else as is."""
    return value.view(np.ndarray) if isinstance(value, Probe) else value


def complex_copy(x: np.ndarray, idx, t) -> np.ndarray:
    """``x`` as complex128 with ``x[idx] = t``; a probe ``t`` makes the copy a probe too."""
    xc = x.astype(np.complex128)
    xc[idx] = t
    return t._wrap(xc) if isinstance(t, Probe) else xc

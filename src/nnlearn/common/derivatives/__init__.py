"""Derivatives to machine precision, with an honest error estimate.

The book's central difference ``(f(x+h) - f(x-h)) / 2h`` with ``h = 1e-4`` fights two errors:
truncation (the secant is not the tangent) and rounding (``f(x+h) - f(x-h)`` cancels digits).
:func:`derivative` offers the book's differences and two ways past that compromise:

* the **complex step** ``Im f(x + ih) / h``: no subtraction, so no cancellation, and ``h`` can be
  1e-20 times ``|x|``; exact to the last digit or two, but only for functions that are analytic
  and accept complex input;
* **Richardson extrapolation** of central differences at a shrinking sequence of steps
  (Ridders' tableau), which also estimates its own error and works for any smooth real function.

``method="auto"`` uses the complex step when ``f`` accepts complex numbers, applies no
non-analytic operation to them, *and* the result agrees with a real-valued difference; Richardson
otherwise. To see the operations, ``auto`` hands ``f`` the point ``x + ih`` as a recording NumPy
array (:class:`~nnlearn.common.derivatives.probe.Probe`): ``np.maximum(0, x)`` (``nnlearn.relu``),
``np.where(x > 0, x, 0)``, ``abs``, rounding and comparisons give a right-looking complex step by accident -- NumPy compares complex
numbers by their real part -- but no derivative one can trust, so they go to Richardson. Code that
leaves NumPy on the way (``float(x)``, ``math.exp``, ``np.asarray``) cannot be watched; for it the
checks on the value decide, as for any other ``f``. Everything is computed in float64.

The implementation lives in the modules of this package: :mod:`~nnlearn.common.derivatives.estimate`
(``derivative`` and the choice of ``auto``), :mod:`~nnlearn.common.derivatives.differences` (the
difference quotients), :mod:`~nnlearn.common.derivatives.evaluator` (calling ``f``),
:mod:`~nnlearn.common.derivatives.probe` (the recording probe), plus :mod:`~nnlearn.common.derivatives.expr`
(the formula parser of ``nnlearn diff``) and :mod:`~nnlearn.common.derivatives.rounding` (the lesson of
``demo rounding``).
"""

from nnlearn.common.derivatives.estimate import METHODS, DerivativeResult, derivative
from nnlearn.common.derivatives.probe import NON_ANALYTIC, complex_copy

__all__ = ["METHODS", "NON_ANALYTIC", "DerivativeResult", "complex_copy", "derivative"]

"""Derivatives to machine precision, with an honest error estimate.

The book's central difference ``(f(x+h) - f(x-h)) / 2h`` with ``h = 1e-4`` trades truncation error
(the secant is not the tangent) against rounding error (``f(x+h) - f(x-h)`` cancels digits).
:func:`derivative` offers the book's differences and two ways past that compromise: the **complex
step** ``Im f(x + ih) / h`` (no subtraction, so exact to a digit or two, for analytic ``f`` that
accept complex input) and **Richardson extrapolation** (Ridders' tableau, any smooth real ``f``,
with its own error estimate). ``method="auto"`` takes the complex step where a recording probe
(:mod:`~nnlearn.common.derivatives.probe`) saw no non-analytic operation and a real difference
agrees, Richardson otherwise. Everything is computed in float64.
"""

from nnlearn.common.derivatives.estimate import METHODS, DerivativeResult, derivative
from nnlearn.common.derivatives.probe import NON_ANALYTIC, complex_copy

__all__ = ["METHODS", "NON_ANALYTIC", "DerivativeResult", "complex_copy", "derivative"]

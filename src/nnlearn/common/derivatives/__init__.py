"""Derivatives to machine precision, with an honest error estimate, in float64.

The book's central difference trades truncation error against rounding error; :func:`derivative`
offers it and two ways past that compromise: the **complex step** ``Im f(x + ih) / h`` (no
subtraction, for analytic ``f`` that accept complex input) and **Richardson extrapolation**
(Ridders' tableau, any smooth real ``f``). ``method="auto"`` takes the complex step where a recording
probe (:mod:`~nnlearn.common.derivatives.probe`) saw no non-analytic operation and a real difference
agrees, Richardson otherwise.
"""

from nnlearn.common.derivatives.estimate import METHODS, DerivativeResult, derivative
from nnlearn.common.derivatives.probe import NON_ANALYTIC, complex_copy

__all__ = ["METHODS", "NON_ANALYTIC", "DerivativeResult", "complex_copy", "derivative"]

"""Accuracy of numerical derivatives over a battery of smooth functions, in one run.

Compares, side by side: nnlearn's ``derivative`` (``auto``, and ``richardson`` forced), the book's
central difference (``numerical_diff``, h = 1e-4), and -- when installed (``pip install
'nnlearn[oracles]'``) -- numdifftools' ``Derivative`` and ``scipy.differentiate.derivative``, both
with their default settings. Every case has an analytic derivative; the relative error is
``|d - d_true| / |d_true|``; a NaN counts as an infinite error. Function evaluations are counted
by wrapping ``f`` (for the vectorised oracles, one evaluation per point); ``time/auto`` is each
method's time over the whole battery divided by that of ``auto``, measured in the same run. Each case's function is smooth on
[x - |x|/2, x + |x|/2] (+-0.5 at x = 0), so a NaN there is a failure.

It also checks that the error ``derivative(..., full_output=True)`` reports bounds the true error, on
the battery and on functions held out while the estimate was designed (``HELD_OUT``).

Usage::

    python bench/derivative_accuracy.py            # the summary table
    python bench/derivative_accuracy.py --cases    # also one row per case
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import numpy as np

import nnlearn
from nnlearn.common.derivatives import derivative
from nnlearn.common.gradient import numerical_diff


def _sig(x):
    return 1 / (1 + np.exp(-x))


#: (name, f, x, f'(x)). Functions written with numpy accept complex input (the complex step
#: applies); the ``math.`` ones do not, and those built on ``abs`` or ``maximum`` (ReLU) are not
#: analytic, so ``auto`` uses Richardson for both.
BATTERY = [
    ("0.01x^2+0.1x (book)", lambda x: 0.01 * x**2 + 0.1 * x, 5.0, 0.2),
    ("0.01x^2+0.1x (book)", lambda x: 0.01 * x**2 + 0.1 * x, 10.0, 0.3),
    ("x^3-2x tiny x", lambda x: x**3 - 2 * x, 1e-8, 3e-16 - 2),
    ("x^3+x at 0", lambda x: x**3 + x, 0.0, 1.0),
    ("(x-1)^5", lambda x: (x - 1) ** 5, 1.5, 5 * 0.5**4),
    ("exp at 0", np.exp, 0.0, 1.0),
    ("exp large", np.exp, 700.0, math.exp(700.0)),
    ("exp very negative", np.exp, -700.0, math.exp(-700.0)),
    ("log edge", np.log, 1e-3, 1e3),
    ("log tiny", np.log, 1e-12, 1e12),
    ("log large", np.log, 1e10, 1e-10),
    ("sqrt edge", np.sqrt, 1e-8, 0.5e4),
    ("sqrt", np.sqrt, 4.0, 0.25),
    ("x^1.5 tiny", lambda x: x**1.5, 1e-6, 1.5e-3),
    ("1/x^2 edge", lambda x: x**-2, 1e-5, -2e15),
    ("1/x negative tiny", lambda x: 1 / x, -1e-7, -1e14),
    ("sin at 0", np.sin, 0.0, 1.0),
    ("sin", np.sin, 1.0, math.cos(1.0)),
    ("sin large x", np.sin, 1e5, math.cos(1e5)),
    ("sin tiny x", np.sin, 1e-10, math.cos(1e-10)),
    ("cos", np.cos, 2.0, -math.sin(2.0)),
    ("tan", np.tan, 1.0, 1 / math.cos(1.0) ** 2),
    ("tanh", np.tanh, 0.5, 1 / math.cosh(0.5) ** 2),
    ("tanh far out", np.tanh, 10.0, 1 / math.cosh(10.0) ** 2),
    ("sigmoid at 0", _sig, 0.0, 0.25),
    ("sigmoid far left", _sig, -30.0, math.exp(-30.0) / (1 + math.exp(-30.0)) ** 2),
    ("arctan large", np.arctan, 1e3, 1 / (1 + 1e6)),
    ("arcsin", np.arcsin, 0.5, 1 / math.sqrt(0.75)),
    ("cosh", np.cosh, -5.0, math.sinh(-5.0)),
    ("log1p edge", np.log1p, -0.5, 2.0),
    ("expm1 tiny", np.expm1, 1e-10, math.exp(1e-10)),
    ("1/(1+x^2)", lambda x: 1 / (1 + x**2), 3.0, -6 / 100),
    ("x exp(-x)", lambda x: x * np.exp(-x), 50.0, -49 * math.exp(-50.0)),
    ("exp(sin x)", lambda x: np.exp(np.sin(x)), 2.0, math.cos(2.0) * math.exp(math.sin(2.0))),
    ("log(1+x^2) tiny", lambda x: np.log(1 + x**2), 1e-4, 2e-4 / (1 + 1e-8)),
    ("sqrt(1+x^2) large", lambda x: np.sqrt(1 + x**2), 1e6, 1e6 / math.sqrt(1 + 1e12)),
    ("sin(x^2)", lambda x: np.sin(x**2), 10.0, 20 * math.cos(100.0)),
    ("x^x", lambda x: x**x, 2.0, 4 * (1 + math.log(2.0))),
    ("log(log x)", lambda x: np.log(np.log(x)), 3.0, 1 / (3 * math.log(3.0))),
    ("softplus", lambda x: np.log(1 + np.exp(x)), 3.0, 1 / (1 + math.exp(-3.0))),
    ("math.log edge", math.log, 1e-3, 1e3),
    ("math.exp tiny x", math.exp, 1e-8, math.exp(1e-8)),
    ("math.sin large x", math.sin, 1e5, math.cos(1e5)),
    ("math.atan large", math.atan, 1e3, 1 / (1 + 1e6)),
    ("math exp(-x^2)", lambda x: math.exp(-x * x), 3.0, -6 * math.exp(-9.0)),
    ("x|x| (abs)", lambda x: x * np.abs(x), 2.0, 4.0),
    ("x+|x| (abs, complex)", lambda x: x + np.abs(x), 3.0, 2.0),
    ("nnlearn.sigmoid (abs)", nnlearn.sigmoid, 2.0, float(nnlearn.sigmoid_grad(2.0))),
    ("nnlearn.relu off kink", nnlearn.relu, 2.0, 1.0),
    ("where(x>0, x^2, 0)", lambda x: np.where(x > 0, x**2, 0.0), 1.5, 3.0),
]


_EULER_GAMMA = 0.5772156649015329
_SQPI = 2 / math.sqrt(math.pi)


def _digamma(x):
    """lgamma' at an integer or half-integer, in closed form."""
    if x == int(x):
        return -_EULER_GAMMA + math.fsum(1 / k for k in range(1, int(x)))
    return -_EULER_GAMMA - 2 * math.log(2) + math.fsum(2 / (2 * k - 1) for k in range(1, int(x - 0.5) + 1))


def _cases(name, f, df, xs):
    return [(f"{name} at {x:g}", f, x, df(x)) for x in xs]


#: Functions held out while the error estimate was designed: its honesty is judged on them too.
#: All but the NumPy ones refuse complex input, so auto uses Richardson.
HELD_OUT = [
    *_cases("math.lgamma", math.lgamma, _digamma, [0.5, 1.5, 2.5, 3.0, 4.5, 10.0, 100.0]),
    *_cases("math.erf", math.erf, lambda x: _SQPI * math.exp(-x * x), [0.0, 0.5, 1.0, 2.0, 3.0, -1.5]),
    *_cases("math.erfc", math.erfc, lambda x: -_SQPI * math.exp(-x * x), [0.5, 2.0, 5.0]),
    *_cases("math.atan", math.atan, lambda x: 1 / (1 + x * x), [0.0, 0.3, 1.0, -2.0, 50.0]),
    *_cases("math.log1p", math.log1p, lambda x: 1 / (1 + x), [1e-10, 0.5, 3.0, -0.9, 1e5]),
    *_cases("math.expm1", math.expm1, math.exp, [1e-10, -0.5, 2.0, 20.0, -30.0]),
    *_cases("math.sinh", math.sinh, math.cosh, [0.0, 0.5, 3.0, -10.0, 100.0]),
    *_cases("math.gamma", math.gamma, lambda x: math.gamma(x) * _digamma(x), [0.5, 2.5, 5.0]),
    *_cases("math.tanh", math.tanh, lambda x: 1 / math.cosh(x) ** 2, [0.1, 2.0, 15.0]),
    *_cases("math.cos", math.cos, lambda x: -math.sin(x), [1.0, 3.0, 1e3]),
    *_cases("cube root", lambda x: x ** (1 / 3), lambda x: x ** (-2 / 3) / 3, [8.0, 0.001]),
    *_cases("np.sinh", np.sinh, math.cosh, [0.5, 3.0]),
    *_cases("np.arctan", np.arctan, lambda x: 1 / (1 + x * x), [0.3, -2.0]),
]


def estimate_honesty(cases, method):
    """(cases, cases whose true error exceeds the reported error, max true/reported, median of it)."""
    ratios = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, f, x, true in cases:
            r = derivative(f, x, method=method, full_output=True)
            err = abs(r.df - true)
            ratios.append(err / r.error if r.error > 0 else (math.inf if err else 0.0))
    ratios = np.array(ratios)
    return len(ratios), int(np.sum(ratios > 1)), float(np.max(ratios)), float(np.median(ratios))


class Counted:
    """Wraps f and counts the points it is evaluated at."""

    def __init__(self, f, vectorised=False):
        self.f = f
        self.vectorised = vectorised
        self.n = 0

    def __call__(self, x):
        if not self.vectorised:
            self.n += 1
            return self.f(x)
        x = np.asarray(x, dtype=np.float64)
        self.n += x.size
        out = np.empty(x.shape)
        for idx in np.ndindex(x.shape):
            try:
                value = self.f(np.float64(x[idx]))
            except (ValueError, ArithmeticError):
                value = math.nan
            # A real function stepped outside its domain may return complex (Python's (-1)**1.5).
            out[idx] = value if np.isrealobj(value) else math.nan
        return out[()]


def _nnlearn(method):
    def run(f, x):
        c = Counted(f)
        return derivative(c, x, method=method), c.n

    return run


def _book(f, x):
    c = Counted(f)
    with np.errstate(all="ignore"):
        try:
            # np.float64 so that a step outside the domain gives NaN, as in the book's NumPy code.
            d = numerical_diff(c, np.float64(x))
            return (float(d) if np.isrealobj(d) else math.nan), c.n
        except (ValueError, ArithmeticError):
            return math.nan, c.n


def _numdifftools():
    try:
        import numdifftools as nd
    except ImportError:
        return None

    def run(f, x):
        c = Counted(f, vectorised=True)
        with np.errstate(all="ignore"):
            try:
                return float(nd.Derivative(c)(x)), c.n
            except (ValueError, ArithmeticError):
                return math.nan, c.n

    return run


def _scipy():
    try:
        from scipy.differentiate import derivative as sp_derivative
    except ImportError:
        return None

    def run(f, x):
        c = Counted(f, vectorised=True)
        with np.errstate(all="ignore"):
            return float(sp_derivative(c, x).df), c.n

    return run


def rel_error(d, true):
    return abs(d - true) / abs(true) if math.isfinite(d) else math.nan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="also print one row per case")
    args = parser.parse_args(argv)

    methods = {
        "nnlearn auto": _nnlearn("auto"),
        "nnlearn richardson": _nnlearn("richardson"),
        "book central h=1e-4": _book,
        "numdifftools": _numdifftools(),
        "scipy.differentiate": _scipy(),
    }
    print(f"{len(BATTERY)} smooth test cases (domain edges, large and tiny arguments); relative errors")
    results = {}
    for name, run in methods.items():
        if run is None:
            continue
        errs, evals = [], []
        start = time.perf_counter()
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the oracles' chatter about NaN slices
            for _, f, x, true in BATTERY:
                d, n = run(f, x)
                errs.append(rel_error(d, true))
                evals.append(n)
        results[name] = (np.array(errs), np.array(evals), time.perf_counter() - start)

    header = f"{'method':22s} {'median':>9s} {'worst':>9s} {'NaN':>4s} {'>1e-9':>6s} {'evals med':>9s} {'evals max':>9s} {'total':>6s} {'time/auto':>9s}"
    print(header)
    print("-" * len(header))
    t_auto = results["nnlearn auto"][2]
    for name, run in methods.items():
        if run is None:
            print(f"{name:22s} not installed (pip install 'nnlearn[oracles]')")
            continue
        errs, evals, elapsed = results[name]
        finite = errs[np.isfinite(errs)]
        nan = int(np.sum(~np.isfinite(errs)))
        # A NaN counts as the worst possible result, for the median as well.
        med = float(np.median(np.where(np.isfinite(errs), errs, np.inf)))
        worst = float(np.max(errs)) if nan == 0 else math.inf
        over = int(np.sum(finite > 1e-9)) + nan
        print(
            f"{name:22s} {med:9.1e} {worst:9.1e} {nan:4d} {over:6d} {int(np.median(evals)):9d} "
            f"{int(np.max(evals)):9d} {int(np.sum(evals)):6d} {elapsed / t_auto:9.2f}"
        )
    auto_errs = results["nnlearn auto"][0]
    used = np.array([derivative(f, x, full_output=True).method for _, f, x, _ in BATTERY])
    for method in ("complex", "richardson"):
        sub = auto_errs[used == method]
        print(
            f"  auto used {method:10s} on {sub.size:2d} cases: median {np.median(sub):7.1e}, worst {np.max(sub):7.1e}"
        )
    ok = np.all(np.isfinite(auto_errs)) and np.median(auto_errs) <= 1e-13 and np.max(auto_errs) <= 1e-9
    print(f"goal for auto (median <= 1e-13, worst <= 1e-9, no NaN): {'met' if ok else 'NOT met'}")

    print()
    print(f"Is the reported error (full_output=True) a bound? {len(BATTERY)} cases above + {len(HELD_OUT)} held out")
    honest = True
    for method in ("auto", "richardson"):
        n, under, worst, med = estimate_honesty(BATTERY + HELD_OUT, method)
        honest = honest and under == 0
        print(
            f"  {method:10s}: true error above the estimate in {under} of {n} cases; "
            f"true/estimate: worst {worst:.2f}, median {med:.3f}"
        )
    print(f"goal (the estimate bounds the true error on every case): {'met' if honest else 'NOT met'}")
    ok = ok and honest

    if args.cases:
        names = [n for n in methods if n in results]
        print()
        print(f"{'case':24s} {'x':>9s} " + " ".join(f"{n[:18]:>18s}" for n in names) + "  auto method")
        for i, (label, f, x, _) in enumerate(BATTERY):
            cells = " ".join(f"{results[n][0][i]:9.1e} ({results[n][1][i]:5d})" for n in names)
            print(f"{label:24s} {x:9.2g} {cells}  {used[i]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

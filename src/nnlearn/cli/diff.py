"""``nnlearn diff EXPR --at X``: the derivative of a typed formula.

The formula is read by :mod:`nnlearn.common.derivatives.expr` (a restricted parser, never ``eval``); a refused formula
exits with status 2 and a one-line message.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

from nnlearn.base.errors import NnlearnError, UsageError
from nnlearn.base.figtext import in_reader_language
from nnlearn.base.files import check_output_path
from nnlearn.base.i18n import N_, _
from nnlearn.cli._args import positive_float
from nnlearn.common.derivatives import METHODS, derivative
from nnlearn.common.derivatives.expr import ExpressionError, parse_expression

_METHOD_NAMES = {
    "complex": N_("complex step"),
    "richardson": N_("Richardson extrapolation"),
    "central": N_("central difference"),
    "forward": N_("forward difference"),
    "backward": N_("backward difference"),
}


def _parse_point(text: str, variables: tuple[str, ...]) -> list[float]:
    """``--at 3,4`` or ``--at x0=3,x1=4``; each value may be a constant formula such as ``pi/2``."""
    if not text.isascii():  # the formula reader takes any script's digits: --at ١٢ read as 12
        raise ExpressionError(_("--at {text!r}: write the numbers in ASCII digits, e.g. --at 3,4", text=text))
    items = [item.strip() for item in text.split(",")]
    named = ["=" in item for item in items]
    if any(named) and not all(named):
        raise ExpressionError(
            _("--at {text!r} mixes named and plain values; write --at 3,4 or --at x0=3,x1=4", text=text)
        )
    values = {}
    for item in items:
        name, _eq, value_text = item.rpartition("=")
        name = name.strip()
        if name and name not in variables:
            raise ExpressionError(
                _(
                    "--at names {name!r}, which is not a variable of the formula ({variables})",
                    name=name,
                    variables=", ".join(variables),
                )
            )
        try:
            values[name or len(values)] = float(parse_expression(value_text, variables=())())
        except ExpressionError as exc:
            raise ExpressionError(f"--at: {exc}") from None
    if all(named):
        missing = [v for v in variables if v not in values]
        if missing:
            raise ExpressionError(_("--at gives no value for {names}", names=", ".join(missing)))
        return [values[v] for v in variables]
    if len(values) != len(variables):
        example = ",".join(str(i + 3) for i in range(len(variables)))
        raise ExpressionError(
            _(
                "the formula has {n} variable(s) ({variables}) but --at gives {given} value(s); write --at {example}",
                n=len(variables),
                variables=", ".join(variables),
                given=len(values),
                example=example,
            )
        )
    return list(values.values())


def _fmt(value: float) -> str:
    return repr(float(value))


def run_diff(args) -> int:
    expr = parse_expression(args.expr)
    variables = expr.variables or ("x",)
    point = _parse_point(args.at, variables)
    if args.plot:
        if len(variables) != 1:
            raise UsageError(_("--plot draws f and its tangent line, so it needs a formula of one variable"))
        check_output_path(args.plot)  # before anything is printed
    # A formula without variables is a constant function of x; Expression takes one value then too.
    fx = float(expr(*point))
    at = ", ".join(f"{v}={_fmt(p)}" for v, p in zip(variables, point))
    if not math.isfinite(fx):
        raise NnlearnError(  # exit status 1: the formula and the point are well formed
            _("f is {fx} at {at}: the point is outside the formula's domain (or it overflows)", fx=fx, at=at)
        )

    # Everything is computed before anything is printed, so an error leaves no half report.
    results, notes = [], []
    for i, name in enumerate(variables):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            along = lambda t: expr(*point[:i], t, *point[i + 1 :])  # variable i alone, the others held
            r = derivative(along, point[i], method=args.method, h=args.h, full_output=True)
        notes += [str(w.message) for w in caught]
        if not math.isfinite(r.df):
            raise NnlearnError(
                _(
                    "no finite derivative in {name} at {at}: f is not smooth there, or not defined on either side",
                    name=name,
                    at=at,
                )
            )
        results.append(r)

    for note in notes:
        print(f"nnlearn: warning: {note}", file=sys.stderr)
    print(f"f({', '.join(variables)}) = {args.expr.strip()}")
    print(_("f at {at} = {value}", at=at, value=_fmt(fx)))
    for name, r in zip(variables, results):
        label = f"f'({_fmt(point[0])})" if len(variables) == 1 else f"df/d{name}"
        error = _(", estimated error {error:.1e}", error=r.error) if math.isfinite(r.error) else ""
        print(
            f"{label} = {_fmt(r.df)}   ("
            + _("{method}{error}, {n} evaluations of f", method=_(_METHOD_NAMES[r.method]), error=error, n=r.nfev)
            + ")"
        )
    if len(variables) > 1:
        print(f"gradient = [{', '.join(_fmt(r.df) for r in results)}]")
    if args.plot:
        from nnlearn.common.plots import save_figure

        fig = _plot_tangent(expr, args.expr.strip(), point[0], fx, results[0].df)
        print(_("wrote {path}", path=save_figure(fig, Path(args.plot))))
    return 0


@in_reader_language
def _plot_tangent(expr, text, x, fx, slope):
    """The formula around x with its tangent line there."""
    from matplotlib.figure import Figure

    from nnlearn.common.evaluation import as_typed

    half = max(abs(x), 1.0)
    xs = np.linspace(x - half, x + half, 401)
    with np.errstate(all="ignore"):
        ys = np.broadcast_to(np.asarray(expr(xs), dtype=float), xs.shape)
    tangent = fx + slope * (xs - x)
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(xs, np.where(np.isfinite(ys), ys, np.nan), label=as_typed(f"f(x) = {text}"))
    ax.plot(xs, tangent, "--", label=_("tangent at x = {x:g} (slope {slope:.6g})", x=x, slope=slope))
    ax.plot([x], [fx], "o", color="C1")
    finite = ys[np.isfinite(ys)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.1 * (hi - lo) if hi > lo else max(abs(hi), 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(_("f and its tangent line"))
    ax.legend()
    return fig


def register(commands) -> None:
    p = commands.add_parser(
        "diff",
        help="the derivative of a formula at a point, to machine precision",
        description=(
            "Print the derivative of a formula at a point (the partial derivatives and the gradient for "
            "several variables). Formulas use numbers, variables (x, or x0, x1, ...), + - * / ** ^, "
            "parentheses, pi, e and the functions abs, exp, log, log10, log2, log1p, expm1, sqrt, sin, cos, "
            "tan, arcsin, arccos, arctan, sinh, cosh, tanh, sigmoid, relu, softplus. Start a formula that "
            "begins with '-' with a space: ' -x**2'."
        ),
        epilog="examples: nnlearn diff '0.01*x**2 + 0.1*x' --at 5;  nnlearn diff 'x0**2 + x1**2' --at 3,4",
    )
    p.add_argument("expr", metavar="EXPR", help="the formula, e.g. '0.01*x**2 + 0.1*x'")
    p.add_argument(
        "--at",
        required=True,
        metavar="X",
        help="the point: one value per variable, comma-separated (3,4 or x0=3,x1=4); constants like pi/2 work",
    )
    p.add_argument("--method", choices=METHODS, default="auto", help="how to differentiate (default: auto)")
    p.add_argument("--h", type=positive_float, metavar="H", help="the step (default: scaled with |x|)")
    p.add_argument("--plot", metavar="PNG", help="also draw f and its tangent line into PNG")
    p.set_defaults(func=run_diff)

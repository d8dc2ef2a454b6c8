"""The lessons of sections 4.4 and 4.4.1 in the board: the gradient field, gradient descent, and
(chapter 6) four optimizers side by side, computed by nnlearn's own functions; a typed formula is read
by ``nnlearn diff``'s parser (never ``eval``). The contour lines are traced here by contourpy
(matplotlib's contouring library); the page only draws what it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnlearn.base.i18n import N_, _
from nnlearn.common.derivatives.expr import parse_expression
from nnlearn.common.gradient import gradient_descent, numerical_gradient
from nnlearn.common.optimizer import SGD, AdaGrad, Adam, Momentum
from nnlearn.common.plots import function_2

#: Samples per side of the grid the contour lines are traced on, and how many lines.
CONTOUR_GRID = 81
CONTOUR_LEVELS = 12
#: Figure 6-8's start point, box and optimizers with their learning rates (ch. 6.1.7).
RACE_START = (-7.0, 2.0)
RACE_BOX = (-10.0, 10.0, -5.0, 5.0)
RACE_OPTIMIZERS = (("SGD", SGD, 0.95), ("Momentum", Momentum, 0.1), ("AdaGrad", AdaGrad, 1.5), ("Adam", Adam, 0.3))


@dataclass(frozen=True)
class TwoVariables:
    """A function of (x0, x1): ``at(p)`` for one point (an array of 2, as ``numerical_gradient`` calls it),
    or for grids stacked along the first axis."""

    name: str
    text: str
    at: object


def function_6_8(p):
    """The book's f(x, y) = x**2 / 20 + y**2 (figure 6-8), for ``p = (x, y)`` or stacked grids."""
    return p[0] ** 2 / 20.0 + p[1] ** 2


PRESETS = {
    "function_2": TwoVariables("function_2", N_("x0² + x1² (the chapter's function_2)"), function_2),
    "function_6_8": TwoVariables("function_6_8", N_("x²/20 + y² (figure 6-8)"), function_6_8),
}


def two_variables(name: str, formula: str = "") -> TwoVariables:
    """A preset by name, or ``name == "formula"``: ``formula`` in x0 and x1, read by ``nnlearn diff``'s parser.

    Examples
    --------
    >>> float(two_variables("formula", "x0**2 + 3*x1").at(np.array([2.0, 1.0])))
    7.0
    """
    if name != "formula":
        return PRESETS[name]
    expr = parse_expression(formula, variables=("x0", "x1"))
    return TwoVariables("formula", formula.strip(), lambda p: expr(p[0], p[1]))


def shown(fn: TwoVariables) -> str:
    """How the page names the function: a preset's name in the current language, a formula as typed."""
    return fn.text if fn.name == "formula" else _(fn.text)


def contours(fn: TwoVariables, box) -> list[dict]:
    """Contour lines of ``fn`` over ``box = (x_lo, x_hi, y_lo, y_hi)``: ``[{"level", "lines"}]``.

    The levels are spaced by the square of their rank, so a bowl's lines are evenly spaced rings.
    """
    import contourpy

    x = np.linspace(box[0], box[1], CONTOUR_GRID)
    y = np.linspace(box[2], box[3], CONTOUR_GRID)
    grid_x, grid_y = np.meshgrid(x, y)
    with np.errstate(all="ignore"):
        z = np.broadcast_to(np.asarray(fn.at(np.stack([grid_x, grid_y])), dtype=np.float64), grid_x.shape)
    finite = z[np.isfinite(z)]
    if finite.size == 0 or finite.max() == finite.min():
        return []
    lo, hi = float(finite.min()), float(finite.max())
    ranks = np.arange(1, CONTOUR_LEVELS + 1) / (CONTOUR_LEVELS + 1)
    generator = contourpy.contour_generator(grid_x, grid_y, np.where(np.isfinite(z), z, np.nan))
    out = []
    for level in lo + (hi - lo) * ranks**2:
        lines = [np.round(seg, 4).tolist() for seg in generator.lines(float(level)) if len(seg) > 1]
        out.append({"level": float(level), "lines": lines})
    return out


def gradient_at(name: str, formula: str, x0: float, x1: float) -> dict:
    """``numerical_gradient`` of the function at (x0, x1), with f there; numbers and their ``repr``."""
    fn = two_variables(name, formula)
    grad = numerical_gradient(fn.at, np.array([x0, x1], dtype=np.float64))
    value = float(fn.at(np.array([x0, x1])))
    return {
        "point": [x0, x1],
        "value": value,
        "value_repr": repr(value),
        "gradient": grad.tolist(),
        "gradient_repr": [repr(float(g)) for g in grad],
    }


def gradient_field(name: str, formula: str, lim: float, n: int) -> dict:
    """The gradient at an ``n`` x ``n`` grid over [-lim, lim]², one ``numerical_gradient`` per point,
    as the book's figure 4-9 draws it (arrows of minus the gradient), over the contour lines."""
    fn = two_variables(name, formula)
    g = np.linspace(-lim, lim, n)
    points = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    grads = np.array([numerical_gradient(fn.at, p.copy()) for p in points])
    margin = lim / max(n - 1, 1)
    box = (-lim - margin, lim + margin, -lim - margin, lim + margin)
    return {
        "function": shown(fn),
        "box": box,
        "points": points.tolist(),
        "gradients": grads.tolist(),
        "contours": contours(fn, box),
    }


#: Below this fraction of the start's size, the path's total length counts as standing still; below
#: this fraction of f's scale, a change of f counts as none.
STILL = 1e-3
FLAT = 1e-3


def verdict(path: np.ndarray, values: np.ndarray) -> str:
    """What the path did, from its points and f at each of them.

    ``diverged``: a point or f not finite, or f higher at the end than at the start (each step
    overshoots further, lr 1.01 on x0² + x1²); ``stayed``: the steps together are shorter than a
    thousandth of the start's size (lr 1e-10); ``oscillated``: x moved but f did not go down
    (lr 1.0 jumps between x and -x, f the same at each); else ``descended``. The path's length is
    what tells standing still apart, not its end: lr 1.0's end is its start after an even number of
    steps.
    """
    if not (np.all(np.isfinite(path)) and np.all(np.isfinite(values))):
        return "diverged"
    size = max(float(np.abs(path[0]).max()), 1.0)
    scale = max(float(np.abs(values).max()), 1e-12)
    change = float(values[-1] - values[0])
    if change > FLAT * scale:
        return "diverged"
    if float(np.hypot(*np.diff(path, axis=0).T).sum()) < STILL * size:
        return "stayed"
    return "oscillated" if change > -FLAT * scale else "descended"


def descent(name: str, formula: str, x0: float, x1: float, lr: float, steps: int) -> dict:
    """:func:`nnlearn.gradient_descent` from (x0, x1) with every step's point, over the contour lines."""
    fn = two_variables(name, formula)
    start = np.array([x0, x1], dtype=np.float64)
    end, path = gradient_descent(fn.at, start, lr=lr, step_num=steps, return_path=True)
    with np.errstate(all="ignore"):
        values = np.array([fn.at(p) for p in path], dtype=np.float64)
    half = max(4.5, 1.5 * float(np.abs(start).max()))
    box = (-half, half, -half, half)
    return {
        "function": shown(fn),
        "lr": lr,
        "lr_repr": repr(lr),
        "steps": steps,
        "path": path.tolist(),
        "end": end.tolist(),
        "end_repr": [repr(float(v)) for v in end],
        "f_start": float(values[0]),
        "f_end": float(values[-1]),
        "moved": float(np.hypot(*(end - start))),
        "travelled": float(np.hypot(*np.diff(path, axis=0).T).sum()),
        "verdict": verdict(path, values),
        "box": box,
        "contours": contours(fn, box),
    }


def race(steps: int) -> dict:
    """SGD, Momentum, AdaGrad and Adam (:mod:`nnlearn.common.optimizer`, the book's learning rates) from
    (-7, 2) on f(x, y) = x²/20 + y², ``steps`` updates each: the book's figure 6-8.
    """
    fn = PRESETS["function_6_8"]
    paths = []
    for label, cls, lr in RACE_OPTIMIZERS:
        optimizer = cls(lr=lr)
        params = {"xy": np.array(RACE_START)}
        path = [params["xy"].copy()]
        for _step in range(steps):
            optimizer.update(params, {"xy": numerical_gradient(fn.at, params["xy"])})
            path.append(params["xy"].copy())
        end = params["xy"]
        trail = {"path": np.array(path).tolist(), "end": end.tolist(), "f_end": float(fn.at(end))}
        paths.append({"optimizer": label, "lr": lr} | trail)
    return {
        "function": shown(fn),
        "start": list(RACE_START),
        "steps": steps,
        "box": RACE_BOX,
        "paths": paths,
        "contours": contours(fn, RACE_BOX),
    }

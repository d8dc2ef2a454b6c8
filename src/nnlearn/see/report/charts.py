"""Line charts as inline SVG: the geometry is computed here, the SVG is written by a template.

:func:`line_chart` turns series of numbers into positions, ticks and path data (numbers only);
``templates/report/chart.svg`` writes them out, escaping every label. Crisp at any zoom,
searchable, and no script is needed to see them.
"""

from __future__ import annotations

import math

from nnlearn.train.rundir import finite

#: Colours of the series, in order (matplotlib's tab10, so that the PNG figures agree).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``.

    Examples
    --------
    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, k = [], 0
    while first + k * step <= hi + 1e-9 * step:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


def _points(s) -> list[tuple[float, float]]:
    """The drawable ``(x, y)`` of a series; ``None`` where the line breaks (a missing or non-finite value)."""
    return [(x, y) if finite(x) and finite(y) else None for x, y in zip(s["x"], s["y"])]


def _frame(series, ylim, width, height, title):
    left, right, top, bottom = 62, 16, 30 if title else 12, 44
    pw, ph = width - left - right, height - top - bottom
    pts = [p for s in series for p in _points(s) if p]
    x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    if pts:
        x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
        if x1 == x0:
            x0, x1 = x0 - 0.5, x1 + 0.5
        y0, y1 = ylim if ylim else (min(p[1] for p in pts), max(p[1] for p in pts))
        if y1 == y0:
            y0, y1 = y0 - 0.05, y1 + 0.05
    return left, top, pw, ph, (x0, x1, y0, y1)


def line_chart(series, *, title: str = "", xlabel: str = "", ylabel: str = "", ylim=None,
               width: int = 540, height: int = 320, percent: bool = False, legend: str = "upper right") -> dict:
    """The geometry of an SVG line chart, for ``report/chart.svg``.

    ``series`` is a list of dicts: ``{"label", "x", "y", "color"?, "width"?, "opacity"?, "dash"?,
    "markers"?}``; a value that is not a finite number (None, NaN, text) breaks the line. ``ylim``
    fixes the vertical range (default: the data's range). ``percent`` labels the vertical axis in %.
    ``legend`` is "upper right" or "lower right".

    Examples
    --------
    >>> c = line_chart([{"label": "loss", "x": [1, 2, 3, "x"], "y": [2.0, float("nan"), 0.5, 1.0]}])
    >>> c["series"][0]["d"], c["series"][0]["points"]
    ('M62.0,12.0 M524.0,276.0', 2)
    """
    left, top, pw, ph, (x0, x1, y0, y1) = _frame(series, ylim, width, height, title)

    def X(x):
        return left + (x - x0) / (x1 - x0) * pw

    def Y(y):
        return top + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * ph

    def ylabel_of(t):
        return f"{t:.1%}" if percent and y1 - y0 < 0.05 else (f"{t:.0%}" if percent else f"{t:.6g}")

    chart = {"width": width, "height": height, "title": title, "xlabel": xlabel, "ylabel": ylabel,
             "left": left, "top": top, "pw": pw, "ph": ph,
             "yticks": [(round(Y(t), 1), ylabel_of(t)) for t in nice_ticks(y0, y1)],
             "xticks": [(round(X(t), 1), f"{t:.6g}") for t in nice_ticks(x0, x1, 6)], "series": []}
    legend_x = left + pw - 10 - max([30 + 6.5 * len(str(s["label"])) for s in series] or [0])
    legend_y = top + 14 if legend == "upper right" else top + ph - 8 - 15 * (len(series) - 1)
    for k, s in enumerate(series):
        pts = _points(s)
        d, pen_up = [], True
        for p in pts:
            if p is None:
                pen_up = True
                continue
            d.append(f"{'M' if pen_up else 'L'}{X(p[0]):.1f},{Y(p[1]):.1f}")
            pen_up = False
        shown = [(round(X(p[0]), 1), round(Y(p[1]), 1)) for p in pts if p]
        chart["series"].append({
            "label": str(s["label"]), "d": " ".join(d), "points": len(shown),
            "color": s.get("color") or PALETTE[k % len(PALETTE)], "width": s.get("width", 1.6),
            "opacity": s.get("opacity", 1), "dash": bool(s.get("dash")),
            "markers": shown if s.get("markers") else [], "legend_x": round(legend_x), "legend_y": legend_y})
        legend_y += 15
    return chart


def zoomed_range(values, floor: float = 0.0, ceiling: float = 1.0) -> tuple[float, float]:
    """A vertical range zoomed to ``values`` with a 10% margin, kept within ``[floor, ceiling]``.

    Examples
    --------
    >>> zoomed_range([0.90, 0.95, None, "x"])
    (0.895, 0.955)
    """
    vals = [v for v in values if finite(v)]
    if not vals:
        return floor, ceiling
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.1, 0.005)
    return round(max(floor, lo - pad), 12), round(min(ceiling, hi + pad), 12)

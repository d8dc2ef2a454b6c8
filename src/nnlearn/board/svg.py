"""Line charts as inline SVG text: crisp at any zoom, searchable, and no script needed to see them."""

from __future__ import annotations

import html
import math

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


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def line_chart(series, *, title: str = "", xlabel: str = "", ylabel: str = "", ylim=None,
               width: int = 540, height: int = 320, percent: bool = False, legend: str = "upper right") -> str:
    """An SVG line chart.

    ``series`` is a list of dicts: ``{"label", "x", "y", "color"?, "width"?, "opacity"?, "dash"?,
    "markers"?}``; ``None`` or non-finite ``y`` values break the line. ``ylim`` fixes the vertical
    range (default: the data's range with a margin). ``percent`` labels the vertical axis in %.
    ``legend`` is "upper right" or "lower right".

    Examples
    --------
    >>> svg = line_chart([{"label": "loss", "x": [1, 2, 3], "y": [2.0, 1.0, 0.5]}], title="Loss")
    >>> svg.startswith("<svg") and "Loss" in svg and 'data-points="3"' in svg
    True
    """
    left, right, top, bottom = 62, 16, 30 if title else 12, 44
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, y in zip(s["x"], s["y"]) if _ok(y)]
    ys = [y for s in series for y in s["y"] if _ok(y)]
    if not xs:
        x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    else:
        x0, x1 = min(xs), max(xs)
        if x1 == x0:
            x0, x1 = x0 - 0.5, x1 + 0.5
        y0, y1 = ylim if ylim else (min(ys), max(ys))
        if y1 == y0:
            y0, y1 = y0 - 0.05, y1 + 0.05
    X = lambda x: left + (x - x0) / (x1 - x0) * pw  # noqa: E731
    Y = lambda y: top + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * ph  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#bbb"/>']
    if title:
        out.append(f'<text x="{left + pw / 2}" y="18" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>')
    for t in nice_ticks(y0, y1):
        y = Y(t)
        label = f"{t:.1%}" if percent and y1 - y0 < 0.05 else (f"{t:.0%}" if percent else _fmt(t))
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label}</text>')
    for t in nice_ticks(x0, x1, 6):
        x = X(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>'
                   f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11">{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" font-size="12">{html.escape(xlabel)}</text>')
    out.append(f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{html.escape(ylabel)}</text>')
    legend_x = left + pw - 10 - max([30 + 6.5 * len(s["label"]) for s in series] or [0])
    legend_y = top + 14 if legend == "upper right" else top + ph - 8 - 15 * (len(series) - 1)
    for k, s in enumerate(series):
        color = s.get("color") or PALETTE[k % len(PALETTE)]
        pts = [(X(x), Y(y)) for x, y in zip(s["x"], s["y"]) if _ok(y)]
        d, pen_up = [], True
        for x, y in zip(s["x"], s["y"]):
            if not _ok(y):
                pen_up = True
                continue
            d.append(f"{'M' if pen_up else 'L'}{X(x):.1f},{Y(y):.1f}")
            pen_up = False
        dash = ' stroke-dasharray="5 3"' if s.get("dash") else ""
        out.append(f'<path class="series" data-label="{html.escape(s["label"])}" data-points="{len(pts)}" '
                   f'd="{" ".join(d)}" fill="none" stroke="{color}" stroke-width="{s.get("width", 1.6)}" '
                   f'stroke-opacity="{s.get("opacity", 1)}"{dash}/>')
        if s.get("markers"):
            out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts)
        out.append(f'<line x1="{legend_x:.0f}" x2="{legend_x + 20:.0f}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
                   f'stroke="{color}" stroke-width="2.5"{dash}/><text x="{legend_x + 26:.0f}" y="{legend_y}" '
                   f'font-size="11">{html.escape(s["label"])}</text>')
        legend_y += 15
    out.append("</svg>")
    return "".join(out)


def _ok(y) -> bool:
    return isinstance(y, (int, float)) and math.isfinite(y)


def zoomed_range(values, floor: float = 0.0, ceiling: float = 1.0) -> tuple[float, float]:
    """A vertical range zoomed to ``values`` with a 10% margin, kept within ``[floor, ceiling]``.

    Examples
    --------
    >>> zoomed_range([0.90, 0.95])
    (0.895, 0.955)
    """
    vals = [v for v in values if _ok(v)]
    if not vals:
        return floor, ceiling
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.1, 0.005)
    return round(max(floor, lo - pad), 12), round(min(ceiling, hi + pad), 12)

import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlearn.common import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["plot_tangent", "plot_surface", "plot_gradient_field", "plot_descent_path"])
def test_each_figure_is_a_figure_and_a_non_empty_png(name, tmp_path):
    fig = getattr(plots, name)()
    assert isinstance(fig, Figure)
    path = plots.save_figure(fig, tmp_path / "sub" / f"{name}.png")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_tangent_line_has_the_numerical_slope():
    fig = plots.plot_tangent()
    tangent = fig.axes[0].lines[1]
    xs, ys = tangent.get_data()
    slope = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    assert slope == pytest.approx(0.1999999999990898, rel=1e-12)


def test_descent_path_starts_at_the_book_point():
    fig = plots.plot_descent_path()
    xs, ys = fig.axes[0].lines[0].get_data()
    assert (xs[0], ys[0]) == (-3.0, 4.0)
    assert np.hypot(xs[-1], ys[-1]) < 0.1


def test_save_figure_leaves_old_file_when_drawing_fails(tmp_path):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")

    class Broken(Figure):
        def savefig(self, *a, **k):
            raise RuntimeError("cannot draw")

    with pytest.raises(RuntimeError):
        plots.save_figure(Broken(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def test_text_given_to_a_figure_is_drawn_as_typed_never_as_math(tmp_path):
    # A pair of $ is math to matplotlib: "m$\x$" (a run folder's name, a class name, a file's meta) stopped
    # the drawing with "ValueError: Unknown symbol: \x".
    from nnlearn.common.evaluation import (
        plot_accuracy,
        plot_accuracy_panels,
        plot_confusion,
        plot_loss,
        plot_runs,
    )
    from nnlearn.see.images import digits_figure

    text = "m$\\x$"
    figures = [
        plot_loss([2.0, 1.0, 0.5], title=text),
        plot_accuracy([1, 2], [0.5, 0.9], [0.4, 0.8], title=text),
        plot_accuracy_panels({text: ([1, 2], [0.5, 0.9], [0.4, 0.8])}, title=text),
        plot_runs(
            [
                {
                    "name": text,
                    "iterations": [1, 2],
                    "means": [None, 1.0],
                    "epochs": [1],
                    "accuracy": [0.5],
                    "column": text,
                }
            ]
        ),
        plot_confusion(np.eye(2, dtype=int), labels=[text, "$\\frac{$"], title=text),
        digits_figure(np.zeros((2, 28, 28), dtype=np.uint8), [text, "$\\frac{$"]),
    ]
    for k, fig in enumerate(figures):
        assert plots.save_figure(fig, tmp_path / f"{k}.png").read_bytes().startswith(PNG_MAGIC)
        shown = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        assert any("m\\$\\x\\$" in s for s in shown), (k, shown)  # the text is there, each $ escaped
        assert [s for s in shown if s.count("$") != s.count("\\$")] == [], k  # so none of it is math


def test_a_figure_as_svg_keeps_every_point_and_gives_the_same_text_twice():
    """The report's and the board's charts: matplotlib's SVG, whole (no point simplified away), its words as
    text and escaped, the same bytes for the same figure and apart for two names (ids in one page)."""
    import re

    from nnlearn.common.evaluation import figure_svg, plot_loss, plot_runs

    losses = 2.3 * 0.999 ** np.arange(3000)  # smooth: matplotlib would simplify most of its points away
    svg = figure_svg(plot_loss(losses, window=100), "loss")
    assert svg.startswith("<svg ") and svg.endswith("</svg>\n") and "<?xml" not in svg and "<metadata" not in svg
    path = re.search(r'<g id="loss">\s*<path d="([^"]*)"', svg).group(1)
    assert len(re.findall(r"[ML] ", path)) == 3000
    assert figure_svg(plot_loss(losses, window=100), "loss") == svg
    clips = set(re.findall(r'clipPath id="(\w+)"', svg))
    assert clips and clips.isdisjoint(
        re.findall(r'clipPath id="(\w+)"', figure_svg(plot_loss(losses, window=100), "other"))
    )
    hostile = figure_svg(
        plot_runs(
            [
                {
                    "name": "<script>alert(1)</script>",
                    "iterations": [1, 2],
                    "means": [1.0, 0.5],
                    "epochs": [1, 2],
                    "accuracy": [0.5, None],
                    "column": "test accuracy",
                }
            ]
        ),
        "runs",
    )
    assert "<script" not in hostile and ">&lt;script&gt;alert(1)&lt;/script&gt;</text>" in hostile

"""The chapter's figures in Chinese and Japanese: titles, axes and legends in the language's script,
every glyph drawn (no boxes), and English labels with a one-line hint where no CJK font is installed."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
from matplotlib.text import Text

from nnlearn.base import figtext, i18n
from nnlearn.common.derivatives.rounding import plot_rounding_lesson
from nnlearn.common.evaluation import plot_accuracy, plot_accuracy_panels, plot_confusion, plot_loss, plot_runs
from nnlearn.common.plots import plot_descent_path, plot_gradient_field, plot_surface, plot_tangent
from nnlearn.see import routes

#: Each figure of ``nnlearn demo all``, drawn as the demo draws it.
DEMO_FIGURES = {
    "tangent": plot_tangent,
    "surface": plot_surface,
    "gradient_field": plot_gradient_field,
    "descent_path": plot_descent_path,
    "rounding": plot_rounding_lesson,
}
#: A run's figures (``nnlearn train``, ``evaluate``, ``demo overfit``), on made-up numbers: with the slow tests
#: (the same code draws them; the demo's figures, the acceptance, are in the quick suite).
RUN_FIGURES = {
    "loss": lambda: plot_loss(np.r_[np.linspace(2.3, 0.3, 300), [40.0]]),
    "accuracy": lambda: plot_accuracy([1, 2, 3], [0.8, 0.9, 0.95], [0.79, 0.88, 0.9], test_label="validation acc"),
    "overfit": lambda: plot_accuracy_panels({"plain": ([1, 2], [0.9, 1.0], [0.6, 0.7])}),
    "confusion": lambda: plot_confusion(np.array([[5, 1], [2, 7]])),
    "runs": lambda: plot_runs(
        [
            {
                "name": "a",
                "iterations": [1, 2],
                "means": [1.0, 0.5],
                "epochs": [1, 2],
                "accuracy": [0.8, 0.9],
                "column": "test accuracy",
            }
        ]
    ),
    # demo routes: the routes' names come translated from run_routes; the figure's own words are checked here
    "routes": lambda: routes.plot_accuracy([routes.RouteResult("a", 0.9, 1.0, 1.0, np.zeros(1))], 300, 200),
    "routes mistakes": lambda: routes.plot_mistakes(
        [routes.RouteResult("a", 0.9, 1.0, 1.0, np.ones(3, dtype=int))], np.zeros((3, 784)), np.zeros(3, dtype=int), 2
    ),
}
SCRIPTS = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ja": re.compile(r"[\u3040-\u30ff]")}


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def title(fig) -> str:
    """The figure's title: its own (over several panels), else its one panel's (panels may be named by
    their numbers alone, ``lr = 0.1``)."""
    return fig.get_suptitle() or fig.axes[0].get_title()


def drawn_warnings(fig) -> list[str]:
    """matplotlib's warnings while the figure is drawn to PNG (a glyph missing from every font says so)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=50)
    return [str(w.message) for w in caught]


requires_cjk_font = pytest.mark.skipif(
    figtext.cjk_font("zh") is None or figtext.cjk_font("ja") is None,
    reason="no CJK font installed (Debian: fonts-noto-cjk; .ci/run installs it)",
)


@requires_cjk_font
@pytest.mark.parametrize("lang", ["zh", "ja"])
@pytest.mark.parametrize("name", [*DEMO_FIGURES, *(pytest.param(name, marks=pytest.mark.slow) for name in RUN_FIGURES)])
def test_each_demo_figure_is_drawn_in_the_language_with_every_glyph(name, lang):
    with i18n.use(lang):
        fig = (DEMO_FIGURES | RUN_FIGURES)[name]()
    assert SCRIPTS["zh"].search(title(fig)) or SCRIPTS["ja"].search(title(fig)), title(fig)
    if lang == "ja":
        assert any(SCRIPTS["ja"].search(t) for t in texts(fig)), texts(fig)  # Japanese, not Chinese
    missing = [w for w in drawn_warnings(fig) if re.search(r"Glyph .* missing from font", w)]
    assert missing == []


def test_in_english_the_figure_is_as_before():
    fig = plot_tangent()
    assert fig.axes[0].get_title().isascii() and "slope" in fig.axes[0].get_title()
    assert fig.axes[0].title.get_fontfamily() != [figtext.BASE_FONT, figtext.cjk_font("zh")]


def test_without_a_cjk_font_the_figure_keeps_english_and_says_what_to_install(monkeypatch):
    monkeypatch.setattr(figtext, "cjk_font", lambda lang: None)
    figtext._warn_no_font.cache_clear()
    with i18n.use("zh"), pytest.warns(UserWarning, match="fonts-noto-cjk") as caught:
        fig = plot_gradient_field()
    assert fig.axes[0].get_title() == "Negative gradient of x0² + x1²"
    assert len(caught) == 1 and "\n" not in str(caught[0].message) and SCRIPTS["zh"].search(str(caught[0].message))
    assert not any("missing from font" in w for w in drawn_warnings(fig))
    figtext._warn_no_font.cache_clear()


def test_the_font_list_names_the_fonts_readers_have():
    for lang, names in figtext.CJK_FONTS.items():
        for family in ("Noto Sans CJK", "Source Han Sans", "Hiragino", "Arial Unicode MS"):
            assert any(family in name for name in names), (lang, family)
    assert {"WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "SimHei"} <= set(figtext.CJK_FONTS["zh"])
    assert {"Yu Gothic", "Meiryo"} <= set(figtext.CJK_FONTS["ja"])
    assert figtext.CJK_FONTS["zh"][0].endswith("SC") and figtext.CJK_FONTS["ja"][0].endswith("JP")

"""The figures a learner reads say what they show: cut or zoomed axes, units, what a label means."""

import numpy as np

from nnlearn.common.derivatives.rounding import plot_rounding_lesson
from nnlearn.common.evaluation import plot_accuracy, plot_confusion, plot_loss
from nnlearn.common.plots import plot_descent_path
from nnlearn.see import routes


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_loss_figure_says_where_it_cuts_the_y_axis():
    losses = np.r_[[5.0, 4.0], np.full(998, 0.5)]
    ax = plot_loss(losses, window=10).axes[0]
    assert ax.get_ylim() == (0.0, 0.525)
    (said,) = [t.get_text() for t in ax.texts]  # where the axis is cut, how many lie above, the largest
    assert "0.525" in said and "2 of 1000" in said and said.endswith(" 5"), said
    assert len(plot_loss(np.full(100, 0.5)).axes[0].texts) == 0  # nothing cut, nothing said


def test_accuracy_figure_zooms_to_the_data_and_says_so():
    fig = plot_accuracy([1, 2, 3], [0.90, 0.96, 0.99], [0.89, 0.93, 0.94])
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert (round(low, 6), round(high, 6)) == (0.88, 1.0)
    assert ax.get_ylabel().startswith("accuracy") and "0.88" in ax.get_ylabel()
    xlabel = ax.get_xlabel()
    assert xlabel.startswith("epochs\n") and all(v in xlabel for v in ("99.0%", "94.0%", "5.0")), xlabel
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train acc", "test acc"]


def _results(accuracies):
    t = np.arange(10) % 10
    return [routes.RouteResult(name, a, 1.0, 1.0, (t + 1) % 10) for name, a in accuracies], t


def test_routes_accuracy_says_where_the_axis_starts_and_the_training_size():
    results, _ = _results([("rule: nearest average digit", 0.82), ("network end to end", 0.97)])
    fig = routes.plot_accuracy(results, train_size=2000, test_size=10000)
    ax = fig.axes[0]
    assert ax.get_xlim() == (72.0, 100.0)
    assert "10,000 test images" in ax.get_xlabel() and "72 %" in ax.get_xlabel(), ax.get_xlabel()
    assert "2,000 images" in fig.get_suptitle(), fig.get_suptitle()


def test_routes_mistakes_has_a_title_that_explains_true_to_predicted():
    results, t = _results([("rule", 0.0)])
    fig = routes.plot_mistakes(results, np.zeros((10, 784)), t, per_route=3)
    title, explained = fig.get_suptitle().split("\n")  # a title, and a line that reads the arrow
    assert "wrong" in title and "→" in explained and "5→6" in explained, fig.get_suptitle()
    assert [ax.get_title() for ax in fig.axes] == ["0→1", "1→2", "2→3"]


def test_descent_path_shows_the_three_learning_rates_of_the_text():
    fig = plot_descent_path()
    assert all(v in fig.get_suptitle() for v in ("x0² + x1²", "(-3, 4)", "100")), fig.get_suptitle()
    assert [ax.get_title() for ax in fig.axes] == ["lr = 0.1", "lr = 10", "lr = 1e-10"]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    # each path's end (the book's three outcomes), what the axes do for the diverging one, the minimum
    ends = (
        ["lr=0.1", "(-6.11e-10, 8.15e-10)"],
        ["lr=10", "(-2.59e+13, -1.3e+12)", "powers of ten"],
        ["lr=1e-10", "(-3, 4)", "1.0e-07"],
    )
    assert [len(legend) for legend in legends] == [2, 2, 2] and all(legend[1] == "minimum (0, 0)" for legend in legends)
    assert all(token in legend[0] for legend, tokens in zip(legends, ends) for token in tokens), legends
    assert [len(ax.lines[0].get_xdata()) for ax in fig.axes] == [101, 101, 101]
    assert [ax.get_xscale() for ax in fig.axes] == ["linear", "symlog", "linear"]


def test_rounding_figure_uses_plain_words():
    fig = plot_rounding_lesson()
    words = " ".join(_texts(fig) + [t.get_text() for t in fig.legends[0].get_texts()])
    assert "seed" not in words and " V" not in words
    assert "the book's bad step h = 1e-50 is off the axis, to the left:" in words
    assert "complex step Im f(x+ih) / h (no subtraction, so its error does not grow as h shrinks)" in words


def test_rounding_figure_runs_h_the_way_the_boards_lesson_does():
    """Both put the small steps (rounding) on the left and the large ones (truncation) on the right: the
    board's lesson 4.3 draws h from 1e-20 up to 1 (lesson-diff.js takes the board's h in ascending order)."""
    from nnlearn.see.board.lesson_diff import diff_lesson

    hs = diff_lesson("function_1", "", 5.0, 1e-4)["curves"]["h"]
    assert hs[0] < hs[-1]
    for ax in plot_rounding_lesson().axes:
        low, high = ax.get_xlim()
        assert (low, high) == (1e-20, 1e-1)


def test_confusion_colour_bar_is_labelled_in_plain_words_with_true_shares():
    fig = plot_confusion(np.array([[3, 1], [0, 4]]))
    bar = fig.axes[1]
    assert "fraction" in bar.get_ylabel() and "true class" in bar.get_ylabel(), bar.get_ylabel()
    assert fig.axes[0].images[0].get_array()[0].tolist() == [0.75, 0.25]  # shares, not their square roots

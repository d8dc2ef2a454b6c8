"""Three routes to recognising a digit, judged on the same test data (chapter 4.1).

1. **A rule designed by a person**: compare the image with an average picture of each digit and
   take the nearest. Averaging the training images already uses data -- the chapter's point that
   even a "hand-made" rule is hard to write without looking at examples.
2. **Features designed by a person + machine learning**: histograms of oriented gradients (HOG,
   scikit-image) fed to k-nearest neighbours and to a linear SVM (scikit-learn). A person chose what
   to measure; the classifier learns only how to weigh it. Raw-pixel KNN is shown for reference.
3. **End to end**: the network of ``nnlearn train --recipe strong`` learns from the pixels alone.

Every route trains on the same training images and is scored on the 10,000 test images, which none
of them has seen. scikit-learn and scikit-image are an optional extra: ``pip install 'nnlearn[classic]'``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from nnlearn.base.errors import NnlearnError
from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import _
from nnlearn.train.training import train_arrays

CLASSIC_PACKAGES = {"sklearn": "scikit-learn", "skimage": "scikit-image"}


def require_classic() -> None:
    """Refuse to run the classic routes without scikit-learn and scikit-image, saying how to get them."""
    missing = [pkg for mod, pkg in CLASSIC_PACKAGES.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise NnlearnError(
            _(
                "the classic machine-learning routes need {packages}; install them with: pip install 'nnlearn[classic]'",
                packages=_(" and ").join(missing),
            )
        )


@dataclass
class RouteResult:
    """What one route achieved on the test set (``name`` and ``note`` in the reader's language; ``kind``:
    ``"rule"``, ``"features"`` or ``"network"``, the route's colour in the figure)."""

    name: str
    accuracy: float
    train_seconds: float
    predict_seconds: float
    predictions: np.ndarray = field(repr=False)
    note: str = ""
    kind: str = "features"


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _result(name, t_test, fit_seconds, predict, note="", kind="features"):
    pred, seconds = _timed(predict)
    return RouteResult(name, float(np.mean(pred == t_test)), fit_seconds, seconds, pred, note, kind)


def template_route(x_train, t_train, x_test, t_test) -> RouteResult:
    """Nearest average digit: the distance to each class's mean image."""

    def fit():
        return np.stack([x_train[t_train == k].mean(axis=0) for k in range(10)])

    templates, fit_seconds = _timed(fit)

    def predict():
        # |x - m|^2 = |x|^2 - 2 x.m + |m|^2, and |x|^2 is the same for every class.
        return np.argmin(-2.0 * x_test @ templates.T + np.sum(templates**2, axis=1), axis=1)

    return _result(
        _("rule: nearest average digit"),
        t_test,
        fit_seconds,
        predict,
        _("the templates are averages of training images"),
        "rule",
    )


def hog_features(images, progress=None) -> np.ndarray:
    """HOG descriptors (9 orientations, 4x4-pixel cells, 2x2-cell blocks) of 28x28 images, float32."""
    from skimage.feature import hog

    images = np.asarray(images).reshape(-1, 28, 28)
    out = np.empty((len(images), 1296), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = hog(image, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2))
        if progress is not None:
            progress.update(1)
    return out


def knn_route(name, f_train, t_train, f_test, t_test, k=3, progress=False) -> RouteResult:
    from sklearn.neighbors import KNeighborsClassifier
    from tqdm.auto import tqdm

    model, fit_seconds = _timed(KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit, f_train, t_train)

    def predict():
        # In chunks, so that the progress bar moves during the minutes KNN may take.
        chunks = np.array_split(np.arange(len(f_test)), max(1, len(f_test) // 1000))
        bar = tqdm(chunks, desc=_("{name}: predicting", name=name), unit="chunk", disable=not progress, leave=False)
        return np.concatenate([model.predict(f_test[c]) for c in bar])

    return _result(name, t_test, fit_seconds, predict)


@contextlib.contextmanager
def _elapsed(desc, enabled):
    """A progress line that shows the elapsed time of a step that reports no progress of its own."""
    from tqdm.auto import tqdm

    bar = tqdm(desc=desc, bar_format="{desc}: {elapsed}", disable=not enabled, leave=False)
    stop = threading.Event()

    def tick():
        while not stop.wait(0.5):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()


def svm_route(name, f_train, t_train, f_test, t_test, progress=False) -> RouteResult:
    from sklearn.svm import LinearSVC

    # The primal solver is deterministic: no seed needed.
    svm = LinearSVC(C=0.5, dual=False)
    with _elapsed(_("{name}: fitting", name=name), progress):
        model, fit_seconds = _timed(svm.fit, f_train, t_train)
    return _result(name, t_test, fit_seconds, lambda: model.predict(f_test))


def network_route(x_train, t_train, x_test, t_test, seed=0, progress=True) -> RouteResult:
    """The network of the ``strong`` recipe, trained on the same images."""
    run, fit_seconds = _timed(
        lambda: train_arrays(x_train, t_train, x_test, t_test, recipe="strong", seed=seed, progress=progress)
    )
    return _result(
        _("network end to end (strong recipe)"),
        t_test,
        fit_seconds,
        lambda: run.classify(x_test),
        run.description,
        "network",
    )


def run_routes(x_train, t_train, x_test, t_test, seed=0, progress=True) -> list[RouteResult]:
    """Run every route on the same data; images are float in [0, 1], flattened to 784."""
    from tqdm.auto import tqdm

    require_classic()
    results = [template_route(x_train, t_train, x_test, t_test)]
    with tqdm(total=len(x_train) + len(x_test), desc=_("HOG features"), unit="img", disable=not progress) as bar:
        f_train, hog_train_seconds = _timed(hog_features, x_train, bar)
        f_test, hog_test_seconds = _timed(hog_features, x_test, bar)
    results.append(knn_route(_("raw pixels + KNN (k=3)"), x_train, t_train, x_test, t_test, progress=progress))
    for route, name in ((knn_route, _("HOG features + KNN (k=3)")), (svm_route, _("HOG features + linear SVM"))):
        r = route(name, f_train, t_train, f_test, t_test, progress=progress)
        # Computing the features is part of training and of predicting.
        r.train_seconds += hog_train_seconds
        r.predict_seconds += hog_test_seconds
        r.note = _("times include computing the HOG features")
        results.append(r)
    results.append(network_route(x_train, t_train, x_test, t_test, seed, progress))
    return results


def table(results: list[RouteResult]) -> tuple[list, list]:
    """``(header, rows)`` of the routes' results, for :func:`nnlearn.cli._args.print_table`."""
    header = [_("route"), _("test accuracy"), _("train [s]"), _("predict [s]")]
    rows = [[r.name, f"{100 * r.accuracy:.2f}%", f"{r.train_seconds:.2f}", f"{r.predict_seconds:.2f}"] for r in results]
    return header, rows


@in_reader_language
def plot_accuracy(results, train_size: int | None = None, test_size: int = 10000):
    """Test accuracy per route as horizontal bars; the x-axis starts 10 points below the worst
    route (not at 0, which the axis label says), and the title gives the number of training images."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 0.6 * len(results) + 1.2))
    ax = fig.add_subplot()
    # Reversed, so that the first route is drawn at the top.
    names = [r.name for r in results][::-1]
    acc = [100 * r.accuracy for r in results][::-1]
    colors = [{"network": "C2", "rule": "C1"}.get(r.kind, "C0") for r in results]
    bars = ax.barh(names, acc, color=colors[::-1])
    for bar, a in zip(bars, acc):
        ax.text(a - 0.5, bar.get_y() + bar.get_height() / 2, f"{a:.2f}%", va="center", ha="right", color="white")
    start = max(0, min(acc) - 10)
    ax.set_xlim(start, 100)
    if start > 0:
        ax.set_xlabel(
            _(
                "test accuracy (%) on the {n:,} test images; the axis starts at {start:.0f} %, not 0",
                n=test_size,
                start=start,
            )
        )
    else:
        ax.set_xlabel(_("test accuracy (%) on the {n:,} test images", n=test_size))
    # Over the whole figure, not the axes: the route names push the axes right, and a title centred on
    # them would run off the figure's edge.
    if train_size is not None:
        fig.suptitle(_("Three routes to recognising a digit, each trained on {n:,} images", n=train_size))
    else:
        fig.suptitle(_("Three routes to recognising a digit"))
    fig.tight_layout()
    return fig


@in_reader_language
def plot_mistakes(results, x_test, t_test, per_route=10):
    """A row per route: the first test digits it gets wrong, titled 'true -> predicted'."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(per_route * 1.0 + 2.5, 1.2 * len(results) + 0.8))
    axes = fig.subplots(len(results), per_route, squeeze=False)
    for row, r in zip(axes, results):
        wrong = np.flatnonzero(r.predictions != t_test)[:per_route]
        for col, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(wrong):
                i = wrong[col]
                ax.imshow(np.asarray(x_test[i]).reshape(28, 28), cmap="gray_r")
                ax.set_title(f"{t_test[i]}→{r.predictions[i]}", fontsize=8)
            else:
                ax.axis("off")
        row[0].set_ylabel(r.name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(
        _("The first test digits each route gets wrong")
        + "\n"
        + _("above each image: true digit → predicted digit (5→6 is a 5 the route read as a 6)"),
        fontsize=10,
    )
    fig.subplots_adjust(left=0.22, wspace=0.1, hspace=0.5, top=1 - 0.75 / (1.2 * len(results) + 0.8))
    return fig

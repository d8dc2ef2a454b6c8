"""The loss landscape of a trained network: its training loss over a plane through its weights.

Li et al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018): evaluate
``L(w* + alpha d1 + beta d2)`` on a grid of ``(alpha, beta)`` around the trained weights ``w*``.
``nnlearn landscape RUN`` writes ``landscape.npz`` and ``landscape.png`` into the run folder. The
directions are random and filter-normalised (:func:`filter_normalized`), or the first two principal
directions of the run's trajectory (:func:`pca_directions`): random directions in 40,000 dimensions are
nearly orthogonal to the path and see almost nothing of it.

Biases are held at their trained values, as in Li et al.'s figures (their ``ignore='biasbn'``): a bias
is one number per unit, so normalising it like a filter would make its step an arbitrary ``+-|b|``.
The loss is the network's own, in test mode, weight decay included, on the run's first training images
(never its validation images), computed by :func:`nnlearn.see.plane_loss.plane_losses`.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nnlearn import datasets
from nnlearn.base.constraints import POSITIVE_WHOLE, Number, Options
from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.base.figtext import in_reader_language
from nnlearn.base.i18n import N_, _
from nnlearn.common.evaluation import as_typed
from nnlearn.common.plots import save_figure
from nnlearn.common.saving import read_npz, write_npz
from nnlearn.see.plane_loss import plane_losses
from nnlearn.train import runs
from nnlearn.train.trajectory import TRAJECTORY_FILE, flatten_params, param_layout, read_trajectory, unflatten_params

LANDSCAPE_FILE = "landscape.npz"
FIGURE_FILE = "landscape.png"
DIRECTIONS = ("random", "pca")
FORMAT = 1
#: A grid of at most this many points a side (201 x 201 = 40,401 networks).
MAX_GRID = 201
#: The default number of training images the loss is averaged over.
DEFAULT_SAMPLES = 10000
#: Without --span: random directions span [-1, 1]; PCA directions the path, with this much margin.
RANDOM_SPAN = 1.0
PCA_MARGIN = 1.25
#: The widest plane: a million times the weights' own size (random directions; PCA's are unit vectors).
#: Far beyond where the loss stops changing, and far inside float32: 1e308 overflowed the grid itself.
MAX_SPAN = 1e6
GRID = Number(int, 3, MAX_GRID)
_SPAN_MEANS = N_(
    "the grid covers [-span, span]; span 1, random directions' default, moves the weights by their own size"
)
SPAN = Number(float, 0, MAX_SPAN, low_open=True, hint=_SPAN_MEANS)
MAX_LANDSCAPE_BYTES = 64 * 2**20
#: The arrays of ``landscape.npz``: the fields of :class:`Landscape` but its ``meta``.
ARRAYS = ("alphas", "betas", "loss", "path", "path_iterations")
_FIX = N_("compute it again with `nnlearn landscape RUN`")


@dataclass(frozen=True)
class Landscape:
    """A computed landscape: ``loss[i, j]`` is the loss at ``w* + alphas[j] d1 + betas[i] d2``.

    ``path`` holds the snapshots of the trajectory projected onto the plane (``(K, 2)``; empty
    without a trajectory), taken after ``path_iterations``; the trained weights are ``(0, 0)``.
    ``meta`` says how it was made (directions, seed, span, samples, explained variance, ...).
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    path: np.ndarray
    path_iterations: np.ndarray
    meta: dict = field(default_factory=dict)

    def lowest(self) -> tuple[float, float, float]:
        """``(alpha, beta, loss)`` of the grid point with the lowest loss."""
        i, j = np.unravel_index(np.nanargmin(self.loss), self.loss.shape)
        return float(self.alphas[j]), float(self.betas[i]), float(self.loss[i, j])

    def cells_from_centre(self) -> int:
        """How many grid cells the lowest point lies from the trained weights (the larger of the two axes)."""
        alpha, beta, _loss = self.lowest()
        return round(max(abs(alpha) / (self.alphas[1] - self.alphas[0]), abs(beta) / (self.betas[1] - self.betas[0])))


# -- directions ------------------------------------------------------------------------------------


def is_weight(shape) -> bool:
    """Whether a parameter of this shape moves with the plane: weight matrices do, biases stay fixed."""
    return len(shape) >= 2


def filter_normalized(direction: dict, params: dict) -> dict:
    """``direction`` with each filter scaled to the norm of ``params``' filter; biases get a zero direction.

    A dense layer's filter is one unit's incoming weights, a column of ``W``: ``alpha = 1`` moves every
    unit by as much as its weights are long, whatever the layer's scale.
    """
    out = {}
    for key, d in direction.items():
        if not is_weight(np.shape(params[key])):
            out[key] = np.zeros_like(d, dtype=np.float64)
            continue
        d = np.asarray(d, dtype=np.float64)
        d_norm = np.linalg.norm(d, axis=0)
        w_norm = np.linalg.norm(np.asarray(params[key], dtype=np.float64), axis=0)
        out[key] = d * np.divide(w_norm, d_norm, out=np.zeros_like(w_norm), where=d_norm > 0)
    return out


def random_directions(params: dict, seed=0) -> tuple[dict, dict]:
    """Two filter-normalised directions drawn from a standard normal by ``numpy.random.Generator(seed)``."""
    rng = np.random.default_rng(seed)
    draws = [{k: rng.standard_normal(np.shape(v)) for k, v in params.items()} for _draw in range(2)]
    return tuple(filter_normalized(d, params) for d in draws)


def pca_directions(weights: np.ndarray, centre: np.ndarray, layout) -> tuple[dict, dict, list]:
    """The first two principal directions of the offsets ``weights[k] - centre`` (rows: snapshots), biases left out.

    Returns ``(d1, d2, explained)``: unit directions as parameter dicts (uncentred, so that the plane
    passes through ``centre``), and the share of the offsets' squared length each holds. Each is signed
    so that the start has a negative coordinate: the path runs from left and below into the trained weights.
    """
    mask = flatten_params({k: np.full(s, is_weight(s)) for k, s in layout}).astype(bool)
    offsets = (np.asarray(weights, dtype=np.float64) - centre)[:, mask]
    offsets = offsets[np.any(offsets != 0, axis=1)]
    if len(offsets) < 2:
        raise InputError(
            _(
                "the trajectory has only {n} snapshot(s) away from the trained weights; principal "
                "directions need two (a run of at least two epochs); use --directions random",
                n=len(offsets),
            )
        )
    # The right singular vectors of the few-row ``offsets``, from the eigenvectors of its small Gram matrix.
    eigenvalues, u = np.linalg.eigh(offsets @ offsets.T)
    eigenvalues, u = eigenvalues[::-1], u[:, ::-1]
    if eigenvalues[1] <= eigenvalues[0] * 1e-12:
        raise InputError(
            _("the trajectory lies on a line, so it has no second principal direction; use --directions random")
        )
    explained = [float(v) for v in eigenvalues[:2] / np.sum(eigenvalues)]
    dirs = []
    for k in range(2):
        v = offsets.T @ u[:, k]
        v /= np.linalg.norm(v)
        v = v if offsets[0] @ v <= 0 else -v
        full = np.zeros(mask.size)
        full[mask] = v
        dirs.append(unflatten_params(full, layout))
    return dirs[0], dirs[1], explained


def project(points: np.ndarray, centre: np.ndarray, d1: dict, d2: dict) -> np.ndarray:
    """``(alpha, beta)`` of each point (rows) closest to it on the plane ``centre + alpha d1 + beta d2``."""
    basis = np.stack([flatten_params(d1, np.float64), flatten_params(d2, np.float64)])
    offsets = np.asarray(points, dtype=np.float64) - centre
    return np.linalg.solve(basis @ basis.T, basis @ offsets.T).T


# -- a landscape ------------------------------------------------------------------------------------


def compute_landscape(
    net, x, t, *, directions: str = "random", trajectory=None, grid: int = 41, span=None, seed: int = 0
) -> Landscape:
    """The loss of ``net`` on ``(x, t)`` over a ``grid x grid`` plane through its weights (left unchanged).

    ``trajectory``, ``(iterations, weights)`` of :func:`nnlearn.train.trajectory.read_trajectory`, is
    needed for ``"pca"`` and drawn as the path whenever given. The grid covers ``[-span, span]``: by
    default 1 for random directions, the path with a margin for PCA; an odd ``grid`` has the trained
    weights as a point.
    """
    directions = Options(DIRECTIONS).check(directions, "directions")
    grid = GRID.check(grid, "grid")
    span = None if span is None else SPAN.check(span, "span")
    if directions == "pca" and trajectory is None:
        raise InputError(_("principal directions need the run's trajectory (trajectory.npz); use --directions random"))
    centre = flatten_params(net.params, np.float64)
    meta = {
        "format": FORMAT,
        "directions": directions,
        "grid": grid,
        "samples": int(np.shape(x)[0]),
        "dtype": "float32",  # plane_losses' activations
        "biases": "fixed at their trained values (direction zero)",
        "network": "-".join(map(str, net.sizes)) + f" {net.activation}",
    }
    if directions == "random":
        d1, d2 = random_directions(net.params, seed)
        meta["seed"] = int(seed)
    else:
        d1, d2, meta["explained"] = pca_directions(trajectory[1], centre, param_layout(net))
    path = np.empty((0, 2))
    iterations = np.empty(0, dtype=np.int64)
    if trajectory is not None:
        iterations = np.asarray(trajectory[0], dtype=np.int64)
        path = project(trajectory[1], centre, d1, d2)
    if span is None:
        span = RANDOM_SPAN if directions == "random" else PCA_MARGIN * float(np.max(np.abs(path)))
    meta["span"] = span
    axis = np.linspace(-span, span, grid)
    if grid % 2:
        axis[grid // 2] = 0.0  # the trained weights themselves
    t0 = time.perf_counter()
    loss = plane_losses(net, x, t, d1, d2, axis, axis)
    meta["seconds"] = time.perf_counter() - t0
    meta["centre_loss"] = float(net.loss(x, t))
    return Landscape(axis, axis.copy(), loss, path, iterations, meta)


def landscape_of_run(
    run, *, directions: str = "random", grid: int = 41, span=None, samples=None, seed: int = 0, data_dir=None
) -> Landscape:
    """:func:`compute_landscape` for a finished run: its model, its trajectory, the first ``samples`` of its
    training images (default :data:`DEFAULT_SAMPLES`, or all if fewer; never its validation images).

    Warns when the trajectory does not end at the trained weights (a run resumed with
    ``--no-trajectory``): the path is then drawn as far as it was recorded.
    """
    run = Path(run)
    config, net = runs.load_model(run)
    trajectory, complete = None, False
    if os.path.lexists(run / TRAJECTORY_FILE):  # a folder or a link loop there is named, not taken for none
        iterations, weights, _layout = read_trajectory(run / TRAJECTORY_FILE, net)
        trajectory = (iterations, weights)
        complete = np.array_equal(weights[-1], flatten_params(net.params, net.dtype))
        if not complete:
            warnings.warn(
                _(
                    "{path} ends at iteration {i}, before the trained weights (the run went on without "
                    "recording it); the path is drawn as far as it goes",
                    path=run / TRAJECTORY_FILE,
                    i=iterations[-1],
                ),
                RuntimeWarning,
                stacklevel=2,
            )
    elif directions == "pca":
        raise InputError(
            _(
                "{run} holds no {file} (it was trained with --no-trajectory, or before nnlearn kept "
                "trajectories); use --directions random, or train the run again",
                run=run,
                file=TRAJECTORY_FILE,
            )
        )
    (x_train, t_train), _test = datasets.load_dataset(
        config["dataset"], normalize=True, flatten=True, data_dir=data_dir or config.get("data_dir")
    )
    n_train = _train_size(run, config, len(x_train))
    if samples is None:
        samples = min(DEFAULT_SAMPLES, n_train)
    samples = POSITIVE_WHOLE.check(samples, "samples")
    if samples > n_train:
        raise InputError(_("the run trained on {n} images; give --samples {n} or fewer", n=n_train))
    options = {"directions": directions, "trajectory": trajectory, "grid": grid, "span": span, "seed": seed}
    landscape = compute_landscape(net, x_train[:samples], t_train[:samples], **options)
    landscape.meta.update(dataset=config["dataset"], run=run.name, path_complete=bool(complete))
    return landscape


def _train_size(run: Path, config: dict, available: int) -> int:
    """How many images at the start of the training set the run trained on (the rest was validation)."""
    size = (config.get("trainer") or {}).get("train_size", available)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= available:
        raise FileFormatError(
            _(
                "{config} gives a training-set size of {size!r}, but the data set has {available} "
                "training images; is this the run's data set?",
                config=run / "config.json",
                size=size,
                available=available,
            )
        )
    return size


# -- files ------------------------------------------------------------------------------------------


def save_landscape(run, landscape: Landscape) -> tuple[Path, Path]:
    """Write ``landscape.npz`` and ``landscape.png`` into the run folder, atomically; returns their paths."""
    npz, png = Path(run) / LANDSCAPE_FILE, Path(run) / FIGURE_FILE
    write_npz(npz, {name: getattr(landscape, name) for name in ARRAYS}, landscape.meta, in_run_folder=True)
    save_figure(plot_landscape(landscape), png, in_run_folder=True)
    return npz, png


def read_landscape(run) -> Landscape:
    """The landscape kept in a run folder (or a ``landscape.npz`` given directly), every array checked."""
    path = Path(run)
    path = path / LANDSCAPE_FILE if path.is_dir() else path
    if path.is_file() and path.stat().st_size > MAX_LANDSCAPE_BYTES:
        raise FileFormatError(_("{path} is larger than a landscape can be; {fix}", path=path, fix=_(_FIX)))
    arrays, meta = read_npz(
        path, N_("a landscape written by nnlearn"), _FIX, expect=lambda meta: {name: (None, None) for name in ARRAYS}
    )
    if meta.get("format") != FORMAT:
        raise FileFormatError(
            _("{path} is not a landscape of format {format}; {fix}", path=path, format=FORMAT, fix=_(_FIX))
        )
    a, b, loss, p, it = (arrays[k] for k in ARRAYS)
    ok = (
        a.ndim == b.ndim == 1
        and 3 <= min(a.size, b.size)
        and max(a.size, b.size) <= MAX_GRID
        and loss.shape == (b.size, a.size)
        and p.ndim == 2
        and p.shape[1] == 2
        and it.shape == (len(p),)
        and all(v.dtype.kind == "f" for v in (a, b, loss, p))
        and it.dtype.kind in "iu"
        and all(np.isfinite(v).all() for v in (a, b, p))
        and np.all(np.diff(a) > 0)
        and np.all(np.diff(b) > 0)
        and np.isfinite(loss).any()
    )
    if not ok:
        raise FileFormatError(
            _("{path} holds arrays of the wrong shape or kind for a landscape; {fix}", path=path, fix=_(_FIX))
        )
    return Landscape(a, b, loss, p, it, _known_meta(meta))


#: What a landscape's ``meta`` may say, by type; anything else read from a file is dropped.
_META = {
    str: ("directions", "network", "run", "dataset", "dtype", "biases"),
    int: ("format", "samples", "grid", "seed"),
    (int, float): ("span", "centre_loss", "seconds"),
    bool: ("path_complete",),
}


def _fits(value, kind) -> bool:
    """Whether ``value`` is of ``kind``; True and False are no numbers."""
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def _known_meta(meta: dict) -> dict:
    """The entries of ``meta`` that :data:`_META` names, of their type (``explained``: two numbers)."""
    known = {k: meta[k] for kind, keys in _META.items() for k in keys if k in meta and _fits(meta[k], kind)}
    explained = meta.get("explained")
    if isinstance(explained, list) and len(explained) == 2 and all(_fits(v, (int, float)) for v in explained):
        known["explained"] = explained
    return known


# -- the figure -------------------------------------------------------------------------------------


#: How far (points) a label stands from the point it names, on the side away from the trained weights.
LABEL_OFFSET = 28.0


def _away_from_centre(ls: Landscape, point) -> tuple[float, float]:
    """The offset (points) of a label for ``point``: :data:`LABEL_OFFSET` along the line from the trained
    weights (0, 0) through ``point``, in the axes' proportions. With random directions the start projects
    near (0, 0), where a label beside the point lay on the trained weights' star; pushed outwards it
    cannot. A point at (0, 0) itself gets its label to the lower left."""
    dx = float(point[0]) / float(ls.alphas[-1] - ls.alphas[0])
    dy = float(point[1]) / float(ls.betas[-1] - ls.betas[0])
    norm = float(np.hypot(dx, dy))
    if norm == 0.0 or not np.isfinite(norm):
        dx, dy, norm = -1.0, -1.0, float(np.sqrt(2.0))
    return LABEL_OFFSET * dx / norm, LABEL_OFFSET * dy / norm


@in_reader_language
def plot_landscape(landscape: Landscape) -> Figure:
    """Filled contours of the loss (log-spaced levels when it spans decades), the trained weights at the
    centre, the grid's lowest point and the training path."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    ls, meta = landscape, landscape.meta
    loss = np.ma.masked_invalid(ls.loss)
    lo, hi = float(loss.min()), float(loss.max())
    log = lo > 0 and hi / lo > 20
    levels = np.geomspace(lo, hi, 25) if log else np.linspace(lo, max(hi, lo + 1e-9), 25)
    A, B = np.meshgrid(ls.alphas, ls.betas)
    fig = Figure(figsize=(7.2, 6.0), layout="constrained")
    ax = fig.add_subplot()
    filled = ax.contourf(A, B, loss, levels=levels, cmap="viridis", norm=LogNorm(lo, hi) if log else None)
    ax.contour(A, B, loss, levels=levels[::3], colors="white", linewidths=0.5, alpha=0.5)
    bar = fig.colorbar(filled, ax=ax, ticks=None if log else MaxNLocator(8))
    bar.set_label(_("training loss (log scale)") if log else _("training loss"))
    if log:
        bar.set_ticks([v for v in (0.01, 0.03, 0.1, 0.3, 1, 3, 10) if lo <= v <= hi])
        bar.set_ticklabels([f"{v:g}" for v in bar.get_ticks()])
    if len(ls.path):
        path = _("training path: {n} snapshots (start, epoch ends), projected", n=len(ls.path))
        ax.plot(*ls.path.T, "o-", color="#ff7f0e", markersize=3, linewidth=1.2, label=path)
        line = {"arrowstyle": "-", "color": "white", "linewidth": 0.8, "shrinkA": 2, "shrinkB": 3}
        at = {
            "xytext": _away_from_centre(ls, ls.path[0]),
            "textcoords": "offset points",
            "ha": "center",
            "va": "center",
        }
        ax.annotate(_("start"), ls.path[0], color="white", fontsize=9, arrowprops=line, **at)
    alpha, beta, low = ls.lowest()
    ax.plot([alpha], [beta], "x", color="white", markersize=9, mew=2, label=_("lowest on the grid: {low:.4g}", low=low))
    centre = meta.get("centre_loss")
    trained = _("trained weights") if centre is None else _("trained weights: loss {loss:.4g}", loss=centre)
    ax.plot([0], [0], "*", color="red", markersize=13, label=trained)
    ax.set_xlim(ls.alphas[0], ls.alphas[-1])
    ax.set_ylim(ls.betas[0], ls.betas[-1])
    if meta.get("directions") == "pca" and meta.get("explained"):
        e = meta["explained"]
        ax.set_xlabel(_("1st principal direction of the path ({share:.1%} of it)", share=e[0]))
        ax.set_ylabel(_("2nd principal direction ({share:.1%})", share=e[1]))
    else:
        ax.set_xlabel(_("direction 1 (random, filter-normalised)"))
        ax.set_ylabel(_("direction 2 (random, filter-normalised)"))
    samples = meta.get("samples")
    # The run's name and the network come from the file's meta: drawn as typed, never as math
    what = _("Loss landscape of {run}", run=meta["run"]) if meta.get("run") else _("Loss landscape")
    images = _("training images") if samples is None else _("{n:,} training images", n=samples)
    ax.set_title(as_typed(f"{what}: {meta.get('network', '')}, {images}"), fontsize=10)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    return fig


def landscape_png(landscape: Landscape, dpi: int = 100) -> bytes:
    """:func:`plot_landscape` as PNG bytes (for a report or a web page)."""
    buf = io.BytesIO()
    plot_landscape(landscape).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()

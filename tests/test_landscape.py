"""``nnlearn landscape`` and the trajectory a run keeps for it (Li et al., NeurIPS 2018).

The fast plane losses are checked against the plain definition (``net.loss`` at every grid point);
the directions against loops written here; the command on small synthetic runs (``fake_data``).
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from mnist_tiny import FAST_TRAIN as FAST

from nnlearn import MultiLayerNet, Trainer, TrainSettings, load_network
from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.cli import main
from nnlearn.common.saving import write_npz
from nnlearn.see.landscape import (
    Landscape,
    compute_landscape,
    landscape_png,
    pca_directions,
    plot_landscape,
    project,
    random_directions,
    read_landscape,
    save_landscape,
)
from nnlearn.see.plane_loss import plane_losses, plane_losses_plain
from nnlearn.train.threads import blas_threads
from nnlearn.train.trajectory import Trajectory, flatten_params, param_layout, read_trajectory, unflatten_params

PNG = b"\x89PNG\r\n\x1a\n"


def train(run, *extra) -> int:
    return main(["train", "--out", str(run), *FAST, *extra])


NETWORKS = {
    "sigmoid, two hidden layers": dict(hidden=[5, 4], activation="sigmoid"),
    "relu, dropout and weight decay": dict(
        hidden=[5, 4], activation="relu", dropout_ratio=0.3, weight_decay_lambda=0.1
    ),
    "mean squared error": dict(hidden=[5], activation="relu", loss="mse"),
    "no hidden layer": dict(hidden=[]),
}


@pytest.mark.parametrize("kind", NETWORKS)
def test_the_fast_plane_losses_are_net_loss_at_every_point(kind):
    kw = dict(NETWORKS[kind])
    net = MultiLayerNet(6, kw.pop("hidden"), 3, weight_init_std=0.8, seed=0, **kw)
    rng = np.random.default_rng(1)
    x, t = rng.random((23, 6)), rng.integers(0, 3, 23)
    d1, d2 = random_directions(net.params, seed=3)
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-2, 2, 4)
    plain = plane_losses_plain(net, x, t, d1, d2, alphas, betas)
    assert plain.shape == (4, 5) and len(np.unique(plain)) == 20
    # Tiny chunks and sample blocks: many chunks of points, three blocks of rows.
    fast = plane_losses(net, x, t, d1, d2, alphas, betas, dtype=np.float64, chunk_bytes=1000, sample_block=9)
    np.testing.assert_allclose(fast, plain, rtol=1e-12)
    np.testing.assert_allclose(plane_losses(net, x, t, d1, d2, alphas, betas), plain, rtol=2e-6)


def test_random_directions_are_filter_normalised_and_leave_biases_alone():
    net = MultiLayerNet(7, [5, 4], 3, seed=0)
    d1, d2 = random_directions(net.params, seed=5)
    draw = np.random.default_rng(5)
    raw1 = {k: draw.standard_normal(v.shape) for k, v in net.params.items()}
    for key, w in net.params.items():
        if key.startswith("b"):
            assert not d1[key].any() and not d2[key].any()
            continue
        for j in range(w.shape[1]):  # a filter: the incoming weights of output unit j
            for d in (d1, d2):
                assert np.linalg.norm(d[key][:, j]) == pytest.approx(np.linalg.norm(w[:, j]), rel=1e-12)
            np.testing.assert_allclose(
                d1[key][:, j] / np.linalg.norm(d1[key][:, j]),
                raw1[key][:, j] / np.linalg.norm(raw1[key][:, j]),
                rtol=1e-12,
            )
    assert not np.allclose(d1["W1"], d2["W1"])
    again = random_directions(net.params, seed=5)
    assert all(np.array_equal(again[0][k], d1[k]) for k in d1)


def test_pca_directions_recover_a_path_that_lies_in_a_plane():
    net = MultiLayerNet(6, [4], 3, seed=0)
    layout = param_layout(net)
    centre = flatten_params(net.params, np.float64)
    weights_only = flatten_params({k: np.full(v.shape, v.ndim == 2) for k, v in net.params.items()}).astype(bool)
    basis = np.zeros((centre.size, 2))
    basis[weights_only] = np.linalg.qr(np.random.default_rng(2).standard_normal((weights_only.sum(), 2)))[0]
    coords = np.array([[3.0, -1.0], [2.0, 1.5], [1.0, 0.5], [0.0, 0.0]])
    snapshots = centre + coords @ basis.T
    d1, d2, explained = pca_directions(snapshots, centre, layout)
    path = project(snapshots, centre, d1, d2)
    flat = np.stack([flatten_params(d1), flatten_params(d2)])
    np.testing.assert_allclose(flat @ flat.T, np.eye(2), atol=1e-12)
    assert not flat[:, ~weights_only].any()
    np.testing.assert_allclose(centre + path @ flat, snapshots, atol=1e-12)  # the plane holds the whole path
    assert sum(explained) == pytest.approx(1.0) and explained[0] > explained[1] > 0
    assert (path[0] <= 0).all() and np.array_equal(path[-1], [0.0, 0.0])
    with pytest.raises(InputError, match="only 1 snapshot"):
        pca_directions(snapshots[2:], centre, layout)
    with pytest.raises(InputError, match="lies on a line"):
        pca_directions(centre + np.outer([2.0, 1.0, 0.0], basis[:, 0]), centre, layout)


def _small_trainer(callbacks, iters=40):
    rng = np.random.default_rng(0)
    x = rng.random((150, 4))
    t = (x[:, 0] > x[:, 1]).astype(int)
    net = MultiLayerNet(4, [8], 2, activation="sigmoid", weight_init_std=0.5, seed=0, dtype=np.float32)
    settings = TrainSettings(lr=1.0, batch_size=10, iters=iters, dtype="float32")
    return Trainer(net, x, t, settings=settings, callbacks=callbacks), net


def test_the_trajectory_holds_the_start_every_epoch_end_and_the_trained_weights(tmp_path):
    path = tmp_path / "trajectory.npz"
    trainer, net = _small_trainer([Trajectory(path)])
    start = MultiLayerNet(4, [8], 2, activation="sigmoid", weight_init_std=0.5, seed=0, dtype=np.float32)
    trainer.train()
    iterations, weights, meta = read_trajectory(path, net)
    assert iterations.tolist() == [0, 15, 30, 40]  # 150 samples / batch 10: an epoch is 15 iterations
    assert weights.dtype == np.float32 and weights.shape == (4, 4 * 8 + 8 + 8 * 2 + 2)
    assert np.array_equal(weights[0], flatten_params(start.params))
    assert np.array_equal(weights[-1], flatten_params(net.params))  # the trained weights, exactly
    back = unflatten_params(weights[-1], meta["params"])
    assert all(np.array_equal(back[k], v) for k, v in net.params.items())


@pytest.mark.parametrize("stop", ["ctrl-c at iteration 33", "killed between the checkpoint and the trajectory at 50"])
def test_a_resumed_run_keeps_the_trajectory_of_an_uninterrupted_one(tmp_path, fake_data, monkeypatch, stop, fast_run):
    straight = fast_run
    owner, name = (Trainer, "step") if stop.startswith("ctrl-c") else (Trajectory, "record")
    original = getattr(owner, name)

    def patched(self):
        if name == "step" and self.iteration == 32:
            self.stop.requested = True  # what the SIGINT handler does
        if name == "record" and self.trainer.iteration == 50:
            raise KeyboardInterrupt  # as if killed after the checkpoint, before this write
        return original(self)

    monkeypatch.setattr(owner, name, patched)
    run = tmp_path / "run"
    assert train(run) == 130
    monkeypatch.setattr(owner, name, original)
    assert read_trajectory(run / "trajectory.npz")[0].tolist() == [0, 25]
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    a, b = read_trajectory(run / "trajectory.npz"), read_trajectory(straight / "trajectory.npz")
    assert a[0].tolist() == b[0].tolist() == [0, 25, 50, 60]
    assert np.array_equal(a[1], b[1])


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_landscape_of_a_trained_run(tmp_path, fake_data, capsys):
    # Trained to its minimum: the synthetic digits are separable, so without weight decay the loss
    # only ever falls further as the weights grow, and its lowest point is off the centre.
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--out",
                str(run),
                "--iters",
                "500",
                "--batch-size",
                "20",
                "--lr",
                "0.5",
                "--weight-decay-lambda",
                "0.01",
                "--lr-schedule",
                "cosine",
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["landscape", str(run), "--samples", "500"]) == 0
    out = capsys.readouterr().out
    assert "41x41 grid over [-1, 1] along filter-normalised random directions (seed 0)" in out
    assert "path: 21 snapshots (iterations 0 to 500)" in out and f"written: {run / 'landscape.npz'}" in out
    ls = read_landscape(run)
    assert ls.loss.shape == (41, 41) and ls.meta["samples"] == 500 and ls.meta["path_complete"]
    # The acceptance claims: the lowest loss within one cell of the trained weights; the path ends there.
    assert ls.cells_from_centre() <= 1
    assert np.array_equal(ls.path[-1], [0.0, 0.0]) and ls.path_iterations.tolist() == list(range(0, 501, 25))
    model = load_network(run / "model.npz")
    assert np.array_equal(read_trajectory(run / "trajectory.npz", model)[1][-1], flatten_params(model.params))
    (x, t), _ = fake_data[0]
    assert ls.loss[20, 20] == pytest.approx(model.loss(x[:500], t[:500]), rel=1e-5)
    with blas_threads():  # the command's thread count: the same bits
        assert ls.meta["centre_loss"] == model.loss(x[:500], t[:500])
    assert (run / "landscape.png").read_bytes()[:8] == PNG

    assert main(["landscape", str(run), "--directions", "pca", "--grid", "5", "--samples", "100"]) == 0
    out = capsys.readouterr().out
    ls = read_landscape(run / "landscape.npz")
    assert ls.meta["directions"] == "pca" and ls.loss.shape == (5, 5) and "the plane holds" in out
    assert ls.alphas[-1] == pytest.approx(1.25 * np.abs(ls.path).max())  # the path fits, with a margin
    # The run's report shows it (and so does the board, which serves the report).
    from nnlearn.see.report import build_report

    page = build_report([run], download=False)
    assert (
        "<h2>Loss landscape</h2>" in page
        and 'alt="the loss landscape around the trained weights" src="data:image/png' in page
    )
    assert "over a plane through the trained weights (pca directions, a 5x5 grid)" in page


def test_a_run_without_a_trajectory(tmp_path, fake_data, capsys):
    run = tmp_path / "run"
    assert train(run, "--no-trajectory") == 0
    assert not (run / "trajectory.npz").exists()
    capsys.readouterr()
    assert main(["landscape", str(run), "--directions", "pca", "--samples", "100"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "holds no trajectory.npz" in err and "use --directions random" in err
    assert main(["landscape", str(run), "--grid", "3", "--samples", "100"]) == 0
    assert "path: none" in capsys.readouterr().out
    ls = read_landscape(run)
    assert ls.path.shape == (0, 2)


def test_a_trajectory_that_stops_before_the_trained_weights_is_drawn_as_far_as_it_goes(trained, fake_data, capsys):
    run = trained
    iterations, weights, meta = read_trajectory(run / "trajectory.npz")
    # What a run resumed with --no-trajectory leaves: the snapshots up to where it was stopped.
    write_npz(run / "trajectory.npz", {"iterations": iterations[:2], "weights": weights[:2]}, meta, in_run_folder=True)
    capsys.readouterr()
    assert main(["landscape", str(run), "--grid", "3", "--samples", "100"]) == 0
    err = capsys.readouterr().err
    assert f"nnlearn: warning: {run / 'trajectory.npz'} " in err and "iteration 25" in err, err
    ls = read_landscape(run)
    assert not ls.meta["path_complete"] and ls.path_iterations.tolist() == [0, 25]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--grid", "2"], "argument --grid: must be a whole number >= 3, got '2'"),
        (["--span", "0"], "argument --span: must be a number > 0, got '0'"),
        (["--directions", "hessian"], "argument --directions: invalid choice"),
    ],
)
def test_bad_arguments_are_argparse_errors(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["landscape", str(tmp_path), *argv])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_bad_requests_are_one_line_errors(tmp_path, trained, fake_data, capsys):
    run = trained
    capsys.readouterr()
    for argv, message in [
        (["--grid", "202"], "grid must be a whole number from 3 to 201"),
        (["--samples", "501"], "the run trained on 500 images; give --samples 500 or fewer"),
        # was "internal error: ValueError: Axis limits cannot be NaN or Inf"
        (["--span", "1e308"], "span must be a number in (0, 1e+06], got 1e+308; the grid covers"),
        ([], "holds no config.json"),
    ]:
        assert main(["landscape", str(run if argv else tmp_path), *argv]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    net = MultiLayerNet(4, [3], 2, seed=0)
    with pytest.raises(InputError, match="unknown directions 'hessian'"):
        compute_landscape(net, np.zeros((2, 4)), [0, 1], directions="hessian")


def _npy(shape_in_header: str, body: bytes) -> bytes:
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_in_header}, }}"
    header += " " * (63 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body


def test_damaged_or_hostile_files_are_refused_before_anything_is_allocated(tmp_path, trained, fake_data):
    run = trained
    assert main(["landscape", str(run), "--grid", "3", "--samples", "50"]) == 0
    good = (run / "landscape.npz").read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    # A header that declares 80 GB for 24 bytes: refused, never allocated.
    members["loss.npy"] = _npy("(100000, 100000)", bytes(24))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    (tmp_path / "huge.npz").write_bytes(buf.getvalue())
    with pytest.raises(FileFormatError, match="loss's header does not match its size"):
        read_landscape(tmp_path / "huge.npz")
    # A file's meta is data from anywhere: what a figure or a page could trip on is dropped.
    ls = read_landscape(run)
    arrays = {
        "alphas": ls.alphas,
        "betas": ls.betas,
        "loss": ls.loss,
        "path": ls.path,
        "path_iterations": ls.path_iterations,
    }
    odd = {**ls.meta, "samples": "many", "explained": ["a", 1], "run": 5, "directions": "pca", "extra": {"x": 1}}
    write_npz(tmp_path / "odd.npz", arrays, odd)
    back = read_landscape(tmp_path / "odd.npz")
    assert back.meta["directions"] == "pca" and not {"samples", "explained", "run", "extra"} & set(back.meta)
    assert landscape_png(back)[:8] == PNG
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(FileFormatError, match="is not a landscape written by nnlearn or is damaged"):
        read_landscape(tmp_path / "cut.npz")
    with pytest.raises(FileFormatError, match="recorded for another network"):
        read_trajectory(run / "trajectory.npz", MultiLayerNet(784, [20], 10, dtype=np.float32))
    meta = json.loads(str(np.load(run / "trajectory.npz")["meta"]))
    assert meta["format"] == 1 and meta["dtype"] == "float32"


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_text_from_a_folder_name_or_a_files_meta_is_drawn_as_typed(trained, fake_data, capsys):
    # matplotlib reads a pair of $ as math: a folder named m$\x$ stopped `landscape` and `report` with
    # "internal error: ValueError ... Unknown symbol: \x", and the same text in landscape.npz's meta made
    # the board's /report answer 500.
    import shutil

    from nnlearn.see.report import build_report

    run = shutil.move(trained, trained.parent / "m$\\x$")
    assert main(["landscape", str(run), "--grid", "3", "--samples", "50"]) == 0
    assert read_landscape(run).meta["run"] == "m$\\x$" and (run / "landscape.png").read_bytes()[:8] == PNG
    out = run.parent / "report.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    assert "The landscape cannot be read" not in out.read_text()
    ls = read_landscape(run)
    save_landscape(
        run,
        Landscape(
            ls.alphas,
            ls.betas,
            ls.loss,
            ls.path,
            ls.path_iterations,
            ls.meta | {"run": "$\\x$", "network": "$\\frac{$"},
        ),
    )
    page = build_report([run], download=False)
    assert "<h2>Loss landscape</h2>" in page and 'src="data:image/png' in page
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("start", [(0.004, -0.003), (-0.002, 0.001), (0.0, 0.0), (0.6, 0.5)])
def test_the_start_label_stays_off_the_trained_weights_star(start):
    """With random directions the start projects next to (0, 0): its label must not cover the star."""
    axis = np.linspace(-1.0, 1.0, 5)
    path = np.array([start, (start[0] / 2, start[1] / 2), (0.0, 0.0)])
    loss = 1.0 + np.add.outer(axis**2, axis**2)
    fig = plot_landscape(Landscape(axis, axis.copy(), loss, path, np.array([0, 10, 20]), {"directions": "random"}))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    (label,) = [t for t in ax.texts if t.get_text() == "start"]
    (star,) = [line for line in ax.lines if line.get_marker() == "*"]
    from matplotlib.text import Text

    # The words' box, without the annotation's line to the start (which may cross the star's edge).
    text_box, star_box = Text.get_window_extent(label, renderer), star.get_window_extent(renderer)
    assert not text_box.overlaps(star_box), (text_box, star_box)

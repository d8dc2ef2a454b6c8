"""``nnlearn report``, ``board`` and ``landscape``: the commands of :mod:`nnlearn.see`."""

from __future__ import annotations

import time

from nnlearn.base.constraints import Number
from nnlearn.base.files import check_output_path
from nnlearn.base.i18n import _
from nnlearn.cli._args import add_data_args, add_threads_arg, flag_type, int_at_least, positive_float, say_threads
from nnlearn.train.threads import blas_threads

#: What ``--open`` may open: the runs list, the lessons, or one lesson.
PAGES = ("runs", "lessons", "lessons/diff", "lessons/gradient", "lessons/descent", "lessons/numgrad")


def cmd_report(args) -> int:
    from nnlearn.see.report import default_output, write_report

    # Refused before the report is built (it reads every run and the test images). The default,
    # DIR/report.html, is the folder's own file; a path the user names must lie outside run folders.
    check_output_path(args.out or default_output(args.dirs), in_run_folder=args.out is None)
    t0 = time.perf_counter()
    out = write_report(args.dirs, args.out, data_dir=args.data_dir)
    size = out.stat().st_size
    print(
        _(
            "report written to {out} ({megabytes:.2f} MB, {seconds:.1f} s); open it in a browser",
            out=out,
            megabytes=size / 1e6,
            seconds=time.perf_counter() - t0,
        )
    )
    return 0


def cmd_board(args) -> int:
    from nnlearn.see.board.server import serve

    page = None if args.open is None else ("" if args.open == "runs" else args.open)
    serve(args.dir, host=args.host, port=args.port, data_dir=args.data_dir, open_page=page)
    return 0


def cmd_landscape(args) -> int:
    from nnlearn.see.landscape import landscape_of_run, save_landscape

    t0 = time.perf_counter()
    # Thousands of mid-sized products: on a busy core two threads' hand-overs made the grid 3-4 times
    # slower (BENCHMARKS.md), which the thread rule's start from the free cores avoids.
    with blas_threads(args.threads) as choice:
        say_threads(choice)
        ls = landscape_of_run(
            args.run_dir,
            directions=args.directions,
            grid=args.grid,
            span=args.span,
            samples=args.samples,
            seed=args.seed,
            data_dir=args.data_dir,
        )
    npz, png = save_landscape(args.run_dir, ls)
    meta, grid, span = ls.meta, ls.meta["grid"], ls.meta["span"]
    how = (
        _("filter-normalised random directions (seed {seed})", seed=meta["seed"])
        if meta["directions"] == "random"
        else _("the first two principal directions of the training path")
    )
    print(
        _(
            "loss landscape of {run}: {network}, loss on {samples:,} training images, {grid}x{grid} grid over "
            "[-{span:.3g}, {span:.3g}] along {how}; biases fixed",
            run=args.run_dir,
            network=meta["network"],
            samples=meta["samples"],
            grid=grid,
            span=span,
            how=how,
        )
    )
    if meta["directions"] == "pca":
        e1, e2 = meta["explained"]
        print(
            _(
                "the plane holds {both:.1%} of the path's offsets from the trained weights ({e1:.1%} + {e2:.1%})",
                both=e1 + e2,
                e1=e1,
                e2=e2,
            )
        )
    if len(ls.path):
        print(
            _(
                "path: {n} snapshots (iterations {first} to {last}), projected onto the plane",
                n=len(ls.path),
                first=ls.path_iterations[0],
                last=ls.path_iterations[-1],
            )
        )
    else:
        print(_("path: none (the run holds no trajectory.npz)"))
    alpha, beta, low = ls.lowest()
    print(
        _(
            "trained weights: loss {centre:.4f}; lowest on the grid: {low:.4f} at ({alpha:.3g}, {beta:.3g}), {cells} "
            "cell(s) from them",
            centre=meta["centre_loss"],
            low=low,
            alpha=alpha,
            beta=beta,
            cells=ls.cells_from_centre(),
        )
    )
    print(
        _(
            "{n} networks evaluated in {seconds:.1f} s ({total:.1f} s in all)",
            n=grid * grid,
            seconds=meta["seconds"],
            total=time.perf_counter() - t0,
        )
    )
    print(_("written: {npz} and {png}", npz=npz, png=png))
    return 0


def register(commands) -> None:
    p = commands.add_parser(
        "report",
        help="write one self-contained HTML page about a run, several runs, or a sweep",
        description="Write one HTML file that holds everything (charts, images, style; no network needed): "
        "for a run its settings, result, loss and accuracy curves, confusion matrix, first-layer weights and "
        "example mistakes; for several runs their curves overlaid and settings side by side; for a sweep its "
        "trials sorted by validation accuracy, its figures and its final run.",
    )
    p.add_argument(
        "dirs", nargs="+", metavar="DIR", help="a run directory, several run directories, or a sweep directory"
    )
    p.add_argument(
        "--out", metavar="FILE.html", help="where to write (default DIR/report.html; needed for several DIRs)"
    )
    add_data_args(p, dataset=False)  # the test images of the report's mistakes; a run's own folder first
    p.set_defaults(func=cmd_report)

    p = commands.add_parser(
        "board",
        help="a local web page of the runs in a folder: states, accuracies, live curves, reports",
        description="Serve a read-only web page listing the runs and sweeps under DIR (default ./runs) with "
        "their state and accuracy; overlay their curves (a training run's curves update by themselves) and "
        "open each run's report. Its lessons (/lessons) let you touch sections 4.3-4.4 of the chapter. It only "
        "reads: nothing under DIR is written. Ctrl-C stops it.",
    )
    p.add_argument(
        "dir", nargs="?", default="runs", metavar="DIR", help="folder holding run directories (default runs)"
    )
    p.add_argument(
        "--port", type=flag_type(Number(int, 0, 65535)), default=8765, help="port (default 8765; 0 picks a free one)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 lets anyone on the "
        "network read the folder). Only requests naming 127.0.0.1, localhost or this address are answered",
    )
    p.add_argument(
        "--open",
        nargs="?",
        const="runs",
        choices=PAGES,
        metavar="PAGE",
        help="open PAGE in the web browser once the board listens: runs (the default), lessons (the "
        "chapter's lessons), or one lesson: " + ", ".join(PAGES[2:]),
    )
    add_data_args(p, dataset=False)  # the test images of the reports' mistakes; a run's own folder first
    p.set_defaults(func=cmd_board)

    p = commands.add_parser(
        "landscape",
        help="the training loss over a plane through a finished run's weights, with its path",
        description="Evaluate the training loss of a finished run's network on a grid over a plane through its "
        "trained weights (Li et al., NeurIPS 2018): along two filter-normalised random directions, or the first "
        "two principal directions of the path its weights took (the run's trajectory.npz). Biases stay at their "
        "trained values. Writes landscape.npz and landscape.png (contours with the path) into the run folder.",
    )
    p.add_argument("run_dir", metavar="RUN", help="a finished run directory")
    p.add_argument(
        "--grid",
        type=int_at_least(3),
        default=41,
        metavar="N",
        help="points per side of the grid (default 41; odd puts the trained weights on a point)",
    )
    p.add_argument(
        "--span",
        type=positive_float,
        metavar="S",
        help="the grid covers [-S, S] on both axes (default 1 for random directions; for pca, the path with a margin)",
    )
    p.add_argument(
        "--directions",
        choices=("random", "pca"),
        default="random",
        help="random (filter-normalised; default) or pca (needs the run's trajectory.npz)",
    )
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        metavar="N",
        help="average the loss over the first N training images (default 10000, or all if fewer)",
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the random directions (default 0)")
    add_data_args(p, dataset=False)
    add_threads_arg(p)
    p.set_defaults(func=cmd_landscape)

"""``nnlearn landscape``: the training loss over a plane through a finished run's weights."""

from __future__ import annotations

from nnlearn.base.i18n import _
from nnlearn.cli._args import add_data_args, add_threads_arg, int_at_least, positive_float, say_threads


def cmd_landscape(args) -> int:
    import time

    from nnlearn.see.landscape import landscape_of_run, save_landscape
    from nnlearn.train.threads import blas_threads

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
        default=None,
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
        default=None,
        metavar="N",
        help="average the loss over the first N training images (default 10000, or all if fewer)",
    )
    p.add_argument(
        "--seed",
        type=int_at_least(0),
        default=0,
        help="seed of the random directions (default 0)",
    )
    add_data_args(p, dataset=False)
    add_threads_arg(p)
    p.set_defaults(func=cmd_landscape, parser=p)

"""Cost of the board's chart per poll: matplotlib on the server (``/api/chart``) instead of a script in the page.

The board's page polls every 2 s (``?poll=``); while a run trains, each poll finds its files changed and
the chart is drawn again: reading the curves (bounded: :mod:`nnlearn.train.tables`, as ``/api/run``) and
matplotlib's figure of runs compared (:func:`nnlearn.common.evaluation.plot_runs`) written as SVG. The goal:
one poll's drawing takes a small share of the 2 s (under a quarter, with the most runs a chart draws,
:data:`nnlearn.see.board.app.MAX_DRAWN`), so that an open board costs little and never lags its polls;
a chart of runs that did not change is not drawn again.

It writes runs of ``--rows`` losses and ``--epochs`` epochs in a temporary folder, and for 1, 3 and 10
runs overlaid times (median of ``--repeat``): the curves alone (``/api/run``'s work, which the page drew
itself before), the chart after one run's ``metrics.csv`` grew by a row (a training run), and the chart
again with nothing changed; CPU time, so that other work on the computer does not count.

Usage: ``python bench/board_charts.py [--rows 60000] [--epochs 100] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def write_run(folder: Path, rows: int, epochs: int, rng: np.random.Generator) -> None:
    import json

    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"recipe": "book", "dataset": "mnist", "seed": 0, "settings": {"hidden": [50], "lr": 0.1}})
    )
    loss = 2.3 * np.exp(-np.arange(rows) / (rows / 5)) + 0.1 * rng.random(rows)
    (folder / "metrics.csv").write_text("iteration,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(loss)))
    acc = 0.98 - 0.3 * np.exp(-np.arange(1, epochs + 1) / 10)
    (folder / "epochs.csv").write_text(
        "epoch,iteration,train_accuracy,test_accuracy\n"
        + "".join(f"{e},{e * rows // epochs},{a:.4f},{a - 0.01:.4f}\n" for e, a in enumerate(acc, 1))
    )
    (folder / "state.json").write_text(json.dumps({"state": "running", "pid": 1, "reason": None}))


def median_ms(fn, repeat: int, before=None) -> float:
    """The median CPU time of ``fn()`` in ms: the work a request costs, whatever else the computer runs."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--poll", type=float, default=2.0, help="the page's poll, in seconds")
    args = parser.parse_args()

    from nnlearn.see.board.app import MAX_DRAWN, Board

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = [f"run-{k:02d}" for k in range(MAX_DRAWN)]
        for name in names:
            write_run(root / name, args.rows, args.epochs, rng)
        board = Board(root)
        board.chart(names[:1])  # matplotlib's imports and font cache, once per process
        row = [args.rows]

        def grow():  # a training run: its metrics.csv has one more row at every poll
            row[0] += 1
            with open(root / names[0] / "metrics.csv", "a") as fh:
                fh.write(f"{row[0]},0.1\n")

        print(
            f"{args.rows:,} losses and {args.epochs} epochs per run; median of {args.repeat}; poll every {args.poll:g} s"
        )
        worst = 0.0
        for n in (1, 3, MAX_DRAWN):
            drawn = names[:n]
            curves = median_ms(lambda drawn=drawn: [board.curves(r) for r in drawn], args.repeat, grow)
            changed = median_ms(lambda drawn=drawn: board.chart(drawn), args.repeat, grow)
            kept = median_ms(lambda drawn=drawn: board.chart(drawn), args.repeat)
            size = len(board.chart(drawn))
            worst = max(worst, changed)
            print(
                f"{n:2d} run(s): curves (/api/run's work) {curves:6.1f} ms; chart drawn {changed:6.1f} ms "
                f"({changed / curves:4.1f}x the curves, {changed / 10 / args.poll:4.1f}% of the poll), "
                f"unchanged {kept:5.1f} ms; SVG {size / 1e3:.0f} kB"
            )
        share = worst / 1e3 / args.poll
        print(
            f"worst drawing per poll: {worst:.0f} ms = {share:.1%} of the {args.poll:g} s poll "
            f"(goal: under 25%): {'met' if share < 0.25 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()

"""Speed of ``nnlearn landscape`` and the cost of the trajectory a run keeps for it (issue 21).

Goal: ``nnlearn landscape`` on the book recipe's run, a 41x41 grid on 10,000 training images, in at
most 60 s; with random directions the grid's lowest loss within one cell of the trained weights.

1. Trains the book recipe (10,000 iterations; or takes ``--run DIR``), then times the whole command
   in a fresh process (imports, data, 1,681 networks, files, figure), ``--repeat`` times, with random
   and with PCA directions, and prints where the lowest loss lies.
2. Side by side, in this process: the plain definition (``net.loss`` at each grid point, the
   reference engine) on one row of the grid, extrapolated to all of it, against the fast
   ``plane_losses`` on the whole grid; and the largest difference between them on that row.
3. With ``--strong``: trains the strong recipe (8 epochs) and reports what its ``trajectory.npz``
   costs: bytes, and the seconds spent recording it against the seconds of training.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/landscape_speed.py [--run DIR] [--repeat 3] [--strong]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _nnlearn(*args) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nnlearn", *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, done.stdout


def time_command(run: Path, data: list, repeat: int) -> None:
    print(f"\nnnlearn landscape {run.name} --grid 41 --samples 10000, a fresh process each time (goal: <= 60 s)")
    for directions in ("random", "pca"):
        walls = []
        for _ in range(repeat):
            load = _load()
            seconds, out = _nnlearn(
                "landscape", str(run), "--grid", "41", "--samples", "10000", "--directions", directions, *data
            )
            walls.append(seconds)
            print(f"  {directions:<6} {seconds:6.2f} s wall (load average before: {load})")
        print(f"  {directions:<6} median {statistics.median(walls):.2f} s, min {min(walls):.2f}, max {max(walls):.2f}")
        said = [line for line in out.splitlines() if "lowest" in line or "holds" in line]
        print("         " + "\n         ".join(said))
        shutil.copy(run / "landscape.png", run / f"landscape-{directions}.png")


def side_by_side(run: Path, data_dir) -> None:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from nnlearn import datasets
    from nnlearn.see.landscape import random_directions
    from nnlearn.see.plane_loss import plane_losses, plane_losses_plain
    from nnlearn.train import runs

    config, net = runs.load_model(run)
    (x, t), _ = datasets.load_dataset(config["dataset"], data_dir=data_dir or config.get("data_dir"))
    x, t = x[:10000], t[:10000]
    d1, d2 = random_directions(net.params, 0)
    axis = np.linspace(-1, 1, 41)
    plain = {}
    for threads in (None, 1):  # BLAS's own choice (two threads here), and the one thread plane_losses uses
        with threadpool_limits(threads, user_api="blas"):
            t0 = time.perf_counter()
            row = plane_losses_plain(net, x, t, d1, d2, axis, axis[:1])
            plain[threads] = (time.perf_counter() - t0) * 41
    t0 = time.perf_counter()
    fast = plane_losses(net, x, t, d1, d2, axis, axis)
    seconds = time.perf_counter() - t0
    diff = float(np.max(np.abs(fast[:1] - row) / row))
    print(f"\n41x41 grid, 10,000 images, in this process (load average {_load()}):")
    for threads, what in ((None, "BLAS's threads"), (1, "one BLAS thread")):
        print(
            f"  plain (net.loss per point, {what:<15}; one row timed x 41) {plain[threads]:7.2f} s"
            f"   {plain[threads] / seconds:5.1f}x the fast one's time"
        )
    print(f"  fast (plane_losses, float32, one BLAS thread, whole grid)       {seconds:7.2f} s")
    print(f"  largest relative difference on the timed row: {diff:.1e}")


def trajectory_cost(tmp: Path, data: list) -> None:
    code = (
        "import sys, time\n"
        "from nnlearn.train.trajectory import Trajectory\n"
        "spent = [0.0, 0]\n"
        "record = Trajectory.record\n"
        "def timed(self):\n"
        "    t0 = time.perf_counter(); record(self); spent[0] += time.perf_counter() - t0; spent[1] += 1\n"
        "Trajectory.record = timed\n"
        "from nnlearn.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print(f'RECORD {spent[0]} {spent[1]}')\n"
        "sys.exit(rc)\n"
    )
    run = tmp / "strong"
    load = _load()
    argv = ["train", "--recipe", "strong", "--out", str(run), "--no-progress", *data]
    done = subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True)
    spent, snapshots = done.stdout.split("RECORD ")[1].split()
    summary = json.loads((run / "summary.json").read_text())
    size = (run / "trajectory.npz").stat().st_size
    print(f"\nstrong recipe, 8 epochs (load average before: {load}): test accuracy {summary['test_accuracy']:.2%}")
    print(
        f"  trajectory.npz: {int(snapshots)} snapshots, {size:,} bytes ({size / 2**20:.1f} MiB); "
        f"model.npz {(run / 'model.npz').stat().st_size:,} bytes"
    )
    print(
        f"  recording it: {float(spent):.2f} s of {summary['seconds']:.1f} s of training "
        f"({float(spent) / summary['seconds']:.1%})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", metavar="DIR", help="a finished book-recipe run (default: train one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strong", action="store_true", help="also measure the strong recipe's trajectory.npz")
    parser.add_argument("--data-dir", default=os.environ.get("NNLEARN_DATA"))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it comes, also into a file
    data = ["--data-dir", args.data_dir] if args.data_dir else []
    tmp = Path(tempfile.mkdtemp(prefix="nnlearn-landscape-bench-"))
    try:
        run = Path(args.run) if args.run else tmp / "book"
        if not args.run:
            seconds, _ = _nnlearn("train", "--out", str(run), "--no-progress", *data)
            print(f"trained the book recipe (10,000 iterations) in {seconds:.1f} s: {run}")
        time_command(run, data, args.repeat)
        side_by_side(run, args.data_dir)
        if args.strong:
            trajectory_cost(tmp, data)
        if not args.run:
            keep = Path(tempfile.gettempdir()) / "nnlearn-landscape-bench-figures"
            keep.mkdir(exist_ok=True)
            for name in ("landscape-random.png", "landscape-pca.png"):
                shutil.copy(run / name, keep / name)
            print(f"\nfigures: {keep}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

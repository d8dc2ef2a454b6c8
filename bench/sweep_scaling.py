"""Trials per minute of ``nnlearn sweep`` with 1 and 2 Dask workers, and the cost of Dask per trial.

The same fixed trials (a grid over the strong recipe's learning rate, 512-256 hidden units, on the
first ``--train-size`` MNIST training images, ``--validation`` of them held back) run three ways:

1. in this process, one after the other, with one BLAS thread: the time a trial itself takes;
2. as a sweep on a local Dask cluster of 1 worker process (one BLAS thread), as ``nnlearn sweep --workers 1``;
3. the same on 2 worker processes.

It prints, for 2 and 3, the wall time of the sweep (cluster start-up, scattering the data and the
trials) and trials per minute, the ratio of 3 to 2, and the distributed overhead per trial: the
1-worker sweep's time per trial minus the in-process time of a trial, against that trial time.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/sweep_scaling.py [--train-size 20000]
[--epochs 4] [--trials 8]``. Goals: 2 workers >= 1.7x the trials per minute of 1 worker on a
2-core machine; overhead <= 10 % of a 10-second trial.
"""

from __future__ import annotations

import os

# One BLAS thread in this process too, so that the in-process trial is the same work as a worker's
# (set before NumPy is imported).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# One network size and eight learning rates: trials of about the same length, so that two workers
# share them evenly (a grid of long and short trials leaves one worker idle at the end).
LRS = ("0.0005", "0.0007", "0.001", "0.0014", "0.002", "0.0028", "0.004", "0.0056")
HIDDEN = ("512-256",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--validation", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--trials", type=int, default=8, help="trials of the grid run (at most 8)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    from nnlearn.datasets import load_dataset
    from nnlearn.sweep import Sweep, SweepSpec, run_trial

    (x, t), _ = load_dataset("mnist", normalize=True, flatten=True, data_dir=args.data_dir)
    spec = SweepSpec(
        params=(f"lr=choice:{','.join(LRS)}", f"hidden_size=choice:{','.join(HIDDEN)}"),
        sampler="grid",
        trials=args.trials,
        epochs=args.epochs,
        train_size=args.train_size,
        validation=args.validation,
        seed=0,
    )
    size, n_val = spec.data_sizes(len(x))
    x, t = x[:size], t[:size]
    n = spec.n_trials()
    print(
        f"{n} trials of the strong recipe ({args.epochs} epochs) on MNIST: {size - n_val:,} images for training "
        f"and {n_val:,} more held back for validation; load average {os.getloadavg()[0]:.2f}"
    )

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            folder = Path(tmp) / f"w{workers}"
            t0 = time.perf_counter()
            sweep = Sweep.create(folder, spec)
            sweep.run(x, t, workers=workers, final=False, progress=False, log=lambda *a: None)
            wall = time.perf_counter() - t0
            rows = sweep.rows()
            results[workers] = {"wall": wall, "rows": rows, "task": sum(r["seconds"] for r in rows)}
            print(
                f"{workers} worker(s): {wall:6.1f} s (cluster start-up included; in the workers the trials took "
                f"{results[workers]['task']:.1f} s), "
                f"{60 * n / wall:5.2f} trials per minute; load average {os.getloadavg()[0]:.2f}"
            )

        # The same trials in this process, one BLAS thread, the data already here.
        data = {"x": x, "t": t, "n_classes": 10}
        t0 = time.perf_counter()
        for r in results[1]["rows"]:
            run_trial(data, spec.settings({p.name: r[p.name] for p in spec.params}).to_dict(), n_val, r["number"])
        local = time.perf_counter() - t0
    per_trial = local / n
    one = results[1]["wall"] / n
    overhead = one - per_trial
    overhead_task = results[1]["task"] / n - per_trial
    ratio = results[1]["wall"] / results[2]["wall"]
    print(f"in-process: {local:6.1f} s, {per_trial:.2f} s per trial; load average {os.getloadavg()[0]:.2f}")
    print(f"2 workers vs 1: {ratio:.2f}x the trials per minute (goal >= 1.7x)")
    print(
        f"distributed overhead per trial (1 worker vs in-process): {overhead:+.2f} s = "
        f"{100 * overhead / per_trial:+.1f} % of a {per_trial:.1f}-second trial (goal <= 10 %); "
        f"inside the worker {overhead_task:+.2f} s = {100 * overhead_task / per_trial:+.1f} %"
    )


if __name__ == "__main__":
    main()

"""The chapter's numerical gradient of TwoLayerNet(784, 50, 10): the plain loop against the fast engine.

One real MNIST batch of 100 (drawn with ``rng.choice(60000, 100)``, seed 0), a float64
TwoLayerNet(784, 50, 10) with the book's initialisation (std 0.01, seed 0), h = 1e-4:

- **plain loop**: ``nnlearn.common.gradient.numerical_gradient`` on each parameter -- the book's code, two
  forward passes of the whole batch per parameter. It runs in full on ``b1``, ``W2`` and ``b2``
  (560 parameters) and on ``--loop-sample`` random elements of ``W1`` (same per-element code);
  its time for all 39,760 parameters is extrapolated from the time per element. ``--full`` runs it
  on every parameter instead (about 10-30 s).
- **fast engine** (``net.numerical_gradient(x, t)``, engine ``fast``): :mod:`nnlearn.common.engines.series`, the
  same central differences from truncated Taylor series, best of ``--repeat`` runs.
- **exact rows**: the ``rows`` engine, which evaluates every perturbed loss by
  running the layers after the perturbed one (no series) -- the issue's rank-one idea.
- backpropagation, for reference.

Printed: the times, the speed-ups over the loop, and the largest absolute difference from the loop
on every parameter the loop computed. Also the peak memory (tracemalloc) of one fast gradient.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/numgrad_speed.py [--data-dir DIR] [--full]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from nnlearn import TwoLayerNet
from nnlearn.common import engines
from nnlearn.datasets import load_mnist


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--loop-sample", type=int, default=2000, help="W1 elements the loop computes")
    parser.add_argument("--full", action="store_true", help="run the plain loop on every parameter")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    (x_train, t_train), _ = load_mnist(normalize=True, data_dir=args.data_dir)
    rng = np.random.default_rng(0)
    batch = rng.choice(x_train.shape[0], 100)
    x, t = x_train[batch].astype(np.float64), t_train[batch]
    net = TwoLayerNet(784, 50, 10, weight_init_std=0.01, seed=0)
    n_params = sum(p.size for p in net.params.values())
    print(f"TwoLayerNet(784, 50, 10), float64, {n_params} parameters; real MNIST batch of 100; h = 1e-4")
    xs, ts = net.check_batch(x, t)

    # The plain loop.
    start = time.perf_counter()
    if args.full:
        loop = net.numerical_gradient(x, t, engine="loop")
        computed = {k: np.arange(p.size) for k, p in net.params.items()}
        loop_elements = n_params
    else:
        w1_idx = np.sort(rng.choice(net.params["W1"].size, args.loop_sample, replace=False))
        computed = {"W1": w1_idx} | {k: np.arange(net.params[k].size) for k in ("b1", "W2", "b2")}
        loop = engines.numerical_gradient(net, xs, ts, "loop", elements=computed)
        loop_elements = sum(len(v) for v in computed.values())
    loop_seconds = time.perf_counter() - start
    loop_total = loop_seconds / loop_elements * n_params

    fast, fast_seconds = best_of(lambda: net.numerical_gradient(x, t), args.repeat)
    rows, rows_seconds = best_of(lambda: net.numerical_gradient(x, t, engine="rows"), 3)
    bp, bp_seconds = best_of(lambda: net.gradient(x, t), args.repeat)

    tracemalloc.start()
    net.numerical_gradient(x, t)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    def max_diff(grads):
        return max(float(np.max(np.abs(grads[k].reshape(-1)[i] - loop[k].reshape(-1)[i]))) for k, i in computed.items())

    how = (
        "every parameter"
        if args.full
        else f"{loop_elements} parameters ({args.loop_sample} of W1, all of b1, W2, b2), extrapolated"
    )
    print(f"plain loop: {loop_seconds:.2f} s for {how}")
    print()
    print(f"{'method':<34} {'seconds':>10} {'speed-up vs loop':>17} {'max |diff| vs loop':>19}")
    print(f"{'plain loop (book), all parameters':<34} {loop_total:>10.3f} {1.0:>16.0f}x {0.0:>19.1e}")
    print(f"{'fast engine':<34} {fast_seconds:>10.4f} {loop_total / fast_seconds:>16.0f}x {max_diff(fast):>19.1e}")
    print(
        f"{'exact rows (no series)':<34} {rows_seconds:>10.4f} {loop_total / rows_seconds:>16.0f}x {max_diff(rows):>19.1e}"
    )
    print(
        f"{'backpropagation (not numerical)':<34} {bp_seconds:>10.4f} {loop_total / bp_seconds:>16.0f}x {max_diff(bp):>19.1e}"
    )
    print()
    print(f"fast engine: peak memory {peak / 2**20:.1f} MiB above the batch (tracemalloc)")
    speedup, worst = loop_total / fast_seconds, max_diff(fast)
    met = speedup >= 1000 and worst <= 1e-9
    print(
        f"goal: >= 1000x faster than the loop, difference <= 1e-9: {speedup:.0f}x, {worst:.1e} -> "
        f"{'MET' if met else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()

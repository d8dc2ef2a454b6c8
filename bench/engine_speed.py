"""Backprop engines side by side: is the fused engine still worth having?

The reference engine (the book's layers) against the fused one (the training step): both compute
``loss_and_gradient`` for TwoLayerNet(784, 50, 10) and for the strong recipe's 784-512-256-10 ReLU
network on real MNIST batches, taking turns in blocks; the ratio is the median of the per-turn
ratios (the machine's speed drifts).

    python bench/engine_speed.py [--data-dir DIR] [--turns 7] [--block 300] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nnlearn import MultiLayerNet, TwoLayerNet, load_mnist
from nnlearn.train.threads import blas_threads


def engines_side_by_side(x_train, t_train, turns: int, block: int) -> None:
    rng = np.random.default_rng(0)
    nets = {
        "784-50-10 sigmoid, batch 100": (TwoLayerNet(784, 50, 10, seed=0, dtype=np.float32), 100),
        "784-512-256-10 relu, batch 128": (
            MultiLayerNet(784, [512, 256], 10, activation="relu", weight_init_std="he", seed=0, dtype=np.float32),
            128,
        ),
    }
    print(f"{'network':<32} {'reference us/step':>18} {'fused us/step':>14} {'fused speed-up':>15}")
    for name, (net, batch) in nets.items():
        batches = [rng.choice(len(x_train), batch) for _ in range(block)]
        xs = [x_train[i] for i in batches]
        ts = [t_train[i] for i in batches]
        per = {"reference": [], "fused": []}
        for _ in range(turns):
            for engine_name in ("reference", "fused"):
                engine = net.engine(engine_name)
                with np.errstate(over="ignore"):
                    start = time.perf_counter()
                    for x, t in zip(xs, ts):
                        engine.loss_and_gradient(x, t)
                    per[engine_name].append((time.perf_counter() - start) / block)
        ratio = float(np.median(np.array(per["reference"]) / np.array(per["fused"])))
        ref_us, fused_us = 1e6 * np.median(per["reference"]), 1e6 * np.median(per["fused"])
        print(f"{name:<32} {ref_us:>18.1f} {fused_us:>14.1f} {ratio:>14.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--turns", type=int, default=7)
    parser.add_argument("--block", type=int, default=300, help="steps per engine per turn")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for the engines' comparison")
    args = parser.parse_args()

    (x_train, t_train), _ = load_mnist(data_dir=args.data_dir)
    with blas_threads(args.threads) as choice:
        print(f"BLAS threads: {choice.count} ({choice.source})")
        engines_side_by_side(x_train, t_train, args.turns, args.block)


if __name__ == "__main__":
    main()

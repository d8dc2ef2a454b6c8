"""Backprop engines side by side, and where the time of the book's training step goes.

1. The reference engine (the book's layers) against the fused one (the training step): both compute
   ``loss_and_gradient`` for TwoLayerNet(784, 50, 10) and for the strong recipe's 784-512-256-10 ReLU
   network on real MNIST batches, taking turns in blocks; the ratio is the median of the per-turn
   ratios (the machine's speed drifts).
2. ``--per-op``: the book recipe's step (``Trainer.step``: batch, gradient, SGD update) taken apart --
   every NumPy call it makes, timed on its own in the step's buffers, against the whole step and its
   floor (the batch gathered and the five products with ``np.dot``). Times are CPU time of this
   thread (``time.thread_time``) on one BLAS thread, so that a busy machine's other programs do not
   count: the work the step does, not how long the machine took to give it a core.

    python bench/engine_speed.py [--data-dir DIR] [--turns 7] [--block 300] [--threads N] [--per-op]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nnlearn import MultiLayerNet, TwoLayerNet, load_mnist
from nnlearn.threads import blas


def engines_side_by_side(x_train, t_train, turns: int, block: int) -> None:
    rng = np.random.default_rng(0)
    nets = {
        "784-50-10 sigmoid, batch 100": (TwoLayerNet(784, 50, 10, seed=0, dtype=np.float32), 100),
        "784-512-256-10 relu, batch 128": (
            MultiLayerNet(784, [512, 256], 10, activation="relu", weight_init_std="he", seed=0, dtype=np.float32), 128),
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


def cpu_us(fn, reps: int, rounds: int = 15) -> float:
    """The least CPU time per call of ``fn`` over ``rounds`` rounds of ``reps`` calls, in microseconds."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.thread_time()
        for _ in range(reps):
            fn()
        best = min(best, (time.thread_time() - t0) / reps)
    return best * 1e6


def step_ops(trainer):
    """The book step's operations, in order, each a (group, name, function) on the step's own buffers."""
    net, rng = trainer.network, np.random.default_rng(1)
    p = net.params
    idx = trainer.next_indices()
    x = trainer.gather(idx).copy()
    t = trainer.t_train[idx]
    engine = trainer.engine
    engine.loss_and_gradient(x, t, 0.1)
    ws = engine.workspace
    h, d, tmp, g = ws.h[1], ws.d[1], ws.tmp[1], ws.grads
    out_t, dy_t, row, flat = ws.out_t, ws.dy_t, ws.row, ws.flat
    delta, one = ws.dy, ws.one
    n = ws.batch_size
    y_c = ws.out_flat[flat]
    shifted = y_c + ws.cee_delta
    first, second = ws.forward_product[1], ws.forward_product[2]
    copies = {k: v.copy() for k, v in p.items()}
    return [
        ("batch", "rng.integers (the book's rng.choice)", lambda: trainer.rng.integers(0, 60000, size=100)),
        ("batch", "gather 100 rows (np.take)", lambda: np.take(trainer.x_train, rng.integers(0, 60000, 100), axis=0,
                                                               out=trainer.batch_buffer, mode="clip")),
        ("batch", "labels t_train[idx]", lambda: trainer.t_train[idx]),
        ("product", "x @ W1 (cut 768 + 16, added)", lambda: first(x, p["W1"], h)),
        ("forward", "+ b1", lambda: np.add(h, p["b1"], out=tmp)),
        ("forward", "sigmoid: 4 calls", lambda: (np.negative(h, out=tmp), np.exp(tmp, out=tmp), np.add(tmp, one, out=tmp),
                                                 np.reciprocal(tmp, out=tmp))),
        ("product", "W2.T @ h.T", lambda: second(p["W2"].T, h.T, out_t)),
        ("forward", "+ b2", lambda: np.add(out_t, p["b2"][:, None], out=dy_t)),
        ("softmax", "softmax: max, subtract, exp, sum (ones @), divide",
         lambda: (np.maximum.reduce(out_t, axis=0, keepdims=True, out=row), np.subtract(out_t, row, out=dy_t),
                  np.exp(dy_t, out=dy_t), np.dot(ws.ones_out, dy_t, out=ws.sums), np.divide(dy_t, row, out=dy_t))),
        ("softmax", "loss: label indices, y_c, log, sum",
         lambda: (np.multiply(t, n, out=flat, dtype=np.intp), np.add(flat, ws.samples, out=flat),
                  float(-np.add.reduce(np.log(np.add(ws.out_flat[flat], ws.cee_delta, out=ws.shifted),
                                                     out=ws.logs)) / n))),
        ("softmax", "delta: r, scale, y * r, label entries -= r", lambda: delta_ops(y_c, shifted, ws, flat)),
        ("product", "h.T @ dy (dW2)", lambda: ws.weight_product[2](h.T, delta, g["W2"])),
        ("backward", "ones @ dy (db2)", lambda: ws.bias_product[2](ws.ones, delta, g["b2"])),
        ("product", "dy @ W2.T", lambda: ws.down_product[2](delta, p["W2"].T, d)),
        ("backward", "sigmoid': 3 calls", lambda: (np.subtract(one, h, out=tmp), np.multiply(tmp, h, out=tmp),
                                                   np.multiply(d, tmp, out=tmp))),
        ("product", "x.T @ d1 (dW1)", lambda: ws.weight_product[1](x.T, d, g["W1"])),
        ("backward", "ones @ d1 (db1)", lambda: ws.bias_product[1](ws.ones, d, g["b1"])),
        ("update", "SGD: 4 subtractions", lambda: [np.subtract(copies[k], g[k], out=copies[k]) for k in g]),
    ]


def delta_ops(y_c, shifted, ws, flat):
    r = np.divide(y_c, shifted)
    r *= 0.001
    np.multiply(ws.out_t, r, out=ws.dy_t)
    ws.dy_flat[flat] -= r


def per_op(x_train, t_train, x_test, t_test) -> None:
    from nnlearn.settings import recipe_settings
    from nnlearn.training import build_trainer

    trainer = build_trainer(recipe_settings("book", iters=10**6), x_train, t_train, x_test, t_test, n_classes=10,
                            callbacks=[], threads=1)
    trainer.threads.start()
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(200):
                trainer.step()
            ops = step_ops(trainer)
            step = cpu_us(trainer.step, 200)
            times = [(group, name, cpu_us(fn, 500)) for group, name, fn in ops]
            floor = floor_us(trainer)
            step_again = cpu_us(trainer.step, 200)
    finally:
        trainer.threads.stop()
    step = min(step, step_again)
    print("\nThe book recipe's step (Trainer.step), one BLAS thread, CPU time of this thread (least of 15 rounds):")
    print(f"{'operation':<52} {'us':>7}")
    for group, name, us in times:
        print(f"{group + ': ' + name:<52} {us:7.1f}")
    total = sum(us for _, _, us in times)
    by_group = {}
    for group, _, us in times:
        by_group[group] = by_group.get(group, 0.0) + us
    print(f"{'sum of the operations':<52} {total:7.1f}")
    print(f"{'the whole step (Trainer.step)':<52} {step:7.1f}")
    print(f"{'  of which outside the operations (Python, caches)':<52} {step - total:7.1f}")
    print("by group: " + ", ".join(f"{k} {v:.1f}" for k, v in by_group.items()))
    print(f"floor (gather + the five products with np.dot): {floor:.1f} us; the step is {step / floor:.2f}x its floor")


#: The calls :func:`floor_us` makes (15 rounds of 200).
FLOOR_CALLS = 3000


def floor_us(trainer) -> float:
    """CPU time per iteration of gathering a batch and the five float32 products, with np.dot."""
    f32, rng = np.float32, np.random.default_rng(2)
    W1, W2 = trainer.network.params["W1"], trainer.network.params["W2"]
    x = np.empty((100, 784), f32)
    h, d1 = np.empty((100, 50), f32), np.empty((100, 50), f32)
    out, d2 = np.empty((100, 10), f32), np.ones((100, 10), f32)
    gW1, gW2 = np.empty((784, 50), f32), np.empty((50, 10), f32)
    # A fresh batch for every call, as the step draws one: 64 batches over and over would find their
    # 20 MB of rows in the cache, which the step's gather from the whole training set does not.
    batches = rng.integers(0, len(trainer.x_train), (FLOOR_CALLS, 100))
    state = {"i": 0}

    def one():
        idx = batches[state["i"] % FLOOR_CALLS]
        state["i"] += 1
        np.take(trainer.x_train, idx, axis=0, out=x, mode="clip")
        np.dot(x, W1, out=h)
        np.dot(h, W2, out=out)
        np.dot(d2, W2.T, out=d1)
        np.dot(h.T, d2, out=gW2)
        np.dot(x.T, d1, out=gW1)

    return cpu_us(one, 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--turns", type=int, default=7)
    parser.add_argument("--block", type=int, default=300, help="steps per engine per turn")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for the engines' comparison")
    parser.add_argument("--per-op", action="store_true", help="also take the book's step apart")
    args = parser.parse_args()

    (x_train, t_train), (x_test, t_test) = load_mnist(data_dir=args.data_dir)
    with blas().limit(limits=args.threads):
        engines_side_by_side(x_train, t_train, args.turns, args.block)
    if args.per_op:
        per_op(x_train, t_train, x_test, t_test)


if __name__ == "__main__":
    main()

"""Time per training step of the book's recipe: nnlearn against its floor and its peers, in one run.

The recipe (ch. 4.5): TwoLayerNet(784, 50, 10) with sigmoid, weights ~ 0.01 * N(0, 1), SGD with
lr 0.1, mini-batches of 100 drawn with ``rng.choice(60000, 100)``, 10000 iterations. Every
implementation starts from the **same weights** and sees the **same batches** (one
``numpy.random.Generator(seed)`` each), so their accuracies differ only by arithmetic.

- nnlearn: ``nnlearn.train.trainer`` with the book recipe (float32, the fused engine), its BLAS threads
  chosen from the free cores at the start (``--threads N`` fixes them), accuracy every 600 iterations.
- floor: what a step cannot avoid -- gathering the batch's 100 rows and its five float32 products
  (``x @ W1``, ``h @ W2``, ``d2 @ W2.T``, ``h.T @ d2``, ``x.T @ d1``) with ``np.dot``, nothing else, on
  the thread count nnlearn used in the turn before. "floor, nnlearn's products": the same with the
  products as the fused engine calls them (a long sum cut in two, see nnlearn.common.engines.fused).
- plain NumPy (``--plain``): the book's ``two_layer_net.py`` and ``train_neuralnet.py`` written out.
- PyTorch (when importable), default threads and one thread: ``nn.Sequential(Linear, Sigmoid,
  Linear)``, ``CrossEntropyLoss``, ``optim.SGD``, batches indexed from tensors, float32.
- JAX (when importable), float32, the book's loss (``-mean(log(softmax + 1e-7))``) by ``jax.grad``:
  "jit step" calls a jitted step (gather, gradient, update) once per iteration from Python; "scan"
  runs the whole block of iterations in one jitted ``lax.scan`` (indices drawn beforehand).
  Both take the batch from the training set on the device, as nnlearn's step does.

They run in turns, ``--block`` iterations at a time with a short rest before each (so that one
library's spinning threads do not slow the next); "step" is the median over turns of the time per
iteration without evaluations, "all" the whole run's time per iteration, "paired" the median over
turns of the ratio of an implementation's block to nnlearn's block in the same turn -- steadier
than a ratio of medians on a shared machine. The machine's BLAS (threadpoolctl) and load average
are printed with the table. ``--clock cpu`` times every block by this process's CPU time with
every implementation on one thread (nnlearn, NumPy's BLAS, PyTorch, XLA): the work per step, for a
machine so busy that wall times measure the other programs. Then the peak memory of a whole
``nnlearn train`` run in a child process, and with ``--strong`` the wall time of ``nnlearn train --recipe strong``.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/train_speed.py [--iters 10000] [--threads N] [--strong]
[--clock cpu]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BATCH, LR, EPOCH = 100, 0.1, 600
#: The clock every block is timed with: wall time, or with --clock cpu this process's CPU time.
clock = time.perf_counter


def find_data_dir(arg):
    if arg:
        return arg
    root = os.environ.get("NNLEARN_DATA")
    if root and (Path(root) / "mnist").is_dir():
        return str(Path(root) / "mnist")
    return root


class Runner:
    """One implementation, trained block by block: ``block(n)`` runs the next ``n`` iterations and
    keeps their time without evaluations (``timed_eval`` counts those). A ``_run`` that draws its
    indices before starting its own clock returns the seconds of that clock instead."""

    all_column = True

    def __init__(self, name):
        self.name = name
        self.blocks = []  # (iterations, seconds without evaluation)
        self.total = 0.0
        self.eval_seconds = 0.0
        self.test_acc = None

    def block(self, n):
        before = self.eval_seconds
        t0 = clock()
        own = self._run(n)
        wall = clock() - t0
        self.total += wall if own is None else own
        self.blocks.append((n, wall - (self.eval_seconds - before) if own is None else own))

    def timed_eval(self, fn, *args):
        t0 = clock()
        try:
            return fn(*args)
        finally:
            self.eval_seconds += clock() - t0

    def step_us(self):
        return float(np.median([sec / n for n, sec in self.blocks])) * 1e6

    def paired_ratio(self, ref):
        """Median over turns of (this block's time per step) / (ref's in the same turn)."""
        return float(np.median([(s / n) / (rs / rn) for (n, s), (rn, rs) in zip(self.blocks, ref.blocks)]))


class NnlearnRunner(Runner):
    def __init__(self, data, seed, iters, threads):
        super().__init__("nnlearn (float32, fused engine)")
        from nnlearn.train.callbacks import Callback, standard_callbacks
        from nnlearn.train.settings import recipe_settings
        from nnlearn.train.training import build_trainer

        runner = self

        class Stop(Callback):
            def on_step_end(self, iteration, loss):
                if iteration == runner.stop_at and iteration < self.trainer.max_iter:
                    raise KeyboardInterrupt  # end of a block; the next train() call continues

        (x_train, t_train), (x_test, t_test) = data
        self.trainer = build_trainer(
            recipe_settings("book", iters=iters, seed=seed),
            x_train,
            t_train,
            x_test,
            t_test,
            n_classes=10,
            callbacks=[*standard_callbacks(False), Stop()],
            threads=threads,
        )
        # The loop judges every epoch itself; its time is kept apart from the steps'.
        judge = self.trainer.evaluate
        self.trainer.evaluate = lambda: runner.timed_eval(judge)
        self.stop_at = 0
        self.counts = []  # the thread count at the end of each block

    def _run(self, n):
        from nnlearn.train.trainer import TrainingInterrupted

        self.stop_at = self.trainer.iteration + n
        try:
            self.trainer.train()
        except TrainingInterrupted:
            pass
        self.counts.append(self.trainer.choose_threads().count)
        if self.trainer.history.final is not None:
            self.test_acc = self.trainer.history.final["test_accuracy"]


class FloorRunner(Runner):
    """The batch's rows gathered and the step's five products, nothing else (indices drawn untimed)."""

    all_column = False

    def __init__(self, data, seed, init, nnlearn):
        super().__init__("floor: gather + 5 products (np.dot)")
        (self.x_train, _), _ = data
        self.rng = np.random.default_rng(seed)
        self.nnlearn = nnlearn
        f32 = np.float32
        self.W1, self.W2 = init["W1"].astype(f32), init["W2"].astype(f32)
        self.x = np.empty((BATCH, 784), f32)
        self.h, self.d1 = np.empty((BATCH, 50), f32), np.empty((BATCH, 50), f32)
        self.out, self.d2 = np.empty((BATCH, 10), f32), np.full((BATCH, 10), 1e-3, f32)
        self.gW1, self.gW2 = np.empty((784, 50), f32), np.empty((50, 10), f32)
        self.products = [lambda a, b, out: np.dot(a, b, out=out)] * 5

    def _run(self, n):
        from nnlearn.train.threads import Choice, using

        indices = [self.rng.integers(0, len(self.x_train), size=BATCH, dtype=np.int64) for _ in range(n)]
        fwd1, fwd2, back2, grad2, grad1 = self.products
        x, h, d1, out, d2, W1, W2 = self.x, self.h, self.d1, self.out, self.d2, self.W1, self.W2
        with using(Choice(self.nnlearn.train.trainer.choose_threads().count, "threads", None)):
            t0 = clock()
            for idx in indices:
                np.take(self.x_train, idx, axis=0, out=x, mode="clip")
                fwd1(x, W1, h)
                fwd2(h, W2, out)
                back2(d2, W2.T, d1)
                grad2(h.T, d2, self.gW2)
                grad1(x.T, d1, self.gW1)
            return clock() - t0


class PlainRunner(Runner):
    """The book's code (ch. 4.5) in float64, with a seeded Generator for the batches."""

    def __init__(self, data, seed, iters, init):
        super().__init__("plain NumPy, book style (float64)")
        (self.x_train, t_train), (self.x_test, t_test) = data
        self.t_train = np.eye(10, dtype=np.float32)[t_train]
        self.t_test = np.eye(10, dtype=np.float32)[t_test]
        self.params = {k: v.astype(np.float64).copy() for k, v in init.items()}
        self.rng = np.random.default_rng(seed)
        self.i = 0
        self.iters = iters

    def predict(self, x):
        p = self.params
        return softmax(np.dot(sigmoid(np.dot(x, p["W1"]) + p["b1"]), p["W2"]) + p["b2"])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]

    def accuracy(self, x, t):
        return np.sum(np.argmax(self.predict(x), axis=1) == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x, t):
        W1, W2, b1 = self.params["W1"], self.params["W2"], self.params["b1"]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + self.params["b2"])
        dy = (y - t) / x.shape[0]
        grads = {"W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}
        dz1 = (1.0 - sigmoid(a1)) * sigmoid(a1) * np.dot(dy, W2.T)
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads

    def _run(self, n):
        train_size = self.x_train.shape[0]
        with np.errstate(over="ignore"):
            for i in range(self.i, self.i + n):
                batch_mask = self.rng.choice(train_size, BATCH)
                x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
                grad = self.gradient(x_batch, t_batch)
                for key in ("W1", "b1", "W2", "b2"):
                    self.params[key] -= LR * grad[key]
                self.loss(x_batch, t_batch)
                if i % EPOCH == 0:
                    self.timed_eval(self.accuracy, self.x_train, self.t_train)
                    self.timed_eval(self.accuracy, self.x_test, self.t_test)
            self.i += n
            if self.i >= self.iters:
                self.test_acc = float(self.accuracy(self.x_test, self.t_test))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


class TorchRunner(Runner):
    def __init__(self, data, seed, iters, init, threads=None):
        import torch
        from torch import nn

        self.default_threads = torch.get_num_threads()
        self.threads = threads or self.default_threads
        super().__init__(
            f"PyTorch {torch.__version__.split('+')[0]} CPU ({self.threads} thread"
            f"{'s' if self.threads > 1 else ''}{', default' if threads is None else ''})"
        )
        self.torch = torch
        (x_train, t_train), (x_test, t_test) = data
        self.X, self.T = torch.from_numpy(x_train), torch.from_numpy(t_train.astype(np.int64))
        self.Xt, self.Tt = torch.from_numpy(x_test), torch.from_numpy(t_test.astype(np.int64))
        self.model = nn.Sequential(nn.Linear(784, 50), nn.Sigmoid(), nn.Linear(50, 10))
        with torch.no_grad():
            self.model[0].weight.copy_(torch.from_numpy(init["W1"].T.astype(np.float32)))
            self.model[0].bias.zero_()
            self.model[2].weight.copy_(torch.from_numpy(init["W2"].T.astype(np.float32)))
            self.model[2].bias.zero_()
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.rng = np.random.default_rng(seed)
        self.i = 0
        self.iters = iters

    def accuracy(self, x, t):
        with self.torch.no_grad():
            return float((self.model(x).argmax(dim=1) == t).float().mean())

    def _run(self, n):
        torch = self.torch
        torch.set_num_threads(self.threads)
        try:
            for i in range(self.i, self.i + n):
                idx = torch.from_numpy(self.rng.choice(self.X.shape[0], BATCH))
                loss = self.loss_fn(self.model(self.X[idx]), self.T[idx])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                loss.item()
                if (i + 1) % EPOCH == 0 or i + 1 == self.iters:
                    self.timed_eval(self.accuracy, self.X, self.T)
                    test_acc = self.timed_eval(self.accuracy, self.Xt, self.Tt)
        finally:
            torch.set_num_threads(self.default_threads)
        self.i += n
        if self.i >= self.iters:
            self.test_acc = test_acc


class JaxRunner(Runner):
    """The book's step in JAX: called once per iteration (``scan=False``) or a block in one ``lax.scan``."""

    all_column = False

    def __init__(self, data, seed, iters, init, block, scan):
        import jax
        import jax.numpy as jnp

        how = "whole block in one lax.scan" if scan else "jit step per iteration"
        super().__init__(f"JAX {jax.__version__} CPU, {how}")
        self.jax, self.jnp, self.scan = jax, jnp, scan
        (x_train, t_train), (x_test, t_test) = data
        self.X, self.T = jnp.asarray(x_train), jnp.asarray(t_train.astype(np.int32))
        self.Xt, self.Tt = jnp.asarray(x_test), jnp.asarray(t_test.astype(np.int32))
        self.params = {k: jnp.asarray(v.astype(np.float32)) for k, v in init.items()}
        self.rng = np.random.default_rng(seed)
        self.i, self.iters = 0, iters

        def loss_fn(p, x, t):
            y = jax.nn.softmax(jax.nn.sigmoid(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])
            return -jnp.mean(jnp.log(jnp.take_along_axis(y, t[:, None], axis=1) + 1e-7))

        def step(p, X, T, idx):
            loss, g = jax.value_and_grad(loss_fn)(p, X[idx], T[idx])
            return jax.tree.map(lambda a, b: a - LR * b, p, g), loss

        def many(p, X, T, indices):
            return jax.lax.scan(lambda q, idx: step(q, X, T, idx), p, indices)

        self.step = jax.jit(step)
        self.many = jax.jit(many)
        # Compile outside the timing: the step, and the scan for this block length.
        warm = self.rng_free_indices(block)
        if scan:
            jax.block_until_ready(self.many(self.params, self.X, self.T, warm))
        else:
            jax.block_until_ready(self.step(self.params, self.X, self.T, warm[0]))

    @staticmethod
    def rng_free_indices(n):
        return np.zeros((n, BATCH), dtype=np.int32)

    def _run(self, n):
        jax = self.jax
        indices = np.stack([self.rng.integers(0, self.X.shape[0], size=BATCH) for _ in range(n)]).astype(np.int32)
        t0 = clock()
        if self.scan:
            self.params, losses = self.many(self.params, self.X, self.T, indices)
        else:
            losses = []
            for idx in indices:
                self.params, loss = self.step(self.params, self.X, self.T, idx)
                losses.append(loss)
        jax.block_until_ready((self.params, losses))
        seconds = clock() - t0
        self.i += n
        if self.i >= self.iters:
            self.test_acc = self.accuracy()
        return seconds

    def accuracy(self):
        jnp, p = self.jnp, self.params
        logits = self.jax.nn.sigmoid(self.Xt @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return float(jnp.mean(jnp.argmax(logits, axis=1) == self.Tt))


# A small launcher starts ``nnlearn train`` and reports its ru_maxrss. Started straight from this
# (large) process, the child's ru_maxrss would include this process's memory at fork time.
LAUNCHER = r"""
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
err = proc.stderr.read().decode()
print(json.dumps({"rc": os.waitstatus_to_exitcode(status), "wall": wall, "maxrss_kib": usage.ru_maxrss, "err": err}))
"""


def child_run(argv, data_dir):
    """Run ``nnlearn train ARGV`` in a child process: (wall seconds, peak RSS MiB, summary)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "nnlearn", "train", "--out", str(out), "--no-progress", *argv]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        report = json.loads(
            subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=True).stdout
        )
        if report["rc"] != 0:
            raise SystemExit(f"nnlearn train {' '.join(argv)} failed:\n{report['err']}")
        summary = json.loads((out / "summary.json").read_text())
    return report["wall"], report["maxrss_kib"] / 1024.0, summary


def describe_machine() -> str:
    from threadpoolctl import threadpool_info

    blas = [
        f"{i['internal_api']} {i['version']} ({i.get('architecture')}, {i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs, numpy {np.__version__} with {'; '.join(blas) or 'no BLAS found'}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}; load average {load}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files (default: NNLEARN_DATA)")
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--block", type=int, default=1000, help="iterations per turn (default 1000)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds of rest before each turn (default 0.3)")
    parser.add_argument("--threads", default=None, help="nnlearn's BLAS threads (default: the free cores at the start)")
    parser.add_argument("--plain", action="store_true", help="also the plain NumPy loop written like the book")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-jax", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--strong", action="store_true", help="also time `nnlearn train --recipe strong`")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: time blocks by this process's CPU time, everything on one thread -- the work per "
        "step, for a machine too busy for wall times to mean anything",
    )
    args = parser.parse_args()
    if args.clock == "cpu":
        global clock
        clock = time.process_time
        args.threads = 1
        # XLA's CPU runtime on one thread too, so that no idle pool spins into the CPU time.
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        ).strip()
    if args.iters % args.block:
        parser.error("--iters must be a multiple of --block (JAX's scan is compiled for one block length)")

    from nnlearn import TwoLayerNet
    from nnlearn.datasets import load_dataset

    data_dir = find_data_dir(args.data_dir)
    data = load_dataset("mnist", data_dir=data_dir)
    init = {k: v.copy() for k, v in TwoLayerNet(784, 50, 10, seed=args.seed).params.items()}

    print(
        f"book recipe: 784-50-10 sigmoid, std 0.01, SGD lr 0.1, batch 100, {args.iters} iterations, "
        f"accuracy every 600; same initial weights and batches for all (seed {args.seed})"
    )
    print(describe_machine())
    if args.clock == "cpu":
        print("clock: CPU time of this process, every implementation on one thread")
    ref = NnlearnRunner(data, args.seed, args.iters, args.threads)
    runners = [ref, FloorRunner(data, args.seed, init, ref)]
    if args.plain:
        runners.append(PlainRunner(data, args.seed, args.iters, init))
    if not args.skip_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch is not installed (pip install 'nnlearn[bench]'); its rows are skipped")
        else:
            if args.clock == "wall":
                runners.append(TorchRunner(data, args.seed, args.iters, init))
            runners.append(TorchRunner(data, args.seed, args.iters, init, 1))
    if not args.skip_jax:
        try:
            import jax  # noqa: F401
        except ImportError:
            print("JAX is not installed (pip install 'nnlearn[bench]'); its rows are skipped")
        else:
            runners += [
                JaxRunner(data, args.seed, args.iters, init, args.block, scan=False),
                JaxRunner(data, args.seed, args.iters, init, args.block, scan=True),
            ]
    done = turn = 0
    while done < args.iters:
        n = args.block
        # nnlearn first in every turn: the floors run on the thread count it has just used.
        others = runners[1:]
        k = turn % len(others)
        for runner in [runners[0], *others[k:], *others[:k]]:
            time.sleep(args.pause)  # let the previous runner's idle threads stop spinning
            runner.block(n)
        done += n
        turn += 1

    counts = {c: ref.counts.count(c) for c in sorted(set(ref.counts), key=str)}
    print(f"nnlearn's BLAS threads at the end of each turn: {counts} (record: {ref.trainer.choose_threads().record()})")
    print(f"{'implementation':<52} {'us/step':>8} {'paired':>7} {'us/iter all':>11} {'test acc':>9}")
    for r in runners:
        all_us = f"{r.total / args.iters * 1e6:11.1f}" if r.all_column else f"{'-':>11}"
        acc = f"{r.test_acc:9.2%}" if r.test_acc is not None else f"{'-':>9}"
        print(f"{r.name:<52} {r.step_us():8.1f} {r.paired_ratio(ref):6.2f}x {all_us} {acc}")
    print(
        "(us/step: median over turns of the time per iteration without evaluations; paired: median over turns of "
        "its block / nnlearn's block in the same turn, < 1 is faster than nnlearn; all: with the per-epoch "
        "evaluations)"
    )
    floor = runners[1]
    print(f"nnlearn's step is {1 / floor.paired_ratio(ref):.2f}x its floor (paired by turn)")
    for r in runners[2:]:
        print(f"nnlearn vs {r.name}: {r.paired_ratio(ref):.2f}x the time per step of nnlearn (paired by turn)")
    print(describe_machine())

    if not args.skip_memory:
        wall, peak, summary = child_run([], data_dir)
        print(
            f"\n`nnlearn train` (book recipe, child process): peak memory {peak:.0f} MiB (ru_maxrss), "
            f"wall {wall:.1f} s, test accuracy {summary['test_accuracy']:.2%}, threads {summary['threads']}"
        )
    if args.strong:
        wall, peak, summary = child_run(["--recipe", "strong"], data_dir)
        print(
            f"`nnlearn train --recipe strong` (child process): wall {wall:.1f} s including start-up and data "
            f"loading ({summary['seconds']:.1f} s training), test accuracy {summary['test_accuracy']:.2%}, "
            f"peak memory {peak:.0f} MiB"
        )


if __name__ == "__main__":
    main()

"""Time per iteration of the book's recipe: nnlearn, a plain NumPy loop like the book's, PyTorch CPU.

The recipe (ch. 4.5): TwoLayerNet(784, 50, 10) with sigmoid, weights ~ 0.01 * N(0, 1), SGD with
lr 0.1, mini-batches of 100 drawn with ``rng.choice(60000, 100)``, 10000 iterations, train and test
accuracy once per epoch (600 iterations). All three implementations start from the **same
weights** and see the **same batches** (one ``numpy.random.Generator(seed)`` each, drawing inside
the timed loop), so their accuracies differ only by arithmetic (float32 vs float64, the book's
``1e-7`` in the log).

- nnlearn: ``nnlearn.trainer`` with the book recipe (float32, the fused engine).
- plain NumPy: the book's ``two_layer_net.py`` and ``train_neuralnet.py`` written out -- float64
  weights, one-hot labels, the loss recomputed after each update, accuracy on whole data sets.
- PyTorch (when importable): ``nn.Sequential(Linear, Sigmoid, Linear)``, ``CrossEntropyLoss``,
  ``optim.SGD``, batches indexed from tensors (no DataLoader), default threads, float32.

The three run in turns, 1000 iterations at a time with a short rest before each turn (so that one
library's spinning worker threads do not slow the next), so that they share the machine's background
load (it is shared); "step" is the median over those blocks of the time per training iteration
alone, "all" the whole run's time per iteration with the per-epoch evaluations, and "paired by turn"
the median over turns of the ratio of two implementations' blocks in the same turn.
Then the peak memory (``ru_maxrss``) of a whole ``nnlearn train`` run in a child process, and with
``--strong`` the wall time and accuracy of ``nnlearn train --recipe strong`` (data loading included).

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/train_speed.py [--iters 10000] [--strong]``
(or ``--data-dir FOLDER`` holding the four MNIST files).
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


def find_data_dir(arg):
    if arg:
        return arg
    root = os.environ.get("NNLEARN_DATA")
    if root and (Path(root) / "mnist").is_dir():
        return str(Path(root) / "mnist")
    return root


class Timer:
    """Accumulates the time spent in evaluations, to split "step" from "all"."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        return timed


class Runner:
    """One implementation, trained block by block: ``block(n)`` runs the next ``n`` iterations.

    The implementations take turns, block by block, so that all of them run under the same
    background load (this machine is shared); each block's time without its evaluations is kept.
    """

    def __init__(self, name):
        self.name = name
        self.timer = Timer()
        self.blocks = []  # (iterations, seconds without evaluation)
        self.total = 0.0
        self.test_acc = None

    def block(self, n):
        eval_before = self.timer.seconds
        t0 = time.perf_counter()
        self._run(n)
        wall = time.perf_counter() - t0
        self.total += wall
        self.blocks.append((n, wall - (self.timer.seconds - eval_before)))

    def step_us(self):
        """Median over blocks of the time per training iteration, in microseconds."""
        return float(np.median([sec / n for n, sec in self.blocks])) * 1e6

    def paired_ratio(self, ref):
        """Median over turns of this runner's time per step divided by ``ref``'s in the same turn.

        The machine's speed drifts (it is shared), by 30% over seconds at times; two blocks of one
        turn run under nearly the same conditions, so their ratio is steadier than a ratio of medians.
        """
        return float(np.median([(sec / n) / (rsec / rn) for (n, sec), (rn, rsec) in zip(self.blocks, ref.blocks)]))


class NnlearnRunner(Runner):
    def __init__(self, data, seed, iters):
        super().__init__("nnlearn (float32, fast path)")
        from nnlearn.callbacks import Callback, Evaluation, standard_callbacks
        from nnlearn.settings import recipe_settings
        from nnlearn.trainer import build_trainer

        runner = self

        class Stop(Callback):
            def on_step_end(self, trainer):
                if trainer.iteration == runner.stop_at and trainer.iteration < trainer.max_iter:
                    raise KeyboardInterrupt  # end of a block; the next train() call continues

        class TimedEvaluation(Evaluation):
            on_epoch_end = self.timer.wrap(Evaluation.on_epoch_end)

        callbacks = [TimedEvaluation() if isinstance(cb, Evaluation) else cb for cb in standard_callbacks(False)]
        (x_train, t_train), (x_test, t_test) = data
        self.trainer = build_trainer(recipe_settings("book", iters=iters, seed=seed), x_train, t_train, x_test,
                                     t_test, n_classes=10, callbacks=[*callbacks, Stop()])
        self.stop_at = 0

    def _run(self, n):
        from nnlearn.trainer import TrainingInterrupted

        self.stop_at = self.trainer.iteration + n
        try:
            self.trainer.train()
        except TrainingInterrupted:
            pass
        if self.trainer.final is not None:
            self.test_acc = self.trainer.final["test_accuracy"]


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
        self.train_loss_list = []
        self.accuracy_timed = self.timer.wrap(self.accuracy)

    def predict(self, x):
        p = self.params
        a1 = np.dot(x, p["W1"]) + p["b1"]
        z1 = sigmoid(a1)
        return softmax(np.dot(z1, p["W2"]) + p["b2"])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        return np.sum(y == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x, t):
        W1, W2, b1, b2 = self.params["W1"], self.params["W2"], self.params["b1"], self.params["b2"]
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        dy = (y - t) / batch_num
        grads = {"W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}
        da1 = np.dot(dy, W2.T)
        dz1 = (1.0 - sigmoid(a1)) * sigmoid(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads

    def _run(self, n):
        train_size, batch_size, lr = self.x_train.shape[0], 100, 0.1
        iter_per_epoch = max(train_size / batch_size, 1)
        with np.errstate(over="ignore"):
            for i in range(self.i, self.i + n):
                batch_mask = self.rng.choice(train_size, batch_size)
                x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
                grad = self.gradient(x_batch, t_batch)
                for key in ("W1", "b1", "W2", "b2"):
                    self.params[key] -= lr * grad[key]
                self.train_loss_list.append(self.loss(x_batch, t_batch))
                if i % iter_per_epoch == 0:
                    self.accuracy_timed(self.x_train, self.t_train)
                    self.accuracy_timed(self.x_test, self.t_test)
            self.i += n
            if self.i >= self.iters:
                self.test_acc = float(self.accuracy(self.x_test, self.t_test))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


class TorchRunner(Runner):
    def __init__(self, data, seed, iters, init):
        import torch
        from torch import nn

        super().__init__(f"PyTorch {torch.__version__} CPU (float32, {torch.get_num_threads()} threads)")
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
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.rng = np.random.default_rng(seed)
        self.i = 0
        self.iters = iters
        self.losses = []
        self.accuracy_timed = self.timer.wrap(self.accuracy)

    def accuracy(self, x, t):
        with self.torch.no_grad():
            return float((self.model(x).argmax(dim=1) == t).float().mean())

    def _run(self, n):
        torch = self.torch
        train_size, batch_size, iter_per_epoch = self.X.shape[0], 100, 600
        for i in range(self.i, self.i + n):
            idx = torch.from_numpy(self.rng.choice(train_size, batch_size))
            loss = self.loss_fn(self.model(self.X[idx]), self.T[idx])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.losses.append(loss.item())
            if (i + 1) % iter_per_epoch == 0 or i + 1 == self.iters:
                self.accuracy_timed(self.X, self.T)
                test_acc = self.accuracy_timed(self.Xt, self.Tt)
        self.i += n
        if self.i >= self.iters:
            self.test_acc = test_acc


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
        report = json.loads(subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True,
                                           text=True, check=True).stdout)
        if report["rc"] != 0:
            raise SystemExit(f"nnlearn train {' '.join(argv)} failed:\n{report['err']}")
        summary = json.loads((out / "summary.json").read_text())
    return report["wall"], report["maxrss_kib"] / 1024.0, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files (default: NNLEARN_DATA)")
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--block", type=int, default=1000, help="iterations per turn (default 1000)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds of rest before each turn (default 0.3)")
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--strong", action="store_true", help="also time `nnlearn train --recipe strong`")
    args = parser.parse_args()

    from nnlearn.datasets import load_dataset
    from nnlearn import TwoLayerNet

    data_dir = find_data_dir(args.data_dir)
    data = load_dataset("mnist", data_dir=data_dir)
    init = {k: v.copy() for k, v in TwoLayerNet(784, 50, 10, seed=args.seed).params.items()}

    print(f"book recipe: 784-50-10 sigmoid, std 0.01, SGD lr 0.1, batch 100, {args.iters} iterations, "
          f"accuracy every 600; same initial weights and batches for all (seed {args.seed})")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '-')}")
    runners = [NnlearnRunner(data, args.seed, args.iters)]
    if not args.skip_plain:
        runners.append(PlainRunner(data, args.seed, args.iters, init))
    if not args.skip_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch is not installed (pip install 'nnlearn[bench]'); its row is skipped")
        else:
            runners.append(TorchRunner(data, args.seed, args.iters, init))
    done = 0
    turn = 0
    while done < args.iters:
        n = min(args.block, args.iters - done)
        order = runners[turn % len(runners):] + runners[: turn % len(runners)]
        for runner in order:
            # Let the previous runner's idle BLAS/OpenMP threads stop spinning before timing the next.
            time.sleep(args.pause)
            runner.block(n)
        done += n
        turn += 1

    ref = runners[0]
    print(f"\n{'implementation':<44} {'us/iter step':>12} {'us/iter all':>12} {'total s':>8} "
          f"{'test acc':>9} {'step time':>10} {'all time':>9}")
    for r in runners:
        every = r.total / args.iters
        print(f"{r.name:<44} {r.step_us():>12.1f} {every * 1e6:>12.1f} {r.total:>8.2f} {r.test_acc:>9.2%} "
              f"{r.step_us() / ref.step_us():>9.2f}x {r.total / ref.total:>8.2f}x")
    print(f"(step: median over blocks of {args.block} iterations, run in turns; all: with the per-epoch "
          "evaluations. Ratios relative to nnlearn; > 1 means slower than nnlearn.)")
    for r in runners[1:]:
        print(f"nnlearn vs {r.name}: {r.step_us() / ref.step_us():.2f}x faster per training step "
              f"({r.paired_ratio(ref):.2f}x paired by turn), {r.total / ref.total:.2f}x overall; "
              f"test accuracy {100 * (ref.test_acc - r.test_acc):+.2f} pp")

    if not args.skip_memory:
        wall, peak, summary = child_run([], data_dir)
        print(f"\n`nnlearn train` (book recipe, child process): peak memory {peak:.0f} MiB (ru_maxrss), "
              f"wall {wall:.1f} s, test accuracy {summary['test_accuracy']:.2%}")
    if args.strong:
        wall, peak, summary = child_run(["--recipe", "strong"], data_dir)
        print(f"`nnlearn train --recipe strong` (child process): wall {wall:.1f} s including start-up and data "
              f"loading ({summary['seconds']:.1f} s training), test accuracy {summary['test_accuracy']:.2%}, "
              f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()

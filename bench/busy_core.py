"""A busy core: the book and strong recipes quiet and beside one spinning process, wall time of the command.

A learner's laptop always has something else running. This bench runs ``nnlearn train`` (the book
recipe, and ``--recipe strong``) as a child process, with data loading and start-up, in four
conditions, taking turns so that all of them share the machine's drift:

- quiet, nnlearn's thread rule (the default: the cores free at the start);
- beside one process spinning on a core (a ``while`` loop), the rule;
- beside it, ``--threads C`` with C the cores BLAS starts with -- BLAS's own default, what nnlearn
  did before it had a rule;
- quiet, ``--threads C``.

It prints each condition's median wall time, the ratio busy / quiet, and the thread count the
rule chose (from the run's ``summary.json``). Goal: beside the spinning process each recipe takes
at most 1.3 times its quiet time.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/busy_core.py [--recipes book strong] [--repeats 3]``
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

# Spins until its parent (this bench) is gone, so that it never outlives an interrupted bench.
SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def run_train(recipe: str, threads, data_dir) -> dict:
    """``nnlearn train --recipe RECIPE`` in a child process: wall seconds and its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "nnlearn",
            "train",
            "--recipe",
            recipe,
            "--out",
            str(Path(tmp) / "run"),
            "--no-progress",
        ]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        env = {k: v for k, v in os.environ.items() if k != "NNLEARN_THREADS"}
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    return {"wall": wall, "accuracy": summary["test_accuracy"], "threads": summary.get("threads")}


def measure(recipe, threads, busy, data_dir) -> dict:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
    try:
        if spinner is not None:
            time.sleep(0.5)  # the spinner is running before nnlearn starts
        return run_train(recipe, threads, data_dir)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files (default: NNLEARN_DATA)")
    parser.add_argument("--recipes", nargs="+", default=["book", "strong"], choices=["book", "strong"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of rest between runs (default 2)")
    parser.add_argument(
        "--rule-only",
        action="store_true",
        help="skip the runs on BLAS's own thread count (they take minutes on a loaded machine)",
    )
    args = parser.parse_args()

    import numpy  # noqa: F401 -- loads the BLAS that threadpoolctl describes
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    default = max((i["num_threads"] for i in blas), default=1)
    print(
        f"machine: {os.cpu_count()} CPUs; numpy's BLAS: "
        + "; ".join(
            f"{i['internal_api']} {i['version']} ({i.get('architecture')}, {i['num_threads']} threads)" for i in blas
        )
    )
    print(f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    conditions = [
        ("quiet", None, False),
        ("busy", None, True),
        (f"busy, --threads {default}", default, True),
        (f"quiet, --threads {default}", default, False),
    ][: 2 if args.rule_only else 4]
    results = {(r, c[0]): [] for r in args.recipes for c in conditions}
    for rep in range(args.repeats):
        for recipe in args.recipes:
            for name, threads, busy in conditions:
                time.sleep(args.pause)
                result = measure(recipe, threads, busy, args.data_dir)
                results[(recipe, name)].append(result)
                used = result["threads"] or {}
                print(
                    f"  {recipe:<6} {name:<22} {result['wall']:6.1f} s  {result['accuracy']:.2%}  "
                    f"threads {used.get('threads')} ({used.get('source')})",
                    flush=True,
                )
    print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        f"\n{'recipe':<8} "
        + " ".join(f"{name:>22}" for name, _, _ in conditions)
        + f" {'busy/quiet':>11} "
        + ("" if args.rule_only else f"{'before: busy/quiet':>19}")
    )
    for recipe in args.recipes:
        walls = [median([r["wall"] for r in results[(recipe, name)]]) for name, _, _ in conditions]
        print(
            f"{recipe:<8} "
            + " ".join(f"{w:>20.1f} s" for w in walls)
            + f" {walls[1] / walls[0]:>10.2f}x "
            + ("" if args.rule_only else f"{walls[2] / walls[3]:>18.2f}x")
        )
    print(
        f"(median wall time of {args.repeats} runs of the whole command, data loading included; busy: beside one "
        f"process spinning on a core; 'before': BLAS's own {default} threads, as nnlearn ran without a rule)"
    )


if __name__ == "__main__":
    main()

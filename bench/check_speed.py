"""How long ``nnlearn check`` takes: one complete, correct chapter file, and the test corpus.

Times, as a reader sees them, the console command ``nnlearn check examples/check/chapter4.py`` (every
function of the chapter, 18 rows; the Python start-up, the child process and every probe included),
and the whole corpus of tests/check_corpus (55 files) checked in one call of ``check_files`` (one
child process), and prints a side-by-side line against the goal (<= 10 s for the chapter file).

Usage: ``python bench/check_speed.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 10.0


def time_command(repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "nnlearn", "check", str(ROOT / "examples/check/chapter4.py"), "--lang", "en"],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"nnlearn check failed:\n{proc.stdout}{proc.stderr}")
    return times


def time_corpus(repeat: int) -> tuple[int, list[float]]:
    from nnlearn.checker import check_files

    files = sorted((ROOT / "tests/check_corpus/mistakes").glob("*.py")) + sorted(
        (ROOT / "tests/check_corpus/correct").glob("*.py")
    )
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        check_files(files, lang="en")
        times.append(time.perf_counter() - start)
    return len(files), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    command = time_command(args.repeat)
    n, corpus = time_corpus(args.repeat)
    med = statistics.median(command)
    print(
        f"nnlearn check examples/check/chapter4.py: median {med:.2f} s (min {min(command):.2f}, "
        f"max {max(command):.2f}, {args.repeat} runs) | goal <= {GOAL_S:.0f} s: "
        f"{'met' if med <= GOAL_S else 'NOT met'}, {GOAL_S / med:.1f}x under"
    )
    print(
        f"corpus, {n} files in one check_files call: median {statistics.median(corpus):.2f} s "
        f"({statistics.median(corpus) / n * 1000:.0f} ms per file)"
    )


if __name__ == "__main__":
    main()

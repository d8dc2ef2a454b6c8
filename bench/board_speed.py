"""Speed of ``nnlearn report`` and ``nnlearn board``: the goals of issue "See learning happen".

Goals: the report of one run is at most 3 MB and written in at most 5 s; the board answers its page
in at most 200 ms with 50 runs in its folder; ``nnlearn board`` starts (prints its URL) in under 2 s.

It trains two real runs in a temporary folder (the book recipe for ``--iters`` iterations, and the
strong recipe for one epoch: the widest first layer, so the largest weight picture), times
``nnlearn report`` on each in a fresh process (imports included), then copies runs into a folder of
50 and times the board's answers over HTTP (median of ``--repeat``).

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/board_speed.py [--iters 10000] [--repeat 20]``
(``--run DIR`` reports on existing run directories instead of training).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _nnlearn(*args) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nnlearn", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _get(port: int, path: str) -> tuple[float, int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds, r.status, len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10000, help="iterations of the book-recipe run (default 10000)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--run", action="append", default=[], metavar="DIR", help="use this run instead of training")
    parser.add_argument("--data-dir", default=os.environ.get("NNLEARN_DATA"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nnlearn-board-bench-"))
    try:
        runs = [Path(r) for r in args.run]
        if not runs:
            data = ["--data-dir", args.data_dir] if args.data_dir else []
            for name, extra in (
                ("book", ["--iters", str(args.iters)]),
                ("strong", ["--recipe", "strong", "--epochs", "1"]),
            ):
                seconds = _nnlearn("train", *extra, "--out", str(tmp / name), "--no-progress", *data)
                print(f"trained {name}: {' '.join(extra)} in {seconds:.1f} s")
                runs.append(tmp / name)

        print("\nreport of one run (goal: <= 3 MB, <= 5 s)")
        print(f"{'run':<10} {'iterations':>10} {'hidden':>10} {'MB':>6} {'s (new process)':>16}")
        for run in runs:
            out = tmp / f"{run.name}-report.html"
            data = ["--data-dir", args.data_dir] if args.data_dir else []
            seconds = _nnlearn("report", str(run), "--out", str(out), *data)
            import json

            cfg = json.loads((run / "config.json").read_text())
            its = sum(1 for _ in open(run / "metrics.csv")) - 1
            hidden = "-".join(map(str, cfg["network"]["hidden_size_list"]))
            print(f"{run.name:<10} {its:>10} {hidden:>10} {out.stat().st_size / 1e6:>6.2f} {seconds:>16.2f}")

        board = tmp / "board"
        board.mkdir()
        for k in range(50):
            src = runs[k % len(runs)]
            shutil.copytree(src, board / f"run-{k:02d}", ignore=shutil.ignore_patterns("checkpoint.npz"))

        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "nnlearn", "board", str(board), "--port", "0"], stdout=subprocess.PIPE, text=True
        )
        line = proc.stdout.readline()
        started = time.perf_counter() - t0
        port = int(line.split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
        proc.send_signal(2)
        proc.wait(timeout=10)
        print(
            f"\n`nnlearn board` with 50 runs: URL printed after {started:.2f} s (goal < 2 s); "
            f"stopped by Ctrl-C with exit code {proc.returncode}"
        )

        from nnlearn.see.board.server import BoardServer

        server = BoardServer(board, "127.0.0.1", 0).start()
        port = server.socket.getsockname()[1]
        print(f"\nboard answers with 50 runs in the folder (median of {args.repeat}; goal for the page: <= 200 ms)")
        print(f"{'request':<32} {'status':>6} {'bytes':>9} {'median ms':>10} {'max ms':>8}")
        for path in ("/", "/static/board.js", "/api/runs", "/api/run?path=run-00", "/api/run?path=run-01"):
            times = []
            for _ in range(args.repeat):
                seconds, status, size = _get(port, path)
                times.append(seconds)
            print(f"{path:<32} {status:>6} {size:>9} {statistics.median(times) * 1e3:>10.1f} {max(times) * 1e3:>8.1f}")
        server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

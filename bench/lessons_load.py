"""The board's lessons under a bounded local load (issue 21: "every lesson endpoint refuses oversized
requests and survives a bounded burst", with the load rules of ``bench/board_load.py``).

Goals: every request answered (0 errors: no reset, no 5xx); the lesson pages' p99 <= 100 ms with 20
clients; every oversized request refused with its 4xx; the server grows <= 150 MB and gives it back.

It starts ``nnlearn board`` in its own process, times one request of each endpoint at its largest
allowed size (so nothing is answered from the board's cache of recent answers), then drives it
with 20 asyncio clients (a new connection per request): the pages; the endpoints with parameters
that change on every request (each one computed); the same request again and again (cached); and
oversized requests; while 2 more clients read the runs list ``/``. The server's resident memory is
sampled from /proc every 10 ms.

Usage: ``python bench/lessons_load.py [--src DIR]`` (``--src``: another checkout's ``src``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from board_load import Sampler, proc_status, request, summary

#: Each endpoint at the largest size it accepts.
LARGEST = {
    "diff (a formula, 161 x 2 x 3 errors)": "/api/lessons/diff?f=formula&formula=sigmoid(x)*exp(sin(x))%2Bx**3&x=0.3&h=1e-7",
    "field (41 x 41 gradients)": "/api/lessons/field?f=formula&formula=x0**2/20%2Bsin(x1)*x0&lim=3&n=41",
    "gradient": "/api/lessons/gradient?x0=1.5&x1=-0.5",
    "descent (1,000 steps)": "/api/lessons/descent?f=formula&formula=x0**2/20%2Bx1**2&x0=-7&x1=2&lr=0.3&steps=1000",
    "race (4 x 300 updates)": "/api/lessons/race?steps=300",
    "numgrad (12 calls of the loss)": "/api/lessons/numgrad",
}
PAGES = ["/lessons", "/lessons/diff", "/lessons/gradient", "/lessons/descent", "/lessons/numgrad"]
OVERSIZED = {
    "/api/lessons/diff?f=formula&formula=" + "x%2B" * 250 + "x": 413,
    "/api/lessons/descent?" + "x0=1&" * 300: 414,
    "/api/lessons/field?n=1000000": 400,
    "/api/lessons/descent?steps=100000000": 400,
    "/api/lessons/race?steps=" + "9" * 100: 413,
    "/api/lessons/diff?h=1e-300": 400,
}


def varied(k: int) -> str:
    """The k-th of a stream of requests whose parameters never repeat (each one is computed)."""
    kinds = [
        f"/api/lessons/diff?f=sin&x={k / 1000:.3f}&h=1e-{k % 20}",
        f"/api/lessons/field?n={21 + k % 21}&lim={1 + k / 1000:.3f}",
        f"/api/lessons/gradient?x0={k / 100:.2f}&x1=1",
        f"/api/lessons/descent?lr={0.001 + k / 10000:.4f}&steps={200 + k % 800}",
        f"/api/lessons/race?steps={1 + k % 300}",
    ]
    return kinds[k % len(kinds)]


async def stream(port: int, paths: list[str], n_clients: int = 20):
    results = []

    async def client(k):
        for path in paths[k::n_clients]:
            results.append((path, *await request(port, "GET", path)))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(n_clients)))
    return results, time.perf_counter() - t0


async def beside(port: int, paths: list[str]):
    """``paths`` by 20 clients, and meanwhile the runs list ``/`` by 2 more, until the 20 are done."""
    done, pages = asyncio.Event(), []

    async def reader():
        while not done.is_set():
            pages.append(await request(port, "GET", "/"))

    async def work():
        try:
            return await stream(port, paths)
        finally:
            done.set()

    (results, seconds), *_ = await asyncio.gather(work(), reader(), reader())
    return results, seconds, pages


def phase(name: str, port: int, pid: int, base: float, paths: list[str]) -> None:
    sampler = Sampler(pid)
    with sampler:
        results, seconds, pages = asyncio.run(beside(port, paths))
    print(f"{name}: {summary([(s, t) for _, s, t in results], seconds)}; peak RSS +{sampler.peak - base:.0f} MiB")
    print(f"    meanwhile the runs list /: {summary(pages, seconds)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", metavar="DIR", help="run the board from this src folder (another checkout)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(Path(args.src).resolve())) if args.src else dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="nnlearn-lessons-load-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nnlearn", "board", tmp, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        port = int(proc.stdout.readline().split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
        try:
            asyncio.run(request(port, "GET", "/api/lessons/numgrad"))  # the lessons' modules imported
            base = Sampler(proc.pid).rss()
            print(
                f"board from {args.src or 'this checkout'}; after one lesson: RSS {base:.0f} MiB, "
                f"{proc_status(proc.pid).get('Threads')} threads"
            )
            for name, path in LARGEST.items():
                status, seconds = asyncio.run(request(port, "GET", path))
                print(f"  one request, {name}: {status}, {seconds * 1e3:.0f} ms")
            phase("20 clients, 2,000 x the lesson pages", port, proc.pid, base, PAGES * 400)
            phase(
                "20 clients, 1,000 x the endpoints, every request different (computed)",
                port,
                proc.pid,
                base,
                [varied(k) for k in range(1000)],
            )
            phase(
                "20 clients, 2,000 x the endpoints, the same few requests (kept answers)",
                port,
                proc.pid,
                base,
                list(LARGEST.values()) * 334,
            )
            results, seconds = asyncio.run(stream(port, list(OVERSIZED) * 200))
            right = sum(status == OVERSIZED[path] for path, status, _ in results)
            print(
                f"20 clients, {len(results):,} oversized requests: {right} refused with their 4xx, "
                f"{len(results) - right} otherwise, {len(results) / seconds:.0f}/s"
            )
            time.sleep(2.0)
            print(f"2 s later: RSS {Sampler(proc.pid).rss() - base:+.0f} MiB against the start")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

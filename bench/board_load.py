"""``nnlearn board`` under a bounded local load: the goals of issue "Safe to open, safe to serve".

Goals: 20 clients making 2,000 requests to ``/``, 200 idle connections held open, and 20 concurrent
2048x2048 draw POSTs -- every request answered with 0 errors; the page's p99 <= 100 ms with 20
clients; the server process grows <= 150 MB and gives it back. And (issue 31) a run folder whose
metrics.csv has 2 M rows (``--rows``; 0 leaves it out, for a board from before that issue, which
took 11.8 s per poll): ``/api/run`` under 1 s, also 4 at once on a changed file, the runs list
served meanwhile, the server's RSS under 300 MiB.

It starts ``nnlearn board`` in its own process (``--src DIR`` runs another checkout's ``src``, e.g.
the code before the change), drives it with an asyncio client (one connection per request, as a
browser's new tabs would; no client threads to share the GIL with), and samples the server's
resident memory (VmRSS) and threads from /proc every 10 ms.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/board_load.py [--run DIR] [--src DIR] [--pages BEFORE_SRC]``
(without ``--run`` it trains a short run of the book recipe for the draw page). ``--pages BEFORE_SRC``
times instead every page of the board (runs, draw, the lessons, a run's and a sweep's report), in
English and with ``Accept-Language: zh-CN``, from this checkout's board and from BEFORE_SRC's side by
side, asked in turn so that a busy machine slows both alike (issue 29: no page slower than 1.2x); the
lower quartile of each is the least disturbed figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def proc_status(pid: int) -> dict:
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


class Sampler:
    """The server's peak RSS (MiB) and threads, sampled in the background."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.threads, self.stop = pid, 0.0, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def rss(self) -> float:
        return proc_status(self.pid).get("VmRSS", 0) / 1024

    def run(self):
        while not self.stop.wait(0.01):
            s = proc_status(self.pid)
            self.peak = max(self.peak, s.get("VmRSS", 0) / 1024)
            self.threads = max(self.threads, s.get("Threads", 0))

    def __enter__(self):
        self.peak, self.threads = self.rss(), 0
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


async def request(port: int, method: str, path: str, body: bytes = b"", timeout: float = 60.0, headers: str = ""):
    """``(status, seconds)`` of one request on a new connection; status -1 for an error (reset, timeout)."""
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{headers}"
            if method == "POST":
                head += f"Content-Type: image/png\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
            data = await reader.read()
            writer.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else -1
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        status = -1
    return status, time.perf_counter() - t0


async def clients(port: int, n_clients: int, n_requests: int, path: str = "/", headers: str = ""):
    results = []

    async def client(k):
        for _ in range(n_requests // n_clients):
            results.append(await request(port, "GET", path, headers=headers))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(n_clients)))
    return results, time.perf_counter() - t0


def summary(results, seconds) -> str:
    times = sorted(t for _, t in results)
    errors = sum(s != 200 for s, _ in results)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e3  # noqa: E731
    return (
        f"{len(results):>5} requests {len(results) / seconds:>7.0f}/s  p50 {p(0.5):6.1f} ms  p99 {p(0.99):6.1f} ms  "
        f"max {times[-1] * 1e3:7.1f} ms  errors {errors}"
    )


def drawing_png() -> bytes:
    import numpy as np
    from PIL import Image

    a = np.full((2048, 2048, 4), 255, np.uint8)  # a canvas: RGBA, white paper, one black stroke
    a[300:1700, 900:1150, :3] = 0
    out = io.BytesIO()
    Image.fromarray(a).save(out, format="PNG")
    return out.getvalue()


async def idle_phase(port: int, sampler: Sampler, n_idle: int):
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n_idle)]
    await asyncio.sleep(1.0)
    threads = proc_status(sampler.pid).get("Threads")
    results, seconds = await clients(port, 20, 400)
    closed = 0
    await asyncio.sleep(7.0)  # longer than the new server's head timeout (5 s)
    for reader, writer in held:
        try:
            closed += await asyncio.wait_for(reader.read(1), 0.05) == b""
        except (asyncio.TimeoutError, OSError):
            pass
        writer.close()
    return threads, results, seconds, closed


async def draw_phase(port: int, run: str, png: bytes, n: int):
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(request(port, "POST", f"/api/predict?path={run}", png, timeout=120) for _ in range(n))
    )
    return results, time.perf_counter() - t0


def long_run(run: Path, folder: Path, rows: int) -> int:
    """``folder``: a copy of the finished ``run``'s config and summary, with a metrics.csv of ``rows``
    iterations (a loss that falls, with noise); its size in bytes."""
    import numpy as np

    folder.mkdir(parents=True)
    for name in ("config.json", "summary.json", "epochs.csv"):
        shutil.copy(run / name, folder / name)
    loss = 2.3 * 0.999997 ** np.arange(rows) + np.random.default_rng(0).random(rows) * 0.1
    with open(folder / "metrics.csv", "w") as fh:
        fh.write("iteration,loss\n")
        for start in range(0, rows, 100_000):
            part = loss[start : start + 100_000].round(6).tolist()
            fh.write("".join(f"{start + i + 1},{v!r}\n" for i, v in enumerate(part)))
    return (folder / "metrics.csv").stat().st_size


async def long_phase(port: int, path: Path):
    """Times of /api/run on the long run: cold, warm, and 4 at once after the file changed with
    /api/runs asked meanwhile (one after the other, until the 4 are done)."""
    cold = await request(port, "GET", "/api/run?path=long")
    warm = await request(port, "GET", "/api/run?path=long")
    os.utime(path)  # a new time of change: parsed again
    polls = [asyncio.ensure_future(request(port, "GET", "/api/run?path=long")) for _ in range(4)]
    listings = []
    while not all(p.done() for p in polls) or not listings:
        listings.append(await request(port, "GET", "/api/runs"))
    return cold, warm, [p.result() for p in polls], listings


#: The board's pages (issue 29's list), each asked for in English and in Chinese.
PAGES = [
    "/",
    "/draw?path=run",
    "/lessons",
    "/lessons/diff",
    "/lessons/gradient",
    "/lessons/descent",
    "/lessons/numgrad",
    "/report?path=run",
    "/report?path=sweep",
]
LANGUAGES = (("en", ""), ("zh", "Accept-Language: zh-CN,zh;q=0.9\r\n"))


def start_board(runs: Path, data: list, env: dict):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlearn", "board", str(runs), "--port", "0", *data],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    return proc, int(proc.stdout.readline().split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])


def pages_phase(runs: Path, data: list, env: dict, before: str, rounds: int = 20, batch: int = 15) -> int:
    """Each page from this checkout's board and from ``before``'s, the two asked in turn (``batch`` GETs
    each, ``rounds`` times), so that whatever else the machine does slows both alike."""
    sweep = runs / "sweep"  # a sweep folder around a copy of the run: its report has a final run
    shutil.copytree(runs / "run", sweep / "final")
    (sweep / "trials.csv").write_text("number,state,lr,validation_accuracy\n0,COMPLETE,0.1,0.9\n1,COMPLETE,0.5,0.8\n")
    boards = {
        "after": start_board(runs, data, env),
        "before": start_board(runs, data, dict(os.environ, PYTHONPATH=str(Path(before).resolve()))),
    }
    try:
        print(f"each page, {rounds} x {batch} GETs in a row from each board in turn; before = {before}")
        print(f"{'page':<20} lang  p25 before   p25 after  ratio   median before  median after  ratio")
        worst = 0.0
        for path in PAGES:
            for lang, headers in LANGUAGES:
                times = {name: [] for name in boards}
                for name, (_, port) in boards.items():  # built once (a report is kept), as in use
                    asyncio.run(request(port, "GET", path, headers=headers))
                for _ in range(rounds):
                    for name, (_, port) in boards.items():
                        results, _s = asyncio.run(clients(port, 1, batch, path, headers))
                        assert all(status == 200 for status, _t in results), (name, path)
                        times[name] += [t * 1e3 for _s2, t in results]
                q = {name: (statistics.quantiles(ts, n=4)[0], statistics.median(ts)) for name, ts in times.items()}
                ratio = q["after"][0] / q["before"][0]
                worst = max(worst, ratio)
                print(
                    f"{path:<20} {lang}  {q['before'][0]:8.2f} ms {q['after'][0]:8.2f} ms  {ratio:5.2f}   "
                    f"{q['before'][1]:10.2f} ms {q['after'][1]:10.2f} ms  {q['after'][1] / q['before'][1]:5.2f}"
                )
        print(f"slowest page against before (lower quartiles): {worst:.2f}x")
    finally:
        for proc, _ in boards.values():
            proc.terminate()
            proc.wait(timeout=10)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", metavar="DIR", help="a finished run (default: train a short one)")
    parser.add_argument("--src", metavar="DIR", help="run the board from this src folder (another checkout)")
    parser.add_argument("--data-dir", default=os.environ.get("NNLEARN_DATA"))
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the long run's metrics.csv (0: none)")
    parser.add_argument("--idle", type=int, default=200, help="idle connections held open (issue 31: 1,100)")
    parser.add_argument(
        "--pages",
        metavar="BEFORE_SRC",
        help="time every page of this checkout's board against the board of BEFORE_SRC instead",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nnlearn-board-load-"))
    env = dict(os.environ, PYTHONPATH=str(Path(args.src).resolve())) if args.src else dict(os.environ)
    data = ["--data-dir", args.data_dir] if args.data_dir else []
    try:
        if args.run:
            shutil.copytree(args.run, tmp / "runs" / "run", ignore=shutil.ignore_patterns("checkpoint.npz"))
        else:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "nnlearn",
                    "train",
                    "--iters",
                    "600",
                    "--no-progress",
                    "--out",
                    str(tmp / "runs" / "run"),
                    *data,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        if args.pages:
            return pages_phase(tmp / "runs", data, env, args.pages)
        size = long_run(tmp / "runs" / "run", tmp / "runs" / "long", args.rows) if args.rows else 0
        proc, port = start_board(tmp / "runs", data, env)
        png = drawing_png()
        try:
            asyncio.run(request(port, "GET", "/"))
            asyncio.run(draw_phase(port, "run", png, 1))  # the model loaded, as after a first drawing
            time.sleep(0.5)
            sampler = Sampler(proc.pid)
            base = sampler.rss()
            print(
                f"board from {args.src or 'this checkout'}; after one page and one drawing: RSS {base:.0f} MiB, "
                f"{proc_status(proc.pid).get('Threads')} threads"
            )
            with sampler:
                results, seconds = asyncio.run(clients(port, 20, 2000))
            print(f"20 clients, 2,000 x GET /: {summary(results, seconds)}; peak RSS +{sampler.peak - base:.0f} MiB")
            sampler = Sampler(proc.pid)
            with sampler:
                threads, results, seconds, closed = asyncio.run(idle_phase(port, sampler, args.idle))
            print(
                f"{args.idle} idle connections: {threads} server threads while held; 20 clients x 400 GET / "
                f"meanwhile: {summary(results, seconds)}; {closed} of {args.idle} closed by the server within 8 s; "
                f"peak RSS +{sampler.peak - base:.0f} MiB"
            )
            sampler = Sampler(proc.pid)
            with sampler:
                results, seconds = asyncio.run(draw_phase(port, "run", png, 20))
            time.sleep(2.0)
            after = sampler.rss()
            ok = sum(s == 200 for s, _ in results)
            print(
                f"20 concurrent 2048x2048 drawings ({len(png) / 1e3:.0f} kB PNG each): {ok} answered 200, "
                f"{20 - ok} errors, all done in {seconds:.1f} s; peak RSS +{sampler.peak - base:.0f} MiB, "
                f"{after - base:+.0f} MiB 2 s later; {sampler.threads} threads at most"
            )
            if args.rows:
                sampler = Sampler(proc.pid)
                with sampler:
                    cold, warm, polls, listings = asyncio.run(long_phase(port, tmp / "runs" / "long" / "metrics.csv"))
                statuses = {s for s, _ in [cold, warm, *polls, *listings]}
                print(
                    f"a {args.rows:,}-row metrics.csv ({size / 1e6:.0f} MB): /api/run {cold[1] * 1e3:.0f} ms cold, "
                    f"{warm[1] * 1e3:.1f} ms unchanged; 4 at once on the changed file: slowest "
                    f"{max(t for _, t in polls) * 1e3:.0f} ms; meanwhile {len(listings)} x /api/runs, slowest "
                    f"{max(t for _, t in listings) * 1e3:.0f} ms; statuses {sorted(statuses)}; "
                    f"peak server RSS {sampler.peak:.0f} MiB"
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile mirrors against ``nnlearn data download``: a gzip bomb, a trickle, a lying Content-Length.

Each case runs in a fresh Python process against a mirror on 127.0.0.1 started here, with the
default settings (no ``NNLEARN_TIMEOUT``, ``NNLEARN_SPEED_*``); MNIST's real file sizes and digests
are used, no real data is needed.

- **bomb**: ``train-images-idx3-ubyte.gz`` is 1 MB of gzip that decompresses to about 1 GiB (the
  MNIST header, then zeros; 16 gzip members of 64 MiB, which is quick to build and the same work to
  decompress). ``download_file`` must refuse it; the figures are the process's peak RSS growth
  during the call (the kernel's high-water mark, reset before it) and the wall time. Goal: <= 50 MB
  and <= 2 s.
- **trickle**: every file is announced with its true compressed size, then sent at 1 byte / 1.5 s.
  ``nnlearn data download`` must end with a clear error; the figure is its wall time. Goal: <= 60 s.
- **liar**: the issue's case -- the 28 KB labels file announced as 10 MB, then sent at 1 byte /
  1.5 s. ``download_file`` must refuse it at once; the figure is its wall time.

Usage: ``python bench/download_limits.py [--before SRC] [--cases bomb,trickle,liar]``.
``--before SRC`` also runs each case with the ``nnlearn`` package in ``SRC`` (e.g. an export of an
older commit's ``src/``), each trickle run cut off after ``--before-limit`` seconds (default 120),
for a side-by-side.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

# The original MNIST gzip sizes, for an honest Content-Length.
SIZES = {
    "train-images-idx3-ubyte.gz": 9912422,
    "train-labels-idx1-ubyte.gz": 28881,
    "t10k-images-idx3-ubyte.gz": 1648877,
    "t10k-labels-idx1-ubyte.gz": 4542,
}


def make_bomb() -> bytes:
    """The MNIST train-images header, then 1 GiB of zeros, as 16 gzip members of 64 MiB each."""

    def member(head: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(1 << 20)
        parts = [c.compress(head)] + [c.compress(zeros) for _ in range(64)]
        return b"".join(parts + [c.flush()])

    first = member(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28))
    return first + member(b"") * 15


class Mirror(http.server.BaseHTTPRequestHandler):
    bomb = b""
    pause = 1.5

    def log_message(self, *args):
        pass

    def do_GET(self):
        mode, _, name = self.path.strip("/").partition("/")
        if name not in SIZES:
            self.send_error(404)
            return
        self.send_response(200)
        if mode == "bomb":
            self.send_header("Content-Length", str(len(self.bomb)))
            self.end_headers()
            self.wfile.write(self.bomb)
            return
        self.send_header("Content-Length", str(10 * 2**20 if mode == "liar" else SIZES[name]))
        self.end_headers()
        try:
            for _ in range(SIZES[name]):
                self.wfile.write(b"\x1f")
                self.wfile.flush()
                time.sleep(self.pause)
        except OSError:
            pass  # the client gave up


ATTEMPT_CHILD = r"""
import json, resource, sys, tempfile, time
from nnlearn.datasets import MNIST
from nnlearn.datasets.download import download_file
def rss(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field)) * 1024
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS mark to the current RSS
except OSError:
    pass
base = rss("VmRSS:")
t0 = time.perf_counter()
try:
    download_file(MNIST.file(sys.argv[2]), tempfile.mkdtemp(), [sys.argv[1]], progress=False)
    outcome = "accepted"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {str(exc).splitlines()[-1].strip()}"
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "growth": rss("VmHWM:") - base, "outcome": outcome}))
"""


def run_child(argv, src, limit, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    for name in ("NNLEARN_TIMEOUT", "NNLEARN_SPEED_LIMIT", "NNLEARN_SPEED_TIME", "NNLEARN_DATA"):
        env.pop(name, None)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="nnlearn-bench-")
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, None, f"still running after {limit:.0f} s: stopped"
    return time.monotonic() - start, proc.returncode, (proc.stdout + proc.stderr).strip()


def attempt_case(mode, role, base_url, src, limit):
    seconds, code, out = run_child([sys.executable, "-c", ATTEMPT_CHILD, f"{base_url}/{mode}", role], src, limit)
    if code != 0:
        return {"wall": seconds, "outcome": out.splitlines()[-1] if out else "no output"}
    return json.loads(out.splitlines()[-1])


def download_case(mode, base_url, src, limit):
    with tempfile.TemporaryDirectory() as dest:
        seconds, code, out = run_child(
            [sys.executable, "-m", "nnlearn.cli", "data", "download", "--data-dir", dest],
            src,
            limit,
            {"NNLEARN_MIRRORS": f"{base_url}/{mode}"},
        )
    lines = out.splitlines()
    return {"seconds": seconds, "exit": code, "first": lines[0] if lines else "", "detail": lines[1:6]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=None, metavar="SRC", help="also run with the nnlearn package in SRC")
    parser.add_argument("--before-limit", type=float, default=120.0)
    parser.add_argument("--cases", default="bomb,trickle,liar")
    args = parser.parse_args()
    cases = args.cases.split(",")

    Mirror.bomb = make_bomb()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    sides = [("after", None, 600.0)] + ([("before", args.before, args.before_limit)] if args.before else [])
    print(
        f"load average {os.getloadavg()[0]:.1f}; bomb: {len(Mirror.bomb) / 1e6:.2f} MB of gzip, "
        f"{(47040016 + 15 * 64 * 2**20) / 2**30:.2f} GiB decompressed"
    )
    for case in cases:
        for side, src, limit in sides:
            if case in ("bomb", "liar"):
                r = attempt_case(case, "train-images" if case == "bomb" else "train-labels", url, src, limit)
                if "growth" not in r:
                    print(f"{case:7} {side:6} {r['wall']:7.2f} s  {r['outcome']}")
                elif case == "bomb":
                    ok = r["growth"] <= 50e6 and r["seconds"] <= 2 and r["outcome"] != "accepted"
                    print(
                        f"bomb    {side:6} {r['seconds']:7.2f} s  peak RSS growth {r['growth'] / 1e6:7.1f} MB  "
                        f"{'MET' if ok else 'NOT MET'} (<= 50 MB, <= 2 s)\n        {r['outcome']}"
                    )
                else:
                    ok = r["seconds"] <= 1 and r["outcome"] != "accepted"
                    print(
                        f"liar    {side:6} {r['seconds']:7.2f} s  {'MET' if ok else 'NOT MET'} (refused at once)"
                        f"\n        {r['outcome']}"
                    )
            else:
                r = download_case(case, url, src, limit)
                ok = r["exit"] == 1 and r["seconds"] <= 60
                print(
                    f"{case:7} {side:6} {r['seconds']:7.2f} s  exit {r['exit']}  "
                    f"{'MET' if ok else 'NOT MET'} (a clear error in <= 60 s)\n        {r['first']}"
                )
                for line in r["detail"]:
                    print(f"        {line}")
    httpd.shutdown()


if __name__ == "__main__":
    main()

"""Warm ``load_mnist(normalize=True)`` against a plain "gzip + numpy.frombuffer" load, and peak memory.

Each measurement runs in a fresh Python process, so page faults, the page cache and the memory
high-water mark are those a reader's script would see. Memory is the growth of the process's peak
resident set (``ru_maxrss``) during the load, and the peak of Python/numpy allocations
(``tracemalloc``), both divided by the size of the arrays returned. "touch" means every returned
element was also read once (``x.sum()``), so lazily mapped pages are counted in time and memory.

Usage: ``NNLEARN_DATA=/path/to/datasets python bench/data_load.py [--repeat 5]``
(or ``--data-dir FOLDER`` holding the four MNIST files). The parsed cache goes to a temporary
folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import gzip, json, resource, sys, time, tracemalloc
import numpy as np
mode, data_dir, touch = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
from nnlearn import load_mnist

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (resource.getpagesize() // 1024)

def plain():
    # The book's loader, in short: gunzip each file, np.frombuffer, then astype(float32) / 255.
    def read(name, offset):
        with gzip.open(f"{data_dir}/{name}", "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    x_train = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32)
    x_train /= 255.0
    x_test = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32)
    x_test /= 255.0
    return (x_train, read("train-labels-idx1-ubyte.gz", 8)), (x_test, read("t10k-labels-idx1-ubyte.gz", 8))

load = plain if mode == "plain" else (lambda: load_mnist(normalize=True, data_dir=data_dir))
base = rss_kib()
tracemalloc.start()
t0 = time.perf_counter()
(x, t), (xt, tt) = load()
t_load = time.perf_counter() - t0
if touch:
    checksum = float(x.sum(dtype=np.float64) + xt.sum(dtype=np.float64)) + int(t.sum()) + int(tt.sum())
t_total = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
nbytes = x.nbytes + t.nbytes + xt.nbytes + tt.nbytes
print(json.dumps({"load": t_load, "total": t_total, "rss_growth": (peak - base) * 1024,
                  "traced": traced, "nbytes": nbytes, "dtype": str(x.dtype), "shape": list(x.shape)}))
"""


def child(mode: str, data_dir: str, xdg: str, touch: bool) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=xdg, NNLEARN_MIRRORS="")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, data_dir, "1" if touch else "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        sys.exit(f"bench child failed: {proc.stderr.strip().splitlines()[-1]}")
    return json.loads(proc.stdout)


def find_data_dir(arg: str | None) -> str:
    from nnlearn.datasets import MNIST
    from nnlearn.datasets.download import ensure_files

    return str(ensure_files(MNIST, arg, download=False)["train-images"].parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data_dir = find_data_dir(args.data_dir)
    xdg = tempfile.mkdtemp(prefix="nnlearn-bench-")
    try:
        cold = child("nnlearn", data_dir, xdg, touch=False)  # parses, checks digests, writes the uint8 cache
        rows = {}
        for name, mode, touch in [
            ("plain gzip+frombuffer", "plain", False),
            ("nnlearn warm", "nnlearn", False),
            ("nnlearn warm + touch", "nnlearn", True),
        ]:
            runs = [child(mode, data_dir, xdg, touch) for _ in range(args.repeat)]
            rows[name] = {k: statistics.median(r[k] for r in runs) for k in ("load", "total", "rss_growth", "traced")}
            rows[name]["nbytes"] = runs[0]["nbytes"]
    finally:
        shutil.rmtree(xdg, ignore_errors=True)

    base = rows["plain gzip+frombuffer"]["total"]
    mib = 1024 * 1024
    print(f"MNIST from {data_dir}; load_mnist(normalize=True); median of {args.repeat} fresh processes each")
    print(f"returned arrays: {rows['nnlearn warm']['nbytes'] / mib:.1f} MiB (x_train {cold['shape']} {cold['dtype']})")
    print(
        f"{'':24}{'time (s)':>10}{'vs plain':>10}{'RSS growth':>12}{'x arrays':>10}{'tracemalloc':>13}{'x arrays':>10}"
    )
    for name, r in rows.items():
        print(
            f"{name:24}{r['total']:10.4f}{base / r['total']:9.1f}x{r['rss_growth'] / mib:9.1f} MiB"
            f"{r['rss_growth'] / r['nbytes']:9.2f}x{r['traced'] / mib:10.1f} MiB{r['traced'] / r['nbytes']:9.2f}x"
        )
    print(
        f"{'nnlearn cold (1st load)':24}{cold['total']:10.4f}{base / cold['total']:9.1f}x"
        f"{cold['rss_growth'] / mib:9.1f} MiB{cold['rss_growth'] / cold['nbytes']:9.2f}x"
    )
    warm, touched = rows["nnlearn warm"], rows["nnlearn warm + touch"]
    ok_time = warm["total"] <= 0.1
    ok_mem = max(warm["rss_growth"], touched["rss_growth"]) <= 1.2 * touched["nbytes"]
    print(
        f"goal: warm load (every cached byte checked against its SHA-256) <= 0.1 s: {warm['total']:.4f} s (with every element read: {touched['total']:.4f} s) "
        f"{'MET' if ok_time else 'NOT MET'}"
    )
    print(
        f"goal: peak memory <= 1.2x the arrays: {max(warm['rss_growth'], touched['rss_growth']) / touched['nbytes']:.2f}x "
        f"{'MET' if ok_mem else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()

"""A zip bomb in a model file: what ``load_network`` costs before it refuses it (issue 17, item 6).

A model.npz of 1.5 MB whose ``param_W1`` member is 1.5 GB of zeros, deflated. The reader now
refuses it from the sizes the archive declares, before unpacking anything; the old one unpacked the
whole member first. Prints the file size, the growth of the peak RSS and the time of the load.

Usage: ``python bench/npz_bomb.py [--mib 1500]`` (the file is made once in the temporary folder).
To compare with another checkout: ``PYTHONPATH=OTHER/src python bench/npz_bomb.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
import zipfile

import numpy as np

from nnlearn import TwoLayerNet, load_network


def make_bomb(path: str, mib: int) -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("meta.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array(json.dumps(net.config())))
        with zf.open("param_W1.npy", "w", force_zip64=True) as fh:
            header = {"descr": "<f8", "fortran_order": False, "shape": (mib * 2**20 // 8,)}
            np.lib.format.write_array_header_1_0(fh, header)
            chunk = bytes(2**20)
            for _ in range(mib):
                fh.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1500, help="unpacked size of the bomb member (default 1500)")
    args = parser.parse_args()
    path = os.path.join(tempfile.gettempdir(), f"nnlearn-bomb-{args.mib}.npz")
    if not os.path.exists(path):
        make_bomb(path, args.mib)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        load_network(path)
        outcome = "loaded (!)"
    except Exception as exc:  # noqa: BLE001 - the outcome is the figure
        outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"file {os.path.getsize(path) / 1e6:.2f} MB, peak RSS +{grown:.0f} MiB, {seconds:.2f} s: {outcome}")


if __name__ == "__main__":
    main()

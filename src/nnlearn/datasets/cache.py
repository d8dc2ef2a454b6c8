"""The parsed cache: the data set as ``.npy`` files, memory-mapped on the next load.

Parsing MNIST (gunzip, checksum, checks) takes about half a second; loading the parsed arrays back
takes milliseconds. The cache lives under ``<cache_root>/parsed/`` -- never beside the source
files, which may be read-only -- in one folder per data set and *source state*: the folder's name
carries a digest of each source file's path, size, modification time and inode, so replacing a
source file (a fresh download, a copy) makes a new folder and the old one is removed.

Concurrency: a folder is built under a temporary name and renamed into place in one step, so a
reader sees a complete folder or none; when two processes build the same folder at once, the
second rename fails and that process simply uses the first one's folder. Single files added
later (the float32 copy) are written to a temporary file and moved into place with
:func:`os.replace`.

The arrays returned are copy-on-write memory maps (``mmap_mode="c"``) viewed as plain
``numpy.ndarray``: they are writable, writes stay private to the process, and pages are read
from the page cache only when touched -- so a warm load costs neither time nor memory up front.
The normalized float32 images are cached too, from the second normalized load of the same
files on (the first warm load computes them from the uint8 cache and saves them), so a test
suite that loads once per fresh cache folder does not write them at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from nnlearn._io import atomic_write
from nnlearn.datasets.sources import DatasetSpec, cache_root
from nnlearn.datasets.verify import read_all

#: Bumped whenever the layout of a cache folder changes; older folders are then rebuilt.
CACHE_FORMAT = 1
_STALE_TMP_S = 3600.0


def parsed_root() -> Path:
    """The folder holding every parsed cache: ``<cache_root>/parsed``."""
    return cache_root() / "parsed"


def _source_state(paths: dict[str, Path]) -> list:
    state = []
    for role in sorted(paths):
        p = Path(paths[role]).resolve()
        st = p.stat()
        state.append([role, str(p), st.st_size, st.st_mtime_ns, st.st_ino])
    return state


def entry_dir(spec: DatasetSpec, paths: dict[str, Path]) -> Path:
    """The cache folder for ``spec`` read from ``paths`` in their current state."""
    state = _source_state(paths)
    where = hashlib.sha256(json.dumps([spec.name, [s[:2] for s in state]]).encode()).hexdigest()[:10]
    what = hashlib.sha256(
        json.dumps([CACHE_FORMAT, state, [(f.role, f.sha256, f.shape) for f in spec.files]]).encode()
    ).hexdigest()[:16]
    return parsed_root() / f"{spec.name}-{where}-{what}"


def _mmap(path: Path) -> np.ndarray:
    # mmap_mode="c": copy-on-write, so callers may write; viewed as ndarray so nothing downstream
    # sees the np.memmap subclass.
    return np.load(path, mmap_mode="c", allow_pickle=False).view(np.ndarray)


def _open_entry(entry: Path, spec: DatasetSpec) -> dict[str, np.ndarray] | None:
    """The uint8 arrays of a complete cache folder, or None when there is none (or it is damaged)."""
    meta_path = entry / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        arrays = {}
        for f in spec.files:
            arr = _mmap(entry / f"{f.role}.u8.npy")
            if arr.dtype != np.uint8 or list(arr.shape) != meta["shapes"][f.role]:
                raise ValueError("shape mismatch")
            arrays[f.role] = arr
        return arrays
    except (OSError, ValueError, KeyError, TypeError):
        # Damaged (a disk error, a user's edit): rebuild rather than fail.
        shutil.rmtree(entry, ignore_errors=True)
        return None


def _write_entry(entry: Path, spec: DatasetSpec, paths: dict[str, Path], arrays: dict[str, np.ndarray]) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".tmp-{entry.name}-"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        for role, arr in arrays.items():
            with open(tmp / f"{role}.u8.npy", "wb") as f:
                np.save(f, np.ascontiguousarray(arr, dtype=np.uint8))
                f.flush()
                os.fsync(f.fileno())
        meta = {
            "format": CACHE_FORMAT,
            "dataset": spec.name,
            "sources": {role: str(Path(p).resolve()) for role, p in paths.items()},
            "shapes": {role: list(arr.shape) for role, arr in arrays.items()},
            "created": time.time(),
        }
        with open(tmp / "meta.json", "w") as f:
            json.dump(meta, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.rename(tmp, entry)
        except OSError:
            if not (entry / "meta.json").is_file():
                raise
            # Another process built the same folder first; theirs is as good as ours.
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(entry)


def _prune(entry: Path) -> None:
    """Remove cache folders of the same sources in an older state, and abandoned temporary folders."""
    prefix = entry.name.rsplit("-", 1)[0] + "-"
    now = time.time()
    for other in entry.parent.iterdir():
        if other == entry:
            continue
        try:
            stale_tmp = other.name.startswith(".tmp-") and now - other.stat().st_mtime > _STALE_TMP_S
        except OSError:
            continue  # removed meanwhile by another process
        if other.name.startswith(prefix) or stale_tmp:
            # Deleting a folder another process has mapped is safe on POSIX: its pages stay valid.
            shutil.rmtree(other, ignore_errors=True)


def normalize_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1], exactly as the book: ``x.astype(np.float32) / 255.0``.

    One pass into a fresh array (no float64 or second float32 temporary).

    Examples
    --------
    >>> normalize_images(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    out = np.empty(images.shape, dtype=np.float32)
    np.divide(images, np.float32(255.0), out=out, dtype=np.float32)
    return out


def _normalized(entry: Path, role: str, images: np.ndarray, save: bool) -> np.ndarray:
    path = entry / f"{role}.f32.npy"
    if path.is_file():
        try:
            arr = _mmap(path)
            if arr.shape == images.shape and arr.dtype == np.float32:
                return arr
        except (OSError, ValueError):
            pass
    out = normalize_images(images)
    if save:
        with contextlib.suppress(OSError):
            with atomic_write(path) as f:
                np.save(f, out)
    return out


def load_arrays(spec: DatasetSpec, paths: dict[str, Path], *, normalize: bool = False) -> dict[str, np.ndarray]:
    """The four arrays of ``spec`` read from ``paths``, through the parsed cache.

    Images are ``(N, 28, 28)``, uint8, or float32 in [0, 1] when ``normalize``; labels are ``(N,)``
    uint8. The source files are checked (structure, known digests) whenever the cache is built;
    a warm load trusts the cache folder, whose name changes when a source file changes.
    """
    entry = entry_dir(spec, paths)
    arrays = _open_entry(entry, spec)
    warm = arrays is not None
    if arrays is None:
        parsed = read_all(spec, paths)
        try:
            _write_entry(entry, spec, paths, parsed)
            arrays = _open_entry(entry, spec)
        except OSError:
            arrays = None  # no writable cache folder: work from memory
        if arrays is None:
            arrays = parsed
            entry = None
    if normalize:
        for role in ("train-images", "test-images"):
            if entry is None:
                arrays[role] = normalize_images(arrays[role])
            else:
                arrays[role] = _normalized(entry, role, arrays[role], save=warm)
    return arrays

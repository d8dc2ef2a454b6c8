"""The parsed cache: the data set as raw uint8 arrays under ``<cache_root>/parsed/``, checked on every load.

Parsing MNIST takes about half a second, reading the parsed arrays back a few hundredths. A folder per
data set and *source state* (a digest of each source file's path, size, modification time and inode)
holds one raw ``ROLE.u8`` file per array and ``meta.json`` (for people; a load never reads it). Every
load hashes each array behind the IDX header of its shape and compares it with the known SHA-256: a
damaged cache is removed and rebuilt, never returned. Folders are built under a temporary name and
renamed into place, so a reader sees a complete folder or none.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import struct
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import open_regular_file, remove_stale_temp_files, temp_prefix
from nnlearn.base.i18n import _
from nnlearn.datasets.errors import DatasetError, DatasetWarning
from nnlearn.datasets.sources import DataFile, DatasetSpec, cache_root
from nnlearn.datasets.verify import read_checked

#: Bumped whenever the layout of a cache folder changes; older folders are then rebuilt.
CACHE_FORMAT = 2
#: Bytes read, hashed and converted at a time: small enough to stay in the CPU cache between steps.
_BLOCK = 1 << 20


class CacheDamaged(Exception):
    """A cache folder does not hold the data set; the message says what is wrong."""


def parsed_root() -> Path:
    """The folder holding every parsed cache: ``<cache_root>/parsed``."""
    return cache_root() / "parsed"


def _source_state(spec: DatasetSpec, paths: dict[str, Path]) -> list:
    state = []
    for role in sorted(paths):
        p = Path(paths[role]).resolve()
        try:
            st = p.stat()
        except OSError as exc:
            raise DatasetError(
                _(
                    "{path}: cannot be read ({reason}); put the {title} files back, or get them again: `nnlearn data "
                    "download --dataset {name}` (or `nnlearn data import FOLDER`)",
                    path=p,
                    reason=exc.strerror or exc,
                    title=spec.title,
                    name=spec.name,
                )
            ) from None
        state.append([role, str(p), st.st_size, st.st_mtime_ns, st.st_ino])
    return state


def entry_dir(spec: DatasetSpec, paths: dict[str, Path]) -> Path:
    """The cache folder for ``spec`` read from ``paths`` in their current state."""
    state = _source_state(spec, paths)
    where = hashlib.sha256(json.dumps([spec.name, [s[:2] for s in state]]).encode()).hexdigest()[:10]
    what = hashlib.sha256(
        json.dumps([CACHE_FORMAT, state, [(f.role, f.sha256, f.shape) for f in spec.files]]).encode()
    ).hexdigest()[:16]
    return parsed_root() / f"{spec.name}-{where}-{what}"


def normalize_images(images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1], exactly as the book: ``x.astype(np.float32) / 255.0``.

    Into ``out`` when given (a float32 array of the same size), else into a fresh array.

    Examples
    --------
    >>> normalize_images(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    if out is None:
        out = np.empty(images.shape, dtype=np.float32)
    out[...] = images.reshape(out.shape)  # the cast, then the division in place: no temporary
    out /= np.float32(255.0)
    return out


def _read_checked(path: Path, datafile: DataFile, normalize: bool) -> np.ndarray:
    """The array in ``path``, as uint8 or normalized float32; CacheDamaged unless, behind the IDX header of
    its shape, it is the file whose SHA-256 the spec knows."""
    shape = datafile.shape
    n = math.prod(shape)
    sha = hashlib.sha256(bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape))
    try:
        fd = open_regular_file(path, path.name)
    except FileFormatError as exc:
        raise CacheDamaged(str(exc)) from None
    with open(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)
        if st.st_size != n:
            raise CacheDamaged(_("{name} holds {size} bytes, expected {n}", name=path.name, size=st.st_size, n=n))
        # Allocated only now that the file is known to hold that many bytes.
        out = np.empty(n, dtype=np.float32 if normalize else np.uint8)
        block = np.empty(min(n, _BLOCK), dtype=np.uint8)
        done = 0
        while done < n:
            # uint8: read straight into the result; float32: into a small block, then convert.
            view = out[done : done + _BLOCK] if not normalize else block[: min(_BLOCK, n - done)]
            got = f.readinto(memoryview(view))
            if not got:
                raise CacheDamaged(_("{name} ended early", name=path.name))
            sha.update(view[:got])
            if normalize:
                normalize_images(view[:got], out[done : done + got])
            done += got
    if sha.hexdigest() != datafile.sha256:
        raise CacheDamaged(_("{name} does not match its SHA-256", name=path.name))
    return out.reshape(shape)


def _open_entry(entry: Path, spec: DatasetSpec, normalize: bool) -> dict[str, np.ndarray] | None:
    """The arrays of the cache folder ``entry``, each checked against its shape and digest (CacheDamaged);
    None when there is none. Nothing else in the folder is read."""
    if not entry.exists():
        return None
    arrays = {}
    for f in spec.files:
        name = f.role + ".u8"
        try:
            arrays[f.role] = _read_checked(entry / name, f, normalize and f.role.endswith("images"))
        except FileNotFoundError:
            raise CacheDamaged(_("{file} is missing", file=name)) from None
        except OSError as exc:
            raise CacheDamaged(_("{name} cannot be read ({reason})", name=name, reason=exc.strerror or exc)) from None
    return arrays


def _open_or_remove(entry: Path, spec: DatasetSpec, normalize: bool) -> tuple[dict | None, str | None]:
    """``(arrays, None)`` of the cache folder ``entry`` (None: there is none), or ``(None, what is wrong)``
    when it is damaged: then it is removed, so that the next load rebuilds it."""
    try:
        return _open_entry(entry, spec, normalize), None
    except CacheDamaged as exc:
        shutil.rmtree(entry, ignore_errors=True)
        return None, str(exc)


def check_entry(spec: DatasetSpec, paths: dict[str, Path]) -> tuple[Path, str | None]:
    """The cache folder of ``spec``'s files at ``paths``, and what was wrong with it (None: fine or absent);
    a damaged folder is removed."""
    entry = entry_dir(spec, paths)
    return entry, _open_or_remove(entry, spec, normalize=False)[1]


def _write_entry(entry: Path, spec: DatasetSpec, paths: dict[str, Path], arrays: dict[str, np.ndarray]) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(entry.parent)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=temp_prefix(entry.name), suffix=".tmp"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        for role, arr in arrays.items():
            _write_synced(tmp / f"{role}.u8", np.ascontiguousarray(arr, dtype=np.uint8))
        meta = {
            "format": CACHE_FORMAT,
            "dataset": spec.name,
            "sources": {role: str(Path(p).resolve()) for role, p in paths.items()},
            "created": time.time(),
        }
        _write_synced(tmp / "meta.json", json.dumps(meta, indent=1).encode())
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


def _write_synced(path: Path, data) -> None:
    """``data`` written to ``path`` and synced: the folder is renamed into place only after its files."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _prune(entry: Path) -> None:
    """Remove cache folders of the same sources in an older state (or an older cache format)."""
    prefix = entry.name.rsplit("-", 1)[0] + "-"
    for other in entry.parent.iterdir():
        if other != entry and other.name.startswith(prefix):
            # Deleting a folder another process is reading is safe on POSIX: its open files stay valid.
            shutil.rmtree(other, ignore_errors=True)


def load_arrays(spec: DatasetSpec, paths: dict[str, Path], *, normalize: bool = False) -> dict[str, np.ndarray]:
    """The four arrays of ``spec`` read from ``paths``, through the parsed cache.

    Images are ``(N, 28, 28)``, uint8, or float32 in [0, 1] when ``normalize``; labels are ``(N,)``
    uint8; the arrays are the caller's own (writable, in memory).
    """
    entry = entry_dir(spec, paths)
    arrays, problem = _open_or_remove(entry, spec, normalize)
    if problem is not None:
        warnings.warn(
            _(
                "the parsed cache {entry} was damaged ({reason}); rebuilding it from the source files",
                entry=entry,
                reason=problem,
            ),
            DatasetWarning,
            stacklevel=3,
        )
    if arrays is not None:
        return arrays
    parsed = {f.role: read_checked(spec, f, paths[f.role])[0] for f in spec.files}
    try:
        _write_entry(entry, spec, paths, parsed)
    except OSError:
        pass  # no writable cache folder: work from memory
    return {
        role: normalize_images(arr) if normalize and role.endswith("images") else arr.copy()
        for role, arr in parsed.items()
    }

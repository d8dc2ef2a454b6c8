"""Checking a data set's files (IDX structure, known digests, label range, matching counts), and
registering a local copy once (``nnlearn data import FOLDER``): verified, then copied -- not linked,
so that the copy outlives an unplugged disk -- into the user cache folder that every later load searches."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlearn.base.files import atomic_write
from nnlearn.base.i18n import N_, _
from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.idx import parse_idx, read_idx_payload
from nnlearn.datasets.sources import (
    DataFile,
    DatasetSpec,
    best_folder,
    check_data_dir,
    download_dir,
    make_data_folder,
    verified_copy,
)


def read_checked(spec: DatasetSpec, datafile: DataFile, path: Path) -> tuple[np.ndarray, str]:
    """``(uint8 array, SHA-256 of the decompressed content)`` of one file of ``spec``, refused unless it is
    exactly the file it should be; a wrong file or a gzip bomb costs no more memory than the right one."""
    data = read_idx_payload(path, datafile.payload_cap, dtype=np.uint8, shape=datafile.shape)
    arr = parse_idx(data, path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != datafile.sha256:
        raise DatasetError(
            _(
                "{path}: not the {title} {role} file: the SHA-256 of its decompressed content is {digest}, expected "
                "{expected}; it is damaged or belongs to another data set: replace it with a good copy (`nnlearn data "
                "download --dataset {name}`)",
                path=path,
                title=spec.title,
                role=datafile.role,
                digest=digest,
                expected=datafile.sha256,
                name=spec.name,
            )
        )
    if datafile.role.endswith("labels") and arr.size and int(arr.max()) >= len(spec.classes):
        raise DatasetError(
            _(
                "{path}: holds label {label} but {title} has classes 0..{last}; is it a labels file of this data set?",
                path=path,
                label=int(arr.max()),
                title=spec.title,
                last=len(spec.classes) - 1,
            )
        )
    return arr, digest


@dataclass(frozen=True)
class FileReport:
    """The outcome of checking one file: ``ok`` and a one-line ``message``."""

    name: str
    ok: bool
    message: str

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        return f"{status} {self.name}: {self.message}"


def verify_files(spec: DatasetSpec, paths: dict[str, Path | None], where: Path | None = None) -> list[FileReport]:
    """Check each file of ``spec`` (a missing one is a failure); one report per file.

    ``where``: the folder searched, named in the message of a missing file.
    """
    reports = []
    for f in spec.files:
        path = paths.get(f.role)
        if path is None:
            found_any = any(p is not None for p in paths.values())
            message = _("missing from {where}", where=where) if where is not None and found_any else _("missing")
            reports.append(FileReport(f.name, False, message))
            continue
        try:
            arr, digest = read_checked(spec, f, path)
        except DatasetError as exc:
            reports.append(FileReport(f.name, False, str(exc)))
            continue
        message = _(
            "{path} sha256 {digest} ({known}), shape {shape} uint8",
            path=path,
            digest=digest,
            known=_("matches the known digest"),
            shape=arr.shape,
        )
        reports.append(FileReport(f.name, True, message))
    return reports


def import_files(spec: DatasetSpec, folder: str | os.PathLike) -> dict[str, tuple[Path, bool]]:
    """Verify ``spec``'s files in ``folder`` (or its ``<name>/`` sub-folder) and copy them into the cache folder.

    Returns ``{role: (path in the cache folder, copied)}`` (``copied`` False where the same content was
    there). A missing or wrong file copies nothing: a :class:`DatasetError` names each one that failed.
    """
    check_data_dir(folder)
    where, paths = best_folder(spec, folder)
    reports = verify_files(spec, paths, where=where)
    bad = [r for r in reports if not r.ok]
    if bad:
        raise DatasetError(
            _(
                "{title}: not imported, {bad} of {n} files missing or wrong in {where}",
                title=spec.title,
                bad=len(bad),
                n=len(reports),
                where=where,
            )
            + "\n"
            + "\n".join(f"  {r.name}: {r.message}" for r in bad)
        )
    dest_dir = download_dir(spec)
    make_data_folder(dest_dir, N_("cannot create the cache folder {folder} ({reason})"))
    done = {}
    for f in spec.files:
        source = paths[f.role]
        target = dest_dir / source.name
        current = verified_copy(dest_dir, f)
        if current is not None:
            done[f.role] = (current, False)
            continue
        try:
            with open(source, "rb") as src, atomic_write(target) as out:
                shutil.copyfileobj(src, out, 1 << 20)
            # The other spelling (.gz or plain) of the same file would be found first or shadow it.
            for name in (f.name, f.stem):
                if name != target.name:
                    (dest_dir / name).unlink(missing_ok=True)
        except OSError as exc:
            raise DatasetError(
                _(
                    "cannot copy {source} to {target} ({reason})",
                    source=source,
                    target=target,
                    reason=exc.strerror or exc,
                )
            ) from None
        done[f.role] = (target, True)
    return done

"""Registering a local copy of a data set once: ``nnlearn data import FOLDER``.

The files are verified (IDX structure and the known SHA-256 of their content) and copied into the
user cache folder (:func:`~nnlearn.datasets.sources.download_dir`), which every later
``load_mnist()`` and ``nnlearn`` command searches without ``--data-dir`` or ``NNLEARN_DATA``.
Copied, not linked: the copy outlives an unplugged disk or a deleted download folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from nnlearn.base.files import atomic_write
from nnlearn.base.i18n import _
from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.sources import DatasetSpec, best_folder, check_data_dir, download_dir, file_in, holds_content
from nnlearn.datasets.verify import verify_files


def import_files(spec: DatasetSpec, folder: str | os.PathLike) -> dict[str, tuple[Path, bool]]:
    """Verify ``spec``'s files in ``folder`` (or its ``<name>/`` sub-folder) and copy them into the cache folder.

    Returns ``{role: (path in the cache folder, copied)}``; ``copied`` is False where the same
    content was already there.

    Raises
    ------
    DatasetError
        When ``folder`` does not exist, or a file is missing or wrong: a short first line, then
        one indented line per file that failed. Nothing is copied then.
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
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            _("cannot create the cache folder {folder} ({reason})", folder=dest_dir, reason=exc.strerror or exc)
        ) from None
    done = {}
    digests = {r.role: r.digest for r in reports}
    for f in spec.files:
        source = paths[f.role]
        target = dest_dir / source.name
        current = file_in(dest_dir, f)
        if current is not None and holds_content(current, f, digests[f.role]):
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

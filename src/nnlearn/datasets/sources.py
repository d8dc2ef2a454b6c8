"""Where a data set's files come from, in order: ``data_dir`` (``--data-dir``), ``NNLEARN_DATA``, the
user cache folder (:func:`cache_root`, where downloads go), a Linux distribution's folder (Debian's
``/usr/share/datasets/fashion-mnist``), and only then a download. A folder may hold the files or a
sub-folder per data set (``mnist/``); each file may be gzip-compressed or plain.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.files import file_kind
from nnlearn.base.i18n import _
from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.idx import PAYLOAD_MARGIN, payload_sha256


@dataclass(frozen=True)
class DataFile:
    """One file of a data set: its name, the SHA-256 of its decompressed content, its uint8 array's shape."""

    role: str
    name: str  # e.g. "train-images-idx3-ubyte.gz": the name on the mirrors
    sha256: str
    shape: tuple[int, ...]

    @property
    def stem(self) -> str:
        """The name without ``.gz``, the name of an uncompressed copy."""
        return self.name[:-3] if self.name.endswith(".gz") else self.name

    @property
    def payload_size(self) -> int:
        """Bytes of the decompressed file: an IDX header and uint8 elements."""
        return 4 + 4 * len(self.shape) + math.prod(self.shape)

    @property
    def payload_cap(self) -> int:
        """The most bytes this file may decompress to before it is refused: its size plus a small margin.

        Examples
        --------
        >>> from nnlearn.datasets import MNIST
        >>> MNIST.file("test-labels").payload_cap  # 10008 + 64 KiB
        75544
        """
        return self.payload_size + PAYLOAD_MARGIN


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, download, verify and describe one MNIST-format data set."""

    name: str  # folder name and --dataset value, e.g. "mnist"
    title: str  # for messages, e.g. "MNIST"
    files: tuple[DataFile, ...]
    classes: tuple[str, ...]
    mirrors: tuple[str, ...] = ()
    system_dirs: tuple[str, ...] = ()

    def file(self, role: str) -> DataFile:
        for f in self.files:
            if f.role == role:
                return f
        raise InputError(
            _(
                "{title} has no {role!r} file; choose one of: {roles}",
                title=self.title,
                role=role,
                roles=", ".join(f.role for f in self.files),
            )
        )


def cache_root() -> Path:
    """The user cache folder of nnlearn, platformdirs' ``user_cache_dir``: ``$XDG_CACHE_HOME/nnlearn``, else
    ``~/.cache/nnlearn`` on Linux; ``~/Library/Caches/nnlearn`` on macOS; ``%LOCALAPPDATA%\\nnlearn\\Cache`` on Windows."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnlearn", appauthor=False))


def download_dir(spec: DatasetSpec) -> Path:
    """The folder downloads of ``spec`` go to: ``<cache_root>/<name>``."""
    return cache_root() / spec.name


def make_data_folder(folder: Path, message: str) -> None:
    """Create ``folder`` and its parents, or raise :class:`DatasetError` with ``message`` (an ``N_`` text
    of ``{folder}`` and ``{reason}``)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(_(message, folder=folder, reason=exc.strerror or exc)) from None


def _expand(folder: str | os.PathLike, spec: DatasetSpec) -> list[Path]:
    root = Path(folder).expanduser()
    return [root / spec.name, root]


def candidate_dirs(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for ``spec``'s files, in order, without duplicates."""
    folders: list[Path] = []
    if data_dir is not None:
        folders += _expand(data_dir, spec)
    env = os.environ.get("NNLEARN_DATA")
    if env:
        for part in env.split(os.pathsep):
            if part:
                folders += _expand(part, spec)
    folders.append(download_dir(spec))
    folders += [Path(d) for d in spec.system_dirs]
    return list(dict.fromkeys(folders))


def file_in(folder: Path, datafile: DataFile) -> Path | None:
    """The copy of ``datafile`` in ``folder`` (compressed name first, then plain), or None."""
    for name in (datafile.name, datafile.stem):
        p = folder / name
        if p.is_file():
            return p
    return None


def verified_copy(folder: Path, datafile: DataFile) -> Path | None:
    """The copy of ``datafile`` in ``folder`` when its decompressed content has the known SHA-256, else None."""
    have = file_in(folder, datafile) if folder.is_dir() else None
    try:
        return have if have is not None and payload_sha256(have, datafile.payload_cap) == datafile.sha256 else None
    except DatasetError:
        return None


def _belongs(spec: DatasetSpec, paths: dict[str, Path]) -> bool:
    """False when the folder's smallest file (test labels, 10 kB) is another data set's.

    MNIST and Fashion-MNIST use the same file names, so a folder holding files directly may hold
    either; checking one small file tells them apart in well under a millisecond. A damaged file
    counts as belonging: the full check then reports what is wrong with it.
    """
    f = spec.file("test-labels")
    try:
        return payload_sha256(paths[f.role], f.payload_cap) == f.sha256
    except DatasetError:
        return True


def find_files(
    spec: DatasetSpec, data_dir: str | os.PathLike | None = None, *, passed_over: list | None = None
) -> dict[str, Path] | None:
    """The first candidate folder holding all of ``spec``'s files, as ``{role: path}``; None if none does.

    Folders whose files are another data set's are skipped and appended to ``passed_over``. Something
    under a file's name in ``data_dir`` that is not a regular file (a folder, a FIFO, a device, a broken
    link) is an error, never a reason to read another folder's files: the run records ``data_dir``.
    """
    if data_dir is not None:
        for folder in _expand(data_dir, spec):
            check_entries(folder, spec)
    for folder in candidate_dirs(spec, data_dir):
        paths = {f.role: file_in(folder, f) for f in spec.files}
        if all(paths.values()):
            if _belongs(spec, paths):  # type: ignore[arg-type]
                return paths  # type: ignore[return-value]
            if passed_over is not None:
                passed_over.append(folder)
    return None


def check_data_dir(data_dir) -> None:
    """Refuse a ``data_dir`` that is not an existing folder: a typo is an error, not an empty folder."""
    if data_dir is None:
        return
    if not isinstance(data_dir, (str, os.PathLike)):
        raise InputTypeError(
            _("data_dir must be a folder's path (a str or a Path), got {data_dir!r}", data_dir=data_dir)
        )
    folder = Path(data_dir).expanduser()
    if not folder.exists():
        raise DatasetError(
            _(
                "the data folder {folder} does not exist (--data-dir, or data_dir= in Python); check the path",
                folder=folder,
            )
        )
    if not folder.is_dir():
        raise DatasetError(
            _("the data folder {folder} is a file, not a folder (--data-dir, or data_dir= in Python)", folder=folder)
        )


def entries_in(folder: Path, spec: DatasetSpec) -> dict[str, Path | None]:
    """``{role: path}`` of whatever stands under each file's name in ``folder`` (a file, a folder...), or None."""
    return {
        f.role: next((folder / n for n in (f.name, f.stem) if os.path.lexists(folder / n)), None) for f in spec.files
    }


def check_entries(folder: Path, spec: DatasetSpec) -> None:
    """Refuse, in one line, anything under one of ``spec``'s file names in ``folder`` that is not a regular file.

    ``os.stat`` tells the kind without opening it: opening a FIFO for reading waits for a writer forever.
    """
    for path in entries_in(folder, spec).values():
        if path is None:
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:  # a link to nothing, a loop of links, no permission
            raise DatasetError(
                _(
                    "the data file {path} cannot be read ({reason}); put the data file itself there, or "
                    "pass another --data-dir",
                    path=path,
                    reason=exc.strerror or exc,
                )
            ) from None
        if not stat.S_ISREG(mode):
            raise DatasetError(
                _(
                    "the data file {path} is {kind}, not a regular file; put the data file itself there, "
                    "or pass another --data-dir",
                    path=path,
                    kind=file_kind(mode),
                )
            )


def best_folder(spec: DatasetSpec, data_dir=None) -> tuple[Path, dict[str, Path | None]]:
    """The searched folder holding the most of ``spec``'s files (the first one on a tie), and what it holds.

    With ``data_dir``, only ``data_dir/<name>`` and ``data_dir`` are searched.
    """
    folders = _expand(data_dir, spec) if data_dir is not None else candidate_dirs(spec)
    found = [(folder, entries_in(folder, spec)) for folder in folders]
    return max(found, key=lambda pair: sum(p is not None for p in pair[1].values()))


def describe_folder(folder: Path, spec: DatasetSpec) -> str:
    """What ``folder`` holds of ``spec``, in a few words: which files are missing, or in the way.

    Examples
    --------
    >>> from nnlearn.datasets import MNIST
    >>> describe_folder(Path("/nonexistent"), MNIST)
    '/nonexistent: no such folder'
    """
    if not folder.is_dir():
        return (
            _("{folder}: no such folder", folder=folder)
            if not folder.exists()
            else _("{folder}: not a folder", folder=folder)
        )
    found = entries_in(folder, spec)
    if not any(found.values()):
        return _("{folder}: none of the files", folder=folder)
    problems = []
    missing = [f.name for f in spec.files if found[f.role] is None]
    if missing:
        problems.append(
            _(
                "has {found} of {n} files; missing {names}",
                found=len(spec.files) - len(missing),
                n=len(spec.files),
                names=", ".join(missing),
            )
        )
    for f in spec.files:
        p = found[f.role]
        if p is not None and not p.is_file():
            try:
                kind = file_kind(p.stat().st_mode)
            except OSError:
                kind = _("a broken link")
            problems.append(_("{name} is {kind}, not the file", name=p.name, kind=kind))
    return f"{folder}: " + ("; ".join(problems) if problems else _("all {n} files", n=len(spec.files)))


def missing_message(spec: DatasetSpec, data_dir=None, reasons: str | None = None, passed_over=()) -> str:
    """Which files are missing (a short first line), where they were looked for, the download's failures,
    and how to provide the files (indented lines)."""
    lines = [_("{title} files not found; looked in:", title=spec.title)]
    lines += ["    " + describe_folder(folder, spec) for folder in candidate_dirs(spec, data_dir)]
    for folder in passed_over:
        lines.append(
            "  "
            + _(
                "passed over {folder}: its files are another data set's (or damaged: `nnlearn data "
                "verify --dataset {name} --data-dir {folder}` tells)",
                folder=folder,
                name=spec.name,
            )
        )
    if reasons:
        lines.append("  " + _("download failed:"))
        lines += ["    " + line for line in reasons.splitlines()]
    lines.append(
        "  "
        + _(
            "to use a copy you have (a folder holding the four files, or a {name}/ sub-folder): register it once with "
            "`nnlearn data import FOLDER --dataset {name}`, or pass --data-dir FOLDER (data_dir=FOLDER in Python), or "
            "set NNLEARN_DATA=FOLDER",
            name=spec.name,
        )
    )
    lines.append("  " + _("where the network is reachable: `nnlearn data download --dataset {name}`", name=spec.name))
    return "\n".join(lines)

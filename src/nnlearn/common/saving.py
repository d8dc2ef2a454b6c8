"""Model and checkpoint files: ``.npz`` archives written atomically and read strictly.

A file is trusted only after it has been checked: the exact set of arrays it must hold, their
shapes and dtypes, and that every number is finite. Anything else is a
:class:`~nnlearn.base.errors.FileFormatError` whose one line names the file and what is wrong.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from nnlearn.base.errors import FileFormatError, InputTypeError
from nnlearn.base.files import atomic_write, file_kind, parse_json
from nnlearn.base.i18n import _


def write_npz(path, arrays: dict, meta: dict, *, in_run_folder: bool = False) -> Path:
    """Write ``arrays`` and the JSON-able ``meta`` (as the array ``meta``) to ``path``, atomically.

    ``in_run_folder``: see :func:`nnlearn.base.files.atomic_write`.
    """
    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    with atomic_write(path, in_run_folder=in_run_folder) as fh:
        fh.write(buf.getvalue())
    return path


#: The most bytes the ``meta`` of a file may take (a few KiB in practice: settings, the RNG's state).
MAX_META_BYTES = 2**20
#: Together, the members of an archive may unpack to at most this many times its size on disk, plus
#: :data:`MAX_META_BYTES`: nnlearn stores its arrays uncompressed (``np.savez``), so a file of its own
#: is about 1x, and a zip bomb (1.6 MB unpacking to 1.5 GB) is refused before anything is unpacked.
MAX_EXPANSION = 4
#: What the reading of a damaged archive can raise, beyond nnlearn's own errors.
_DAMAGE = (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def read_npz(path, what: str, fix: str, expect=None) -> tuple[dict, dict]:
    """``(arrays, meta)`` from a file written by :func:`write_npz`, checked before it is unpacked.

    ``what`` names the file's kind in errors ("a network saved by nnlearn"), ``fix`` says what to do.
    Before any array is read: a regular file of ``.npy`` members (no pickled objects) whose headers
    agree with their sizes, within :data:`MAX_EXPANSION` of the file's size, ``meta`` at most
    :data:`MAX_META_BYTES` of JSON; ``expect(meta)`` returns the exact ``{name: (shape, dtype)}`` the
    file must hold, checked against the headers, so that a huge network is refused unallocated.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(
            _(
                "path must be a file name (str or pathlib.Path), got {type} {path!r}",
                type=type(path).__name__,
                path=path,
            )
        )
    path, what, fix = Path(path), _(what), _(fix)  # marked N_ where declared
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO is refused, never waited on
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileFormatError(
                _(
                    "{path} is a link to nothing ({target}), not {what}; {fix}",
                    path=path,
                    target=os.readlink(path),
                    what=what,
                    fix=fix,
                )
            ) from None
        raise FileFormatError(
            _("nothing at {path}, where {what} should be; {fix}", what=what, path=path, fix=fix)
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileFormatError(
                _("{path} is a loop of links, not {what}; {fix}", path=path, what=what, fix=fix)
            ) from None
        raise FileFormatError(
            _("cannot read {path} ({reason}); {fix}", path=path, reason=exc.strerror or exc, fix=fix)
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):  # checked on the descriptor: fdopen of a folder raises IsADirectoryError
        os.close(fd)
        raise FileFormatError(
            _("{path} is {kind}, not {what}; {fix}", path=path, kind=file_kind(st.st_mode), what=what, fix=fix)
        )
    with os.fdopen(fd, "rb") as fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                headers = _headers(zf, path, st.st_size)
                meta = _read_meta(zf, headers)
                if expect is not None:
                    check_layout(path, {k: v[:2] for k, v in headers.items()}, expect(meta), fix)
                arrays = {name: _read_array(zf, info) for name, (_shape, _dtype, info) in headers.items()}
        except FileFormatError:
            raise  # already names the file and the fix
        except _DAMAGE as exc:
            raise FileFormatError(
                _("{path} is not {what} or is damaged ({reason}); {fix}", path=path, what=what, reason=exc, fix=fix)
            ) from None
    return arrays, meta


def _headers(zf: zipfile.ZipFile, path: Path, disk_bytes: int) -> dict:
    """``{name: (shape, dtype, ZipInfo)}`` of every member, from the headers alone, sizes checked."""
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names) or not all(n.endswith(".npy") for n in names):
        raise ValueError(_("its members are not one .npy array each"))
    total = sum(info.file_size for info in infos)
    if total > MAX_EXPANSION * disk_bytes + MAX_META_BYTES:
        raise ValueError(
            _(
                "its {n} bytes would unpack to {total}, far more than nnlearn's files do (a zip bomb?)",
                n=format(disk_bytes, ","),
                total=format(total, ","),
            )
        )
    headers = {}
    for info in infos:
        name = info.filename[: -len(".npy")]
        if name in ("meta", "config") and info.file_size > MAX_META_BYTES:
            raise ValueError(
                _(
                    "its {name} is {n} bytes, more than the {most} it may take",
                    name=name,
                    n=format(info.file_size, ","),
                    most=format(MAX_META_BYTES, ","),
                )
            )
        with zf.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(_("{name} is a .npy array of version {version}", name=name, version=version))
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _order, dtype = read(member)
            offset = member.tell()
        if dtype.hasobject:
            raise ValueError(_("{name} holds Python objects, which nnlearn never writes", name=name))
        if offset + math.prod(shape) * dtype.itemsize != info.file_size:
            raise ValueError(_("{name}'s header does not match its size", name=name))
        headers[name] = (tuple(shape), dtype, info)
    return headers


def _read_meta(zf: zipfile.ZipFile, headers: dict) -> dict:
    # Networks saved before checkpoints and models shared this format kept it under "config".
    key = "meta" if "meta" in headers else "config"
    if key not in headers:
        raise KeyError("meta")
    shape, dtype, info = headers.pop(key)
    if shape != () or dtype.kind != "U":
        raise ValueError(_("its {key} is not a JSON text", key=key))
    try:
        meta = parse_json(str(_read_array(zf, info)), key)
    except FileFormatError as exc:
        raise ValueError(str(exc)) from None  # named with the file by read_npz
    if not isinstance(meta, dict):
        raise ValueError(_("its {key} is not a JSON object", key=key))
    return meta


def _read_array(zf: zipfile.ZipFile, info) -> np.ndarray:
    with zf.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def check_layout(path, layout: dict, expected: dict, fix: str) -> None:
    """Refuse ``layout`` (``{name: (shape, dtype)}``) unless it is exactly ``expected`` (same form;
    a shape or dtype of None there accepts any)."""
    missing = sorted(set(expected) - set(layout))
    extra = sorted(set(layout) - set(expected))
    if missing or extra:
        parts = ([_("lacks {names}", names=", ".join(missing))] if missing else []) + (
            [_("has unexpected {names}", names=", ".join(extra))] if extra else []
        )
        raise FileFormatError(_("{path} {problems}; {fix}", path=path, problems=_(" and ").join(parts), fix=_(fix)))
    for name, (shape, dtype) in expected.items():
        have_shape, have_dtype = layout[name]
        if shape is not None and tuple(have_shape) != tuple(shape):
            raise FileFormatError(
                _(
                    "{path}: {name} has shape {shape}, expected {expected}; {fix}",
                    path=path,
                    name=name,
                    shape=tuple(have_shape),
                    expected=tuple(shape),
                    fix=_(fix),
                )
            )
        if dtype is not None and np.dtype(have_dtype) != np.dtype(dtype):
            raise FileFormatError(
                _(
                    "{path}: {name} is {dtype}, expected {expected}; {fix}",
                    path=path,
                    name=name,
                    dtype=np.dtype(have_dtype),
                    expected=np.dtype(dtype),
                    fix=_(fix),
                )
            )


def check_arrays(path, arrays: dict, expected: dict, fix: str) -> None:
    """Refuse ``arrays`` unless they are exactly ``expected`` (``{name: (shape, dtype)}``), all finite."""
    check_layout(path, {k: (v.shape, v.dtype) for k, v in arrays.items()}, expected, fix)
    for name, arr in arrays.items():
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise FileFormatError(_("{path}: {name} holds NaN or inf; {fix}", path=path, name=name, fix=_(fix)))


# -- checkpoints ---------------------------------------------------------------------------------

#: The most iterations a checkpoint may record (a run of a million epochs of MNIST is 6e8).
MAX_ITERATION = 10**12


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value) -> str:
    return "missing (or NaN)" if value is None else repr(value)


def check_checkpoint_meta(path, meta: dict, fix: str) -> None:
    """Refuse a checkpoint's metadata whose numbers no run writes, with one :class:`FileFormatError` line
    (NaN is read as null by :func:`nnlearn.base.files.parse_json`, so ``seconds: NaN`` is "missing").

    Examples
    --------
    >>> check_checkpoint_meta("checkpoint.npz", {"iteration": float("inf")}, "start again")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.FileFormatError: checkpoint.npz is a damaged nnlearn checkpoint: its iteration is inf, not a whole number from 0 to 1000000000000; start again
    """

    def refuse(field, value, expected):
        raise FileFormatError(
            _(
                "{path} is a damaged nnlearn checkpoint: its {field} is {value}, not {expected}; {fix}",
                path=path,
                field=field,
                value=_shown(value),
                expected=expected,
                fix=_(fix),
            )
        )

    iteration = meta.get("iteration")
    if not (isinstance(iteration, int) and not isinstance(iteration, bool) and 0 <= iteration <= MAX_ITERATION):
        refuse("iteration", iteration, _("a whole number from 0 to {n}", n=MAX_ITERATION))
    seconds = meta.get("seconds")
    if not (_real(seconds) and seconds >= 0):
        refuse("seconds", seconds, _("a finite number >= 0"))
    lr = meta.get("optimizer_lr")
    if not (_real(lr) and lr > 0):
        refuse("optimizer_lr", lr, _("a finite number > 0"))
    for field in ("optimizer_scalars", "rng", "config"):
        if not isinstance(meta.get(field), dict):
            refuse(field, meta.get(field), _("an object"))
    for key, value in meta["optimizer_scalars"].items():
        if not _real(value):
            refuse(f"optimizer_scalars.{key}", value, _("a finite number"))
    final = meta.get("final")
    if final is not None and not (isinstance(final, dict) and all(v is None or _real(v) for v in final.values())):
        refuse("final", final, _("an object of finite numbers"))


# -- networks ------------------------------------------------------------------------------------


def save_network(net, path, *, in_run_folder: bool = False) -> Path:
    """Write ``net``'s weights and :meth:`~nnlearn.MultiLayerNet.config` to an ``.npz`` file, atomically.

    Examples
    --------
    >>> import tempfile, os
    >>> from nnlearn import TwoLayerNet, load_network
    >>> net = TwoLayerNet(4, 3, 2, seed=0)
    >>> path = save_network(net, os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> back = load_network(path)
    >>> type(back).__name__, all(np.array_equal(net.params[k], back.params[k]) for k in net.params)
    ('TwoLayerNet', True)
    """
    return write_npz(path, {f"param_{k}": v for k, v in net.params.items()}, net.config(), in_run_folder=in_run_folder)

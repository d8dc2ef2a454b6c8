"""Model and checkpoint files: ``.npz`` archives written atomically and read strictly.

A file is trusted only after it has been checked: the exact set of arrays it must hold, their
shapes and dtypes, and that every number is finite. Anything else is a
:class:`~nnlearn.errors.FileFormatError` whose one line names the file and what is wrong.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from nnlearn._io import atomic_write
from nnlearn.errors import FileFormatError


def write_npz(path, arrays: dict, meta: dict, *, in_run_folder: bool = False) -> Path:
    """Write ``arrays`` and the JSON-able ``meta`` (as the array ``meta``) to ``path``, atomically.

    ``in_run_folder``: see :func:`nnlearn._io.atomic_write`.
    """
    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    with atomic_write(path, in_run_folder=in_run_folder) as fh:
        fh.write(buf.getvalue())
    return path


def read_npz(path, what: str, fix: str) -> tuple[dict, dict]:
    """``(arrays, meta)`` from a file written by :func:`write_npz`.

    ``what`` names the file's kind in errors ("a network saved by nnlearn"), ``fix`` says what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"no {what} at {path}; {fix}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        # Networks saved before checkpoints and models shared this format kept it under "config".
        meta = json.loads(str(arrays.pop("meta") if "meta" in arrays else arrays.pop("config")))
        if not isinstance(meta, dict):
            raise ValueError("its metadata is not a JSON object")
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path} is not {what} or is damaged ({exc}); {fix}") from None
    return arrays, meta


def check_arrays(path, arrays: dict, expected: dict, fix: str) -> None:
    """Refuse ``arrays`` unless they are exactly ``expected`` (``{name: (shape, dtype)}``), all finite."""
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        parts = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"has unexpected {', '.join(extra)}"] if extra else [])
        raise FileFormatError(f"{path} {' and '.join(parts)}; {fix}")
    for name, (shape, dtype) in expected.items():
        arr = arrays[name]
        if shape is not None and arr.shape != tuple(shape):
            raise FileFormatError(f"{path}: {name} has shape {arr.shape}, expected {tuple(shape)}; {fix}")
        if dtype is not None and arr.dtype != np.dtype(dtype):
            raise FileFormatError(f"{path}: {name} is {arr.dtype}, expected {np.dtype(dtype)}; {fix}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise FileFormatError(f"{path}: {name} holds NaN or inf; {fix}")


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


def param_layout(net, prefix: str = "param_") -> dict:
    """``{prefix + key: (shape, dtype)}`` of a network's parameters: what a file of it must hold."""
    return {f"{prefix}{k}": (v.shape, v.dtype) for k, v in net.params.items()}

"""What a check runs: a ``.py`` file or a notebook's code cells, as a *job* for the child process:
code chunks, each with the filename and label it is reported by. Nothing here runs the reader's code.
A file is read with a size cap and decoded as Python decodes source; in a notebook IPython's magics
and shell lines are replaced by ``pass`` (line numbers and blocks stay) and listed in the report.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import parse_json, read_regular_file
from nnlearn.base.i18n import N_
from nnlearn.checker.i18n import CheckInputError

MAX_SOURCE_BYTES = 4 << 20
MAX_NOTEBOOK_BYTES = 64 << 20
#: Cell magics whose body is Python: the body runs, the magic line is skipped.
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_SHELL_ASSIGN = re.compile(r"^\s*[\w.]+\s*=\s*[!%]")


class SourceError(CheckInputError):
    """A file to check cannot be read as Python source or as a notebook."""


def chunk(source: str, filename: str, label: list, cell=None, first_line: int = 1) -> dict:
    """A piece of code the child runs, the filename and label (``[file, cell]``) it is reported by, and
    its line numbers kept (its source starts at ``first_line``)."""
    return {"source": "\n" * (first_line - 1) + source, "filename": filename, "label": label, "cell": cell}


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_regular_file(path, limit)
    except FileNotFoundError:
        raise SourceError(
            N_("{path}: no such file; give the path of your .py file or notebook"), path=str(path)
        ) from None
    except IsADirectoryError:
        raise SourceError(
            N_("{path} is a folder; give the path of a .py file or notebook in it"), path=str(path)
        ) from None
    except (FileFormatError, OSError) as exc:
        raise SourceError(N_("{path} cannot be read: {reason}"), path=str(path), reason=str(exc)) from None


def _decode(data: bytes, path: Path) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceError(
            N_("{path} is not text in the encoding Python expects (UTF-8): {reason}"), path=str(path), reason=str(exc)
        ) from None


def job_for_file(path) -> dict:
    """The job of checking a ``.py`` file or an ``.ipynb`` notebook."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        raise SourceError(N_("{path}: nnlearn check reads .py files and .ipynb notebooks"), path=str(path))
    path = path.resolve() if path.exists() else path
    folder = str(path.parent)
    if suffix == ".py":
        text = _decode(_read(path, MAX_SOURCE_BYTES), path)
        chunks = [chunk(text, str(path), [path.name, None])]
        notes = []
    else:
        chunks, notes = notebook_chunks(_read(path, MAX_NOTEBOOK_BYTES), path)
    return {
        "folder": folder,
        "path": str(path),
        "display": str(path.name),
        "chunks": chunks,
        "notes": notes,
    }


def notebook_chunks(data: bytes, path: Path):
    """The code cells of a notebook as chunks, and the notes on the lines that were skipped."""
    try:
        notebook = parse_json(data.decode("utf-8"), f"notebook {path.name}")
    except (FileFormatError, UnicodeDecodeError) as exc:
        raise SourceError(
            N_("{path} is not a notebook (not valid JSON): {reason}"), path=str(path), reason=str(exc)
        ) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise SourceError(
            N_("{path} is not a notebook of Jupyter's format 4 (it has no list of cells)"), path=str(path)
        )
    chunks, notes = [], []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        if len(source) > MAX_SOURCE_BYTES:  # as a .py file's: the cell is not sent to the child at all
            raise SourceError(
                N_("{path} cannot be read: {reason}"),
                path=str(path),
                reason=f"cell {number} holds {len(source):,} characters of code, more than the "
                f"{MAX_SOURCE_BYTES >> 20} MiB a file may hold",
            )
        code, skipped = strip_magics(source, number)
        notes.extend(skipped)
        if code.strip():
            chunks.append(chunk(code, f"{path}#cell{number}", [path.name, number], cell=number))
    return chunks, notes


def strip_magics(source: str, cell: int):
    """``source`` with IPython-only lines replaced by ``pass``, and a note for each.

    Examples
    --------
    >>> code, notes = strip_magics("%matplotlib inline\\nimport numpy as np\\nfor i in range(2):\\n    !ls\\n", 3)
    >>> print(code)
    pass
    import numpy as np
    for i in range(2):
        pass
    <BLANKLINE>
    >>> [n["text"] for n in notes]
    ['%matplotlib inline', '!ls']
    """
    lines = source.splitlines(keepends=True)
    notes = []
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic not in PYTHON_CELL_MAGICS:
            return "", [{"kind": "cell-magic-skipped", "cell": cell, "magic": magic}]
        notes.append({"kind": "magic-skipped", "cell": cell, "line": 1, "text": lines[0].strip()[:80]})
        lines[0] = "\n"
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i == 0 and notes:
            continue
        if stripped.startswith(("%", "!")) or _SHELL_ASSIGN.match(line) or _HELP.match(line):
            notes.append({"kind": "magic-skipped", "cell": cell, "line": i + 1, "text": stripped[:80]})
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = f"{indent}pass\n"
    return "".join(lines), notes

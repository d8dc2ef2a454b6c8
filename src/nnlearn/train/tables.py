"""The CSV files of run and sweep folders, read with bounded work: what the board and the report draw.

``metrics.csv`` holds a row per iteration (25 MB for a million iterations) and the board polls it every
few seconds, for a chart of a thousand points. A file of at most :data:`SMALL_BYTES` is read whole and
thinned evenly; a larger one is *sampled*: the rows that start after :data:`MAX_POINTS` byte offsets
spread over it (the file's own iterations and losses), each with the :data:`WINDOW` rows before it
for the moving average -- the same work for 2 MB or 60 MB. Headers past :data:`MAX_COLUMNS` columns
or :data:`MAX_LINE_BYTES` bytes are refused, and each answer is cached until the file changes (one
parse of a file at a time). Only regular files are read, and a symbolic link only while it stays in
its folder (:func:`open_file`): a run folder cannot make the board read ``/etc/shadow``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import open_regular_file, read_at_most
from nnlearn.base.i18n import _

#: Files up to this size are read whole; larger ones are sampled (module description).
SMALL_BYTES = 1 << 20
#: Points of a curve (rows of a table) a chart gets, the last row included.
MAX_POINTS = 1000
#: The moving average's window for a long curve (a twentieth of the losses, up to this).
WINDOW = 100
#: Columns read from a CSV file; more is an error (nnlearn's widest, a sweep's trials.csv, has ~30).
MAX_COLUMNS = 64
#: Longest header line, and longest row a sampled read looks at.
MAX_LINE_BYTES = 64 << 10
#: Cells of a table read whole (a sweep's trials.csv: a row per trial, ~20 columns).
MAX_CELLS = 250_000
#: Largest table read whole, in bytes.
MAX_TABLE_BYTES = 8 << 20
#: Numbers (points, cells) kept in the cache of parsed files, in all.
CACHE_CELLS = 400_000


def cell(text):
    """A table cell: an int, a float (NaN and infinity kept), None when empty, else the text.

    Examples
    --------
    >>> [cell(t) for t in ("300", "0.5", "", "nan", "abc", "1e3")]
    [300, 0.5, None, nan, 'abc', 1000.0]
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    if value.is_integer() and text.lstrip("+-").isascii() and text.lstrip("+-").isdigit():
        return int(text)
    return value


def finite(value) -> bool:
    """True for an int or a finite float (not a bool): what a chart can draw."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int of 400 digits in a hostile file: beyond any float, nothing to draw
        return False


def open_file(path) -> int:
    """A read-only descriptor of the regular file ``path`` of a run folder, never through a symbolic link
    leading out of its folder: the board and the report show a run's files, not what a link points at.

    ``FileNotFoundError`` when it is missing; :class:`~nnlearn.base.errors.FileFormatError` naming the
    file for a link out of the folder, to nothing or in a loop, or no regular file.
    """
    path = name = Path(path)
    try:
        if os.path.islink(path):
            target = path.resolve(strict=True)
            if path.parent.resolve() not in target.parents:
                raise FileFormatError(
                    _(
                        "{name} is a symbolic link leading outside its folder; a run folder's files "
                        "are read only from inside it (copy the file in instead)",
                        name=path.name,
                    )
                )
            path = target
        return open_regular_file(path, name.name)
    except FileNotFoundError:
        if os.path.lexists(path):  # a dangling link
            raise FileFormatError(_("{name} is a symbolic link to nothing", name=path.name)) from None
        raise
    except RuntimeError:  # Python 3.11's resolve() on a loop of links
        raise FileFormatError(_("{name} is a loop of symbolic links", name=path.name)) from None
    except FileFormatError:
        raise
    except OSError as exc:
        raise FileFormatError(
            _("{name} cannot be read ({reason})", name=path.name, reason=exc.strerror or exc)
        ) from None


def checked_path(path) -> Path:
    """``path`` as :func:`open_file` would read it (a link inside its folder resolved), for readers
    that open files themselves (``np.load`` of a run's model.npz); the same errors."""
    os.close(open_file(path))
    path = Path(path)
    return path.resolve() if os.path.islink(path) else path


def read_bytes(path, max_bytes: int) -> bytes:
    """The bytes of a run folder's file ``path`` (:func:`open_file`), at most ``max_bytes``
    (:func:`nnlearn.base.files.read_at_most`)."""
    return read_at_most(open_file(path), max_bytes, Path(path).name)


# -- parsing ---------------------------------------------------------------------------------------


def _header(fd: int, name: str, size: int) -> tuple[list[str], int]:
    """The header's columns and where the rows start; ``([], size)`` for an empty file."""
    head = os.pread(fd, min(size, MAX_LINE_BYTES + 1), 0)
    end = head.find(b"\n")
    if end < 0:
        if len(head) > MAX_LINE_BYTES:
            raise FileFormatError(
                _(
                    "{name}'s first line is longer than {n} bytes; it is no table nnlearn writes",
                    name=name,
                    n=MAX_LINE_BYTES,
                )
            )
        end = len(head)
    try:
        columns = [c.strip() for c in next(csv.reader([head[:end].decode("utf-8")]), [])]
    except UnicodeDecodeError:
        raise FileFormatError(_("{name} is not UTF-8 text", name=name)) from None
    except csv.Error:
        columns = []
    if len(columns) > MAX_COLUMNS:
        raise FileFormatError(
            _(
                "{name} has {n} columns; at most {most} are read (nnlearn writes a few)",
                name=name,
                n=len(columns),
                most=MAX_COLUMNS,
            )
        )
    return columns, min(size, end + 1)


def _rows(lines, n_columns: int):
    """The rows of ``lines`` (text) that have ``n_columns`` cells, as lists of text; damage ends them."""
    try:
        for cells in csv.reader(lines):
            if len(cells) == n_columns:
                yield cells
    except csv.Error:
        return  # a NUL byte or a runaway quote: the rows before it stand


def _all_lines(fd: int, start: int, size: int, name: str) -> io.StringIO:
    """The rows' text as lines split at ``\n`` only, as the csv module wants them (a quoted cell
    may hold a line break, and ``str.splitlines`` would also split at U+2028 and others)."""
    try:
        return io.StringIO(os.pread(fd, size - start, start).decode("utf-8"), newline="")
    except UnicodeDecodeError:
        raise FileFormatError(_("{name} is not UTF-8 text", name=name)) from None


def _sampled_lines(fd: int, start: int, size: int, back: int, count: int):
    """For ``count`` offsets spread over ``[start, size)``, and the file's end: the first
    line that starts at or after the offset, with the complete lines of the ``back`` bytes before it
    (``(before, line)``, text; a line that is not UTF-8, or longer than :data:`MAX_LINE_BYTES`, is
    left out as a damaged row would be)."""
    seen = set()
    span = size - start
    for offset in [start + span * k // count for k in range(count)] + [None]:
        if offset is None:  # the last line, wherever it starts
            lo = max(start, size - back - MAX_LINE_BYTES)
            block = os.pread(fd, size - lo, lo)
            cut = block.rstrip(b"\n").rfind(b"\n") + 1
            if cut == 0 and lo > start:
                continue  # a last line longer than MAX_LINE_BYTES
        else:  # one byte more in front: is the offset itself a line's start?
            lo = max(start, offset - back - 1)
            block = os.pread(fd, min(size, offset + MAX_LINE_BYTES) - lo, lo)
            at = offset - lo
            if lo + at == start or block[at - 1 : at] == b"\n":
                cut = at
            else:
                cut = block.find(b"\n", at) + 1
                if cut == 0:
                    continue
        end = block.find(b"\n", cut)
        if (end < 0 and lo + len(block) < size) or lo + cut in seen or cut >= len(block):
            continue  # cut off by MAX_LINE_BYTES, seen already, or no line after the offset
        seen.add(lo + cut)
        first = 0 if lo == start else block.find(b"\n") + 1  # the block may start inside a line
        try:
            before = block[first:cut].decode("utf-8").split("\n")[:-1] if first <= cut else []
            yield before, block[cut : end if end >= 0 else len(block)].decode("utf-8")
        except UnicodeDecodeError:
            continue


def _number(cells, k):
    """The cell ``k`` of a row as an int or a float; None when it is text, empty or absent."""
    value = cell(cells[k]) if k is not None else None
    return value if isinstance(value, (int, float)) else None


def _loss_curve(fd: int, name: str, size: int, count: int) -> dict:
    columns, start = _header(fd, name, size)
    if "loss" not in columns:
        return {"points": [], "window": 1, "rows": 0, "step": 1, "sampled": False, "last_iteration": 0}
    n, li = len(columns), columns.index("loss")
    ii = columns.index("iteration") if "iteration" in columns else None
    if size <= SMALL_BYTES:
        return _whole_loss_curve(_all_lines(fd, start, size, name), n, li, ii, count)
    return _sampled_loss_curve(fd, start, size, n, li, ii, count)


def _whole_loss_curve(lines, n: int, li: int, ii, count: int) -> dict:
    """Every row read; every ``step``-th kept, and the last (a row without an iteration is its row number)."""
    its, losses = [], []
    for row, cells in enumerate(_rows(lines, n), 1):
        loss = _number(cells, li)
        if loss is not None:
            it = _number(cells, ii)
            its.append(it if finite(it) else row)
            losses.append(float(loss))
    window = max(1, min(WINDOW, len(losses) // 20))
    kept = [i for i, v in enumerate(losses) if math.isfinite(v)]
    smooth = {}
    if kept:
        from nnlearn.common.evaluation import moving_average  # matplotlib: the board reads tables without it

        smooth = dict(zip(kept[window - 1 :], moving_average([losses[i] for i in kept], window).tolist()))
    step = max(1, math.ceil(len(losses) / count))
    pick = list(range(0, len(losses), step))
    if losses and pick[-1] != len(losses) - 1:
        pick.append(len(losses) - 1)
    return {
        "points": [(its[i], losses[i], smooth.get(i)) for i in pick],
        "window": window,
        "rows": len(losses),
        "step": step,
        "sampled": False,
        "last_iteration": its[-1] if its else 0,
    }


def _sampled_loss_curve(fd: int, start: int, size: int, n: int, li: int, ii, count: int) -> dict:
    """The rows at ``count`` offsets, each with the mean of the last :data:`WINDOW` finite
    losses up to it (None where fewer are in reach); rows without a finite iteration are skipped."""
    first_rows = os.pread(fd, min(size - start, 64 << 10), start)
    line_bytes = max(1, len(first_rows) // max(1, first_rows.count(b"\n")))
    back = min(MAX_LINE_BYTES, 2 * WINDOW * line_bytes)  # WINDOW rows as long as the first, twice over
    points = []
    for before, line in _sampled_lines(fd, start, size, back, count):
        row = next(_rows([line], n), None)
        loss, it = (None, None) if row is None else (_number(row, li), _number(row, ii))
        if loss is None or not finite(it) or (points and it <= points[-1][0]):
            continue
        recent = [v for v in (_number(r, li) for r in _rows(before[-WINDOW:], n)) if v is not None and math.isfinite(v)]
        recent = (recent + ([float(loss)] if math.isfinite(loss) else []))[-WINDOW:]
        points.append((it, float(loss), sum(recent) / WINDOW if len(recent) == WINDOW else None))
    last = points[-1][0] if points else 0
    step = max(1, round((last - points[0][0]) / max(1, len(points) - 1))) if points else 1
    return {"points": points, "window": WINDOW, "rows": None, "step": step, "sampled": True, "last_iteration": last}


def _table(fd: int, name: str, size: int, count: int) -> tuple[list[str], list[dict]]:
    """``(columns, rows)``: at most ``count + 1`` rows spread over the file, or with ``count`` 0 every row
    (refused past :data:`MAX_TABLE_BYTES` or :data:`MAX_CELLS`)."""
    if not count and size > MAX_TABLE_BYTES:
        raise FileFormatError(
            _("{name} is larger than the {n} bytes such a file may have", name=name, n=MAX_TABLE_BYTES)
        )
    columns, start = _header(fd, name, size)
    n = len(columns)
    if not columns:
        return [], []
    if count and size > SMALL_BYTES:
        sampled = (next(_rows([line], n), None) for _before, line in _sampled_lines(fd, start, size, 0, count))
        return columns, [{c: cell(v) for c, v in zip(columns, row)} for row in sampled if row is not None]
    # Counted first, then only the kept rows made (64 empty cells a row add up).
    total = sum(1 for row in _rows(_all_lines(fd, start, size, name), n))
    if not count and total * n > MAX_CELLS:
        raise FileFormatError(
            _(
                "{name} has {total} rows of {n} columns; at most {most} cells are read (it is no table nnlearn writes)",
                name=name,
                total=total,
                n=n,
                most=MAX_CELLS,
            )
        )
    step = max(1, math.ceil(total / count)) if count else 1
    return columns, [
        {c: cell(v) for c, v in zip(columns, cells)}
        for k, cells in enumerate(_rows(_all_lines(fd, start, size, name), n))
        if k % step == 0 or k == total - 1
    ]


# -- the cache -------------------------------------------------------------------------------------

_cache: OrderedDict = OrderedDict()
_cache_cells = 0
_cache_lock = threading.Lock()
_parsing: dict = {}


def _cached(kind: str, path, count: int, parse, cells):
    """``parse(fd, name, size, count)`` of ``path``, or the answer kept from the last parse of the same file."""
    global _cache_cells
    path = Path(path)
    key = (kind, os.path.abspath(path), count)
    with _cache_lock:
        lock = _parsing.setdefault(key, threading.Lock())
    with lock:  # one parse of a file at a time; the others take its answer
        fd = open_file(path)
        try:
            st = os.fstat(fd)
            stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            with _cache_lock:
                hit = _cache.get(key)
                if hit is not None and hit[0] == stamp:
                    _cache.move_to_end(key)
                    return hit[1]
            value = parse(fd, path.name, st.st_size, count)
        finally:
            os.close(fd)
        cost = cells(value)
        with _cache_lock:
            old = _cache.pop(key, None)
            _cache_cells -= old[2] if old else 0
            if cost <= CACHE_CELLS // 4:
                _cache[key] = (stamp, value, cost)
                _cache_cells += cost
            while _cache_cells > CACHE_CELLS:  # the least recently used go first
                _cache_cells -= _cache.popitem(last=False)[1][2]
            if len(_parsing) > 4 * len(_cache) + 64:  # forget the locks of files long gone
                _parsing.clear()
    return value


def loss_curve(path, max_points: int = MAX_POINTS) -> dict:
    """The loss curve of ``metrics.csv`` for a chart (module description), a dict with:

    ``points``: ``(iteration, loss, moving average or None)``, at most ``max_points + 1``, in order;
    ``window``: the moving average's; ``rows``: the losses in the file (None when sampled);
    ``step``: rows per point (about, when sampled); ``sampled``; ``last_iteration``.
    A missing file is an empty curve; a file that is not a regular file, too wide or not UTF-8 is a
    :class:`~nnlearn.base.errors.FileFormatError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.csv"
    >>> _ = p.write_text("iteration,loss\\n1,2.5\\n2,nan\\n3,abc\\n4,1.5\\n")
    >>> c = loss_curve(p)
    >>> c["points"], c["rows"], c["window"]
    ([(1, 2.5, 2.5), (2, nan, None), (4, 1.5, 1.5)], 3, 1)
    """
    try:
        return _cached("loss", path, max_points, _loss_curve, lambda c: 3 * len(c["points"]))
    except FileNotFoundError:
        return {"points": [], "window": 1, "rows": 0, "step": 1, "sampled": False, "last_iteration": 0}


def thinned_table(path, max_points: int = MAX_POINTS) -> tuple[list[str], list[dict]]:
    """``(columns, rows)`` of a CSV table for a chart: at most ``max_points + 1`` rows spread evenly over the
    file, the last one included (``max_points`` 0: every row); cells by :func:`cell`. A missing file is an
    empty table; errors as :func:`loss_curve`'s."""
    try:
        return _cached("table", path, max_points, _table, _table_cells)
    except FileNotFoundError:
        return [], []


def _table_cells(table) -> int:
    return len(table[0]) * (len(table[1]) + 1)


def read_table(path) -> tuple[list[str], list[dict]]:
    """A whole CSV table as ``(columns, rows)`` (the rows' list the caller's own), as :func:`thinned_table`
    reads it: a row of another number of cells (a writer not yet done, damage) is dropped; a file past
    :data:`MAX_TABLE_BYTES` or :data:`MAX_CELLS` is a :class:`~nnlearn.base.errors.FileFormatError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("epoch,iteration,test_accuracy\\n0.5,300,0.4964\\n1,600,\\n")
    >>> read_table(p)
    (['epoch', 'iteration', 'test_accuracy'], [{'epoch': 0.5, 'iteration': 300, 'test_accuracy': 0.4964}, {'epoch': 1, 'iteration': 600, 'test_accuracy': None}])
    """
    columns, rows = thinned_table(path, 0)
    return columns, list(rows)

"""``nnlearn check --watch FILE``: check the file again each time it is saved.

The file's modification time and size are polled (file-system events differ on every system and miss
saves through a network folder); a change is checked once the file has stayed the same for one more
poll, so that an editor writing in several steps is checked once. Ctrl-C ends the loop.
"""

from __future__ import annotations

import os
import time

from nnlearn.base.i18n import N_

#: Seconds between two looks at the file.
POLL_S = 0.5
#: The line before each check, and the error for more than one file.
CHECKING = N_("{time}: checking {file} (checked again each time it is saved; Ctrl-C ends)")
ONE_FILE = N_("--watch takes one file, got {count}; name the file you are editing")


def stamp(path) -> tuple | None:
    """``(mtime_ns, size)`` of ``path``, or None while it is missing (an editor that saves by renaming)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def watch(
    path, check_once, *, poll: float = POLL_S, runs: int | None = None, polls: int | None = None, sleep=None
) -> int:
    """Call ``check_once()`` now and again after each saved change of ``path``; returns 0 when Ctrl-C
    ends it (or after ``runs`` checks or ``polls`` looks, which bound the loop in tests)."""
    sleep = sleep or time.sleep
    checked, looked = stamp(path), 0
    check_once()
    done = 1
    try:
        while (runs is None or done < runs) and (polls is None or looked < polls):
            sleep(poll)
            looked += 1
            now = stamp(path)
            if now is None or now == checked:
                continue
            sleep(poll)  # the save is complete when the file stays the same for one more poll
            looked += 1
            if stamp(path) != now:
                continue
            checked = now
            check_once()
            done += 1
    except KeyboardInterrupt:
        pass
    return 0

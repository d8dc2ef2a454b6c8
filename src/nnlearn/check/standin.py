"""Serving the book's ``common`` and ``dataset`` modules from :mod:`nnlearn.check.booklayout` when a
reader's file imports them and they are not there.

The finder sits at the *end* of ``sys.meta_path`` of the check's child process, so the reader's
own ``common/`` (beside or above their file) always wins; only a module that nothing else provides
falls through to it. Nothing here runs in the user's own process.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

BOOKLAYOUT = Path(__file__).resolve().parent / "booklayout"
#: The book's modules that have a stand-in, and whether each is a package.
SERVED = {
    "common": True,
    "common.functions": False,
    "common.gradient": False,
    "dataset": True,
    "dataset.mnist": False,
}


class BookLayoutFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of :data:`SERVED` in the book-layout stand-in package."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in SERVED:
            return None
        parts = fullname.split(".")
        if SERVED[fullname]:
            folder = BOOKLAYOUT.joinpath(*parts)
            return importlib.util.spec_from_file_location(
                fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])
        return importlib.util.spec_from_file_location(fullname, BOOKLAYOUT.joinpath(*parts).with_suffix(".py"))


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once)."""
    if not any(isinstance(f, BookLayoutFinder) for f in sys.meta_path):
        sys.meta_path.append(BookLayoutFinder())


def is_stand_in(filename) -> bool:
    """Whether ``filename`` is a file of the stand-in package."""
    try:
        return Path(filename).resolve().is_relative_to(BOOKLAYOUT)
    except (TypeError, ValueError, OSError):
        return False


def used() -> list[str]:
    """The book modules the stand-in has served in this process (imported under the book's names)."""
    return sorted(name for name, module in list(sys.modules.items())
                  if not name.startswith("nnlearn.") and name.split(".")[0] in ("common", "dataset")
                  and is_stand_in(getattr(module, "__file__", None)))

"""Serving the book's ``common`` and ``dataset`` modules from :mod:`nnlearn.checker.booklayout` when a
reader's file imports them and they are not there.

The finder sits at the *end* of ``sys.meta_path`` of the check's child process, so the reader's
own ``common/`` (beside or above their file) always wins; only a module that nothing else provides
falls through to it. Nothing here runs in the user's own process.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

BOOKLAYOUT = Path(__file__).resolve().parent / "booklayout"
#: The book's modules that have a stand-in, and whether each is a package.
SERVED = {
    "common": True,
    "common.functions": False,
    "common.gradient": False,
    "dataset": True,
    "dataset.mnist": False,
    # The same files under the names that translations' folders and learners' copies give them:
    # mnist.py, functions.py and gradient.py beside the chapter's files.
    "mnist": False,
    "functions": False,
    "gradient": False,
}
#: The stand-in file of each module that is not at its own path in the stand-in package.
MOVED = {"mnist": ("dataset", "mnist"), "functions": ("common", "functions"), "gradient": ("common", "gradient")}
BOOK_PACKAGES = ("common", "dataset", *MOVED)


class BookLayoutFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of :data:`SERVED` in the book-layout stand-in package."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in SERVED:
            return None
        parts = fullname.split(".")
        if SERVED[fullname]:
            folder = BOOKLAYOUT.joinpath(*parts)
            return importlib.util.spec_from_file_location(
                fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
        parts = MOVED.get(fullname, parts)
        return importlib.util.spec_from_file_location(fullname, BOOKLAYOUT.joinpath(*parts).with_suffix(".py"))


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once)."""
    if not any(isinstance(f, BookLayoutFinder) for f in sys.meta_path):
        sys.meta_path.append(BookLayoutFinder())


@lru_cache(maxsize=1024)
def is_stand_in(filename) -> bool:
    """Whether ``filename`` is a file of the stand-in package."""
    return isinstance(filename, str) and os.path.realpath(filename).startswith(str(BOOKLAYOUT) + os.sep)


def served(name: str, module) -> bool:
    """Whether the module ``name`` in ``sys.modules`` is a stand-in, imported under the book's name."""
    return name.split(".")[0] in BOOK_PACKAGES and is_stand_in(getattr(module, "__file__", None))


def used() -> list[str]:
    """The book modules the stand-in has served in this process."""
    return sorted(name for name, module in list(sys.modules.items()) if served(name, module))

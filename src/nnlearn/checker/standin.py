"""Serving the book's ``common`` and ``dataset`` modules from :mod:`.booklayout` when a reader's file
imports them and they are not there. The finder sits at the *end* of the child's ``sys.meta_path``,
so the reader's own ``common/`` always wins. Nothing here runs in the user's own process.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

BOOKLAYOUT = Path(__file__).resolve().parent / "booklayout"
#: The book's modules that have a stand-in, and its file; the last three under the names that
#: translations' folders and learners' copies give them (mnist.py, functions.py beside the chapter's files).
SERVED = {
    "common": "common/__init__.py",
    "common.functions": "common/functions.py",
    "common.gradient": "common/gradient.py",
    "dataset": "dataset/__init__.py",
    "dataset.mnist": "dataset/mnist.py",
    "mnist": "dataset/mnist.py",
    "functions": "common/functions.py",
    "gradient": "common/gradient.py",
}
BOOK_PACKAGES = {name.partition(".")[0] for name in SERVED}


class BookLayoutFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of :data:`SERVED` in the book-layout stand-in package."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in SERVED:
            return None
        file = BOOKLAYOUT / SERVED[fullname]
        folder = [str(file.parent)] if file.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(fullname, file, submodule_search_locations=folder)


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

"""The one exception of :mod:`nnlearn.datasets`."""

from __future__ import annotations

from nnlearn.errors import NnlearnError


class DatasetError(NnlearnError, ValueError):
    """A data file is missing, unreadable, corrupt, or not the file it claims to be.

    The message names the file, what is wrong with it, and how to fix it; the command line prints
    it on one line.
    """

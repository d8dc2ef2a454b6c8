"""The exception and the warning of :mod:`nnlearn.datasets`."""

from __future__ import annotations

from nnlearn.base.errors import NnlearnError


class DatasetError(NnlearnError, ValueError):
    """A data file is missing, unreadable, corrupt, or not the file it claims to be; the message names
    the file, what is wrong and how to fix it (one line, or a first line and indented details)."""


class TruncatedDataError(DatasetError):
    """A file's compressed data ends before its end marker: a download or a copy was cut short."""


class OversizeDataError(DatasetError):
    """A file holds (or decompresses to) more bytes than the file it should be can have: refused unread."""


class DatasetWarning(UserWarning):
    """Something was wrong but has been dealt with (a setting skipped, a damaged cache rebuilt)."""

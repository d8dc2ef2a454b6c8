"""Checking live objects -- a module, a namespace such as ``globals()``, a function or a class."""

from __future__ import annotations

import inspect

from nnlearn.errors import InputTypeError


def job_for_object(target) -> dict:
    """The job of checking ``target``: a module's file."""
    if inspect.ismodule(target) and str(getattr(target, "__file__", "")).endswith(".py"):
        return {"path_target": target.__file__}
    raise InputTypeError(f"cannot check a {type(target).__name__} yet")

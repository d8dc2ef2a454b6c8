"""Argument types shared by the commands: a bad value is an argparse error (usage line, exit 2)."""

from __future__ import annotations

import argparse
import math


def int_at_least(minimum: int, what: str):
    """An argparse type accepting whole numbers >= ``minimum``; ``what`` names them in the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value

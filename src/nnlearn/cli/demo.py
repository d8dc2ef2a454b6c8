"""``nnlearn demo SECTION``: the chapter's numbers and figures, section by section."""

from __future__ import annotations


def register(commands, demos) -> None:
    pass

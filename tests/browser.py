"""Fixtures for tests in a real browser: one headless Chromium for the whole session, driven by Playwright.

``tests/conftest.py`` loads them for every test module (``pytest_plugins``). Chromium is the
system's (Debian's ``chromium``; ``.ci/run`` installs it), or the one ``NNLEARN_CHROMIUM`` names --
Playwright never downloads a browser. Without Chromium or Playwright the browser tests skip, except in CI
(``NNLEARN_REQUIRE_DATA=1`` or ``CI=true``), where that is a failure: CI must run them.

Also here: ``short_run``, a real short training run (300 iterations on MNIST), shared by the report
and the board tests; and ``serve_board``, a board server on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def _required() -> bool:
    return os.environ.get("NNLEARN_REQUIRE_DATA") == "1" or os.environ.get("CI", "").lower() == "true"


def _missing(message: str):
    if _required():
        pytest.fail(message + " (required in CI: .ci/run installs chromium; pip install -e '.[test]')")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium browser (Playwright ``Browser``)."""
    path = os.environ.get("NNLEARN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        _missing("no chromium on PATH and no NNLEARN_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


class Page:
    """A browser tab that records console errors and failed requests."""

    def __init__(self, browser, width=1200, height=900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))

    def close(self):
        self.page.close()


@pytest.fixture
def tab(chromium):
    page = Page(chromium)
    yield page
    page.close()


@pytest.fixture
def serve_board():
    """``serve_board(folder) -> base URL``: a board server on 127.0.0.1, stopped after the test."""
    from nnlearn.see.board.server import BoardServer

    servers = []

    def start(root, **options):
        server = BoardServer(root, "127.0.0.1", 0, **options).start()
        servers.append(server)
        return server.url.rstrip("/")

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_run():
    """``make_run(folder, ...)``: a small fake run directory (see :func:`fake_run`)."""
    return fake_run


def fake_run(
    folder: Path,
    *,
    test_accuracy=None,
    epochs=((1, 0.8, 0.79), (2, 0.9, 0.88)),
    iters_per_epoch=600,
    state=None,
    recipe="book",
) -> Path:
    """A small run directory as ``nnlearn train`` writes it (no model): config, metrics, epochs, summary."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "recipe": recipe,
                "dataset": "mnist",
                "seed": 0,
                "nnlearn_version": "0.1.0",
                "settings": {"hidden": [50], "activation": "sigmoid", "optimizer": "sgd", "lr": 0.1, "batch_size": 100},
                "trainer": {"max_iter": iters_per_epoch * len(epochs)},
            }
        )
    )
    n = iters_per_epoch * len(epochs)
    (folder / "metrics.csv").write_text(
        "iteration,loss\n" + "".join(f"{i},{2.3 * 0.999**i!r}\n" for i in range(1, n + 1))
    )
    (folder / "epochs.csv").write_text(
        "epoch,iteration,train_accuracy,test_accuracy\n"
        + "".join(f"{e},{e * iters_per_epoch},{tr},{te}\n" for e, tr, te in epochs)
    )
    if test_accuracy is not None:
        (folder / "summary.json").write_text(
            json.dumps(
                {
                    "test_accuracy": test_accuracy,
                    "train_accuracy": epochs[-1][1],
                    "iterations": n,
                    "epochs": len(epochs),
                    "seconds": 1.5,
                    "recipe": recipe,
                    "dataset": "mnist",
                    "seed": 0,
                    "description": "784-50-10 sigmoid",
                }
            )
        )
    if state is not None:
        (folder / "state.json").write_text(json.dumps(state))
    return folder


#: In a page of the board: the SVG text of its chart of the ticked runs (a ``data:`` picture), "" before one.
CHART_SVG = """() => {
  const img = document.getElementById("curves"), src = img ? img.getAttribute("src") || "" : "";
  return src.startsWith("data:image/svg+xml") ? decodeURIComponent(src.slice(src.indexOf(",") + 1)) : "";
}"""


def chart_points(svg: str, gid: str) -> int:
    """The points of the line ``gid`` of a chart's SVG (the vertices of its path), 0 without that line."""
    import re

    found = re.search(rf'<g id="{gid}">\s*<path d="([^"]*)"', svg)
    return 0 if found is None else len(re.findall(r"[ML] ", found.group(1)))

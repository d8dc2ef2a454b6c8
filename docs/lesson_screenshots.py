"""Take the README's screenshots of the board's lessons: ``docs/lesson-*.png``.

Starts a board on 127.0.0.1 over an empty folder, drives each lesson in headless Chromium (the
system's, or the one ``NNLEARN_CHROMIUM`` names, through Playwright, as the tests do) into a state
worth showing, and writes one PNG per lesson.

Usage: ``python docs/lesson_screenshots.py [--out docs]``
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _diff(page):
    page.select_option("#fn", "exp")
    page.fill("#x", "1")
    page.dispatch_event("#x", "change")
    page.fill("#h", "0.5")
    page.dispatch_event("#h", "change")
    page.wait_for_selector('#values[data-h="0.5"][data-x="1.0"]')


def _gradient(page):
    page.wait_for_selector("#field[data-arrows]")
    page.click("#field", position={"x": 150, "y": 130})
    page.wait_for_selector("#at[data-point]")


def _descent(page):
    page.wait_for_selector('#result[data-lr="0.1"]')
    page.fill("#steps", "20")
    page.dispatch_event("#steps", "change")
    page.wait_for_selector("#race-0[data-steps]")
    page.wait_for_timeout(300)


def _numgrad(page):
    page.wait_for_selector("#W td")
    for _ in range(10):
        page.click("#next")


#: Each lesson: its page, what to do there, and the size of the picture (from the top of the page).
LESSONS = {
    "diff": ("/lessons/diff", _diff, 1150, 1150),
    "gradient": ("/lessons/gradient", _gradient, 1150, 830),
    "descent": ("/lessons/descent", _descent, 1150, 1600),
    "numgrad": ("/lessons/numgrad", _numgrad, 1150, 620),
}


def main() -> int:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from nnlearn.see.board.server import BoardServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="folder for the PNGs (default docs)")
    args = parser.parse_args()
    chromium = os.environ.get("NNLEARN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("no chromium on PATH and no NNLEARN_CHROMIUM", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as pw:
        server = BoardServer(folder, "127.0.0.1", 0).start()
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            for name, (path, act, width, height) in LESSONS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(server.url.rstrip("/") + path)
                act(page)
                out = Path(args.out) / f"lesson-{name}.png"
                png = page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height})
                # 256 colours: a third of the bytes, and a page's flat colours and text stay sharp.
                Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(out, optimize=True)
                print(f"wrote {out}")
                page.close()
        finally:
            browser.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

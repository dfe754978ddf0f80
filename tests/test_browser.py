"""A real browser: draw with the mouse, read the answer, Clear, draw again (Playwright + Debian Chromium).

Set SCREENSHOT=path/to/file.png to keep the screenshot of the page with a drawn digit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.harness import (CHROMIUM, ONE, SEVEN, ZERO, draw, draw_with_finger, open_browser, prediction_text,
                           start_server)

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)


def wait_for_answer(page, expected: str, timeout: float = 15.0) -> str:
    page.wait_for_function(
        """expected => { const el = document.querySelector('#prediction [data-testid=label-output-value]');
                        return el && el.textContent.trim() === expected; }""",
        arg=expected, timeout=timeout * 1000)
    return prediction_text(page)


def test_draw_read_clear_draw_again(tmp_path):
    with start_server() as (url, _, _), open_browser() as page:
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        page.locator("#sketchpad canvas").first.wait_for()
        assert prediction_text(page) == ""
        assert "Draw a digit" in page.locator("#status").inner_text()

        draw(page, SEVEN)  # no tool picked first: the brush is in hand
        assert wait_for_answer(page, "7") == "7"
        assert page.locator("#model-input img").count() == 1
        assert page.locator("#row-reading img").count() == 1
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("SCREENSHOT"):
            shutil.copy(shot, os.environ["SCREENSHOT"])

        page.locator("#clear").click()
        page.wait_for_function("() => !document.querySelector('#prediction [data-testid=label-output-value]')"
                               " || document.querySelector('#prediction [data-testid=label-output-value]')"
                               ".textContent.trim() === ''", timeout=10_000)
        assert "Draw a digit" in page.locator("#status").inner_text()

        draw(page, ONE)
        assert wait_for_answer(page, "1") == "1"

        page.locator(".gallery-item img[src*='digit2_']").first.click()  # a real MNIST test digit
        assert wait_for_answer(page, "2") == "2"
        page.locator("#play").click()  # steps the row view through rows 1..28
        for row in (3, 28):
            page.wait_for_function("row => document.querySelector('#row-caption').textContent"
                                   ".includes(`Row ${row}.`)", arg=row, timeout=20_000)

    # Offline by default: everything the page loaded came from the app itself (no CDN, fonts, analytics)
    elsewhere = [u for u in requested if not u.startswith((url, "data:", "blob:"))]
    assert requested and not elsewhere, elsewhere


def test_draw_with_a_finger_on_a_phone():
    with start_server() as (url, _, _), open_browser(width=430, height=1400, phone=True) as page:
        page.goto(url)
        page.locator("#sketchpad canvas").first.wait_for()
        draw_with_finger(page, ZERO)
        assert wait_for_answer(page, "0") == "0"
        # on a narrow screen the answer comes right after the canvas and the Clear button
        answer_top = page.locator("#prediction").bounding_box()["y"]
        assert answer_top < page.locator("#model-input").bounding_box()["y"]
        assert answer_top < page.locator("#upload").bounding_box()["y"]

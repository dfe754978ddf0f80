"""A real browser on `python demo.py`: draw with the mouse and a finger, readings while the pen moves, Undo,
Clear, the gallery, the row walk, presenter keys, nothing requested from elsewhere (Playwright + Debian
Chromium; one server and one browser for the module).

Set SCREENSHOT=path/to/file.png to keep a screenshot of the page with a drawn digit.
Timings (pen-up -> answer, readings per second) are printed by `python -m bench.latency`, not asserted here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ONE,
    SEVEN,
    ZERO,
    draw,
    draw_with_finger,
    drawing_area,
    prediction_text,
    start_server,
)

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)

POINTS_SHOWN = "() => { const r = document.querySelector('#reading .reading'); return r ? r.dataset.points : null; }"
POINTS_SENT = "() => document.querySelector('#sketchpad canvas').dataset.points"


@pytest.fixture(scope="module")
def server():
    with start_server() as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url, phone: bool = False):
    context = browser.new_context(viewport={"width": 430, "height": 900} if phone else {"width": 1280, "height": 900},
                                  has_touch=phone, is_mobile=phone, device_scale_factor=2 if phone else 1)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    page.locator("#sketchpad canvas").wait_for()
    page.wait_for_function("() => document.querySelector('#reading .reading') !== null")
    return page, requested


def wait_for_answer(page, expected: str, timeout: float = 15.0) -> str:
    page.wait_for_function(
        """expected => { const el = document.querySelector('#prediction [data-testid=label-output-value]');
                        return el && el.textContent.trim() === expected; }""", arg=expected, timeout=timeout * 1000)
    return prediction_text(page)


def wait_for_whole_drawing(page) -> None:
    """Until the reading on the page is of every point the canvas has sent."""
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === ({POINTS_SENT})()", timeout=15_000)


def canvas_ink(page) -> int:
    return page.evaluate("""() => { const c = document.querySelector('#sketchpad canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 0; i < d.length; i += 4) ink += d[i] < 128; return ink; }""")


def caption(page) -> str:
    return page.locator("#row-caption").inner_text()


def test_draw_live_undo_clear_gallery_walk(server, browser, tmp_path):
    page, requested = open_page(browser, server)
    assert prediction_text(page) == "" and "Draw a digit" in page.locator("#status").inner_text()

    # One slow stroke: readings arrive while the pen is still down (no tool picked first).
    left, top, size = drawing_area(page)
    page.evaluate(f"""() => {{ window.seenWhileDown = new Set();
        window.watcher = setInterval(() => {{ const p = ({POINTS_SHOWN})(); if (p) window.seenWhileDown.add(p); }}, 5); }}""")
    page.mouse.move(left + 0.5 * size, top + 0.15 * size)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(left + 0.5 * size, top + (0.15 + 0.7 * i / 30) * size)
        page.wait_for_timeout(30)
    page.evaluate("() => clearInterval(window.watcher)")
    seen_while_down = page.evaluate("() => window.seenWhileDown.size")
    page.mouse.up()
    assert seen_while_down >= 2, "readings should reach the page while the pen moves"
    assert wait_for_answer(page, "1") == "1"
    wait_for_whole_drawing(page)

    # Undo removes the last stroke: a bar across the 1, then Undo gives back the reading of the 1 alone.
    points_of_one = page.evaluate(POINTS_SENT)
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    page.wait_for_function(f"() => ({POINTS_SENT})() !== '{points_of_one}'")
    wait_for_whole_drawing(page)
    page.locator("#undo").click()
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")
    assert wait_for_answer(page, "1") == "1"

    page.locator("#clear").click()  # everything back to the prompt
    page.wait_for_function("() => document.querySelector('#prediction [data-testid=label-output-value]').textContent.trim() === ''")
    assert "Draw a digit" in page.locator("#status").inner_text() and canvas_ink(page) == 0

    draw(page, SEVEN)
    assert wait_for_answer(page, "7") == "7"
    wait_for_whole_drawing(page)
    assert page.locator("#model-input img").count() == 1 and page.locator("#hidden-states img").count() == 1
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("SCREENSHOT"):
        shutil.copy(shot, os.environ["SCREENSHOT"])

    # The row walk runs in the browser: Play steps the rows without a single request.
    before = len(requested)
    page.locator("#play").click()
    for row in (2, 5):
        page.wait_for_function("row => document.querySelector('#row-caption').textContent.startsWith(`Row ${row}.`)",
                               arg=row, timeout=10_000)
    band = page.locator("#sketchpad .band")
    assert band.is_visible()  # the band of the drawing that became this row is marked on the canvas
    assert len(requested) == before

    # Drawing during Play ends the walk: no row of the 7 is shown after the new reading.
    draw(page, [[(0.1, 0.9), (0.9, 0.9)]])
    wait_for_whole_drawing(page)
    page.wait_for_timeout(800)  # two Play steps' time: nothing may move on
    assert caption(page).startswith("Row 28.") and page.locator("#play").inner_text() == "Play"
    assert page.locator("#row-slider").input_value() == "28"

    # A gallery digit: read through the same pipeline, and the canvas is cleared for it.
    page.locator(".gallery-item img[src*='digit2_']").first.click()
    assert wait_for_answer(page, "2") == "2"
    page.wait_for_function("() => document.querySelector('#reading .reading').dataset.points === ''")
    assert canvas_ink(page) == 0

    # The slider shows any row at once, in the browser.
    page.locator("#row-slider").fill("12")
    assert caption(page).startswith("Row 12.")

    # Offline by default: everything the page loaded came from the app itself (no CDN, fonts, analytics).
    elsewhere = [u for u in requested if not u.startswith((server, "data:", "blob:"))]
    assert requested and not elsewhere, elsewhere
    page.context.close()


def test_draw_with_a_finger_on_a_phone(server, browser):
    page, _ = open_page(browser, server, phone=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    draw_with_finger(page, ZERO)
    assert wait_for_answer(page, "0") == "0"
    assert page.evaluate("() => window.scrollY") == 0  # drawing does not scroll the page
    # on a narrow screen the answer comes right after the canvas
    answer_top = page.locator("#prediction").bounding_box()["y"]
    assert answer_top < page.locator("#model-input").bounding_box()["y"]
    assert answer_top < page.locator("#upload").bounding_box()["y"]
    draw_with_finger(page, ONE)  # a second stroke over the 0
    wait_for_whole_drawing(page)
    page.context.close()


def test_presenter_keys_projector_layout_and_gif(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    page.goto(server)
    page.locator("#sketchpad canvas").wait_for()
    # at 1280x720 the canvas, the answer and the row view are on screen without scrolling
    for selector in ("#sketchpad canvas", "#prediction", "#row-reading", "#row-slider", "#play"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720 and box["x"] + box["width"] <= 1280, selector
    assert "Space" in page.locator("#keys").inner_text()  # the one-line hint

    draw(page, ONE)
    assert wait_for_answer(page, "1") == "1"
    wait_for_whole_drawing(page)
    page.keyboard.press("Home")
    assert caption(page).startswith("Row 1.")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert caption(page).startswith("Row 3.")
    page.keyboard.press("ArrowLeft")
    assert caption(page).startswith("Row 2.")
    page.keyboard.press("End")
    assert caption(page).startswith("Row 28.")
    page.keyboard.press("Home")
    page.keyboard.press(" ")  # Space plays ...
    page.wait_for_function("() => document.querySelector('#row-caption').textContent.startsWith('Row 3.')")
    page.keyboard.press(" ")  # ... and pauses
    paused_at = caption(page)[:7]
    page.wait_for_timeout(800)
    assert caption(page)[:7] == paused_at and page.locator("#play").inner_text() == "Play"

    points_of_one = page.evaluate(POINTS_SENT)
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    page.wait_for_function(f"() => ({POINTS_SENT})() !== '{points_of_one}'")
    page.keyboard.press("u")  # U undoes the last stroke
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    page.wait_for_function(f"() => ({POINTS_SENT})() !== '{points_of_one}'")
    page.keyboard.press("Control+z")  # so does Ctrl+Z
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")

    # never while typing in a text field
    page.evaluate("() => { const f = document.createElement('input'); f.type = 'text'; f.id = 'typing';"
                  " document.body.prepend(f); }")
    page.locator("#typing").focus()
    page.keyboard.type("cu ")
    page.wait_for_timeout(300)
    assert canvas_ink(page) > 0 and page.evaluate(POINTS_SENT) == points_of_one
    page.evaluate("() => document.querySelector('#typing').remove()")

    # every control is reached by keyboard with a visible focus ring
    page.locator("#play").focus()
    assert page.evaluate("() => getComputedStyle(document.querySelector('#play')).outlineStyle") != "none"

    # the GIF of the row walk, for slides
    with page.expect_download(timeout=20_000) as download:
        page.locator("#export-gif").click()
    path = download.value.path()
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == 28
    page.keyboard.press("c")  # C clears
    page.wait_for_function("() => document.querySelector('#prediction [data-testid=label-output-value]').textContent.trim() === ''")
    context.close()

"""A real browser on `python demo.py`: the page reads the drawing itself while the pen moves (no request), the
server's reading replaces it when the pen lifts and agrees with it; Undo, Clear, numbers, the gallery, the row
walk, presenter keys, a finger on a phone, and nothing requested from elsewhere (Playwright + Debian Chromium;
one server and one browser for the module).

Set SCREENSHOT=path/to/file.png to keep a screenshot of the page with a drawn number.
Timings (readings per second, frame time, pen-up -> answer) are printed by `python -m bench.latency`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from harness import (
    FOUR,
    ONE,
    SEVEN,
    ZERO,
    axe_violations,
    draw,
    draw_with_finger,
    drawing_area,
    prediction_text,
    start_server,
)

POINTS_SHOWN = "() => document.querySelector('#reading .reading').dataset.points"
POINTS_DRAWN = "() => String(bilstm.pad.points())"
ROWS = ("() => Object.fromEntries(['model_input', 'top_down', 'bottom_up', 'states'].map("
        "name => [name, Array.from(bilstm.state().reading[name], row => Array.from(row))]))")
FROM = "() => document.querySelector('#reading .reading').dataset.from"


@pytest.fixture(scope="module")
def server():
    with start_server() as (url, _, _):
        yield url



def open_page(browser, url, width: int = 1280, height: int = 900, phone: bool = False):
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone,
                                  device_scale_factor=3 if phone else 1, accept_downloads=True)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append((request.method, request.url)))
    page.goto(url)
    page.wait_for_function("() => window.bilstm && bilstm.stats.engine && document.querySelector('#reading .reading')")
    page.evaluate("() => document.fonts.ready")  # the layout settles once the fonts are in (the canvas moves)
    page.wait_for_function("""() => new Promise(done => { const box = () => JSON.stringify(document.querySelector('#sketchpad canvas').getBoundingClientRect());
        const before = box(); setTimeout(() => done(box() === before), 200); })""")
    return page, requested


def wait_for_answer(page, expected: str, timeout: float = 15.0) -> str:
    page.wait_for_function(
        """expected => { const el = document.querySelector('#prediction [data-testid=label-output-value]');
                        return el && el.textContent.trim() === expected; }""", arg=expected, timeout=timeout * 1000)
    return prediction_text(page)


def wait_for_server(page) -> None:
    """Until the page shows the server's reading of everything drawn so far."""
    page.wait_for_function(f"() => ({FROM})() === 'server' && ({POINTS_SHOWN})() === ({POINTS_DRAWN})()",
                           timeout=15_000)


def canvas_ink(page) -> int:
    return page.evaluate("""() => { const c = document.querySelector('#sketchpad canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 0; i < d.length; i += 4) ink += d[i] < 128; return ink; }""")


def caption(page) -> str:
    return page.locator("#row-caption").inner_text()


def posts(requested: list) -> list[str]:
    return [url for method, url in requested if method == "POST"]


def test_reads_while_drawing_with_no_request_then_the_server_agrees(server, browser):
    page, requested = open_page(browser, server)
    assert prediction_text(page) == "" and "Draw a digit" in page.locator("#status").inner_text()

    # One slow stroke: the answer changes while the pen is down, and nothing is sent until it lifts.
    left, top, width, height = (lambda b: (b["x"], b["y"], b["width"], b["height"]))(page.locator("#sketchpad canvas").bounding_box())
    page.mouse.move(left + 0.5 * width, top + 0.15 * height)
    page.mouse.down()
    sent_before, local_before = len(posts(requested)), page.evaluate("() => bilstm.stats.local")
    for i in range(1, 31):
        page.mouse.move(left + 0.5 * width, top + (0.15 + 0.7 * i / 30) * height)
        page.wait_for_timeout(30)
    assert page.evaluate("() => bilstm.stats.local") - local_before >= 10  # a reading per frame the pen moved
    assert posts(requested)[sent_before:] == []  # no request while the pen moves
    assert page.evaluate(FROM) == "engine" and prediction_text(page) == "1"
    local = page.evaluate("() => bilstm.state().answer")
    page.wait_for_function("() => bilstm.state().reading && bilstm.state().reading.states")  # its row views came
    local_rows = page.evaluate(ROWS)
    page.mouse.up()
    wait_for_server(page)
    joins = [url for url in posts(requested)[sent_before:] if "queue/join" in url]
    assert len(joins) == 1  # the finished drawing, once
    server_answer = page.evaluate("() => bilstm.state().answer")
    assert server_answer["digit"] == local["digit"] == "1" and server_answer["seq"] == page.evaluate("() => bilstm.state().seq")
    np.testing.assert_allclose(server_answer["probs"], local["probs"], atol=1e-4)  # the browser and the server agree
    server_rows = page.evaluate(ROWS)  # the server's reading came packed (frontend.packed_reading): the same rows
    for name in ("model_input", "top_down", "bottom_up", "states"):
        np.testing.assert_allclose(server_rows[name], local_rows[name], atol=1e-4, err_msg=name)

    # Undo removes the last stroke: a bar across the 1, then Undo gives back the reading of the 1 alone.
    points_of_one = page.evaluate(POINTS_DRAWN)
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    wait_for_server(page)
    page.locator("#undo").click()
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")
    wait_for_server(page)
    assert wait_for_answer(page, "1") == "1"

    page.locator("#clear").click()  # everything back to the prompt
    page.wait_for_function("() => document.querySelector('#prediction [data-testid=label-output-value]').textContent.trim() === ''")
    assert "Draw a digit" in page.locator("#status").inner_text() and canvas_ink(page) == 0

    draw(page, SEVEN)
    assert wait_for_answer(page, "7") == "7"
    wait_for_server(page)
    for selector in ("#model-input canvas", "#row-reading canvas", "#hidden-states canvas", "#belief-curves svg", "#row-importance svg"):
        assert page.locator(selector).first.is_visible(), selector

    # The row walk runs in the browser: Play steps the rows without a single request.
    before = len(requested)
    page.locator("#play").click()
    for row in (2, 5):
        page.wait_for_function("row => document.querySelector('#row-caption').textContent.startsWith(`Row ${row}.`)",
                               arg=row, timeout=10_000)
    assert page.locator("#sketchpad .band").is_visible()  # the band of the drawing that became this row
    assert len(requested) == before

    # Drawing during Play ends the walk: the new reading is shown at row 28, and nothing moves on.
    draw(page, [[(0.1, 0.9), (0.45, 0.9)]])
    wait_for_server(page)
    page.wait_for_timeout(800)  # two Play steps' time
    assert caption(page).startswith("Row 28.") and page.locator("#play").inner_text() == "Play"
    assert page.locator("#row-slider").input_value() == "28"

    # A gallery digit: read here at once and by the server, and the canvas is cleared for it.
    page.locator("#gallery button[data-name^='digit2_']").first.click()
    assert wait_for_answer(page, "2") == "2"
    page.wait_for_function(f"() => ({FROM})() === 'server'")
    assert page.evaluate(POINTS_SHOWN) == "" and canvas_ink(page) == 0

    # The slider shows any row at once, in the browser.
    page.locator("#row-slider").fill("12")
    assert caption(page).startswith("Row 12.")

    # Clear after a gallery digit: back to the prompt, here and on the server (nothing left to compare or walk).
    page.locator("#clear").click()
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === ''")
    page.wait_for_timeout(1000)  # the server's answer to the cleared canvas: nothing comes back
    assert page.evaluate("() => bilstm.state().answer") is None and prediction_text(page) == ""

    # Offline by default: everything the page loaded came from the app itself (no CDN, fonts, analytics).
    elsewhere = [url for _, url in requested if not url.startswith((server, "data:", "blob:"))]
    assert requested and not elsewhere, elsewhere
    assert page.evaluate("() => [bilstm.stats.where, bilstm.stats.engine]") == ["worker", "webassembly"]
    page.context.close()


def test_a_number_is_read_digit_by_digit_and_any_digit_can_be_walked(server, browser):
    page, _ = open_page(browser, server)
    draw(page, [[(x * 0.5 + 0.05, y) for x, y in stroke] for stroke in SEVEN])  # the drawing area is 2:1
    draw(page, [[(x * 0.5 + 0.45, y) for x, y in stroke] for stroke in FOUR])
    assert wait_for_answer(page, "74") == "74"
    wait_for_server(page)
    assert page.locator("#sketchpad .digit-box").count() == 2 and page.locator("#number .digit-pick").count() == 2
    assert page.locator("#number [aria-pressed=true]").inner_text() == "4"  # the digit drawn last is walked
    page.locator("#number .digit-pick").first.click()  # walk the 7 instead
    page.wait_for_function("() => document.querySelector('#number [aria-pressed=true]').textContent === '7'")
    wait_for_server(page)
    assert page.evaluate("() => bilstm.state().reading.digit") == "7"
    assert "digit 1 of 2" in page.locator("#probabilities figcaption").inner_text()
    page.keyboard.press("]")  # the next digit, by key
    page.wait_for_function("() => document.querySelector('#number [aria-pressed=true]').textContent === '4'")
    if os.environ.get("SCREENSHOT"):
        page.keyboard.press("Home")
        for _ in range(11):
            page.keyboard.press("ArrowRight")
        page.screenshot(path=os.environ["SCREENSHOT"])
    page.context.close()


def test_draw_with_a_finger_on_a_phone(server, browser):
    page, _ = open_page(browser, server, width=390, height=844, phone=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    box = page.locator("#sketchpad canvas").bounding_box()
    assert box["height"] >= 300 and box["x"] >= 0 and box["x"] + box["width"] <= 390  # room for a finger
    width, height = page.evaluate("() => [document.querySelector('#sketchpad canvas').width, document.querySelector('#sketchpad canvas').height]")
    assert abs(height / width - box["height"] / box["width"]) < 0.01  # the canvas's pixels have its shape
    # a finger still down: the canvas, the answer (digit and confidence) and the softmax on one screen
    left, top, size = drawing_area(page)
    cdp = page.context.new_cdp_session(page)
    path = [(0.3 + 0.4 * x, y) for x, y in ZERO[0]]
    touch = lambda kind, points: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [  # noqa: E731
        {"x": left + x * size, "y": top + y * size} for x, y in points]})
    touch("touchStart", path[:1])
    for (x0, y0), (x1, y1) in zip(path, path[1:]):
        for i in range(1, 5):
            touch("touchMove", [(x0 + (x1 - x0) * i / 4, y0 + (y1 - y0) * i / 4)])
    page.wait_for_function("() => bilstm.pad.penDown() && document.querySelector('#prediction h2').textContent !== ''")
    for selector in ("#sketchpad canvas", "#prediction h2", "#prediction .confidence", "#probabilities .bars"):
        shown = page.locator(selector).bounding_box()
        assert shown["y"] >= 0 and shown["y"] + shown["height"] <= 844 and shown["x"] + shown["width"] <= 390, selector
    touch("touchEnd", [])
    assert wait_for_answer(page, "0") == "0"
    assert page.evaluate("() => window.scrollY") == 0  # drawing does not scroll the page
    assert page.locator("#model-input").bounding_box()["y"] < 844 + 400  # a glimpse of the reading within reach
    assert not page.locator("#keys").is_visible()  # no keyboard on a phone: no keyboard hint
    assert page.locator("#title").bounding_box()["height"] < 60  # a compact title
    # the answer comes before the gallery on a phone (one column: canvas, answer, softmax, then the rest)
    assert page.locator("#probabilities .bars").bounding_box()["y"] < page.locator("#gallery").bounding_box()["y"]
    wait_for_server(page)
    if os.environ.get("PHONE_SCREENSHOT"):
        page.screenshot(path=os.environ["PHONE_SCREENSHOT"])
    draw_with_finger(page, [[(0.3 + 0.4 * x, y) for x, y in stroke] for stroke in ONE])  # a second stroke
    wait_for_server(page)
    assert page.evaluate("() => bilstm.stats.where") == "worker"
    page.context.close()


def test_presenter_keys_projector_layout_and_gif(server, browser):
    page, _ = open_page(browser, server, width=1280, height=720)
    # at 1280x720 the canvas, the answer and the row view are on screen without scrolling
    for selector in ("#sketchpad canvas", "#prediction", "#row-reading", "#row-slider", "#play"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720 and box["x"] + box["width"] <= 1280, selector
    assert "Space" in page.locator("#keys").inner_text()  # the one-line hint

    draw(page, [[(0.5 * x + 0.25, y) for x, y in stroke] for stroke in ONE])
    assert wait_for_answer(page, "1") == "1"
    wait_for_server(page)
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

    points_of_one = page.evaluate(POINTS_DRAWN)
    draw(page, [[(0.35, 0.5), (0.65, 0.5)]])
    page.wait_for_function(f"() => ({POINTS_DRAWN})() !== '{points_of_one}'")
    page.keyboard.press("u")  # U undoes the last stroke
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")
    draw(page, [[(0.35, 0.5), (0.65, 0.5)]])
    page.wait_for_function(f"() => ({POINTS_DRAWN})() !== '{points_of_one}'")
    page.keyboard.press("Control+z")  # so does Ctrl+Z
    page.wait_for_function(f"() => ({POINTS_SHOWN})() === '{points_of_one}'")

    # never while typing in a text field
    page.evaluate("() => { const f = document.createElement('input'); f.type = 'text'; f.id = 'typing';"
                  " document.body.prepend(f); }")
    page.locator("#typing").focus()
    page.keyboard.type("cu ")
    page.wait_for_timeout(300)
    assert canvas_ink(page) > 0 and page.evaluate(POINTS_DRAWN) == points_of_one
    page.evaluate("() => document.querySelector('#typing').remove()")

    # every control is reached by keyboard with a visible focus ring
    page.locator("#play").focus()
    assert page.evaluate("() => getComputedStyle(document.querySelector('#play')).outlineStyle") != "none"

    # the GIF of the row walk, for slides
    wait_for_server(page)
    with page.expect_download(timeout=20_000) as download:
        page.locator("#export-gif").click()
    from PIL import Image

    with Image.open(download.value.path()) as gif:
        assert gif.n_frames == 28
    page.keyboard.press("c")  # C clears
    page.wait_for_function("() => document.querySelector('#prediction [data-testid=label-output-value]').textContent.trim() === ''")
    page.context.close()


def test_the_compare_toggle_shows_the_tutorial_s_model_beside_ours(server, browser):
    page, _ = open_page(browser, server)
    draw(page, [[(0.5 * x + 0.25, y) for x, y in stroke] for stroke in SEVEN])
    wait_for_server(page)
    page.locator("#compare input").check()
    page.wait_for_function("() => !document.querySelector('#tutorial-prediction').hidden")
    assert page.locator("#tutorial-reading").is_visible() and "output[:, -1, :]" in page.locator("#tutorial-reading p").inner_text()
    assert page.locator("#prediction .title").inner_text() == "Ours reads"
    page.locator("#compare input").uncheck()
    page.wait_for_function("() => document.querySelector('#tutorial-prediction').hidden")
    page.context.close()


@pytest.mark.parametrize("width, height, phone", [(1280, 720, False), (390, 844, True)], ids=["projector", "phone"])
def test_accessibility_rules_pass_after_drawing(server, browser, width, height, phone):
    """axe-core's WCAG 2.1 A/AA rules, on the page with a reading on it (and a number, with its digit buttons)."""
    page, _ = open_page(browser, server, width=width, height=height, phone=phone)
    draw(page, [[(x * 0.5 + 0.05, y) for x, y in stroke] for stroke in SEVEN])
    draw(page, [[(x * 0.5 + 0.45, y) for x, y in stroke] for stroke in ONE])
    wait_for_server(page)
    assert axe_violations(page) == []
    page.context.close()


@pytest.fixture
def others_reading(server):
    """Background load: four scripts reading digits through the API as fast as they can, while the test runs."""
    import threading

    from gradio_client import Client

    from harness import DIGIT_STROKES, pen_path

    stop, threads = threading.Event(), []

    def script(index: int) -> None:
        client = Client(server, verbose=False, ssl_verify=False)
        strokes = pen_path(DIGIT_STROKES[sorted(DIGIT_STROKES)[index % 5]])
        while not stop.is_set():
            client.predict({"width": 280, "height": 280, "strokes": strokes}, api_name="/predict_strokes")

    for index in range(4):
        threads.append(threading.Thread(target=script, args=(index,), daemon=True))
        threads[-1].start()
    yield
    stop.set()
    for thread in threads:
        thread.join(30)


@pytest.mark.parametrize("first", ["gallery", "upload"])
def test_the_newest_action_wins_under_load(server, browser, others_reading, first, tmp_path):
    """A gallery digit (or an upload), then drawing at once, ten times: the canvas keeps the stroke, and the page
    ends on the server's reading of the drawing, never on the older action's (issue: 3 of 5 failed each way)."""
    from PIL import Image

    page, _ = open_page(browser, server)
    photo = tmp_path / "eight.png"
    Image.open(Path(__file__).resolve().parents[1] / "examples" / "digit8_test0061.png").save(photo)
    box = page.locator("#sketchpad canvas").bounding_box()
    for _ in range(10):
        if first == "gallery":
            page.locator("#gallery button[data-name^='digit2_']").first.click()
        else:
            page.locator("#upload input[type=file]").set_input_files(str(photo))
        page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.85 * box["height"], steps=12)
        page.mouse.up()
        wait_for_server(page)
        page.wait_for_timeout(300)  # an older reading arriving late would show now
        assert prediction_text(page) == "1" and canvas_ink(page) > 0
        assert page.evaluate("() => bilstm.state().answer.seq") == page.evaluate("() => bilstm.state().seq")
        page.locator("#clear").click()
    page.context.close()


def test_a_photo_of_paper_shows_what_was_kept(server, browser, tmp_path):
    """An upload of a phone photo (a number on squared paper, training/photos.py): the page shows the number read
    and, under the row view, the ink the paper path kept with a box round each digit (reader/views.kept_picture)."""
    from training.photos import shot

    made = shot("number", 0)
    photo = tmp_path / f"number{made.suffix}"
    photo.write_bytes(made.data)
    page, _ = open_page(browser, server)
    page.locator("#upload input[type=file]").set_input_files(str(photo))
    page.wait_for_function("() => { const img = document.querySelector('#kept img');"
                           " return img && !document.querySelector('#kept').hidden && img.complete && img.naturalWidth > 0; }",
                           timeout=20_000)
    assert page.evaluate("() => document.querySelector('#kept img').src").startswith("data:image/png;base64,")
    digits = page.evaluate("() => bilstm.state().answer.digits.length")
    assert digits == len(made.label)  # one box for each digit written
    if os.environ.get("KEPT_SCREENSHOT"):
        page.screenshot(path=os.environ["KEPT_SCREENSHOT"], full_page=True)
    page.locator("#clear").click()
    page.wait_for_function("() => document.querySelector('#kept').hidden")
    page.context.close()

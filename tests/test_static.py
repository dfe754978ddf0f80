"""The static build (build_static.py): the page with no Python behind it, served by a plain file server with every
other host blocked, or opened from disk; it reads in a Web Worker under its own Content-Security-Policy, draws,
reads, walks, fits a finger on a phone and passes axe-core's WCAG 2.1 A/AA rules (pytest + Playwright + Debian
Chromium)."""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

import build_static
import frontend
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
)

# The ids the Gradio page has and the static page keeps (upload, compare and the GIF are the Gradio app's)
IDS = ["sketchpad", "prediction", "probabilities", "model-input", "row-reading", "hidden-states", "belief-curves",
       "row-importance", "row-slider", "play", "undo", "clear", "gallery"]


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built folder, served as `python -m http.server -d DIR` serves it -> its URL."""
    folder = tmp_path_factory.mktemp("site")
    build_static.build(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()



def open_offline(browser, url: str, width=1280, height=720, phone=False):
    """The page with every request that is not to url refused, as with the network off -> (page, the URLs
    requested elsewhere); page.problems: the page's errors and the policy's refusals, as the console says them."""
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone,
                                  device_scale_factor=3 if phone else 1)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: page.problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    elsewhere = []

    def route(request_route):
        if request_route.request.url.startswith(url):
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url + "index.html" if url.startswith("file:") else url)
    page.wait_for_function("() => window.bilstm && bilstm.stats.engine")  # the worker started and said so
    return page, elsewhere


def test_the_built_folder_has_the_page_the_scripts_the_weights_and_a_static_space_card(site):
    folder, _ = site
    names = {path.name for path in folder.iterdir()}
    assert {"index.html", "app.css", "index.css", "index.js", *frontend.ENGINE_SCRIPTS, *frontend.PAGE_SCRIPTS,
            "model.js", "config.js", "worker-source.js", "README.md"} <= names
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "sdk: static" in card and "app_file: index.html" in card
    assert "http://" not in (folder / "index.html").read_text().replace("http://www.w3.org", "")  # no host named


def test_draw_read_walk_and_gallery_with_every_other_host_blocked(site, browser):
    _, url = site
    page, elsewhere = open_offline(browser, url)
    for element_id in IDS:
        assert page.locator(f"#{element_id}").count() == 1, element_id
    draw(page, [[(x * 0.5 + 0.25, y) for x, y in stroke] for stroke in SEVEN])
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '7'")
    assert page.evaluate("() => [bilstm.stats.where, bilstm.stats.engine]") == ["worker", "webassembly"]
    page.keyboard.press("Home")
    assert page.locator("#row-caption").inner_text().startswith("Row 1.")
    page.keyboard.press("c")
    draw(page, [[(x * 0.5 + 0.05, y) for x, y in stroke] for stroke in FOUR])
    draw(page, [[(x * 0.5 + 0.45, y) for x, y in stroke] for stroke in ONE])
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '41'")
    page.locator("#gallery button[data-name^='digit9_']").first.click()
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '9'")
    page.locator("#undo").click()  # nothing to undo after a gallery digit: the reading stays
    assert prediction_text(page) == "9"
    page.locator("#clear").click()  # Clear clears it: back to the prompt
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === ''")
    assert elsewhere == []
    assert axe_violations(page) == []
    page.context.close()


def test_opened_from_disk_like_a_usb_stick(site, browser):
    folder, _ = site
    page, elsewhere = open_offline(browser, folder.as_uri() + "/")
    draw(page, [[(x * 0.5 + 0.25, y) for x, y in stroke] for stroke in ONE])
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '1'")
    page.wait_for_function("() => bilstm.state().reading && bilstm.state().reading.top_down")  # and its row views
    assert page.evaluate("() => [bilstm.stats.where, bilstm.stats.engine]") == ["worker", "webassembly"]
    assert elsewhere == [] and page.problems == []
    page.context.close()


def test_the_content_security_policy_holds_from_a_server_and_from_disk(site, browser):
    """The page's own policy: its files run (the scripts, the kernel, the worker from a Blob), nothing inline does,
    nothing is fetched. Without 'wasm-unsafe-eval' the kernel would not compile: the policy is what the page needs."""
    folder, url = site
    page_html = (folder / "index.html").read_text()
    assert page_html.count('http-equiv="Content-Security-Policy"') == 1 and build_static.CSP in page_html
    assert "<script>" not in page_html and "<style>" not in page_html and " style=" not in page_html  # nothing inline
    for where in (url, folder.as_uri() + "/"):
        page, _ = open_offline(browser, where)
        ran = page.evaluate("""() => new Promise(done => {
            const inline = document.createElement("script");
            inline.textContent = "window.inlineRan = true";
            document.body.append(inline);
            fetch("config.js").then(() => done(["fetched", window.inlineRan]), () => done(["refused", window.inlineRan]));
        })""")
        assert ran == ["refused", None], where  # an injected inline script does not run; fetch is refused
        assert any("Content Security Policy" in line for line in page.problems)
        assert page.evaluate("() => [bilstm.stats.where, bilstm.stats.engine]") == ["worker", "webassembly"], where
        page.context.close()
    assert "'wasm-unsafe-eval'" in build_static.CSP and "worker-src blob:" in build_static.CSP


def test_the_phone_page(site, browser):
    """390x844 with touch: a drawing area at least 300 px tall, and the answer and the softmax on screen while a
    finger is still drawing, with no scroll."""
    _, url = site
    page, _ = open_offline(browser, url, width=390, height=844, phone=True)
    box = page.locator("#sketchpad canvas").bounding_box()
    assert box["height"] >= 300 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    canvas = page.evaluate("() => [document.querySelector('#sketchpad canvas').width, document.querySelector('#sketchpad canvas').height]")
    assert abs(canvas[1] / canvas[0] - box["height"] / box["width"]) < 0.01  # the canvas's pixels have its shape
    left, top, size = drawing_area(page)
    cdp = page.context.new_cdp_session(page)
    path = [(0.5 + 0.4 * x - 0.2, y) for x, y in ZERO[0]]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": left + path[0][0] * size, "y": top + path[0][1] * size}]})
    for (x0, y0), (x1, y1) in zip(path, path[1:]):
        for i in range(1, 5):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                {"x": left + (x0 + (x1 - x0) * i / 4) * size, "y": top + (y0 + (y1 - y0) * i / 4) * size}]})
    page.wait_for_function("() => bilstm.pad.penDown() && document.querySelector('#prediction h2').textContent !== ''")
    for selector in ("#sketchpad canvas", "#prediction h2", "#prediction .confidence", "#probabilities .bars"):
        shown = page.locator(selector).bounding_box()
        assert shown["y"] >= 0 and shown["y"] + shown["height"] <= 844, selector  # while the finger is down
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '0'")
    assert page.evaluate("() => window.scrollY") == 0 and not page.locator("#keys").is_visible()
    draw_with_finger(page, [[(0.8 + 0.1 * x, y) for x, y in stroke] for stroke in SEVEN])  # a second stroke, beside it
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent.length === 2")
    assert axe_violations(page) == []
    if os.environ.get("PHONE_SCREENSHOT"):
        page.screenshot(path=os.environ["PHONE_SCREENSHOT"])
    page.context.close()

"""The static build (build_static.py): the page with no Python behind it, served by a plain file server with every
other host blocked, or opened from disk; it draws, reads, walks and passes axe-core's WCAG 2.1 A/AA rules (pytest +
Playwright + Debian Chromium)."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

import build_static
from harness import FOUR, ONE, SEVEN, axe_violations, draw, draw_with_finger, prediction_text

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
    """The page with every request that is not to url refused, as with the network off."""
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    elsewhere = []

    def route(request_route):
        if request_route.request.url.startswith(url):
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url + "index.html" if url.startswith("file:") else url)
    page.wait_for_function("() => window.bilstm")
    return page, elsewhere


def test_the_built_folder_has_the_page_the_scripts_the_weights_and_a_static_space_card(site):
    folder, _ = site
    names = {path.name for path in folder.iterdir()}
    assert {"index.html", "app.css", "engine.js", "kernel.js", "render.js", "canvas.js", "page.js", "model.js",
            "config.js", "README.md"} <= names
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
    assert page.evaluate("() => bilstm.stats.engine") == "webassembly"
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
    assert elsewhere == []
    page.context.close()


def test_the_phone_page(site, browser):
    _, url = site
    page, _ = open_offline(browser, url, width=390, height=844, phone=True)
    draw_with_finger(page, [[(x * 0.5 + 0.25, y) for x, y in stroke] for stroke in SEVEN])
    page.wait_for_function("() => document.querySelector('#prediction h2').textContent === '7'")
    for selector in ("#sketchpad canvas", "#prediction h2", "#prediction .confidence", "#probabilities .bars"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, selector
    assert page.evaluate("() => window.scrollY") == 0 and not page.locator("#keys").is_visible()
    assert axe_violations(page) == []
    page.context.close()

"""The guards together: a page used as people use it is never refused, and behind a proxy (Settings.proxy_hops)
a real browser's page is counted as the visitor the proxy names and still never refused, while a forwarded
loopback address gets no exemption (pytest, CPU; raw HTTP/1.1 against the app launched in-process, and
`python demo.py` with DEMO_PROXY_HOPS=1 driven by Chromium)."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import drawing
from harness import (
    DIGIT_STROKES,
    ONE,
    SEVEN,
    api_index,
    at_once,
    draw,
    event_body,
    pen_path,
    request_bytes,
    send_raw,
    start_server,
)
from server.settings import PER_ADDRESS_EVENTS


def join(url: str, body: bytes, source: str, **headers: str) -> int:
    return send_raw(url, request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body)),
                                       **headers), source=source)[0]


def read_until_completed(url: str, session: str, source: str, count: int = 1) -> None:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as http:
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            completed = 0
            for line in stream.iter_lines():
                completed += "process_completed" in line
                if completed == count:
                    return


def test_a_page_used_as_people_use_it_is_never_refused_under_load(url):
    """Every event the page can have on its way at once (a gallery digit, the finished drawing, an upload, the
    compare toggle, the GIF), sent together six times while six other people read drawings: no 429."""
    stop, session, source = threading.Event(), "a-busy-page", "127.0.0.27"
    fns = {name: api_index(url, name) for name in ("read_example", "predict_strokes", "read_image",
                                                    "compare_changed", "export_gif")}

    def other_person(index: int) -> None:
        while not stop.is_set():
            other, address = f"other-{index}-{uuid.uuid4().hex}", f"127.0.0.{40 + index}"
            body = event_body(fns["predict_strokes"], [drawing(pen_path(DIGIT_STROKES["1"])), False], other)
            if join(url, body, address) == 200:
                read_until_completed(url, other, address)

    strokes = json.dumps(drawing(pen_path(DIGIT_STROKES["7"])))
    example = json.dumps({"example": "digit7_test0000.png", "seq": 1})
    page = [event_body(fns["read_example"], [example, False], session),
            event_body(fns["predict_strokes"], [strokes, False], session),
            event_body(fns["read_image"], [None, False, None], session),
            event_body(fns["compare_changed"], [None, True], session),
            event_body(fns["export_gif"], [None], session)]
    with ThreadPoolExecutor(6) as load:
        for index in range(6):
            load.submit(other_person, index)
        try:
            statuses = []
            for _ in range(6):
                statuses += at_once([lambda body=body: join(url, body, source) for body in page])
                read_until_completed(url, session, source, count=len(page))
        finally:
            stop.set()
    assert statuses == [200] * len(statuses), statuses


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory):
    """`python demo.py` told that one proxy stands in front (DEMO_PROXY_HOPS=1), as on a Space."""
    cache = tmp_path_factory.mktemp("gradio-cache")
    with start_server(env={"DEMO_PROXY_HOPS": "1", "GRADIO_TEMP_DIR": str(cache)}) as (server, process, _):
        yield server.rstrip("/")


def test_a_forwarded_loopback_is_counted_like_anyone(behind_proxy):
    """The issue: with a proxy trusted, X-Forwarded-For: 127.0.0.1 from a private peer got 120 of 120 joins in,
    no cap, no rate. Now the proxy's entry counts as any address does."""
    fn = api_index(behind_proxy, "predict_strokes")
    bodies = [event_body(fn, [drawing(pen_path(DIGIT_STROKES["7"])), False], uuid.uuid4().hex) for _ in range(120)]
    codes = at_once([lambda body=body: join(behind_proxy, body, "127.0.0.73", X_Forwarded_For="127.0.0.1")
                     for body in bodies])
    assert codes.count(200) <= PER_ADDRESS_EVENTS and codes.count(429) >= 120 - PER_ADDRESS_EVENTS, codes
    # what a visitor writes to the left of the proxy's entry is not used: a new claim does not reset the count
    other = [join(behind_proxy, body, "127.0.0.73", X_Forwarded_For=f"198.51.100.{i}, 127.0.0.1")
             for i, body in enumerate(bodies[:5])]
    assert other == [429] * 5
    # another visitor the proxy names is served
    body = event_body(fn, [drawing(pen_path(DIGIT_STROKES["1"])), False], "another-visitor")
    assert join(behind_proxy, body, "127.0.0.73", X_Forwarded_For="203.0.113.77") == 200


def test_a_real_page_behind_a_proxy_is_never_refused(behind_proxy, browser, tmp_path):
    """Chromium as a visitor the proxy names (203.0.113.50, not exempt): opening the page three times, drawing,
    a gallery digit, an upload, compare, the GIF and the API page; not one of its requests is refused."""
    from PIL import Image, ImageDraw

    refused = []
    photo = tmp_path / "one.png"
    picture = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(picture).line([(100, 20), (100, 180)], fill=0, width=14)
    picture.save(photo)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  extra_http_headers={"X-Forwarded-For": "203.0.113.50"})
    page = context.new_page()
    page.on("response", lambda response: response.status >= 400 and refused.append(
        (response.status, response.url)))
    for _ in range(3):
        page.goto(behind_proxy + "/")
        page.wait_for_function("() => window.bilstm && document.querySelector('#reading .reading')")
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(500)
    for strokes in (SEVEN, ONE, SEVEN):
        draw(page, strokes)
        page.wait_for_function("() => document.querySelector('#reading .reading').dataset.from === 'server'",
                               timeout=15_000)
        page.locator("#clear").click()
    draw(page, SEVEN)
    page.locator("#gallery button[data-name^='digit2_']").first.click()
    page.locator("#compare input").check()
    page.locator("#upload input[type=file]").set_input_files(str(photo))
    page.wait_for_timeout(2000)
    with page.expect_download(timeout=20_000):
        page.locator("#export-gif").click()
    page.goto(behind_proxy + "/?view=api")
    page.wait_for_timeout(2000)
    context.close()
    assert refused == [], refused

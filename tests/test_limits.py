"""A public Space strangers cannot stall: bodies bounded before Gradio parses them, uploads limited to a
few files, a session's queued events capped, monitoring off, unknown endpoints answered in a sentence, and
the newest reading of a session always wins (pytest, CPU; raw HTTP and gradio_client against the app
launched in-process). The before/after numbers are printed by `python -m bench.hostile`."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from PIL import Image

import limits
from conftest import drawing
from harness import DIGIT_STROKES, pen_path


@pytest.fixture(scope="module")
def url(app) -> str:
    return app.demo.local_url.rstrip("/")


def fn_index(url: str, api_name: str) -> int:
    config = httpx.get(f"{url}/config").json()
    return next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name)


def test_a_body_far_larger_than_any_drawing_is_refused_unread(url):
    nulls = b'{"data": [{"background": null, "layers": [' + b"null, " * 400_000 + b'null]}], "fn_index": 0}'
    started = time.perf_counter()
    response = httpx.post(f"{url}/gradio_api/queue/join", content=nulls, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "at most 262,144" in response.json()["error"]
    assert time.perf_counter() - started < 5  # refused from its Content-Length, nothing parsed
    assert httpx.get(f"{url}/config").status_code == 200


def test_a_body_without_a_length_is_refused(url):
    def chunks():
        yield b'{"data": []'
        yield b"}"

    response = httpx.post(f"{url}/gradio_api/queue/join", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 411


def test_the_largest_allowed_list_of_nulls_does_not_stall_others(url):
    """A body just under the limit, full of what Gradio validates entry by entry: the page still answers."""
    body = b'{"data": [{"background": null, "layers": [' + b"null," * 50_000 + b'null]}], "fn_index": %d, ' \
           b'"session_hash": "hostile"}' % fn_index(url, "predict")
    assert len(body) < limits.MAX_JSON_BYTES
    slowest = []

    def other_user():
        for _ in range(5):
            started = time.perf_counter()
            assert httpx.get(f"{url}/config", timeout=30).status_code == 200
            slowest.append(time.perf_counter() - started)

    watcher = threading.Thread(target=other_user)
    watcher.start()
    httpx.post(f"{url}/gradio_api/queue/join", content=body, headers={"content-type": "application/json"}, timeout=30)
    watcher.join()
    assert max(slowest) < 1.0, slowest  # the 2.3 MB body held /config for 5.6 s


def test_one_upload_carries_at_most_a_few_files(url, tmp_path):
    Image.new("L", (8, 8), 255).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    many = httpx.post(f"{url}/gradio_api/upload", files=[("files", (f"{i}.png", data)) for i in range(20)])
    assert many.status_code == 413 and "Too many files" in many.json()["error"]
    one = httpx.post(f"{url}/gradio_api/upload", files=[("files", ("a.png", data))])
    assert one.status_code == 200 and len(one.json()) == 1


def test_an_upload_over_one_file_s_worth_is_refused_unread(url):
    response = httpx.post(f"{url}/gradio_api/upload", content=b"x" * (limits.MAX_UPLOAD_BYTES + 200_000),
                          headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413


def test_one_session_cannot_take_the_queue(url, client):
    """66 joins from one session: at most a few are queued, the rest are refused, others are answered."""
    body = {"data": [drawing(pen_path(DIGIT_STROKES["7"]))], "fn_index": fn_index(url, "predict_strokes"),
            "session_hash": "one-greedy-tab", "event_data": None, "trigger_id": None}
    codes = [httpx.post(f"{url}/gradio_api/queue/join", json=body).status_code for _ in range(66)]
    assert codes.count(200) <= limits.MAX_PENDING_PER_SESSION and codes.count(429) >= 66 - limits.MAX_PENDING_PER_SESSION
    answer, *_ = client.predict(drawing(pen_path(DIGIT_STROKES["1"])), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_monitoring_is_off(url):
    assert httpx.get(f"{url}/monitoring").status_code == 403
    assert httpx.get(f"{url}/monitoring/summary").status_code == 403


@pytest.mark.parametrize("how", ["fn_index", "call"])
def test_an_unknown_endpoint_gets_a_sentence(url, how):
    if how == "fn_index":
        response = httpx.post(f"{url}/gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "x"})
    else:
        response = httpx.post(f"{url}/gradio_api/call/no_such_thing", json={"data": []})
    assert response.status_code == 404 and "No such endpoint" in response.json()["error"]


def test_there_is_no_server_side_play(url):
    """The row walk runs in the browser: no event of the app sleeps or streams frames."""
    config = httpx.get(f"{url}/config").json()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert not any(name and "play" in name for name in names)
    assert not any(d.get("types", {}).get("generator") for d in config["dependencies"])


def test_an_older_drawing_never_replaces_a_newer_one(app):
    """Readings of one session finishing out of order: the older one changes nothing (over the API)."""
    from gradio_client import Client

    client = Client(app.demo.local_url, verbose=False, ssl_verify=False)  # a session of its own
    newer = drawing(pen_path(DIGIT_STROKES["1"]), seq=10)
    older = drawing(pen_path(DIGIT_STROKES["7"]), seq=9)
    answer, *_ = client.predict(newer, api_name="/predict_strokes")
    assert answer["digit"] == "1"
    stale = client.predict(older, api_name="/predict_strokes")  # arrives after seq 10 was read
    assert not (isinstance(stale[0], dict) and stale[0].get("digit") == "7")
    # and the order object itself: a reading that started before a newer one is not shown
    order = app.ReadingOrder(capacity=2)
    first, second = order.start("s"), order.start("s")
    assert not order.is_newest("s", first) and order.is_newest("s", second)
    assert order.start("s", seq=5) is not None and order.start("s", seq=4) is None
    order.start("a"), order.start("b")
    assert len(order.sessions) == 2  # bounded: the oldest session is forgotten


def test_gradio_client_sees_a_clear_status_for_a_huge_drawing(client):
    with pytest.raises(Exception, match="413"):
        client.predict(json.dumps(drawing([[[1.5, 2.5]] * 300_000])), api_name="/predict_strokes")

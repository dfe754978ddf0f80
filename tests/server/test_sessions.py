"""Per session: at most 8 events on their way, counted as they arrive; and sessions one address cannot evict
(each session charged to the address whose event made it, at most a tenth of Gradio's store each) (pytest, CPU;
the bookkeeping alone, and raw HTTP/1.1 from loopback addresses against the app launched in-process)."""

from __future__ import annotations

import functools
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import harness
from conftest import drawing
from harness import DIGIT_STROKES, at_once, event_body, pen_path, request_bytes, send_raw
from server.replies import Refusal
from server.sessions import SessionOwners
from server.settings import MAX_PENDING_PER_SESSION, PER_ADDRESS_SESSIONS, SESSIONS


def test_an_address_past_its_share_drops_its_own_least_recently_used_idle_session():
    dropped, busy = [], {"a2"}
    owners = SessionOwners(3, lambda session: session in busy, dropped.append)
    for session in ("a1", "a2", "a3"):
        owners.use(session, "A")
    owners.use("b1", "B")
    owners.use("a1", "A")  # used again: now the most recent
    owners.use("a4", "A")  # past the share: a3 (a2 is busy, a1 was used since)
    assert dropped == ["a3"] and owners.count("A") == 3 and owners.count("B") == 1
    busy |= {"a1", "a4"}
    with pytest.raises(Refusal, match="already has 3 pages with requests waiting"):
        owners.use("a5", "A")
    assert owners.count("B") == 1  # never another address's
    assert (PER_ADDRESS_SESSIONS, SESSIONS) == (100, 1_000)


@functools.cache
def api_index(url: str, api_name: str) -> int | None:
    return harness.api_index(url, api_name)  # the app's config is ~410 KB: read once


def seven() -> list:
    return [drawing(pen_path(DIGIT_STROKES["7"])), False]


def join(url: str, session: str, source: str, fn: int | None = None, data: list | None = None) -> int:
    body = event_body(api_index(url, "predict_strokes") if fn is None else fn, data or seven(), session)
    return send_raw(url, request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body))),
                    source=source)[0]


def results(url: str, session: str, source: str) -> list[dict]:
    """Read the session's result stream until its event completes -> the completed messages."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as http:
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if "process_completed" in line:
                    return [json.loads(line.removeprefix("data: "))]
    return []


def test_one_session_cannot_take_the_queue(url, client):
    """66 joins from one session: at most a few are queued, the rest are refused, others are answered."""
    codes = [join(url, "one-greedy-tab", "127.0.0.1") for _ in range(66)]
    assert codes.count(200) <= MAX_PENDING_PER_SESSION == 8 and codes.count(429) >= 66 - MAX_PENDING_PER_SESSION
    answer, *_ = client.predict(drawing(pen_path(DIGIT_STROKES["1"])), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_simultaneous_joins_of_one_session_are_counted_one_by_one(url):
    """30 joins of one session sent at the same moment: 27 got in when the count was read before any was
    queued. Now at most the per-session cap, whatever the timing."""
    codes = at_once([lambda: join(url, "thirty-at-once", "127.0.0.21")] * 30)
    assert set(codes) <= {200, 429} and codes.count(200) <= MAX_PENDING_PER_SESSION, codes


def test_a_call_for_a_session_with_its_results_unread_is_refused(url):
    """A session whose results wait unread (8 joins, no stream) is refused on /call too."""
    for _ in range(MAX_PENDING_PER_SESSION):
        assert join(url, "full-call", "127.0.0.22") == 200
    data = json.dumps({"data": [drawing(pen_path(DIGIT_STROKES["1"])), False], "session_hash": "full-call"}).encode()
    status, answer = send_raw(url, request_bytes("POST", "/gradio_api/call/predict_strokes", data,
                                                 Content_Length=str(len(data))), source="127.0.0.22")
    assert status == 429 and b"This page already has" in answer


def test_a_flood_of_sessions_from_one_address_evicts_only_its_own(url, app):
    """Another address makes 120 sessions (each a reading, read): it keeps at most its share in Gradio's store,
    and an honest session's GIF and compare still work (1,100 sessions from one address once evicted one)."""
    holder, honest, source = app.demo.state_holder, "honest-" + uuid.uuid4().hex, "127.0.0.67"
    assert join(url, honest, source) == 200 and results(url, honest, source)[0]["success"]
    flood = [f"flood-{i}-{uuid.uuid4().hex}" for i in range(PER_ADDRESS_SESSIONS + 20)]

    def one(session: str) -> bool:
        while join(url, session, "127.0.0.66") == 429:
            time.sleep(0.1)  # past the address's events a second: as a script would, it waits
        return bool(results(url, session, "127.0.0.66"))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(one, flood))
    kept = [session for session in flood if session in holder.session_data]
    assert len(kept) == PER_ADDRESS_SESSIONS and set(flood[:10]).isdisjoint(kept)  # its oldest were dropped
    assert honest in holder.session_data
    gif = join(url, honest, source, api_index(url, "export_gif"), [None])
    assert gif == 200 and results(url, honest, source)[0]["success"]
    compare = join(url, honest, source, api_index(url, "compare_changed"), [None, True])
    assert compare == 200
    answer = results(url, honest, source)[0]["output"]["data"][0]
    assert answer["digit"] == "7" and "tutorial" in answer


def test_routes_that_made_sessions_without_an_event_are_refused_and_make_none(url, app):
    """/component_server made a session for any session_hash before any check (1,100 posts: all 404, none
    refused, an honest session evicted). Now 404 before Gradio sees it, and no session is made."""
    before = len(app.demo.state_holder.session_data)
    for i in range(200):
        body = json.dumps({"session_hash": f"made-{i}", "component_id": 1, "fn_name": "x", "data": None}).encode()
        status, _ = send_raw(url, request_bytes("POST", "/gradio_api/component_server", body,
                                                Content_Length=str(len(body))), source="127.0.0.68")
        assert status == 404
    assert len(app.demo.state_holder.session_data) == before
    assert not any(s.startswith("made-") for s in app.demo.state_holder.session_data)

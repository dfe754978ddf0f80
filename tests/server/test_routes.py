"""Only the routes the app uses: every route of Gradio's table is allowed with a reason or refused with one,
a route nobody decided on is refused, and a refused route gets 404 before Gradio sees it, with nothing in the
log and nothing written (pytest, CPU; the app's real route table, `python demo.py` over raw HTTP)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from harness import api_index, log_lines, request_bytes, send_raw
from server.routes import ALLOWED, REFUSED, Kind, route_of


def route_table(routes, prefix: str = "") -> set[tuple[str, str]]:
    """(method, path template) of every route an app serves, through included routers and mounts."""
    found = set()
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router (Gradio's /gradio_api one)
            found |= route_table(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes") and hasattr(route, "path"):  # a Mount
            found |= {(method, "*mount*" + path) for method, path in route_table(route.routes, prefix + route.path)}
        elif hasattr(route, "methods") and hasattr(route, "path"):
            found |= {(method, prefix + route.path) for method in route.methods}
        else:
            raise AssertionError(f"a kind of route these tests do not know: {route!r}")
    return found


def sample(template: str) -> str:
    """A request path for a route template: /gradio_api/file={path_or_url:path} -> /gradio_api/file=a/b.png."""
    return re.sub(r"\{[^}:]+:path\}", "a/b.png", re.sub(r"\{([^}:]+)\}", r"x\1", template))


def test_every_route_gradio_serves_is_allowed_or_refused_by_a_decision(app):
    """A future Gradio's new route fails this test until routes.py says why it is allowed or refused."""
    table = route_table(app.demo.server_app.routes)
    allowed = {(method, template) for route in ALLOWED for template in route.gradio for method in route.methods}
    undecided = sorted((method, template) for method, template in table
                       if (method, template) not in allowed and template not in REFUSED)
    assert undecided == [], f"routes neither allowed nor refused in server/routes.py: {undecided}"
    # and every decision is about a route Gradio has (a stale one would hide what it stands for)
    templates = {template for _, template in table}
    assert sorted(t for route in ALLOWED for t in route.gradio if t not in templates) == []
    assert sorted(set(REFUSED) - templates) == []
    assert all(route.why and REFUSED.get(t, "x") for route in ALLOWED for t in route.gradio)


def test_each_decision_matches_the_paths_of_its_routes():
    for route in ALLOWED:
        for template in route.gradio:
            for method in route.methods:
                assert route_of(method, sample(template)) is route, (method, template)
    for template in REFUSED:
        for method in ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"):
            assert route_of(method, sample(template)) is None, (method, template)


@pytest.mark.parametrize("method, path", [("GET", "/gradio_api/a_route_of_gradio_7"), ("POST", "/config"),
                                          ("DELETE", "/"), ("OPTIONS", "/gradio_api/queue/join"),
                                          ("GET", "/gradio_api/call/v2/predict_strokes/123"),
                                          ("POST", "/gradio_api/call/v2/predict_strokes"), ("GET", "/../etc/passwd")])
def test_what_nobody_decided_on_is_refused(method, path):
    assert route_of(method, path) is None


def test_the_kinds_of_the_routes_a_stranger_could_hold_or_flood():
    kinds = {route.name: route.kind for route in ALLOWED}
    assert {name for name, kind in kinds.items() if kind is Kind.STREAM} == {
        "heartbeat", "result stream", "call result", "upload progress"}
    assert {name for name, kind in kinds.items() if kind is Kind.EVENT} == {"join", "call"}


def test_refused_routes_get_404_before_gradio_and_nothing_in_the_log(served):
    """deep_link, process_recording, component_server and every other refused route, as a stranger sends them;
    the deep link writes nothing (once 156 files, +64 MB in 6 s)."""
    server, process = served
    body = json.dumps({"session_hash": "s", "component_id": 1, "fn_name": "x", "data": None}).encode()
    before, statuses = len(log_lines(process)), set()
    for template in REFUSED:
        for method in ("GET", "POST"):
            status, answer = send_raw(server, request_bytes(method, sample(template), body if method == "POST" else
                                                            b"", Content_Length=str(len(body) if method == "POST"
                                                                                    else 0)), source="127.0.0.60")
            statuses.add(status)
    status, _ = send_raw(server, request_bytes("GET", "/gradio_api/deep_link?session_hash=s"), source="127.0.0.60")
    statuses.add(status)
    assert statuses == {404}
    assert log_lines(process)[before:] == []
    assert not (process.cache / "deep_links").exists()


def test_the_api_page_s_curl_flow_works(served):
    """POST /call/<name> then GET its result, as the API page shows."""
    server, _ = served
    drawing = {"width": 280, "height": 280, "strokes": [[[140, 40], [140, 240]]]}
    event = httpx.post(f"{server}/gradio_api/call/predict_strokes", json={"data": [drawing, False]}).json()["event_id"]
    result = httpx.get(f"{server}/gradio_api/call/predict_strokes/{event}", timeout=30).text
    assert "event: complete" in result and '"digit": "1"' in result
    assert api_index(server, "predict_strokes") is not None

"""What the guards do inside Gradio's queue: a result stream that drops releases its session (Gradio 6.31
locked a session out for good after 4 drops) (pytest, CPU; raw HTTP/1.1 against the app launched
in-process)."""

from __future__ import annotations

import socket
import time

import httpx

from conftest import drawing
from harness import DIGIT_STROKES, api_index, event_body, pen_path, port_of, request_bytes, send_raw
from server.settings import MAX_PENDING_PER_SESSION


def test_a_dropped_stream_releases_the_session(url):
    """A client whose result stream drops, again and again: each drop releases its events."""
    session, source, fn = "drops-its-stream", "127.0.0.23", api_index(url, "predict_strokes")
    for _ in range(3 * MAX_PENDING_PER_SESSION):
        body = event_body(fn, [drawing(pen_path(DIGIT_STROKES["7"])), False], session)
        status, _ = send_raw(url, request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body))),
                             source=source)
        assert status == 200
        with socket.create_connection(("127.0.0.1", port_of(url)), source_address=(source, 0)) as sock:
            sock.sendall(f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sock.recv(200)  # the stream has started; now it drops
        time.sleep(0.05)
    time.sleep(0.5)  # an event that was running when its stream dropped finishes
    body = event_body(fn, [drawing(pen_path(DIGIT_STROKES["1"])), False], session)
    status, _ = send_raw(url, request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body))),
                         source=source)
    assert status == 200
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as http:
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            assert any("process_completed" in line for line in stream.iter_lines())

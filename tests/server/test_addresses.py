"""Per address: which address a request counts as (the socket's peer, or the entry a stated number of proxies
wrote; a forwarded loopback is never exempt), and what one address may hold: events, streams held open, loads
a second, upload bytes a minute (pytest, CPU; the bookkeeping on a fake clock, and raw HTTP/1.1 from loopback
addresses against the app launched in-process)."""

from __future__ import annotations

import functools
import socket
import time
import uuid

import httpx
import pytest

import harness
from conftest import drawing
from harness import DIGIT_STROKES, at_once, event_body, pen_path, port_of, request_bytes, send_raw
from server.addresses import AddressLimits, Client, who
from server.replies import Refusal
from server.settings import (
    COSTLY_LOAD,
    LOAD_BURST,
    LOADS_PER_SECOND,
    PER_ADDRESS_EVENTS,
    PER_ADDRESS_STREAMS,
    PER_ADDRESS_UPLOAD_BYTES,
    REFUSAL_HOLD_SECONDS,
    Settings,
)


def scope(peer: str, *headers: tuple[str, str]) -> dict:
    return {"client": (peer, 5000), "state": {}, "headers": [(k.encode(), v.encode()) for k, v in headers]}


def test_without_proxies_the_socket_s_peer_counts_and_forwarded_headers_are_ignored():
    assert who(scope("203.0.113.5"), 0) == Client("203.0.113.5", False)
    assert who(scope("203.0.113.5", ("x-forwarded-for", "198.51.100.1")), 0) == Client("203.0.113.5", False)
    assert who(scope("2001:db8:1:2:3:4:5:6"), 0) == Client("2001:db8:1:2::/64", False)  # a host has a /64


def test_only_this_machine_straight_from_its_socket_is_exempt():
    assert who(scope("127.0.0.1"), 0).exempt and who(scope("::1"), 0).exempt
    assert not who(scope("127.0.0.2"), 0).exempt  # the tests' other loopback addresses are strangers
    for header in ("x-forwarded-for", "forwarded", "x-real-ip"):  # came through a proxy on this machine
        assert not who(scope("127.0.0.1", (header, "127.0.0.1")), 0).exempt
        assert not who(scope("127.0.0.1", (header, "127.0.0.1")), 1).exempt


def test_behind_n_proxies_the_entry_the_outermost_wrote_counts():
    """Each proxy appends the address it saw: with N of them the visitor is the N-th from the right, and what
    the visitor wrote further left is never used."""
    chain = ("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")
    assert who(scope("10.0.0.3", chain), 1).address == "10.0.0.2"
    assert who(scope("10.0.0.3", chain), 2).address == "203.0.113.7"
    assert who(scope("10.0.0.3", ("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.7")), 1).address \
        == "203.0.113.7"  # two headers read as one list
    assert who(scope("10.0.0.3", ("x-forwarded-for", "203.0.113.7:4711")), 1).address == "203.0.113.7"
    assert who(scope("10.0.0.3", ("x-forwarded-for", "[2001:db8::1]:80")), 1).address == "2001:db8::/64"
    assert who(scope("10.0.0.3", ("x-forwarded-for", "203.0.113.7")), 3).address == "203.0.113.7"  # fewer: the first
    assert who(scope("10.0.0.3"), 1) == Client("10.0.0.3", False)  # no header: the peer, not exempt
    # the hole: a private peer forwarding "127.0.0.1" was exempt (120 of 120 accepted)
    assert who(scope("10.16.3.80", ("x-forwarded-for", "127.0.0.1")), 1) == Client("127.0.0.1", False)
    # the socket's peer as connections.py recorded it, whatever uvicorn's proxy handling wrote into "client"
    rewritten = {**scope("127.0.0.1", ("x-forwarded-for", "127.0.0.1")), "state": {"socket_peer": ("10.0.0.9", 1)}}
    assert who(rewritten, 0) == Client("10.0.0.9", False)


def test_a_private_address_forwarded_as_the_client_is_said_once_in_the_log(monkeypatch):
    """Behind more proxies than DEMO_PROXY_HOPS says, every visitor would count as one private address."""
    from server import addresses, log

    said = []
    monkeypatch.setattr(addresses, "_warned", False)
    monkeypatch.setattr(log, "line", said.append)
    for _ in range(3):
        assert who(scope("10.0.0.3", ("x-forwarded-for", "203.0.113.7, 10.0.0.2")), 1).address == "10.0.0.2"
    assert len(said) == 1 and "more than 1 (DEMO_PROXY_HOPS)" in said[0]
    who(scope("10.0.0.3", ("x-forwarded-for", "203.0.113.7, 10.0.0.2")), 2)
    assert len(said) == 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_loads_a_second_with_the_costly_ones_weighing_more():
    clock, stranger = Clock(), Client("203.0.113.9", False)
    limits = AddressLimits(Settings(), None, clock)
    assert (LOADS_PER_SECOND, LOAD_BURST, COSTLY_LOAD) == (20.0, 300.0, 10)
    for _ in range(int(LOAD_BURST) // COSTLY_LOAD):
        limits.take_load(stranger, COSTLY_LOAD)  # 30 openings of the page at once
    with pytest.raises(Refusal) as refused:
        limits.take_load(stranger, 1)
    assert refused.value.status == 429 and refused.value.headers == ((b"retry-after", b"1"),)
    assert refused.value.hold == REFUSAL_HOLD_SECONDS == 1.0  # answered after a second: a flood waits on itself
    clock.now += 1 / LOADS_PER_SECOND
    limits.take_load(stranger, 1)  # a token a twentieth of a second
    for _ in range(1000):
        limits.take_load(Client("127.0.0.1", True), COSTLY_LOAD)  # this machine: never counted


def test_upload_bytes_a_minute():
    clock, stranger = Clock(), Client("203.0.113.9", False)
    limits = AddressLimits(Settings(), None, clock)
    assert PER_ADDRESS_UPLOAD_BYTES == 20 * 2**20
    limits.take_upload(stranger, 10 * 2**20)
    limits.take_upload(stranger, 10 * 2**20)
    with pytest.raises(Refusal, match="uploaded its 20 MB for this minute"):
        limits.take_upload(stranger, 2**20)
    clock.now += 3.0  # a minute gives back 20 MB: 3 s gives back 1 MB
    limits.take_upload(stranger, 2**20)


def test_streams_held_per_address():
    limits, stranger = AddressLimits(Settings(), None), Client("203.0.113.9", False)
    assert PER_ADDRESS_STREAMS == 32
    held = [limits.holding_stream(stranger) for _ in range(PER_ADDRESS_STREAMS)]
    for stream in held:
        stream.__enter__()
    with pytest.raises(Refusal, match="already holds 32 open streams"):
        limits.holding_stream(stranger).__enter__()
    with limits.holding_stream(Client("203.0.113.10", False)):
        pass  # another address is not affected
    held[0].__exit__(None, None, None)
    with limits.holding_stream(stranger):
        pass  # one closed: one more may open


def heartbeat(url: str, source: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(url)), source_address=(source, 0), timeout=10)
    sock.sendall(f"GET /gradio_api/heartbeat/{uuid.uuid4().hex} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def test_held_streams_are_capped_per_address_and_others_are_served(url):
    """1,000 held heartbeats from one address once took every descriptor: now the 33rd is refused."""
    held = [heartbeat(url, "127.0.0.62") for _ in range(PER_ADDRESS_STREAMS)]
    try:
        assert all(sock.recv(12) == b"HTTP/1.1 200" for sock in held)
        refused = heartbeat(url, "127.0.0.62")
        assert refused.recv(12) == b"HTTP/1.1 429"
        refused.close()
        other = heartbeat(url, "127.0.0.63")
        assert other.recv(12) == b"HTTP/1.1 200"
        other.close()
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)  # the server notices the streams closed
    again = heartbeat(url, "127.0.0.62")
    assert again.recv(12) == b"HTTP/1.1 200"
    again.close()


@pytest.mark.parametrize("path", ["/theme.css", "/gradio_api/queue/status"], ids=["allowed", "refused"])
def test_a_flood_of_loads_from_one_address_is_refused_and_others_are_served(url, path):
    """Any route, one the page uses or one refused (404): about LOAD_BURST at once, then 429, held a second."""
    source = "127.0.0.64" if path == "/theme.css" else "127.0.0.65"
    answered, started = 0, time.perf_counter()
    while (status := send_raw(url, request_bytes("GET", path), source=source)[0]) != 429:
        assert status in (200, 404)
        answered, started = answered + 1, time.perf_counter()
        assert answered < 400
    assert 300 <= answered < 360
    assert time.perf_counter() - started >= 0.9 * REFUSAL_HOLD_SECONDS  # the refusal was held
    assert send_raw(url, request_bytes("GET", "/theme.css"), source="127.0.0.66")[0] == 200


@functools.cache
def api_index(url: str, api_name: str) -> int | None:
    return harness.api_index(url, api_name)  # the app's config is ~410 KB: read once


def seven(session: str | None = None) -> list:
    return [drawing(pen_path(DIGIT_STROKES["7"])), False]


def join(url: str, session: str, source: str, **headers: str) -> int:
    body = event_body(api_index(url, "predict_strokes"), seven(), session)
    return send_raw(url, request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body)),
                                       **headers), source=source)[0]


def read_until_completed(url: str, session: str, source: str) -> float:
    """Open the session's result stream and read until its reading arrives -> seconds it took."""
    started = time.perf_counter()
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as http:
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if "process_completed" in line:
                    return time.perf_counter() - started
    raise AssertionError("the stream ended without a result")


def test_one_address_cannot_take_the_queue_from_another(url):
    """40 joins at once from one address, each with a fresh session: at most the per-address cap get in, the
    rest are refused; a person on another address is answered."""
    fn = api_index(url, "predict_strokes")
    bodies = [event_body(fn, seven(), uuid.uuid4().hex) for _ in range(40)]
    codes = at_once([lambda body=body: send_raw(url, request_bytes(
        "POST", "/gradio_api/queue/join", body, Content_Length=str(len(body))), source="127.0.0.24")[0]
        for body in bodies])
    assert codes.count(200) <= PER_ADDRESS_EVENTS == 16 and codes.count(429) >= 40 - PER_ADDRESS_EVENTS
    assert join(url, "honest", "127.0.0.25") == 200
    read_until_completed(url, "honest", "127.0.0.25")


def test_this_machine_is_not_limited_per_address_but_a_forwarded_loopback_is(url):
    """127.0.0.1 is the presenter's browser, the tests and the benchmarks: 40 joins at once, all in. The same
    from 127.0.0.1 with X-Forwarded-For: 127.0.0.1 (a proxy on this machine) is counted like anyone."""
    fn = api_index(url, "predict_strokes")

    def joins(**headers: str) -> list:
        bodies = [event_body(fn, seven(), uuid.uuid4().hex) for _ in range(40)]
        return at_once([lambda body=body: send_raw(url, request_bytes(
            "POST", "/gradio_api/queue/join", body, Content_Length=str(len(body)), **headers))[0] for body in bodies])

    assert joins() == [200] * 40
    time.sleep(3)  # the 40 readings are answered
    forwarded = joins(X_Forwarded_For="127.0.0.1")
    assert forwarded.count(200) <= PER_ADDRESS_EVENTS and forwarded.count(429) >= 40 - PER_ADDRESS_EVENTS

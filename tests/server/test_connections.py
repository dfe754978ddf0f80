"""Connections before any request: headers within a deadline, at most a few dozen open from one peer, and
never so many that accept() fails (pytest, CPU; raw sockets from loopback addresses against the app launched
in-process, and against `python demo.py` held to 512 descriptors)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from harness import log_lines, port_of, request_bytes, send_raw, start_server
from server import connections
from server.settings import DESCRIPTORS_KEPT, HEADER_SECONDS, PER_PEER_CONNECTIONS


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def open_idle(url: str, source: str, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        socks.append(socket.create_connection(("127.0.0.1", port_of(url)), source_address=(source, 0)))
    time.sleep(0.5)  # the server has accepted them all, and closed what it closes at once
    return socks


@pytest.mark.parametrize("sent", [b"", b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Ty"])
def test_a_connection_that_sends_no_request_is_closed(url, monkeypatch, sent):
    """Idle and header-only connections: uvicorn kept them until the client went (each holds a descriptor)."""
    assert HEADER_SECONDS == 20.0
    monkeypatch.setattr(connections, "HEADER_SECONDS", 0.5)
    with socket.create_connection(("127.0.0.1", port_of(url)), source_address=("127.0.0.28", 0)) as sock:
        sock.sendall(sent)
        sock.settimeout(10)
        assert sock.recv(65536) == b""  # closed by the server, not by the 10 s timeout (that raises)
    with socket.create_connection(("127.0.0.1", port_of(url)), source_address=("127.0.0.28", 0)) as sock:
        sock.settimeout(10)
        time.sleep(0.2)  # an honest client sends at once
        sock.sendall(b"GET /config HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"


def test_one_peer_holds_at_most_a_few_dozen_connections(url):
    assert PER_PEER_CONNECTIONS == 64
    socks = open_idle(url, "127.0.0.69", 100)
    try:
        assert sum(map(still_open, socks)) == PER_PEER_CONNECTIONS
        assert send_raw(url, request_bytes("GET", "/config"), source="127.0.0.70")[0] == 200
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.3)
    assert send_raw(url, request_bytes("GET", "/config"), source="127.0.0.69")[0] == 200  # released when closed


def test_descriptors_do_not_run_out(tmp_path):
    """A server held to 512 descriptors (as `ulimit -n 512`): one address cannot take them (it keeps 64 of 500
    connections); eight addresses together fill the connections allowed (512 - 128 kept) and the rest are
    closed at once, so accept() never fails and the log stays quiet (at 1,024 descriptors and no cap asyncio
    logged 220,646 tracebacks in 21 s); when they go, everyone is served again."""
    assert DESCRIPTORS_KEPT == 128
    with start_server(descriptors=512, env={"GRADIO_TEMP_DIR": str(tmp_path)}) as (server, process, _):
        before = len(log_lines(process))
        socks = open_idle(server, "127.0.0.71", 500)
        assert sum(map(still_open, socks)) == PER_PEER_CONNECTIONS
        assert httpx.get(f"{server}config", timeout=10).status_code == 200
        socks += [sock for index in range(8) for sock in open_idle(server, f"127.0.1.{100 + index}", 60)]
        assert sum(map(still_open, socks)) == 512 - DESCRIPTORS_KEPT  # the rest closed at once
        for sock in socks:
            sock.close()
        time.sleep(0.5)
        assert send_raw(server, request_bytes("GET", "/config"), source="127.0.0.72")[0] == 200
        new = log_lines(process)[before:]
        assert len(new) <= 5 and not any("Traceback" in line for line in new), new[:20]

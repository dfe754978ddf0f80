"""Which address a request counts as, and what one address may hold: events waiting or running and their rate,
streams held open, loads (everything that is not an event) a second, and upload bytes a minute.

Which address. The socket's peer, unless Settings.proxy_hops says how many proxies stand in front: each appends
the address it saw to X-Forwarded-For, so with N of them the visitor is the N-th entry from the right (the one
the outermost proxy wrote), and anything the visitor wrote there, further left, is never used. 0 (the default
off a Space) ignores the header. IPv6 clients are counted by their /64 (one host is usually given a whole /64).
This machine (127.0.0.1, ::1: the presenter's browser, the tests, the benchmarks) is exempt from per-address
limits, but only a request that came straight from it: one that carries a forwarded header came through a proxy
and counts as the address forwarded (a forwarded loopback address is never exempt).
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from typing import NamedTuple

from server import log
from server.gradio_internals import GradioInternals, QueuedEvent
from server.replies import Refusal, retry_after
from server.settings import REFUSAL_HOLD_SECONDS, UNDELIVERED_SECONDS, Settings
from server.shares import QueueShares, TokenBuckets

THIS_MACHINE = frozenset({"127.0.0.1", "::1"})
FORWARDED_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})
SOCKET_PEER = "socket_peer"  # scope["state"] key: the connection's peer, as connections.py saw it


class Client(NamedTuple):
    address: str
    exempt: bool  # this machine, straight from its socket


def _host_of(entry: str) -> str:
    """An X-Forwarded-For entry -> its host: "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80", "2001:db8::1"."""
    entry = entry.strip()
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def _counted(host: str) -> str:
    """An address as it is counted: IPv6 by its /64."""
    if ":" in host:
        try:
            return str(ipaddress.ip_network(f"{host}/64", strict=False))
        except ValueError:
            pass
    return host


def _private(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False


_warned = False


def who(scope, proxy_hops: int) -> Client:
    """The client a request counts as."""
    global _warned
    peer = (scope.get("state") or {}).get(SOCKET_PEER) or scope.get("client") or ("",)
    host = peer[0]
    forwarded = [value for name, value in scope["headers"] if name in FORWARDED_HEADERS]
    if not forwarded:
        return Client(_counted(host), host in THIS_MACHINE)
    if proxy_hops:
        chain = [entry for name, value in scope["headers"] if name == b"x-forwarded-for"
                 for entry in value.decode("latin-1").split(",") if entry.strip()]
        if chain:
            host = _host_of(chain[-proxy_hops] if len(chain) >= proxy_hops else chain[0])
            if _private(host) and not _warned:
                _warned = True
                log.line(f"X-Forwarded-For names a private address ({host}) as the client: the proxies in front may "
                         f"be more than {proxy_hops} (DEMO_PROXY_HOPS); every visitor may be counted as one address")
    return Client(_counted(host), False)


class AddressLimits:
    """What each address holds, against Settings; every check raises a Refusal with a sentence, or counts."""

    def __init__(self, settings: Settings, gradio: GradioInternals | None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        # An address's undelivered results count for UNDELIVERED_SECONDS only, so one client that never reads
        # them cannot lock out the people who share its address.
        self.events = QueueShares(gradio, UNDELIVERED_SECONDS, clock)
        self.event_rates = TokenBuckets(settings.per_address_rate, settings.per_address_burst, clock)
        self.loads = TokenBuckets(settings.loads_per_second, settings.load_burst, clock)
        self.uploads = TokenBuckets(settings.per_address_upload_bytes / 60, settings.per_address_upload_bytes, clock)
        self.streams: Counter[str] = Counter()

    def start_event(self, client: Client) -> None:
        """A request that queues or runs an event: counted from here (before its body is read) until
        finish_event."""
        settings, address = self.settings, client.address
        if not client.exempt:
            if settings.per_address and self.events.count(address) >= settings.per_address:
                raise Refusal(429, f"Your address already has {settings.per_address} requests waiting; try again "
                                   "when they are answered.")
            if settings.per_address_rate:
                wait = self.event_rates.take(address)
                if wait:
                    raise Refusal(429, "Too many requests from your address; try again in a moment.",
                                  retry_after(wait), hold=REFUSAL_HOLD_SECONDS)
        self.events.start(address)

    def finish_event(self, client: Client, event: QueuedEvent | None = None) -> None:
        self.events.finish(client.address, event)

    def take_load(self, client: Client, cost: int) -> None:
        if client.exempt or not self.settings.loads_per_second:
            return
        wait = self.loads.take(client.address, cost)
        if wait:
            raise Refusal(429, "Too many requests from your address; try again in a moment.", retry_after(wait),
                          hold=REFUSAL_HOLD_SECONDS)

    def take_upload(self, client: Client, length: int) -> None:
        if client.exempt or not self.settings.per_address_upload_bytes:
            return
        wait = self.uploads.take(client.address, length)
        if wait:
            raise Refusal(429, f"Your address has uploaded its {self.settings.per_address_upload_bytes // 2**20} MB "
                               f"for this minute; try again in {wait:.0f} s.", retry_after(wait))

    @contextmanager
    def holding_stream(self, client: Client):
        """A stream held open (a heartbeat, a result stream, an upload's progress), counted while it is."""
        cap = self.settings.per_address_streams
        if not client.exempt and cap and self.streams[client.address] >= cap:
            raise Refusal(429, f"Your address already holds {cap} open streams (pages or clients); close some "
                               "and try again.")
        self.streams[client.address] += 1
        try:
            yield
        finally:
            self.streams[client.address] -= 1
            if self.streams[client.address] <= 0:
                del self.streams[client.address]

    def sweep(self) -> None:
        self.events.sweep()
        for buckets in (self.event_rates, self.loads, self.uploads):
            buckets.sweep()

"""Connections, before any request: uvicorn's HTTP protocol with a deadline for headers, a cap per socket peer,
and a cap under the process's descriptor limit, so that running out of descriptors is not reachable from one
address and accept() never fails.

    connections.install(settings)   # demo.launch(): uvicorn's "auto" HTTP protocol becomes GuardedProtocol

- Headers within HEADER_SECONDS of opening the connection or of its last response, or it is closed: uvicorn
  closes a connection that is idle after a response (timeout_keep_alive, 5 s), but never one that has sent
  nothing, or part of its headers (any byte cancels the keep-alive timer). A body in progress is not affected:
  Settings.body_idle_seconds bounds it (server/bodies.py).
- At most Settings.per_peer_connections open from one socket peer, when no proxy is in front (proxy_hops 0);
  past it the new connection is closed at once. This machine is not capped (a proxy on it, the tests). Behind
  proxies every connection comes from a proxy; the per-address stream cap (addresses.py) holds each visitor.
- A connection whose descriptor lies within DESCRIPTORS_KEPT of the soft limit on open descriptors is closed at
  once: descriptors are handed out lowest first, so its number says how many are in use (connections, and
  everything else: files, pipes, Gradio's own sockets), and the ones kept keep the server working and
  accept() from failing (at 1,024 descriptors and no cap, 1,100 held heartbeats from one address left an
  honest request to time out and asyncio's accept loop logged 992,652 lines in 21 s).
- Each request's scope["state"]["socket_peer"] is the connection's peer as the socket says, whatever uvicorn's
  proxy-header handling later writes into scope["client"] (addresses.who decides what counts).
"""

from __future__ import annotations

import asyncio
import resource
from collections import Counter

from uvicorn.protocols.http.h11_impl import H11Protocol

from server.addresses import SOCKET_PEER, THIS_MACHINE
from server.settings import DESCRIPTORS_KEPT, DESCRIPTORS_WANTED, HEADER_SECONDS, Settings


def descriptor_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_descriptor_limit(wanted: int = DESCRIPTORS_WANTED) -> int:
    """Raise this process's soft limit on open descriptors towards `wanted` (never past the hard limit) -> the
    soft limit now. Process-wide: launch() only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return descriptor_limit()


class GuardedProtocol(H11Protocol):
    settings = Settings()  # install() sets the server's
    last_descriptor = descriptor_limit() - DESCRIPTORS_KEPT  # install() sets it from the limit then
    open_per_peer: Counter[str] = Counter()  # peer -> connections open now (all servers of this process)

    deadline: asyncio.TimerHandle | None = None
    counted_peer: str | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        peer = self.client[0] if self.client else ""
        cls = GuardedProtocol
        cap = self.settings.per_peer_connections if not self.settings.proxy_hops else 0
        sock = transport.get_extra_info("socket")
        if (sock is not None and sock.fileno() >= cls.last_descriptor) or \
                (cap and peer not in THIS_MACHINE and cls.open_per_peer[peer] >= cap):
            transport.abort()  # closed now: its descriptor is free again before the next accept()
            return
        self.counted_peer = peer
        cls.open_per_peer[peer] += 1
        self.app_state = {**self.app_state, SOCKET_PEER: self.client}
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.counted_peer is not None:
            cls = GuardedProtocol
            cls.open_per_peer[self.counted_peer] -= 1
            if cls.open_per_peer[self.counted_peer] <= 0:
                del cls.open_per_peer[self.counted_peer]
            self.counted_peer = None
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(HEADER_SECONDS, self._expire)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the headers are in: a request is being answered

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _expire(self) -> None:
        self.deadline = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def install(settings: Settings) -> None:
    """Make uvicorn's default ("auto") HTTP protocol GuardedProtocol with these settings, for servers configured
    after this (Gradio makes its uvicorn.Config in launch() and passes no protocol of its own), and raise the
    descriptor limit. Process-wide: launch() only."""
    import uvicorn.config

    GuardedProtocol.settings = settings
    GuardedProtocol.last_descriptor = raise_descriptor_limit() - DESCRIPTORS_KEPT
    uvicorn.config.HTTP_PROTOCOLS["auto"] = f"{__name__}:GuardedProtocol"

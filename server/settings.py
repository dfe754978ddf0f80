"""The limits of a public Space, in one place: every number the guards in server/ enforce, with why.

    from server.settings import Settings
    Settings.from_environment()          # what demo.main() starts from; its flags override through with_*()

Per-address numbers are for one household or office (a few people behind one address); a talk whose audience
reaches a Space through one NAT raises them together with DEMO_PER_ADDRESS_EVENTS (or python demo.py
--per-address-events): streams, sessions, loads, upload bytes and connections scale with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from reader import strokes

# Bodies.
MAX_JSON_BYTES = strokes.MAX_TEXT  # 256 KB: the largest real payload, a drawing of strokes.MAX_POINTS points, is ~200 KB
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one photo or scan
# Values (numbers, strings, lists, ...) in one request's JSON. Gradio copies a request's data value by value in
# its event loop (pydantic's model_dump, ~4 us a value here): a drawing of 10,000 points sent as an object is
# 30,000 values and held everyone for 130 ms. The page sends its drawing as JSON text, one value; a script's
# digit as an object is ~600.
MAX_JSON_VALUES = 5_000
MAX_UPLOAD_FILES = 2  # the page uploads one file per request
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers, on top of one file
PART_HEADER_BYTES = 8 * 1024  # Gradio's limit for one part's headers (GradioMultiPartParser.max_header_size)
BODY_IDLE_SECONDS = 30.0  # a body that stops arriving for this long is given up (phones on slow links pause)
HEADER_SECONDS = 20.0  # a connection sends its request's headers within this long, or is closed (browsers: ms)

# Sessions: Gradio keeps with each one a copy of every component's config and the last value of every input and
# output: ~110 KB a session for a reading of the page's drawing, 1.7 MB for a drawing of 10,000 points sent as
# a JSON object (bench/hostile.py, sessions_memory). 1,000 covers a full lecture hall and bounds that to 1.7 GB;
# past it Gradio drops the least recently used.
SESSIONS = 1_000
# The page's events each have at most one on its way (Gradio's front-end sends a dependency's next event only
# after the last one's result: trigger modes "once" and "always_last"), and it has 5 that reach the server
# (a gallery digit, the finished drawing, an upload, compare, GIF; nothing while the pen moves), and room for
# events still finishing after their stream dropped. So a page used as people use it is never refused by this cap.
MAX_PENDING_PER_SESSION = 8

# Per address (see addresses.py for which address a request counts as). The smaller these are, the less a flood
# from one address delays everyone else: 160 joins a second from one address that reads every result left
# another person's p95 at 0.34-0.50 s with these (3 runs), 0.84 s with 32 events (1 run).
PER_ADDRESS_EVENTS = 16  # waiting or running at once; the queue holds 256 (demo.py), so one address never fills it
PER_ADDRESS_RATE = 20.0  # events a second, sustained (a reading is ~20 ms of the server's CPU: bench/load.py)
PER_ADDRESS_BURST = 40  # events at once after a quiet spell
# Streams held open at once (heartbeats, result streams, upload progress): a page holds 1-3 (its heartbeat, a
# result stream while an event is on its way, an upload's progress), gradio_client 2; a held heartbeat costs
# ~35 KB, and 1,000 of them from one address once left no descriptors for anyone else.
PER_ADDRESS_STREAMS = 32
# Sessions one address may have in Gradio's store at once (a tenth of SESSIONS): past it, its own least recently
# used session is dropped, never another address's; 1,100 sessions from one address once evicted an honest one.
PER_ADDRESS_SESSIONS = SESSIONS // 10
# Everything that is not an event (page loads, assets, streams opened, file downloads, the API's info), in
# tokens: a costly load (the page, its config, the API's info: each serialises the app's ~410 KB config) takes
# COSTLY_LOAD tokens, anything else 1. Opening the page is ~70 tokens (the page, ~55 assets, fonts, theme,
# heartbeat); the burst holds four openings at once, the rate one every 3.5 s after that, and a flood of
# cheap requests from one address is held to 20 a second (four connections on one route once doubled an
# honest pen-up's median, 71 -> 144 ms).
LOADS_PER_SECOND = 20.0
LOAD_BURST = 300.0
COSTLY_LOAD = 10
# A request refused for its address's rate (loads or events a second) is answered after this long, the connection
# held (counted as one of the address's streams) meanwhile: a flood's next request waits for its last refusal, so
# four connections hammering one route send about 4 a second, not hundreds (each refusal still costs the server
# ~0.4 ms; 4 connections on a route once doubled an honest pen-up's median). An honest client never meets it.
REFUSAL_HOLD_SECONDS = 1.0
# Upload bytes one address may send a minute: two of the largest photos (10 x 2 MB once arrived in 0.2 s).
PER_ADDRESS_UPLOAD_BYTES = 2 * MAX_UPLOAD_BYTES
UNDELIVERED_SECONDS = 60.0  # an address's results not read for this long stop counting against it

# Connections (connections.py). Per socket peer when no proxy is in front: a browser opens at most 6 to a host,
# plus its held streams; a peer past this has its next connections closed at once. With a proxy in front every
# connection comes from the proxy, and the per-address stream cap holds each visitor instead.
PER_PEER_CONNECTIONS = 2 * PER_ADDRESS_STREAMS
# Descriptors kept free for the server's own work (uploads being written, Gradio's files, its clients): a
# connection that would take one of them is closed at once, so accept() never fails (at 1,024 descriptors
# asyncio's accept loop once logged 220,646 tracebacks in 21 s).
DESCRIPTORS_KEPT = 128
DESCRIPTORS_WANTED = 65_536  # launch() raises the process's soft limit towards this (never past its hard limit)


@dataclass(frozen=True)
class Settings:
    """The limits one server applies (demo.main() fills it from its flags and the environment); 0 turns a
    per-address limit off."""

    max_json: int = MAX_JSON_BYTES
    max_values: int = MAX_JSON_VALUES
    max_upload: int = MAX_UPLOAD_BYTES
    max_files: int = MAX_UPLOAD_FILES
    body_idle_seconds: float = BODY_IDLE_SECONDS
    per_session: int = MAX_PENDING_PER_SESSION
    per_address: int = PER_ADDRESS_EVENTS
    per_address_rate: float = PER_ADDRESS_RATE
    per_address_burst: float = PER_ADDRESS_BURST
    per_address_streams: int = PER_ADDRESS_STREAMS
    per_address_sessions: int = PER_ADDRESS_SESSIONS
    loads_per_second: float = LOADS_PER_SECOND
    load_burst: float = LOAD_BURST
    per_address_upload_bytes: int = PER_ADDRESS_UPLOAD_BYTES
    per_peer_connections: int = PER_PEER_CONNECTIONS
    # Proxies in front of the app that each append the address they saw to X-Forwarded-For (addresses.py):
    # 0 ignores the header; on a Hugging Face Space ($SPACE_ID set) the default is 1.
    proxy_hops: int = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """DEMO_PER_ADDRESS_EVENTS (and the shares that scale with it), DEMO_PER_ADDRESS_RATE (events a second;
        the burst is 2 seconds' worth or PER_ADDRESS_BURST, whichever is more) and DEMO_PROXY_HOPS override the
        defaults; SPACE_ID (set on every Hugging Face Space) makes the default proxy_hops 1."""
        settings = cls(proxy_hops=1 if environ.get("SPACE_ID") else 0)
        if "DEMO_PER_ADDRESS_EVENTS" in environ:
            settings = settings.with_events(int(environ["DEMO_PER_ADDRESS_EVENTS"]))
        if "DEMO_PER_ADDRESS_RATE" in environ:
            settings = settings.with_rate(float(environ["DEMO_PER_ADDRESS_RATE"]))
        if "DEMO_PROXY_HOPS" in environ:
            settings = settings.with_proxy_hops(int(environ["DEMO_PROXY_HOPS"]))
        return settings

    def with_events(self, events: int) -> Settings:
        """Events per address, and the other per-address shares in proportion (0: no per-address limits)."""
        scale = events / PER_ADDRESS_EVENTS
        return replace(self, per_address=events, per_address_streams=round(PER_ADDRESS_STREAMS * scale),
                       per_address_sessions=round(PER_ADDRESS_SESSIONS * scale),
                       loads_per_second=LOADS_PER_SECOND * scale, load_burst=LOAD_BURST * scale,
                       per_address_upload_bytes=round(PER_ADDRESS_UPLOAD_BYTES * scale),
                       per_peer_connections=round(PER_PEER_CONNECTIONS * scale))

    def with_rate(self, rate: float) -> Settings:
        return replace(self, per_address_rate=rate, per_address_burst=max(PER_ADDRESS_BURST, 2 * rate))

    def with_proxy_hops(self, hops: int) -> Settings:
        if hops < 0:
            raise ValueError(f"proxy hops is a count of proxies, 0 or more; got {hops}")
        return replace(self, proxy_hops=hops)

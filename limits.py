"""Request limits for a public Space: bodies are bounded by the bytes that arrive, and no client address or
session can take the queue from everyone else (ASGI middleware, before Gradio reads a byte).

    demo.launch()   # adds limits.middleware(demo.demo, ...) to the app and limits.bound_connections()
    python -m pytest tests/test_limits.py; python -m bench.hostile   # what they do, and what they cost

Connections that send no request headers within HEADER_SECONDS are closed (HeaderDeadlineProtocol).
Bodies. uvicorn's parser (h11) frames a body by Transfer-Encoding when a request carries both framings, so
the Content-Length header alone bounds nothing: 10 MB sent chunked under "Content-Length: 100" was read
whole (issue 15). Here:
  - a request with both Content-Length and Transfer-Encoding gets 400, unread (RFC 9112 6.3 allows it);
  - a body without a Content-Length (chunked) gets 411, unread: no client of this app sends one (the page's
    fetch and gradio_client send a length), and a length lets a too-large body be refused before any of it;
  - every body's bytes are counted as they arrive, whatever the headers say, and the request is stopped at
    the limit with 413: MAX_JSON_BYTES, or one file's worth for an upload;
  - a body whose bytes stop arriving for BODY_IDLE_SECONDS gets 408;
  - a multipart body (an upload) is read by python-multipart's own parser as it streams, and a part is a
    file when its Content-Disposition has a filename, the way Starlette's parser (and Gradio's copy of it)
    decides, so FILENAME= and `filename =` count too; the part past MAX_UPLOAD_FILES is refused with 413
    before its bytes reach Gradio (the files already written go with Gradio's cache cleanup).
Work. POST /queue/join, /call/<name> and /run/<name> each queue or run one event. Per client address (the
socket's peer; behind a proxy that uvicorn trusts, the address the proxy forwards: see demo.py
--forwarded-allow-ips) at most PER_ADDRESS_EVENTS events waiting or running and a token bucket of
PER_ADDRESS_RATE a second (this machine excepted), and per session at most MAX_PENDING_PER_SESSION; past
either, 429. A request is counted when it arrives, before its body is read (30 simultaneous joins of one
session used to pass a check made before any of them was queued), and its event counts until Gradio's queue
no longer holds it: finished and its result read, failed, cancelled, or its client's stream dropped (for
which GradioQueue.drop finishes Gradio's own cleanup; without it a session was locked out after 4 drops).
Also: an unknown endpoint gets 404 with a sentence, not a 500 and a traceback; a result stream for a
session or event the queue does not know gets 404 and nothing in the log (Gradio writes 79 lines); an
input the app cannot read, sent to /run/<name>, gets 400 instead of 500 (server_log.py writes its one
line). Every refusal is one line in the log, within server_log's budget.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

import orjson
from gradio.route_utils import FnIndexInferError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.middleware import Middleware
from uvicorn.protocols.http.h11_impl import H11Protocol

import server_log
from reader import strokes

MAX_JSON_BYTES = strokes.MAX_TEXT  # 256 KB: the largest real payload, a drawing of strokes.MAX_POINTS points, is ~200 KB
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one photo or scan
# Values (numbers, strings, lists, ...) in one request's JSON. Gradio copies a request's data value by value in
# its event loop (pydantic's model_dump, ~4 us a value here): a drawing of 10,000 points sent as an object is
# 30,000 values and held everyone for 130 ms. The page sends its drawing as JSON text, one value; a script's
# digit as an object is ~600.
MAX_JSON_VALUES = 5_000
MAX_UPLOAD_FILES = 2  # the page uploads one file per request
# The page's events each have at most one on its way (Gradio's front-end sends a dependency's next event only
# after the last one's result: trigger modes "once" and "always_last"), and it has 5 that reach the server
# (a gallery digit, the finished drawing, an upload, compare, GIF; nothing while the pen moves), and room for
# events still finishing after their stream dropped. So a page used as people use it is never refused by this cap.
MAX_PENDING_PER_SESSION = 8
# Per address: a household or an office shares an address; these leave room for a few people drawing at once
# (the page sends one event per finished stroke or click, none while the pen moves, at most 5 at a time). A talk whose
# audience reaches a Space through one NAT needs more: DEMO_PER_ADDRESS_EVENTS / DEMO_PER_ADDRESS_RATE, or
# python demo.py --per-address-events / --per-address-rate; 0 turns a limit off. The smaller these are, the
# less a flood from one address delays everyone else: 160 joins a second from one address that reads every
# result (bench/hostile.py row 15.3) left another person's p95 at 0.34-0.50 s with these (3 runs), 0.84 s
# with 32 events (1 run), 1.0 s with 32 events and a burst of 100 (1 run).
PER_ADDRESS_EVENTS = 16  # waiting or running at once; the queue holds 256 (demo.py), so one address never fills it
PER_ADDRESS_RATE = 20.0  # events a second, sustained (a reading is ~20 ms of the server's CPU: bench/load.py)
PER_ADDRESS_BURST = 40  # events at once after a quiet spell
# This machine (the presenter's own browser, the tests, the benchmarks) is not limited per address. A proxy on
# this machine must send X-Forwarded-For (uvicorn trusts it from 127.0.0.1), or all its clients share this
# exemption and only the per-session cap holds them.
THIS_MACHINE = frozenset({"127.0.0.1", "::1"})
# The proxies in front of a Hugging Face Space, as demo.main() trusts them when $SPACE_ID is set and
# $FORWARDED_ALLOW_IPS is not: private networks. On a Space the app sees a private proxy address (10.16.3.80 in
# https://github.com/embeddings-benchmark/mteb/pull/4754) with the visitor in X-Forwarded-For; uvicorn then takes
# the last address in that header that is not one of these, i.e. the one the first proxy appended, not what
# the visitor wrote. Not verifiable from here (no network): check the addresses in the Space's log.
PRIVATE_NETWORKS = "127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
UNDELIVERED_SECONDS = 60.0  # an address's results not read for this long stop counting against it
BODY_IDLE_SECONDS = 30.0  # a body that stops arriving for this long is given up (phones on slow links pause)
HEADER_SECONDS = 20.0  # a connection sends its request's headers within this long, or is closed (browsers: ms)
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers
_PART_HEADER_BYTES = 8 * 1024  # Gradio's limit for one part's headers (GradioMultiPartParser.max_header_size)
_SWEEP_SECONDS = 10.0  # forget finished events and full buckets this often (memory stays bounded)

_WORK = re.compile(r"/gradio_api/(?:queue/join|call/(?:v2/)?[^/]+|run/[^/]+|api/[^/]+)/?$")
_QUEUED = re.compile(r"/gradio_api/(?:queue/join|call/)")  # whose event stays queued after the reply
_QUEUE_STREAM = re.compile(r"/gradio_api/queue/data/?$")
_CALL_STREAM = re.compile(r"/gradio_api/call/(?:v2/)?[^/]+/([^/]+)/?$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Settings:
    """The limits, in one place (demo.main() fills it from its flags and the environment)."""

    max_json: int = MAX_JSON_BYTES
    max_values: int = MAX_JSON_VALUES
    max_upload: int = MAX_UPLOAD_BYTES
    max_files: int = MAX_UPLOAD_FILES
    per_session: int = MAX_PENDING_PER_SESSION
    per_address: int = PER_ADDRESS_EVENTS
    per_address_rate: float = PER_ADDRESS_RATE
    per_address_burst: float = PER_ADDRESS_BURST
    body_idle_seconds: float = BODY_IDLE_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """DEMO_PER_ADDRESS_EVENTS and DEMO_PER_ADDRESS_RATE (events a second; the burst is 2 seconds' worth
        or PER_ADDRESS_BURST, whichever is more) override the defaults; 0 turns a limit off."""
        settings = cls()
        if "DEMO_PER_ADDRESS_EVENTS" in environ:
            settings = settings.with_events(int(environ["DEMO_PER_ADDRESS_EVENTS"]))
        if "DEMO_PER_ADDRESS_RATE" in environ:
            settings = settings.with_rate(float(environ["DEMO_PER_ADDRESS_RATE"]))
        return settings

    def with_events(self, events: int) -> Settings:
        return replace(self, per_address=events)

    def with_rate(self, rate: float) -> Settings:
        return replace(self, per_address_rate=rate, per_address_burst=max(PER_ADDRESS_BURST, 2 * rate))


class QueuedEvent(NamedTuple):
    event_id: str
    session: str
    messages: object  # the session's message queue when the event was queued (None: it had none)


class GradioQueue:
    """What these limits read of Gradio 6.31's queue (gradio/queueing.py, gradio/routes.py); no public API
    says which events are still waiting or running, or which sessions have a result stream."""

    def __init__(self, blocks):
        self.blocks = blocks

    def queued(self, event_id: str, session: str) -> QueuedEvent:
        """An event just queued, with the message queue its result will wait in."""
        return QueuedEvent(event_id, session, self.blocks._queue.pending_messages_per_session.get(session))

    def running(self, event: QueuedEvent) -> bool:
        """Whether the event is waiting or running: Gradio drops it from event_ids_to_events when it finishes,
        fails or is cancelled, and when its client's stream drops before it starts."""
        return event.event_id in self.blocks._queue.event_ids_to_events

    def undelivered(self, event: QueuedEvent) -> bool:
        """Whether the event's result still waits for its session's stream: in the session's message queue, its
        id in pending_event_ids_session until a stream delivers it. When a stream drops, Gradio deletes the
        session's message queue (results and all) but keeps the ids, and its own per-session count, which
        reads the ids, then locks the session out for good; a join after the drop makes a new message queue.
        So an event counts only while the message queue it was queued with is still the session's."""
        queue = self.blocks._queue
        return (queue.pending_messages_per_session.get(event.session) is event.messages
                and event.event_id in queue.pending_event_ids_session.get(event.session, ()))

    def messages_of(self, session: str) -> object:
        return self.blocks._queue.pending_messages_per_session.get(session)

    async def drop(self, session: str, messages: object) -> None:
        """The session's client left its result stream: do what Gradio does when it notices that by a cancelled
        stream, and also when it notices by request.is_disconnected(), where it forgets to (gradio/routes.py,
        queue_data_helper): stop the session's events (clean_events), delete its message queue with the results
        nobody will read (else they stay in memory, up to 2,000 sessions' worth), and its ids (else Gradio's
        per-session count never falls). Not if an event of the session joined since (its results go there)."""
        queue = self.blocks._queue
        await queue.clean_events(session_hash=session)
        if any(event.session_hash == session and event.alive for event in list(queue.event_ids_to_events.values())):
            return
        if queue.pending_messages_per_session.get(session) is messages:
            queue.pending_messages_per_session.pop(session, None)
            queue.pending_event_ids_session.pop(session, None)

    def forget_orphans(self) -> None:
        """Gradio keeps a session's event ids (pending_event_ids_session, a plain dict) after the LRU cache of
        2,000 message queues has dropped the session's queue, so the ids can never be delivered: one entry
        for every session that joined and never read its results. Drop those."""
        queue = self.blocks._queue
        live = {event.session_hash for event in list(queue.event_ids_to_events.values())}
        for session in list(queue.pending_event_ids_session):
            if session not in queue.pending_messages_per_session and session not in live:
                queue.pending_event_ids_session.pop(session, None)

    def streams(self, session: str) -> bool:
        """Whether GET /queue/data?session_hash=<session> has anything to stream (else Gradio raises 404 inside
        the stream it already started: a 79-line traceback in the log)."""
        return session in self.blocks._queue.pending_messages_per_session

    def session_of_event(self, event_id: str) -> str:
        """The session whose stream GET /call/<name>/<event_id> reads, found as routes.simple_predict_get does."""
        queue = self.blocks._queue
        event = queue.event_ids_to_events.get(event_id)
        if event is not None:
            return event.session_hash
        return next((s for s, ids in list(queue.pending_event_ids_session.items()) if event_id in ids), event_id)


class TokenBuckets:
    """A token bucket per key: `rate` tokens a second, at most `burst` kept."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """Take a token -> 0 if there was one, else the seconds until there will be."""
        now = self.clock()
        tokens, then = self.levels.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self.levels[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self.levels[key] = (tokens - 1, now)
        return 0.0

    def sweep(self) -> None:
        """Forget the buckets that have filled up again (they are what a new key gets)."""
        now = self.clock()
        for key, (tokens, then) in list(self.levels.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self.levels[key]


class QueueShares:
    """How many events each key (an address, a session) has on its way: requests being handled, plus the events
    they queued while Gradio's queue holds them (waiting, running, or with a result not yet delivered; an
    undelivered result counts for at most `undelivered_for` seconds after it was queued, None: until it is
    delivered or its stream drops). Check and count happen with no await between, so requests arriving
    together are counted one by one."""

    def __init__(self, queue: GradioQueue | None, undelivered_for: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.queue, self.undelivered_for, self.clock = queue, undelivered_for, clock
        self.handling: Counter[str] = Counter()  # key -> requests being handled
        self.queued: dict[str, list[tuple[QueuedEvent, float]]] = {}  # key -> (event, when it was queued)

    def holds(self, event: QueuedEvent, since: float) -> bool:
        if self.queue is None:
            return False
        if self.queue.running(event):
            return True
        recent = self.undelivered_for is None or self.clock() - since < self.undelivered_for
        return recent and self.queue.undelivered(event)

    def count(self, key: str) -> int:
        events = self.queued.get(key)
        if events:
            events[:] = [entry for entry in events if self.holds(*entry)]  # finished ones forgotten here
            if not events:
                del self.queued[key]
        return self.handling[key] + len(self.queued.get(key, ()))

    def start(self, key: str) -> None:
        self.handling[key] += 1

    def finish(self, key: str, event: QueuedEvent | None = None) -> None:
        """The request is answered; the event it queued, if any and still held, counts in its place."""
        self.handling[key] -= 1
        if self.handling[key] <= 0:
            del self.handling[key]
        if event is not None and self.holds(event, self.clock()):
            self.queued.setdefault(key, []).append((event, self.clock()))

    def sweep(self) -> None:
        for key in list(self.queued):
            self.count(key)


class _Refusal(Exception):
    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def client_address(scope) -> str:
    """The client's address as the server saw it (after uvicorn's proxy-header handling); an IPv6 client is
    its /64, since one host is usually given a whole /64."""
    client = scope.get("client")
    host = client[0] if client else ""
    if ":" in host:
        try:
            return str(ipaddress.ip_network(f"{host}/64", strict=False))
        except ValueError:
            pass
    return host


def _session_of(value: object) -> str:
    session = value.get("session_hash") if isinstance(value, dict) else None
    return session if isinstance(session, str) else ""


def _parsed(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _values_past(value: object, limit: int) -> int:
    """How many JSON values value holds, counted up to just past limit (the count stops there)."""
    count, pending = 0, [value]
    while pending and count <= limit:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def _event_of(body: bytes) -> str | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    event = value.get("event_id") if isinstance(value, dict) else None
    return event if isinstance(event, str) else None


async def _answer(send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


class FileCounter:
    """python-multipart's parser over a multipart body as it streams, counting file parts as Starlette's form
    parser (and Gradio's copy of it, route_utils.GradioMultiPartParser) does: parse_options_header of the
    part's Content-Disposition, and a file when the parameters have b"filename" (names lowercased, spaces
    around = dropped, so FILENAME="a" and filename ="a" are files too)."""

    def __init__(self, content_type: bytes):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise _Refusal(400, "A multipart body needs a boundary.")
        self.files, self.field, self.value, self.disposition = 0, b"", b"", b""
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished})

    def feed(self, chunk: bytes) -> int:
        """More of the body -> how many file parts have begun so far."""
        try:
            self.parser.write(chunk)
        except MultipartParseError as error:
            raise _Refusal(400, f"Could not read that form: {error}") from None
        return self.files

    def _part_begin(self) -> None:
        self.disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]
        self._bounded()

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]
        self._bounded()

    def _bounded(self) -> None:
        if len(self.field) + len(self.value) > _PART_HEADER_BYTES:
            raise _Refusal(400, "A part's headers are too large.")

    def _header_end(self) -> None:
        if self.field.lower() == b"content-disposition":
            self.disposition = self.value
        self.field, self.value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"filename" in options:
            self.files += 1


class RequestLimits:
    """ASGI middleware: the limits above, for every HTTP request."""

    def __init__(self, app, queue: GradioQueue | None = None, settings: Settings = Settings(),
                 clock: Callable[[], float] = time.monotonic):
        self.app, self.queue, self.settings, self.clock = app, queue, settings, clock
        # A session's undelivered results count until delivered: a client that never reads them can hold at
        # most per_session of them in memory. An address's count them for UNDELIVERED_SECONDS only, so one such
        # client cannot lock out the people who share its address.
        self.sessions = QueueShares(queue, None, clock)
        self.addresses = QueueShares(queue, UNDELIVERED_SECONDS, clock)
        self.streaming: Counter[str] = Counter()  # session -> its result streams open now
        self.rates = TokenBuckets(settings.per_address_rate, settings.per_address_burst, clock)
        self.swept = clock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            await self._handle(scope, receive, send)
        except _Refusal as refusal:  # raised before the app was called: nothing was sent yet
            await self._refuse(scope, send, refusal)
        except _ClientGone:
            pass  # nobody to answer

    async def _refuse(self, scope, send, refusal: _Refusal) -> None:
        await _answer(send, refusal.status, refusal.message, refusal.headers)
        server_log.line(f"refused {refusal.status} {scope['method']} {scope['path']} from "
                        f"{client_address(scope) or '?'}: {refusal.message}")

    async def _handle(self, scope, receive, send):
        path, method = scope["path"], scope["method"]
        names = [name for name, _ in scope["headers"]]
        if b"transfer-encoding" in names and b"content-length" in names:
            raise _Refusal(400, "A request with both Content-Length and Transfer-Encoding is ambiguous.")
        if method == "GET" and self.queue is not None:
            return await self._stream(scope, receive, send)
        if method not in _BODY_METHODS:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if b"transfer-encoding" in headers or b"content-length" not in headers:
            raise _Refusal(411, "A request body needs a Content-Length.")
        upload = path.rstrip("/").endswith("/upload")
        limit = self.settings.max_upload + _FORM_OVERHEAD if upload else self.settings.max_json
        length = int(headers[b"content-length"])  # h11 has checked that it is a number
        if length > limit:
            what = f"an upload (one file of at most {self.settings.max_upload // 2**20} MB)" if upload else "a request"
            raise _Refusal(413, f"Too large for {what}: {length:,} bytes; at most {limit:,}.")
        if method == "POST" and _WORK.search(path):
            return await self._work(scope, receive, send, limit)
        content_type = headers.get(b"content-type", b"")
        if parse_options_header(content_type)[0] == b"multipart/form-data":
            return await self._multipart(scope, receive, send, limit, FileCounter(content_type))
        body = await self._read_body(receive, limit)
        await self.app(scope, _replay(body, receive), send)

    # --- bodies -----------------------------------------------------------------------------------------

    async def _next(self, receive):
        try:
            return await asyncio.wait_for(receive(), self.settings.body_idle_seconds)
        except asyncio.TimeoutError:
            raise _Refusal(408, f"The request body stopped arriving for {self.settings.body_idle_seconds:.0f} s.") \
                from None

    async def _read_body(self, receive, limit: int) -> bytes:
        """The whole body, counted as it arrives (at most `limit` bytes, whatever the headers said)."""
        chunks, size, more = [], 0, True
        while more:
            message = await self._next(receive)
            if message["type"] != "http.request":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refusal(413, f"Too large: more than {limit:,} bytes arrived.")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _multipart(self, scope, receive, send, limit: int, files: FileCounter):
        """Hand the body to the app as it streams, counting bytes and files; past a limit answer ourselves and
        tell the app the client left (Starlette then raises ClientDisconnect in the route)."""
        size, refused, started = 0, False, False

        async def counted_receive():
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            try:
                message = await self._next(receive)
                if message["type"] == "http.request":
                    size += len(message.get("body", b""))
                    if size > limit:
                        raise _Refusal(413, f"Too large: more than {limit:,} bytes arrived.")
                    if files.feed(message.get("body", b"")) > self.settings.max_files:
                        raise _Refusal(413, f"Too many files in one upload; at most {self.settings.max_files}.")
            except _Refusal as refusal:
                refused = True
                if not started:
                    await self._refuse(scope, send, refusal)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if not refused:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise  # the app's own error; the one we caused was answered above

    # --- work -------------------------------------------------------------------------------------------

    def _sweep(self) -> None:
        if self.clock() - self.swept > _SWEEP_SECONDS:
            self.addresses.sweep()
            self.sessions.sweep()
            if self.queue is not None:
                self.queue.forget_orphans()
            self.rates.sweep()
            self.swept = self.clock()

    async def _work(self, scope, receive, send, limit: int):
        """A request that queues or runs an event: counted per address and per session from arrival until its
        event leaves the queue."""
        settings, address = self.settings, client_address(scope)
        if (scope.get("client") or ("",))[0] in THIS_MACHINE:
            settings = replace(settings, per_address=0, per_address_rate=0)
        self._sweep()
        if settings.per_address and self.addresses.count(address) >= settings.per_address:
            raise _Refusal(429, f"Your address already has {settings.per_address} requests waiting; try again "
                                "when they are answered.")
        if settings.per_address_rate:
            wait = self.rates.take(address)
            if wait:
                raise _Refusal(429, "Too many requests from your address; try again in a moment.",
                               ((b"retry-after", str(math.ceil(wait)).encode()),))
        self.addresses.start(address)  # counted from here, before the first await
        session, counted = "", False
        try:
            body = await self._read_body(receive, limit)
            value = _parsed(body)
            if _values_past(value, settings.max_values) > settings.max_values:
                raise _Refusal(413, f"Too many values in one request (more than {settings.max_values:,}): send a "
                                    "large drawing as JSON text (json.dumps(drawing)), as the page does.")
            session = _session_of(value)
            if session:
                if self.sessions.count(session) >= settings.per_session:
                    raise _Refusal(429, f"This page already has {settings.per_session} requests waiting; try "
                                        "again when they are answered.")
                self.sessions.start(session)
                counted = True
            event_id = await self._call_work(scope, _replay(body, receive), send)
        except BaseException:
            self.addresses.finish(address)
            if counted:
                self.sessions.finish(session)
            raise
        # Gradio gives an event sent without a session a session of its own, named by the event's id.
        event = self.queue.queued(event_id, session or event_id) if event_id and self.queue is not None else None
        self.addresses.finish(address, event)
        if session:
            self.sessions.finish(session, event)

    async def _call_work(self, scope, receive, send) -> str | None:
        """Run the app -> the event id it queued (join and call reply {"event_id": ...}), if any.

        An unknown endpoint (Gradio raises KeyError for an fn_index or api_name it does not have, answers 500
        and logs 70 lines) gets a 404 that says so, and nothing in the log. An input the app could not read,
        sent to /run/<name> (Gradio answers 500), gets 400: server_log noted it as the request's fault."""
        status, reply, faults = 0, [], server_log.watch_request()
        queued = bool(_QUEUED.search(scope["path"]))

        async def watching_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 500 and faults:
                    message = {**message, "status": 400}
            elif queued and status == 200 and sum(map(len, reply)) < 4096:
                reply.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except (KeyError, IndexError, FnIndexInferError):
            if status:
                raise
            await _answer(send, 404, "No such endpoint in this app; /gradio_api/info lists them.")
            return None
        return _event_of(b"".join(reply)) if queued and status == 200 else None

    # --- result streams ---------------------------------------------------------------------------------

    async def _stream(self, scope, receive, send):
        """GET: a result stream for a session (or an event) the queue does not know gets 404, quietly; a stream
        whose client leaves before it ends has its session's undelivered results dropped (GradioQueue.drop)."""
        path = scope["path"]
        if _QUEUE_STREAM.search(path):
            session = dict(_query(scope)).get("session_hash", "")
        elif match := _CALL_STREAM.search(path):
            session = self.queue.session_of_event(match[1])
        else:
            return await self.app(scope, receive, send)
        if not self.queue.streams(session):
            return await _answer(send, 404, "No such session waiting for results.")
        messages, left, ended = self.queue.messages_of(session), False, False

        async def watching_receive():
            nonlocal left
            message = await receive()
            left = left or (message["type"] == "http.disconnect" and not ended)
            return message

        async def watching_send(message):
            nonlocal ended
            ended = ended or (message["type"] == "http.response.body" and not message.get("more_body", False))
            await send(message)

        self.streaming[session] += 1
        try:
            await self.app(scope, watching_receive, watching_send)
        finally:
            self.streaming[session] -= 1
            if self.streaming[session] <= 0:
                del self.streaming[session]
                if left:
                    await self.queue.drop(session, messages)


class _ClientGone(Exception):
    """The client disconnected before its body arrived."""


def _query(scope) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(scope.get("query_string", b"").decode("latin-1"))


def _replay(body: bytes, receive):
    """A receive() that hands the app the body already read, then waits as the server would (for a
    disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's headers: HEADER_SECONDS from opening the connection
    or from its last response. uvicorn closes a connection that is idle after a response (timeout_keep_alive,
    5 s), but never one that has sent nothing, or part of its headers (any byte cancels the keep-alive timer):
    each holds a file descriptor until the client goes, and the server accepts nothing once they run out
    (ulimit -n: 20,000 here). A body in progress is not affected: BODY_IDLE_SECONDS bounds it."""

    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

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

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _expire(self) -> None:
        self.deadline = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def bound_connections() -> None:
    """Make uvicorn's default ("auto") HTTP protocol HeaderDeadlineProtocol, for servers configured after this
    (Gradio makes its uvicorn.Config in launch() and passes no protocol of its own). Process-wide: launch() only."""
    import uvicorn.config

    uvicorn.config.HTTP_PROTOCOLS["auto"] = f"{__name__}:HeaderDeadlineProtocol"


def middleware(blocks=None, settings: Settings | None = None) -> list[Middleware]:
    """For FastAPI(middleware=...), i.e. launch(app_kwargs={"middleware": ...}); blocks: the gr.Blocks whose
    queue the work limits read (None: bodies only)."""
    return [Middleware(RequestLimits, queue=GradioQueue(blocks) if blocks is not None else None,
                       settings=settings or Settings.from_environment())]

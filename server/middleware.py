"""The ASGI entry of the guards: every request passes here before Gradio reads a byte of it.

    demo.launch()   # app_kwargs={"middleware": middleware(demo, settings)}, and connections.install(settings)
    python -m pytest tests/server; python -m bench.hostile   # what they do, and what they cost

In order, for each request:
  1. routes.py: a route this app does not use gets 404 at once, and nothing in the log (it takes one of the
     address's loads: past them, a 429);
  2. addresses.who: which address it counts as (exempt: this machine, straight from its socket); a route for
     this machine only is 404 for anyone else;
  3. bodies.py: the framing (both framings 400, none 411, too large 413), the bytes as they arrive;
  4. by the route's kind:
     - a load (the page, assets, files, the API's info): the address's loads a second;
     - a stream (heartbeat, results, upload progress): the address's streams held open; a result stream for a
       session or event the queue does not know gets 404 and nothing in the log (Gradio writes 79 lines), and
       one whose client leaves has the session's undelivered results dropped (GradioInternals.drop; without it
       a session was locked out after 4 drops);
     - an event (POST /queue/join, /call/<name>): counted per address (events waiting or running, events a
       second) from its arrival, before its body is read, then per session (events on their way; the sessions
       an address made), until Gradio's queue no longer holds it; at most Settings.max_values JSON values; an
       unknown endpoint gets 404 with a sentence, not a 500 and 70 lines of traceback;
     - an upload: the address's upload bytes a minute, then the multipart body counted as it streams;
     - a control (cancel, reset): a small JSON body.
Every refusal is a status with a sentence, the connection closed, and one line in the log within its budget; a
refusal for the address's rate is answered after Settings' REFUSAL_HOLD_SECONDS, the connection held meanwhile
as one of the address's streams (a flood then waits on its own refusals), or at once when they are all held.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qsl

import orjson
from gradio.route_utils import FnIndexInferError
from starlette.middleware import Middleware

from server import bodies, log, routes
from server.addresses import AddressLimits, Client, who
from server.gradio_internals import GradioInternals
from server.replies import NOT_FOUND, ClientGone, Refusal, answer
from server.routes import Kind
from server.sessions import SessionLimits, session_of
from server.settings import FORM_OVERHEAD, Settings
from server.uploads import wrong_input

_SWEEP_SECONDS = 10.0  # forget finished events, full buckets and dropped sessions this often (memory stays bounded)


class Guards:
    """ASGI middleware: the guards above, for every HTTP request."""

    def __init__(self, app, gradio: GradioInternals | None = None, settings: Settings = Settings(),
                 clock: Callable[[], float] = time.monotonic):
        self.app, self.gradio, self.settings, self.clock = app, gradio, settings, clock
        self.addresses = AddressLimits(settings, gradio, clock)
        self.sessions = SessionLimits(settings, gradio, clock)
        self.streaming: Counter[str] = Counter()  # session -> its result streams open now
        self.swept = clock()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})  # Gradio 6 serves none this app uses
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        root, path = scope.get("root_path", ""), scope["path"]
        route = routes.route_of(scope["method"], (path[len(root):] if root and path.startswith(root) else path) or "/")
        client = who(scope, self.settings.proxy_hops)
        try:
            if route is None or (route.this_machine_only and not client.exempt):
                self.addresses.take_load(client, 1)
                return await answer(send, 404, NOT_FOUND)  # nothing in the log: scanners probe every path
            self._sweep()
            bodies.check_framing(scope)
            if route.kind is Kind.LOAD:
                self.addresses.take_load(client, route.cost)
                await self.app(scope, receive, send)
            elif route.kind is Kind.STREAM:
                self.addresses.take_load(client, route.cost)
                await self._stream(scope, receive, send, route, client)
            elif route.kind is Kind.EVENT:
                await self._event(scope, receive, send, client, route)
            elif route.kind is Kind.UPLOAD:
                await self._upload(scope, receive, send, client)
            else:
                self.addresses.take_load(client, route.cost)
                bodies.declared_length(scope, self.settings.max_json)
                body = await bodies.read_body(receive, self.settings.max_json, self.settings.body_idle_seconds)
                await self.app(scope, bodies.replay(body, receive), send)
        except Refusal as refusal:  # raised before the app was called: nothing was sent yet
            await self._refuse(send, refusal, scope, client)
        except ClientGone:
            pass  # nobody to answer

    async def _refuse(self, send, refusal: Refusal, scope, client: Client) -> None:
        if refusal.hold:
            try:
                with self.addresses.holding_stream(client):
                    await asyncio.sleep(refusal.hold)
            except Refusal:
                pass  # the address holds all the streams it may: answered at once
        await answer(send, refusal.status, refusal.message, refusal.headers, refusal.detail)
        log.line(f"refused {refusal.status} {scope['method']} {scope['path']} from {client.address or '?'}: "
                 f"{refusal.message}")

    def _sweep(self) -> None:
        if self.clock() - self.swept > _SWEEP_SECONDS:
            self.addresses.sweep()
            self.sessions.sweep()
            if self.gradio is not None:
                self.gradio.forget_orphans()
            self.swept = self.clock()

    # --- uploads ------------------------------------------------------------------------------------------

    async def _upload(self, scope, receive, send, client: Client) -> None:
        settings = self.settings
        limit = settings.max_upload + FORM_OVERHEAD
        length = bodies.declared_length(scope, limit, f"an upload (one file of at most {settings.max_upload // 2**20} MB)")
        self.addresses.take_load(client, 1)
        self.addresses.take_upload(client, length)
        if not bodies.is_multipart(scope):
            raise Refusal(400, "An upload is a multipart/form-data body.")
        await bodies.stream_multipart(self.app, scope, receive, send, limit, settings.max_files,
                                      settings.body_idle_seconds,
                                      lambda send, refusal: self._refuse(send, refusal, scope, client))

    # --- events -------------------------------------------------------------------------------------------

    async def _event(self, scope, receive, send, client: Client, route: routes.Route) -> None:
        """A request that queues an event: counted per address and per session from arrival until its event
        leaves the queue; inputs that are not what the event's components take are refused (422) unqueued."""
        settings = self.settings
        bodies.declared_length(scope, settings.max_json)
        self.addresses.start_event(client)  # counted from here, before the first await
        session, counted = "", False
        try:
            body = await bodies.read_body(receive, settings.max_json, settings.body_idle_seconds)
            value = bodies.parsed(body)
            if bodies.values_past(value, settings.max_values) > settings.max_values:
                raise Refusal(413, f"Too many values in one request (more than {settings.max_values:,}): send a "
                                   "large drawing as JSON text (json.dumps(drawing)), as the page does.")
            self._check_inputs(scope, route, value)
            session = session_of(value)
            if session:
                self.sessions.start_event(session, None if client.exempt else client.address)
                counted = True
            event_id = await self._queue(scope, bodies.replay(body, receive), send)
        except BaseException:
            self.addresses.finish_event(client)
            if counted:
                self.sessions.finish_event(session)
            raise
        # Gradio gives an event sent without a session a session of its own, named by the event's id.
        event = self.gradio.queued(event_id, session or event_id) if event_id and self.gradio is not None else None
        self.addresses.finish_event(client, event)
        if session:
            self.sessions.finish_event(session, event)
        elif event is not None and not client.exempt:
            self.sessions.charge(event.session, client.address)

    def _check_inputs(self, scope, route: routes.Route, value: object) -> None:
        """Gradio checks an event's inputs only once it runs it, after the join's 200: a wrongly typed one was a
        500 with a 30-line traceback. Checked here instead, with the same data models (uploads.wrong_input): a 422
        with the sentence, one line in the log."""
        if self.gradio is None or not isinstance(value, dict):
            return
        api_name = scope["path"].rstrip("/").rsplit("/", 1)[1] if route.name == "call" else None
        inputs = self.gradio.inputs_of(value.get("fn_index"), api_name)
        wrong = wrong_input(*inputs, value.get("data")) if inputs is not None else None
        if wrong is not None:
            sentence, detail = wrong
            raise Refusal(422, sentence, detail=detail)

    async def _queue(self, scope, receive, send) -> str | None:
        """Run the app -> the event id it queued (join and call reply {"event_id": ...}), if any.

        An unknown endpoint (Gradio raises KeyError for an fn_index or api_name it does not have, answers 500
        and logs 70 lines) gets a 404 that says so, and nothing in the log."""
        status, reply = 0, []

        async def watching_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif status == 200 and sum(map(len, reply)) < 4096:
                reply.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except (KeyError, IndexError, FnIndexInferError):
            if status:
                raise
            await answer(send, 404, "No such endpoint in this app; /gradio_api/info lists them.")
            return None
        return _event_of(b"".join(reply)) if status == 200 else None

    # --- streams ------------------------------------------------------------------------------------------

    async def _stream(self, scope, receive, send, route: routes.Route, client: Client) -> None:
        """A stream held open, counted against its address while it is. A result stream for a session (or an
        event) the queue does not know gets 404, quietly; one whose client leaves before it ends has its
        session's undelivered results dropped."""
        with self.addresses.holding_stream(client):
            if route.name == "result stream":
                session = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("session_hash", "")
            elif route.name == "call result":
                session = self.gradio.session_of_event(scope["path"].rstrip("/").rsplit("/", 1)[1]) \
                    if self.gradio is not None else ""
            else:
                return await self.app(scope, receive, send)
            if self.gradio is None:
                return await self.app(scope, receive, send)
            await self._results(scope, receive, send, session)

    async def _results(self, scope, receive, send, session: str) -> None:
        if not self.gradio.streams(session):
            return await answer(send, 404, "No such session waiting for results.")
        messages, left, ended = self.gradio.messages_of(session), False, False

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
                    await self.gradio.drop(session, messages)


def _event_of(body: bytes) -> str | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    event = value.get("event_id") if isinstance(value, dict) else None
    return event if isinstance(event, str) else None


def middleware(blocks=None, settings: Settings | None = None) -> list[Middleware]:
    """For FastAPI(middleware=...), i.e. launch(app_kwargs={"middleware": ...}); blocks: the gr.Blocks whose
    queue and session store the guards read (None: routes, addresses and bodies only)."""
    return [Middleware(Guards, gradio=GradioInternals(blocks) if blocks is not None else None,
                       settings=settings or Settings.from_environment())]

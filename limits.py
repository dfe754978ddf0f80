"""Request limits for a public Space: every request body is bounded before Gradio reads a byte of it.

    demo.launch(app_kwargs={"middleware": limits.middleware(pending_events)}, max_file_size=limits.MAX_UPLOAD_BYTES)

Gradio validates a JSON body entry by entry and logs every error, so one 20 MB list of nulls held the
server for a minute; and one upload request may carry up to 1,000 files. Here, before the app runs:
  - a POST without a Content-Length (a chunked body of unknown size) gets 411;
  - a JSON (or any non-upload) body over MAX_JSON_BYTES gets 413 at once, unread;
  - an upload body over one file's worth (MAX_UPLOAD_BYTES + form overhead) gets 413 at once, and an
    upload carrying more than MAX_UPLOAD_FILES files is cut off and answered 413 when the extra file's
    header streams past (the files already written go with Gradio's cache cleanup);
  - a session that already has MAX_PENDING_PER_SESSION events in Gradio's queue gets 429 for the next
    one, so one tab or script cannot take the queue's places from everyone else.
The server (uvicorn) never delivers more body bytes than the Content-Length it checked. And a call to an
endpoint the app does not have gets 404 with a sentence, not a 500 and a traceback in the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import orjson
from gradio.route_utils import FnIndexInferError
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect

MAX_JSON_BYTES = 256 * 1024  # the largest real payload, a drawing of strokes.MAX_POINTS points, is ~200 KB
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one photo or scan
MAX_UPLOAD_FILES = 2  # the page uploads one file per request
MAX_PENDING_PER_SESSION = 4  # the page has at most 3 readings on their way: moving pen, lifted pen, gallery
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers
_FILE_HEADER = b"filename="  # once per file part of a multipart body


async def _read_body(receive) -> tuple[bytes, Callable]:
    """Read a (size-checked) body whole -> (body, a receive() that hands it to the app as it arrived)."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for a disconnect, as the server would report it
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _session_of(body: bytes) -> str:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    session = value.get("session_hash") if isinstance(value, dict) else None
    return session if isinstance(session, str) else ""


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: the limits above, for every HTTP request with a body.

    pending_events(session_hash) -> how many events that session has in the queue (None: no cap).
    """

    def __init__(self, app, pending_events: Callable[[str], int] | None = None, max_json: int = MAX_JSON_BYTES,
                 max_upload: int = MAX_UPLOAD_BYTES, max_files: int = MAX_UPLOAD_FILES,
                 max_pending: int = MAX_PENDING_PER_SESSION):
        self.app, self.pending_events = app, pending_events
        self.max_json, self.max_upload, self.max_files, self.max_pending = max_json, max_upload, max_files, max_pending

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        upload = scope["path"].rstrip("/").endswith("/upload")
        limit = self.max_upload + _FORM_OVERHEAD if upload else self.max_json
        try:
            length = int(headers[b"content-length"])
        except (KeyError, ValueError):
            return await _refuse(send, 411, "A request body needs a Content-Length.")
        if length > limit:
            what = f"an upload (one file of at most {self.max_upload // 2**20} MB)" if upload else "a request"
            return await _refuse(send, 413, f"Too large for {what}: {length:,} bytes; at most {limit:,}.")
        if not upload:
            if self.pending_events is not None and scope["path"].rstrip("/").endswith("/queue/join"):
                body, receive = await _read_body(receive)
                if self.pending_events(_session_of(body)) >= self.max_pending:
                    return await _refuse(send, 429, f"This page already has {self.max_pending} requests waiting; "
                                                    "try again when they are answered.")
            return await self._call(scope, receive, send)

        files, tail, refused, started = 0, b"", False, False

        async def counting_receive():
            nonlocal files, tail, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                chunk = tail + message.get("body", b"")
                files += chunk.count(_FILE_HEADER)
                tail = chunk[-(len(_FILE_HEADER) - 1):]  # a marker split across two chunks is counted once
                if files > self.max_files:
                    refused = True
                    if not started:
                        await _refuse(send, 413, f"Too many files in one upload; at most {self.max_files}.")
                    return {"type": "http.disconnect"}  # the upload route stops reading
            return message

        async def guarded_send(message):
            nonlocal started
            if refused:
                return  # answered already
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except ClientDisconnect:
            if not refused:
                raise  # a real disconnect; the one we caused was answered with 413 above

    async def _call(self, scope, receive, send):
        """Run the app; an unknown endpoint (Gradio raises KeyError for an fn_index or api_name it does not
        have, answers 500 and logs 70 lines) gets a 404 that says so, and nothing in the log."""
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except (KeyError, IndexError, FnIndexInferError):
            if started or not any(part in scope["path"] for part in ("/queue/join", "/call/", "/run/")):
                raise
            await _refuse(send, 404, "No such endpoint in this app; /gradio_api/info lists them.")


def middleware(pending_events: Callable[[str], int] | None = None) -> list[Middleware]:
    """For FastAPI(middleware=...), i.e. launch(app_kwargs={"middleware": ...})."""
    return [Middleware(RequestLimits, pending_events=pending_events)]

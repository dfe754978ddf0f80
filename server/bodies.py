"""The bytes that arrive: a request body is bounded by what is sent, not by what the headers say.

uvicorn's parser (h11) frames a body by Transfer-Encoding when a request carries both framings, so the
Content-Length header alone bounds nothing: 10 MB sent chunked under "Content-Length: 100" was read whole
(issue 15). Here:
  - a request with both Content-Length and Transfer-Encoding gets 400, unread (RFC 9112 6.3 allows it);
  - a body without a Content-Length (chunked) gets 411, unread: no client of this app sends one (the page's
    fetch and gradio_client send a length), and a length lets a too-large body be refused before any of it;
  - every body's bytes are counted as they arrive, whatever the headers say, and the request is stopped at
    the limit with 413;
  - a body whose bytes stop arriving for Settings.body_idle_seconds gets 408;
  - a multipart body (an upload) is read by python-multipart's own parser as it streams, and a part is a
    file when its Content-Disposition has a filename, the way Starlette's parser (and Gradio's copy of it)
    decides, so FILENAME= and `filename =` count too; the part past Settings.max_files is refused with 413
    before its bytes reach Gradio (the files already written go with Gradio's cache cleanup).
"""

from __future__ import annotations

import asyncio

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from server.replies import ClientGone, Refusal
from server.settings import PART_HEADER_BYTES


def check_framing(scope) -> None:
    """Any request: both framings at once is refused (h11 would frame by the chunks)."""
    names = [name for name, _ in scope["headers"]]
    if b"transfer-encoding" in names and b"content-length" in names:
        raise Refusal(400, "A request with both Content-Length and Transfer-Encoding is ambiguous.")


def declared_length(scope, limit: int, what: str = "a request") -> int:
    """A request with a body: its Content-Length, checked against `limit` before any of it is read."""
    headers = dict(scope["headers"])
    if b"transfer-encoding" in headers or b"content-length" not in headers:
        raise Refusal(411, "A request body needs a Content-Length.")
    length = int(headers[b"content-length"])  # h11 has checked that it is a number
    if length > limit:
        raise Refusal(413, f"Too large for {what}: {length:,} bytes; at most {limit:,}.")
    return length


async def next_message(receive, idle_seconds: float) -> dict:
    try:
        return await asyncio.wait_for(receive(), idle_seconds)
    except asyncio.TimeoutError:
        raise Refusal(408, f"The request body stopped arriving for {idle_seconds:.0f} s.") from None


async def read_body(receive, limit: int, idle_seconds: float) -> bytes:
    """The whole body, counted as it arrives (at most `limit` bytes, whatever the headers said)."""
    chunks, size, more = [], 0, True
    while more:
        message = await next_message(receive, idle_seconds)
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"Too large: more than {limit:,} bytes arrived.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive):
    """A receive() that hands the app the body already read, then waits as the server would (for a
    disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def parsed(body: bytes) -> object:
    """A JSON body's value (None if it is not JSON: the app says what is wrong with it)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def values_past(value: object, limit: int) -> int:
    """How many JSON values `value` holds, counted up to just past `limit` (the count stops there)."""
    count, pending = 0, [value]
    while pending and count <= limit:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def is_multipart(scope) -> bool:
    return parse_options_header(dict(scope["headers"]).get(b"content-type", b""))[0] == b"multipart/form-data"


class FileCounter:
    """python-multipart's parser over a multipart body as it streams, counting file parts as Starlette's form
    parser (and Gradio's copy of it, route_utils.GradioMultiPartParser) does: parse_options_header of the
    part's Content-Disposition, and a file when the parameters have b"filename" (names lowercased, spaces
    around = dropped, so FILENAME="a" and filename ="a" are files too)."""

    def __init__(self, content_type: bytes):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise Refusal(400, "A multipart body needs a boundary.")
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
            raise Refusal(400, f"Could not read that form: {error}") from None
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
        if len(self.field) + len(self.value) > PART_HEADER_BYTES:
            raise Refusal(400, "A part's headers are too large.")

    def _header_end(self) -> None:
        if self.field.lower() == b"content-disposition":
            self.disposition = self.value
        self.field, self.value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"filename" in options:
            self.files += 1


async def stream_multipart(app, scope, receive, send, limit: int, max_files: int, idle_seconds: float,
                           refuse) -> None:
    """Hand a multipart body to the app as it streams, counting bytes and files; past a limit answer with
    `refuse(send, refusal)` ourselves and tell the app the client left (Starlette then raises ClientDisconnect
    in the route)."""
    files = FileCounter(dict(scope["headers"]).get(b"content-type", b""))
    size, refused, started = 0, False, False

    async def counted_receive():
        nonlocal size, refused
        if refused:
            return {"type": "http.disconnect"}
        try:
            message = await next_message(receive, idle_seconds)
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise Refusal(413, f"Too large: more than {limit:,} bytes arrived.")
                if files.feed(message.get("body", b"")) > max_files:
                    raise Refusal(413, f"Too many files in one upload; at most {max_files}.")
        except Refusal as refusal:
            refused = True
            if not started:
                await refuse(send, refusal)
            return {"type": "http.disconnect"}
        return message

    async def guarded_send(message):
        nonlocal started
        if not refused:
            started = started or message["type"] == "http.response.start"
            await send(message)

    try:
        await app(scope, counted_receive, guarded_send)
    except Exception:
        if not refused:
            raise  # the app's own error; the one we caused was answered above

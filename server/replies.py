"""How the guards answer a request they stop: a status, a sentence in JSON, and the connection closed.

    raise Refusal(429, "Too many requests from your address; try again in a moment.")   # anywhere in server/
"""

from __future__ import annotations

import json


class Refusal(Exception):
    """A request the guards stop, before the app was handed it (so nothing was sent yet). hold: seconds to keep
    the connection before answering (a flood's refusals; see middleware.py)."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = (), hold: float = 0.0,
                 detail: list | None = None):
        super().__init__(message)
        self.status, self.message, self.headers, self.hold, self.detail = status, message, headers, hold, detail


class ClientGone(Exception):
    """The client disconnected before its body arrived: nobody to answer."""


def retry_after(seconds: float) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"retry-after", str(max(1, int(seconds + 0.999))).encode()),)


async def answer(send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = (),
                 detail: list | None = None) -> None:
    """Answer {"error": message} with `status`, and close the connection (the body may not have been read);
    detail: also {"detail": detail}, the form gradio_client reads a join's 422 from."""
    body = json.dumps({"error": message} | ({"detail": detail} if detail is not None else {})).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


NOT_FOUND = "Not found."

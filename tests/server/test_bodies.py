"""Bodies bounded by the bytes that arrive: both framings refused, chunked refused, too large refused unread,
bytes counted as they arrive whatever the headers say, a stalled body given up, and files counted as the
multipart parser counts them (pytest, CPU; raw HTTP/1.1 from loopback addresses against the app launched
in-process, and the guards driven directly as ASGI)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from conftest import drawing
from harness import DIGIT_STROKES, api_index, chunked, pen_path, request_bytes, send_raw
from server.bodies import FileCounter
from server.middleware import Guards
from server.settings import FORM_OVERHEAD, MAX_JSON_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, Settings

TEN_MB_OF_POINTS = json.dumps({"data": [drawing([[[1.5, 2.5]] * 700_000]), False], "fn_index": 2,
                               "session_hash": "s", "event_data": None}).encode()


def post(path: str, body: bytes, content_type: str = "application/json", **headers: str) -> bytes:
    return request_bytes("POST", path, body, content_type, **headers)


def test_a_body_far_larger_than_any_drawing_is_refused_unread(url):
    nulls = b'{"data": [{"background": null, "layers": [' + b"null, " * 400_000 + b'null]}], "fn_index": 0}'
    started = time.perf_counter()
    response = httpx.post(f"{url}/gradio_api/queue/join", content=nulls, headers={"content-type": "application/json"})
    assert response.status_code == 413 and f"at most {MAX_JSON_BYTES:,}" in response.json()["error"]
    assert MAX_JSON_BYTES == 256 * 1024
    assert time.perf_counter() - started < 5  # refused from its Content-Length, nothing parsed
    assert httpx.get(f"{url}/config").status_code == 200


def test_the_largest_allowed_list_of_nulls_does_not_stall_others(url):
    """A body just under the limit, full of what Gradio validates entry by entry: the page still answers."""
    body = b'{"data": [{"background": null, "layers": [' + b"null," * 50_000 + b'null]}], "fn_index": %d, ' \
           b'"session_hash": "hostile"}' % api_index(url, "predict")
    assert len(body) < MAX_JSON_BYTES
    slowest = []

    def other_user():
        for _ in range(5):
            started = time.perf_counter()
            assert httpx.get(f"{url}/config", timeout=30).status_code == 200
            slowest.append(time.perf_counter() - started)

    watcher = threading.Thread(target=other_user)
    watcher.start()
    httpx.post(f"{url}/gradio_api/queue/join", content=body, headers={"content-type": "application/json"}, timeout=30)
    watcher.join()
    assert max(slowest) < 1.0, slowest  # the 2.3 MB body held /config for 5.6 s


def test_one_upload_carries_at_most_a_few_files(url, tmp_path):
    Image.new("L", (8, 8), 255).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    many = httpx.post(f"{url}/gradio_api/upload", files=[("files", (f"{i}.png", data)) for i in range(20)])
    assert many.status_code == 413 and "Too many files" in many.json()["error"]
    files = httpx.post(f"{url}/gradio_api/upload", files=[("files", (f"{i}.png", data)) for i in range(MAX_UPLOAD_FILES)])
    assert files.status_code == 200 and len(files.json()) == MAX_UPLOAD_FILES == 2
    assert httpx.post(f"{url}/gradio_api/upload", files=[("files", (f"{i}.png", data)) for i in range(3)]).status_code == 413


def test_an_upload_over_one_file_s_worth_is_refused_unread(url):
    limit = MAX_UPLOAD_BYTES + FORM_OVERHEAD
    assert (MAX_UPLOAD_BYTES, FORM_OVERHEAD) == (10 * 2**20, 64 * 1024)
    status, _ = send_raw(url, post("/gradio_api/upload", b"", "multipart/form-data; boundary=x",
                                   Content_Length=str(limit + 1)), b"x" * 65536, source="127.0.0.61")
    assert status == 413


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/upload", "/gradio_api/cancel"])
@pytest.mark.parametrize("claimed", [100, 0])
def test_a_body_with_both_framings_is_refused_unread(url, path, claimed):
    """Content-Length and Transfer-Encoding together: h11 reads by the chunks and the length bounded nothing
    (10 MB accepted under "Content-Length: 100"; "Content-Length: 0" too)."""
    status, answer = send_raw(url, post(path, b"", Content_Length=str(claimed), Transfer_Encoding="chunked"),
                              chunked(TEN_MB_OF_POINTS)[:65536], source="127.0.0.61")
    assert status == 400 and b"both Content-Length and Transfer-Encoding" in answer
    assert httpx.get(f"{url}/config", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/upload", "/gradio_api/call/predict"])
def test_a_chunked_body_is_refused_before_any_of_it_is_read(url, path):
    status, answer = send_raw(url, post(path, b"", Transfer_Encoding="chunked"), chunked(TEN_MB_OF_POINTS)[:65536],
                              source="127.0.0.61")
    assert status == 411 and b"Content-Length" in answer


def form(files: int, disposition: str, boundary: str = "b0undary", field_bytes: int = 0) -> bytes:
    """A multipart body of `files` tiny files whose Content-Disposition is written as `disposition`."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; {disposition.format(i=i)}\r\n'
             f"Content-Type: image/png\r\n\r\n".encode() + b"\x89PNG%d" % i + b"\r\n" for i in range(files)]
    if field_bytes:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n'.encode()
                     + b"x" * field_bytes + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


SPELLINGS = ['filename="{i}.png"', 'FILENAME="{i}.png"', 'filename ="{i}.png"', "filename={i}.png",
             'FileName = "{i}.png"', 'filename=""']


@pytest.mark.parametrize("disposition", SPELLINGS)
def test_files_are_counted_the_way_the_multipart_parser_counts_them(url, disposition):
    """Uploads of 50 and 200 files spelled FILENAME= or `filename =`: refused at the third file."""
    for files in (50, 200):
        body = form(files, disposition)
        status, answer = send_raw(url, post("/gradio_api/upload", body, "multipart/form-data; boundary=b0undary",
                                            Content_Length=str(len(body))))
        assert status == 413 and b"Too many files" in answer, (files, answer)
    body = form(2, disposition)
    status, answer = send_raw(url, post("/gradio_api/upload", body, "multipart/form-data; boundary=b0undary",
                                        Content_Length=str(len(body))))
    assert status == 200 and len(json.loads(answer)) == 2


def run_alone(coroutine):
    """asyncio.run in a thread of its own: the session's Chromium (Playwright's sync API) keeps an event loop
    running in the main thread once a browser test has started it, and asyncio.run refuses to nest."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.mark.parametrize("disposition", SPELLINGS + ['name="x"', 'filename*=UTF-8\'\'a.png'])
def test_the_file_counter_agrees_with_starlette_s_form_parser(disposition):
    """The same bodies through Starlette's own parser (the one Gradio copied): the same number of files."""
    from starlette.datastructures import Headers, UploadFile
    from starlette.formparsers import MultiPartParser

    body = form(3, disposition)

    async def stream():
        yield body

    parsed = run_alone(MultiPartParser(Headers({"content-type": "multipart/form-data; boundary=b0undary"}),
                                       stream()).parse())
    files = sum(isinstance(value, UploadFile) for _, value in parsed.multi_items())
    assert FileCounter(b"multipart/form-data; boundary=b0undary").feed(body) == files


def test_one_large_form_field_is_refused_by_its_size(url):
    body = form(1, 'filename="a.png"', field_bytes=MAX_UPLOAD_BYTES + 100_000)
    status, _ = send_raw(url, post("/gradio_api/upload", b"", "multipart/form-data; boundary=b0undary",
                                   Content_Length=str(len(body))), body[:65536])
    assert status == 413


def run_asgi(app, body_chunks: list[bytes], headers: dict[str, str], path: str = "/gradio_api/queue/join",
             settings: Settings = Settings(), stalls: bool = False) -> tuple[int, bytes, int]:
    """Drive the guards directly with a server that delivers `body_chunks` whatever the headers say (and then,
    if it stalls, nothing more) -> (status, response body, body bytes the app was handed)."""
    handed, sent = [0], []

    async def main():
        chunks = list(body_chunks)

        async def receive():
            if not chunks:
                await asyncio.sleep(3600)  # a body that stops arriving
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": stalls or bool(chunks)}

        async def send(message):
            sent.append(message)

        async def counting_app(scope, receive, send):
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    from starlette.requests import ClientDisconnect
                    raise ClientDisconnect()
                handed[0] += len(message.get("body", b""))
                more = message.get("more_body", False)
            await app(scope, receive, send)

        scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "client": ("127.0.0.9", 1),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        await Guards(counting_app, None, settings)(scope, receive, send)

    run_alone(main())
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), handed[0]


async def ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize("path, content_type", [("/gradio_api/queue/join", "application/json"),
                                                ("/gradio_api/cancel", "application/json"),
                                                ("/gradio_api/upload", "multipart/form-data; boundary=b0undary")])
def test_bytes_are_counted_as_they_arrive_whatever_the_length_says(path, content_type):
    """A server that delivered more than the Content-Length it was given (h11 does not; a different one might):
    the body is stopped at the limit, and the app is never handed more."""
    limit = MAX_UPLOAD_BYTES + FORM_OVERHEAD if path.endswith("upload") else MAX_JSON_BYTES
    start = form(1, 'filename="a.png"')[:-len("--b0undary--\r\n") - 2] if path.endswith("upload") else b"x"
    status, answer, handed = run_asgi(ok_app, [start] + [b"x" * 65536] * (limit // 65536 + 4),
                                      {"content-length": "100", "content-type": content_type}, path)
    assert status == 413 and b"more than" in answer and handed <= limit


def test_a_body_that_stops_arriving_is_given_up():
    settings = Settings(body_idle_seconds=0.2)
    status, answer, _ = run_asgi(ok_app, [b'{"data": '], {"content-length": "1000", "content-type": "application/json"},
                                 settings=settings, stalls=True)
    assert status == 408 and b"stopped arriving" in answer
    assert Settings().body_idle_seconds == 30.0


def test_an_honest_body_reaches_the_app_whole():
    body = json.dumps({"data": [drawing(pen_path(DIGIT_STROKES["7"])), False], "fn_index": 2,
                       "session_hash": "s"}).encode()
    status, _, handed = run_asgi(ok_app, [body[:1000], body[1000:]], {"content-length": str(len(body)),
                                                                      "content-type": "application/json"})
    assert status == 200 and handed == len(body)


def test_too_many_json_values_are_refused_with_what_to_do_instead():
    """5,000 values: a drawing sent as an object past that is refused before Gradio copies it value by value."""
    from server.settings import MAX_JSON_VALUES

    assert MAX_JSON_VALUES == 5_000
    for points, expected in ((MAX_JSON_VALUES // 3 - 20, 200), (MAX_JSON_VALUES // 2, 413)):
        body = json.dumps({"data": [drawing([[[1.5, 2.5]] * points])], "fn_index": 0, "session_hash": "s"}).encode()
        status, answer, _ = run_asgi(ok_app, [body], {"content-length": str(len(body)),
                                                      "content-type": "application/json"})
        assert status == expected, (points, answer)
    assert b"as JSON text" in answer

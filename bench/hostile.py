"""What one stranger's requests cost everyone else, against `python demo.py` on this machine (loopback only).

    python -m bench.hostile                          # this checkout: every row
    git worktree add /tmp/before 3296d02 && python -m bench.hostile --app-dir /tmp/before   # the app before
    python -m bench.hostile --rows 15.3 15.8         # some rows only

The "public Space" issue (rows 1-7), with the numbers a bystander sees:
  1. a body of {"layers": [null, null, ...]} (2.3 MB, and the largest this app accepts) sent to the image
     endpoint while another user loads /config: status, that user's slowest /config, server RSS, log bytes;
  2. one session joining the queue 66 times (Play where the app has one, else the live reading) while another
     user reads digits for 15 s: how many of theirs were answered, and their slowest answer;
  3. 20 people pressing Play at once: seconds to the first frame (an app whose Play runs in the browser
     makes no request: nothing to wait for);
  5. 20 files of 9.9 MB in one upload request: status and bytes stored;
  6. /monitoring and /monitoring/summary; 7. an unknown fn_index: status and log lines.
(Item 4, stale Play frames after a newer reading, is a browser behaviour: tests/test_browser.py.)

"A public Space, round two" (issue 15, rows 15.1-15.9; hand-written HTTP/1.1 on raw sockets, each kind of
client from a loopback address of its own: 127.0.0.2 the attacker, 127.0.0.3 the honest person, ...):
  15.1 bodies framed by chunks: 10 and 20 MB of points under "Content-Length: 100" + chunked (status, another
       user's slowest /config, RSS), "Content-Length: 0" + chunked, chunked alone; uploads of 20 files of 5 MB
       and of one 100 MB form field, chunked;
  15.2 uploads of 50 and 200 files whose Content-Disposition says FILENAME= or `filename =`;
  15.3 30 joins of one session at the same moment; /call/<name> for a session with its results unread; 160 joins
       a second for 10 s, each with a fresh session, from one address (reading nothing, and reading every
       result), while a person on another address reads a digit every 0.4 s: readings answered, p50 / p95; 100
       GIF joins of one session at once and another person's GIF after them;
  15.4 drawings within every limit but heavy (2048x2048 canvas, 10,000 points spread across it): one, and 16
       and 32 at once beside an honest pen-up; a 120 KB PNG that decodes to 24.9 megapixels: one, and 16 at
       once (seconds, RSS);
  15.5 a page used quickly (each kind of event it sends, 7 before and 5 now, 30 ms apart, again 0.5 s after
       their results) for 30 s while 6 people use the image API: requests refused;
  15.6 a session whose result stream drops 12 times: is it still served;
  15.7 the newest action wins (gallery or upload, then drawing): a browser behaviour, the page's (not here);
  15.8 the log: 1,000 result streams for unknown sessions, 300 bad drawings, garbage to /run/predict;
  15.9 memory, on a server of its own: 2,000 sessions of one reading each (from 100 addresses), 100 sessions with
       a 10,000-point drawing; 800 idle, 800 header-only and 800 half-sent connections: still open 35 s later.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import select
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from harness import DIGIT_STROKES, ROOT, pen_path, read_response, start_server
from training.mnist import mnist
from training.pens import render_drawn


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dependencies(url: str) -> list[dict]:
    return httpx.get(f"{url}config", timeout=30).json()["dependencies"]


def index_of(deps: list[dict], api_name: str) -> int | None:
    return next((i for i, d in enumerate(deps) if d.get("api_name") == api_name), None)


def play_index(deps: list[dict]) -> int | None:
    """The server-side Play of the old app: the generator event."""
    return next((i for i, d in enumerate(deps) if d.get("types", {}).get("generator")), None)


def watch_config(url: str, stop: threading.Event) -> list[float]:
    """Another user loading the page's config over and over -> the time each load took."""
    times = []
    with httpx.Client(timeout=120) as other:
        while not stop.is_set():
            started = time.perf_counter()
            other.get(f"{url}config")
            times.append(time.perf_counter() - started)
    return times


def item1(url: str, process) -> None:
    deps = dependencies(url)
    target = index_of(deps, "predict")
    for nulls in (380_000, 40_000):
        body = (b'{"data": [{"background": null, "layers": [' + b"null, " * nulls + b'null], "composite": null}], '
                b'"fn_index": %d, "session_hash": "stranger", "event_data": null}' % target)
        log_before, rss_before = process.log.stat().st_size, rss_mb(process.pid)
        stop, times = threading.Event(), []
        watcher = threading.Thread(target=lambda: times.extend(watch_config(url, stop)))
        watcher.start()
        time.sleep(0.3)
        started = time.perf_counter()
        response = httpx.post(f"{url}gradio_api/queue/join", content=body, timeout=300,
                              headers={"content-type": "application/json"})
        time.sleep(3)  # the event runs after the join is accepted
        stop.set()
        watcher.join()
        print(f"1. {len(body) / 1e6:.2f} MB of nulls to /predict: HTTP {response.status_code} in "
              f"{time.perf_counter() - started - 3:.2f}s; another user's slowest /config {max(times):.2f}s "
              f"({len(times)} loads); server RSS {rss_before:.0f} -> {rss_mb(process.pid):.0f} MB; "
              f"log +{(process.log.stat().st_size - log_before) / 1e6:.2f} MB")


def other_user_reads(url: str, seconds: float, image: str) -> tuple[int, int, float]:
    """Another user reading a digit (the image API) for `seconds` -> (answered, refused or failed, slowest)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, ssl_verify=False)
    answered, failed, slowest, end = 0, 0, 0.0, time.time() + seconds
    while time.time() < end:
        started = time.perf_counter()
        try:
            client.predict({"background": None, "layers": [], "composite": handle_file(image)}, api_name="/predict")
            answered += 1
            slowest = max(slowest, time.perf_counter() - started)
        except Exception:  # noqa: BLE001 - "Queue is full" and the like: counted
            failed += 1
            time.sleep(0.2)
    return answered, failed, slowest


def press_play(url: str, play: int, image: str) -> float:
    """A person with a digit presses the old app's Play (raw HTTP: it is not an API endpoint) -> seconds
    until the first frame arrives on the session's event stream."""
    from gradio_client import Client, handle_file

    person = Client(url, verbose=False, ssl_verify=False, download_files=False)
    person.predict({"background": None, "layers": [], "composite": handle_file(image)}, api_name="/predict")
    started = time.perf_counter()
    with httpx.Client(timeout=120) as http:
        http.post(f"{url}gradio_api/queue/join", json={"data": [None], "fn_index": play, "event_data": None,
                                                      "session_hash": person.session_hash, "trigger_id": None})
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": person.session_hash}) as stream:
            for line in stream.iter_lines():
                if "process_generating" in line:
                    return time.perf_counter() - started
    return float("nan")


def item3(url: str, image: str) -> None:
    play = play_index(dependencies(url))
    if play is None:
        print("3. 20 people pressing Play at once: Play runs in the browser on the rows sent with the reading; "
              "no request, first frame at once (tests/test_browser.py asserts no request is made)")
        return
    with ThreadPoolExecutor(20) as pool:
        firsts = list(pool.map(press_play, [url] * 20, [play] * 20, [image] * 20))
    print(f"3. 20 people press Play at once: first frame after median {np.median(firsts):.1f}s, worst {max(firsts):.1f}s")


def item2(url: str, image: str) -> None:
    from gradio_client import Client, handle_file

    deps = dependencies(url)
    play = play_index(deps)
    if play is not None:
        data, target, what = [None], play, "Play"  # the old Play read the session's digit from its state
    else:
        data = [{"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["7"])}, False]
        target, what = index_of(deps, "predict_strokes"), "the finished-drawing reading (there is no server-side Play)"
    session = Client(url, verbose=False, ssl_verify=False, download_files=False)  # has a digit, as the attacker
    session.predict({"background": None, "layers": [], "composite": handle_file(image)}, api_name="/predict")
    body = {"data": data, "fn_index": target, "session_hash": session.session_hash, "event_data": None,
            "trigger_id": None}
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(other_user_reads, url, 15, image)
        time.sleep(1)
        codes = [httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=30).status_code for _ in range(66)]
        answered, failed, slowest = other.result()
    counts = {int(code): int(n) for code, n in zip(*np.unique(codes, return_counts=True))}
    print(f"2. one session joins {what} 66 times: HTTP {counts}; another user over 15 s: {answered} answered, "
          f"{failed} refused or failed, slowest {slowest:.2f}s")


def item5(url: str, folder: Path) -> None:
    blob = np.random.default_rng(0).bytes(int(9.9 * 2**20))
    files = [("files", (f"{i}.png", blob, "image/png")) for i in range(20)]
    started = time.perf_counter()
    try:
        response = httpx.post(f"{url}gradio_api/upload", files=files, timeout=120)
        status = response.status_code
        stored = sum(Path(p).stat().st_size for p in response.json()) / 2**20 if status == 200 else 0
    except httpx.HTTPError as error:
        status, stored = type(error).__name__, 0
    print(f"5. 20 files of 9.9 MB in one upload: HTTP {status} in {time.perf_counter() - started:.1f}s, "
          f"{stored:.0f} MB stored")


def item6_and_7(url: str, process) -> None:
    codes = {path: httpx.get(f"{url}{path}").status_code for path in ("monitoring", "monitoring/summary")}
    log_before = process.log.read_text().count("\n")
    unknown = httpx.post(f"{url}gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "x"})
    time.sleep(0.5)
    print(f"6. GET /monitoring -> {codes['monitoring']}, /monitoring/summary -> {codes['monitoring/summary']}")
    print(f"7. unknown fn_index -> HTTP {unknown.status_code} {unknown.text[:70]!r}; "
          f"log +{process.log.read_text().count(chr(10)) - log_before} lines")


# ---------------------------------------------------------------------------------------------
# Issue 15: hand-written HTTP/1.1 from loopback addresses of our choosing (Linux routes all of 127.0.0.0/8 here).

ATTACKER, HONEST = "127.0.0.2", "127.0.0.3"
SEVEN = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["7"])}
ONE = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["1"])}


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def request_bytes(method: str, path: str, body: bytes = b"", content_type: str = "application/json",
                  **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send_raw(url: str, head: bytes, body: bytes = b"", source: str = "127.0.0.1", timeout: float = 300) -> tuple:
    """Send `head`, then `body` unless the server has answered already -> (status or what went wrong, body)."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=timeout, source_address=(source, 0)) as sock:
        sock.sendall(head)
        for start in range(0, len(body), 65536):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # answered before the body: it was not read
            try:
                sock.sendall(body[start:start + 65536])
            except OSError:
                break
        try:
            response = read_response(sock)
        except OSError as error:
            return type(error).__name__, b""
    if not response:
        return "closed", b""
    head_part, _, rest = response.partition(b"\r\n\r\n")
    return int(head_part.split(b" ", 2)[1]), rest


def chunked(body: bytes, size: int = 65536) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def join_json(fn: int, data: list, session: str | None = None) -> bytes:
    return json.dumps({"data": data, "fn_index": fn, "session_hash": session or uuid.uuid4().hex,
                       "event_data": None, "trigger_id": None}).encode()


def join(url: str, fn: int, data: list, session: str, source: str = "127.0.0.1", path: str = "/gradio_api/queue/join"):
    body = json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    return send_raw(url, request_bytes("POST", path, body, Content_Length=str(len(body))), source=source)


def read_results(url: str, session: str, source: str, count: int = 1, timeout: float = 120) -> list[bool]:
    """Read the session's result stream until `count` results arrived (or it ended) -> success of each."""
    results = []
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=timeout) as http:
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            if stream.status_code != 200:
                return results
            for line in stream.iter_lines():
                if '"process_completed"' in line:
                    results.append('"success":true' in line.replace(" ", ""))
                    if len(results) >= count:
                        break
    return results


def reading(url: str, fn: int, data: list, source: str, session: str | None = None) -> tuple[bool, float]:
    """One reading as a client makes it: join, then the result stream -> (answered, seconds)."""
    session = session or uuid.uuid4().hex
    started = time.perf_counter()
    try:
        status, _ = join(url, fn, data, session, source)
        ok = status == 200 and read_results(url, session, source) == [True]
    except (OSError, httpx.HTTPError):
        ok = False
    return ok, time.perf_counter() - started


def at_once(calls: list) -> list:
    """Run the zero-argument callables all at the same moment (threads behind a barrier) -> their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def tally(codes) -> dict:
    return dict(sorted(Counter(codes).items(), key=str))


def log_size(process) -> tuple[int, int]:
    time.sleep(0.5)
    text = process.log.read_text()
    return text.count("\n"), len(text.encode())


def row15_1(url: str, process) -> None:
    fn = index_of(dependencies(url), "predict_strokes")
    for megabytes in (10, 20):
        points = [[[round(1 + i % 270, 1), round(2 + i % 250, 1)] for i in range(megabytes * 70_000)]]
        body = chunked(json.dumps({"data": [{"width": 280, "height": 280, "strokes": points}, False],
                                   "fn_index": fn, "session_hash": "chunks", "event_data": None}).encode())
        stop, times, rss_before = threading.Event(), [], rss_mb(process.pid)
        watcher = threading.Thread(target=lambda: times.extend(watch_config(url, stop)))
        watcher.start()
        time.sleep(0.3)
        status, _ = send_raw(url, request_bytes("POST", "/gradio_api/queue/join", Content_Length="100",
                                                Transfer_Encoding="chunked"), body, source=ATTACKER)
        time.sleep(3)
        stop.set()
        watcher.join()
        print(f"15.1 {megabytes} MB of points, Content-Length: 100 + chunked, to /queue/join: HTTP {status}; another "
              f"user's slowest /config {max(times):.2f}s; RSS {rss_before:.0f} -> {rss_mb(process.pid):.0f} MB")
    small = chunked(join_json(fn, [SEVEN, False]))
    for name, headers in (("Content-Length: 0 + chunked", {"Content_Length": "0", "Transfer_Encoding": "chunked"}),
                          ("chunked alone", {"Transfer_Encoding": "chunked"})):
        status, _ = send_raw(url, request_bytes("POST", "/gradio_api/queue/join", **headers), small, source=ATTACKER)
        print(f"15.1 a drawing, {name}, to /queue/join: HTTP {status}")
    blob = np.random.default_rng(1).bytes(5 * 2**20)
    files = b"".join(b'--xx\r\nContent-Disposition: form-data; name="files"; filename="%d.png"\r\n'
                     b"Content-Type: image/png\r\n\r\n" % i + blob + b"\r\n" for i in range(20)) + b"--xx--\r\n"
    field = b'--xx\r\nContent-Disposition: form-data; name="note"\r\n\r\n' + b"x" * (100 * 2**20) + b"\r\n--xx--\r\n"
    for name, body in (("20 files of 5 MB", files), ("one 100 MB form field", field)):
        started = time.perf_counter()
        status, answer = send_raw(url, request_bytes("POST", "/gradio_api/upload", content_type="multipart/form-data; "
                                                     "boundary=xx", Content_Length="100", Transfer_Encoding="chunked"),
                                  chunked(body), source=ATTACKER)
        stored = sum(Path(p).stat().st_size for p in json.loads(answer)) / 2**20 if status == 200 else 0
        print(f"15.1 upload of {name}, Content-Length: 100 + chunked: HTTP {status} in "
              f"{time.perf_counter() - started:.1f}s, {stored:.0f} MB stored")


def row15_2(url: str, process) -> None:
    for spelling in ('FILENAME="{i}.png"', 'filename ="{i}.png"'):
        for count in (50, 200):
            body = b"".join(f'--xx\r\nContent-Disposition: form-data; name="files"; {spelling.format(i=i)}\r\n'
                            f"Content-Type: image/png\r\n\r\n".encode() + b"\x89PNG%d\r\n" % i
                            for i in range(count)) + b"--xx--\r\n"
            status, answer = send_raw(url, request_bytes("POST", "/gradio_api/upload", body, "multipart/form-data; "
                                                         "boundary=xx", Content_Length=str(len(body))), source=ATTACKER)
            stored = len(json.loads(answer)) if status == 200 else 0
            print(f"15.2 {count} files spelled {spelling.split('=')[0]}=: HTTP {status}, {stored} files stored")


def flood(url: str, fn: int, rate: float, seconds: float, source: str, read: bool) -> tuple[dict, float]:
    """`rate` joins a second of a small valid drawing, each with a fresh session, from `source` (asyncio, raw
    sockets) -> (statuses, the rate reached)."""
    codes: Counter = Counter()

    async def one() -> None:
        session = uuid.uuid4().hex
        body = join_json(fn, [SEVEN, False], session)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port_of(url), local_addr=(source, 0)), 10)
            writer.write(request_bytes("POST", "/gradio_api/queue/join", body, Content_Length=str(len(body))))
            line = await asyncio.wait_for(reader.readline(), 30)
            writer.close()
            code = int(line.split()[1]) if line else "closed"
            if read and code == 200:
                reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url), local_addr=(source, 0))
                writer.write(request_bytes("GET", f"/gradio_api/queue/data?session_hash={session}"))
                await asyncio.wait_for(reader.read(), 60)
                writer.close()
        except (OSError, asyncio.TimeoutError) as error:
            code = type(error).__name__
        codes[code] += 1

    async def run() -> float:
        tasks, started = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        reached = len(tasks) / (time.perf_counter() - started)
        await asyncio.gather(*tasks)
        return reached

    reached = asyncio.run(run())
    return tally(codes.elements()), reached


def honest_person(url: str, fn: int, seconds: float, source: str, every: float = 0.4) -> list[tuple[bool, float]]:
    """A person on another address reading a 1 every `every` seconds -> (answered, seconds) of each."""
    results, end = [], time.time() + seconds
    while time.time() < end:
        ok, took = reading(url, fn, [ONE, False], source)
        results.append((ok, took))
        time.sleep(max(0.0, every - took))
    return results


def summary(results: list[tuple[bool, float]]) -> str:
    times = [t for ok, t in results if ok]
    if not times:
        return f"0 of {len(results)} answered"
    return (f"{len(times)} of {len(results)} answered, p50 {np.median(times):.2f}s p95 "
            f"{np.percentile(times, 95):.2f}s")


def row15_3(url: str, process) -> None:
    deps = dependencies(url)
    fn, gif = index_of(deps, "predict_strokes"), index_of(deps, "row_walk_gif")
    codes = at_once([lambda: join(url, fn, [SEVEN, False], "thirty-at-once", "127.0.0.10")[0]] * 30)
    print(f"15.3 30 joins of one session at the same moment: HTTP {tally(codes)}")

    for _ in range(10):
        join(url, fn, [SEVEN, False], "unread", "127.0.0.13")
    body = json.dumps({"data": [SEVEN, False], "session_hash": "unread"}).encode()
    status, _ = send_raw(url, request_bytes("POST", "/gradio_api/call/predict_strokes", body,
                                            Content_Length=str(len(body))), source="127.0.0.13")
    print(f"15.3 /call/predict_strokes for a session with 10 results unread: HTTP {status}")
    for read, attacker in ((False, ATTACKER), (True, "127.0.0.14")):
        time.sleep(3)  # the queue drains between the two
        with ThreadPoolExecutor(1) as pool:
            person = pool.submit(honest_person, url, fn, 11, HONEST)
            time.sleep(0.5)
            codes, reached = flood(url, fn, 160, 10, attacker, read)
            results = person.result()
        print(f"15.3 {reached:.0f} joins/s for 10 s, a fresh session each, from one address "
              f"({'reading every result' if read else 'reading nothing'}): HTTP {codes}; the person on another "
              f"address: {summary(results)}")

    def with_a_digit(session: str, source: str) -> None:
        join(url, fn, [SEVEN, False], session, source)
        read_results(url, session, source)

    time.sleep(3)
    with_a_digit("gif-greedy", "127.0.0.11")
    with_a_digit("gif-honest", "127.0.0.12")
    started = time.perf_counter()
    codes = at_once([lambda: join(url, gif, [None], "gif-greedy", "127.0.0.11")[0]] * 100)
    status, _ = join(url, gif, [None], "gif-honest", "127.0.0.12")
    answered = status == 200 and read_results(url, "gif-honest", "127.0.0.12") == [True]
    print(f"15.3 100 GIF joins of one session at once: HTTP {tally(codes)}; another person's GIF right after: HTTP "
          f"{status}, {'answered' if answered else 'not answered'} {time.perf_counter() - started:.1f}s after the joins")


def heavy_drawing(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    points = np.round(rng.uniform(0, 2048, (20, 500, 2)), 1).tolist()  # 10,000 points spread across the canvas
    return {"width": 2048, "height": 2048, "strokes": points}


def heaviest_accepted(seed: int) -> str:
    """The most work a drawing within every limit asks for: 10,000 points on a 2048x2048 canvas, a random walk
    whose rows of ink come just under strokes.MAX_INK_ROWS (its step found by bisection), sent as JSON text as
    the page sends it."""
    from reader.strokes import MAX_INK_ROWS, ink_rows, parse_drawing

    def walk(step: float) -> dict:
        moves = np.random.default_rng(seed).uniform(-step, step, (10_000, 2))
        points = np.clip(np.cumsum(moves, axis=0) + 1024, 0, 2047)
        return {"width": 2048, "height": 2048, "strokes": [np.round(points, 1).tolist()]}

    low, high = 0.5, 64.0  # more rows the longer the steps (fewer points are dropped as too close)
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (middle, high) if ink_rows(parse_drawing(walk(middle))) <= MAX_INK_ROWS else (low, middle)
    return json.dumps(walk(low))


def digit_png(path: Path) -> None:
    """A 4990x4990 RGB PNG (24.9 megapixels, 75 MB decoded) of a digit, about 100 KB."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (4990, 4990), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(1200, 1000), (3800, 1000), (2000, 4000)], fill=0, width=260)
    noise = np.random.default_rng(2).integers(0, 2, (40, 4990), dtype=np.uint8) * 255  # some texture to encode
    image.paste(Image.fromarray(noise).convert("RGB"), (0, 0))
    image.save(path, optimize=True)


def row15_4(url: str, process, folder: Path) -> None:
    deps = dependencies(url)
    fn, image_fn = index_of(deps, "predict_strokes"), index_of(deps, "predict_image")
    reading(url, fn, [SEVEN, False], HONEST)  # the first reading of a server warms it up
    seven = min(reading(url, fn, [SEVEN, False], HONEST)[1] for _ in range(3))
    heavy = min(reading(url, fn, [heavy_drawing(0), False], "127.0.4.1")[1] for _ in range(3))
    print(f"15.4 a 2048x2048 drawing of 10,000 points spread across it: round trip {heavy * 1000:.0f} ms (a 7: "
          f"{seven * 1000:.0f} ms; fastest of 3 each)")
    heaviest = heaviest_accepted(0)
    accepted = min(reading(url, fn, [heaviest, False], "127.0.4.1")[1] for _ in range(3))
    print(f"15.4 the heaviest drawing within every limit (10,000 points, rows of ink just under the bound, as JSON "
          f"text): round trip {accepted * 1000:.0f} ms")
    calls = [lambda i=i: reading(url, fn, [heaviest, False], f"127.0.4.{1 + i}") for i in range(16)]
    calls.append(lambda: (time.sleep(0.2), reading(url, fn, [SEVEN, False], HONEST))[1])
    results = at_once(calls)
    print(f"15.4 16 of them at once (from 16 addresses): {sum(ok for ok, _ in results[:-1])} answered, the last after "
          f"{max(t for _, t in results[:-1]):.1f}s; an honest pen-up (a 7) 0.2 s later: {results[-1][1] * 1000:.0f} ms")
    for many in (16, 32):  # each from an address of its own: the work per request, not the per-address limits
        calls = [lambda i=i: reading(url, fn, [heavy_drawing(i), False], f"127.0.4.{1 + i}") for i in range(many)]
        calls.append(lambda: (time.sleep(0.2), reading(url, fn, [SEVEN, False], HONEST))[1])
        results = at_once(calls)
        print(f"15.4 {many} of them at once (from {many} addresses): {sum(ok for ok, _ in results[:-1])} answered, "
              f"the last after {max(t for _, t in results[:-1]):.1f}s; an honest pen-up (a 7) 0.2 s later: "
              f"{results[-1][1] * 1000:.0f} ms")
    path = folder / "big.png"
    digit_png(path)

    def image_reading(source: str) -> tuple[bool, float]:
        started = time.perf_counter()
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=120) as http:
            uploaded = http.post(f"{url}gradio_api/upload", files=[("files", ("big.png", path.read_bytes(),
                                                                              "image/png"))])
        if uploaded.status_code != 200:
            return False, time.perf_counter() - started
        data = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": "big.png"}
        ok, _ = reading(url, image_fn, [data, False], source)
        return ok, time.perf_counter() - started

    image_reading("127.0.0.16")
    ok, one = image_reading("127.0.0.16")
    rss_before, peak, stop = rss_mb(process.pid), [0.0], threading.Event()

    def watch_rss() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(process.pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_rss)
    watcher.start()
    started = time.perf_counter()
    results = at_once([lambda i=i: image_reading(f"127.0.5.{1 + i}") for i in range(16)])
    stop.set()
    watcher.join()
    print(f"15.4 a {path.stat().st_size / 1024:.0f} KB RGB PNG of 24.9 megapixels: {'read' if ok else 'not read'} in "
          f"{one:.2f}s; 16 at once: {sum(ok for ok, _ in results)} read, all in {time.perf_counter() - started:.1f}s, "
          f"RSS {rss_before:.0f} -> peak {peak[0]:.0f} MB")


def row15_5(url: str, process, image: str) -> None:
    deps = dependencies(url)
    strokes = json.dumps(SEVEN)
    before = [("/gradio_api/run/predict", [0], "load_example"), ("/gradio_api/queue/join", [None, False], "read_example"),
              ("/gradio_api/queue/join", [strokes, False], "predict_strokes"),
              ("/gradio_api/queue/join", [strokes, False], "predict_strokes_live"),
              ("/gradio_api/queue/join", [None, False], "predict_image"), ("/gradio_api/queue/join", [None, True], "false"),
              ("/gradio_api/queue/join", [None], "row_walk_gif")]
    example = json.dumps({"example": "digit7_test0000.png", "seq": 1})
    now = [("/gradio_api/queue/join", [example, False], "read_example"),  # this page: nothing while the pen moves
           ("/gradio_api/queue/join", [strokes, False], "predict_strokes"),
           ("/gradio_api/queue/join", [None, False, None], "read_image"),
           ("/gradio_api/queue/join", [None, True], "compare_changed"),
           ("/gradio_api/queue/join", [None], "export_gif")]
    page = next((events for events in (now, before) if all(index_of(deps, name) is not None for _, _, name in events)),
                None)
    if page is None:
        print("15.5 skipped: this app's page has other events")
        return
    with ThreadPoolExecutor(6) as pool:
        others = [pool.submit(other_user_reads, url, 30, image) for _ in range(6)]
        codes, end, rounds, session = [], time.time() + 30, 0, uuid.uuid4().hex  # one page, one session
        while time.time() < end:
            answers = []
            for path, data, name in page:  # clicked quickly, one after another, as a person does
                answers.append(join(url, index_of(deps, name), data, session, "127.0.0.17", path)[0])
                time.sleep(0.03)
            codes += answers
            queued = sum(code == 200 for (path, _, _), code in zip(page, answers) if path.endswith("/join"))
            if queued:  # the old gallery's /run was answered directly
                read_results(url, session, "127.0.0.17", count=queued, timeout=60)
            rounds += 1
            time.sleep(0.5)
        answered = sum(f.result()[0] for f in others)
    print(f"15.5 a page's {len(page)} events, 30 ms apart, {rounds} times in 30 s, while 6 people use the image API "
          f"({answered} readings): HTTP {tally(codes)}")


def row15_6(url: str, process) -> None:
    fn, session, source = index_of(dependencies(url), "predict_strokes"), "drops-its-stream", "127.0.0.18"
    codes = []
    for _ in range(12):
        codes.append(join(url, fn, [SEVEN, False], session, source)[0])
        with socket.create_connection(("127.0.0.1", port_of(url)), source_address=(source, 0)) as sock:
            sock.sendall(request_bytes("GET", f"/gradio_api/queue/data?session_hash={session}"))
            sock.recv(200)  # the stream has started; it drops
        time.sleep(0.1)
    time.sleep(1)
    ok, took = reading(url, fn, [ONE, False], source, session=session)
    print(f"15.6 a session whose result stream dropped 12 times: joins HTTP {tally(codes)}; then a reading "
          f"{'answered' if ok else 'refused'} ({took:.2f}s)")


def row15_8(url: str, process) -> None:
    fn = index_of(dependencies(url), "predict_strokes")
    lines, size = log_size(process)
    started = time.perf_counter()
    with httpx.Client(timeout=30) as http:
        codes = []
        for i in range(1000):
            try:
                codes.append(http.get(f"{url}gradio_api/queue/data", params={"session_hash": f"nobody-{i}"}).status_code)
            except httpx.HTTPError as error:
                codes.append(type(error).__name__)
    after_lines, after_size = log_size(process)
    print(f"15.8 1,000 result streams for unknown sessions: {tally(codes)} in {time.perf_counter() - started:.1f}s; "
          f"log +{after_lines - lines:,} lines, +{(after_size - size) / 1e6:.2f} MB")
    lines, size = after_lines, after_size
    def bad_drawing(index: int) -> bool:
        session, source = uuid.uuid4().hex, f"127.0.1.{1 + index % 50}"
        return join(url, fn, ["not json", False], session, source)[0] == 200 and read_results(
            url, session, source) == [False]

    with ThreadPoolExecutor(4) as pool:
        answered = sum(pool.map(bad_drawing, range(300)))
    after_lines, after_size = log_size(process)
    print(f"15.8 300 bad drawings (each a readable error for its sender, {answered} of 300): log "
          f"+{after_lines - lines:,} lines, +{(after_size - size) / 1e3:.0f} KB")
    lines = after_lines
    response = httpx.post(f"{url}gradio_api/run/predict", json={"data": ["garbage", 1], "fn_index": 0}, timeout=30)
    print(f"15.8 /run/predict with fn_index 0 and garbage: HTTP {response.status_code}; log "
          f"+{log_size(process)[0] - lines} lines")


def row15_9(app_dir: Path) -> None:
    with start_server(app_dir=app_dir) as (url, process, _):
        memory_and_connections(url, process)


def memory_and_connections(url: str, process) -> None:
    fn = index_of(dependencies(url), "predict_strokes")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: reading(url, fn, [json.dumps(SEVEN), False], f"127.0.2.{1 + i % 100}"), range(40)))
        time.sleep(1)
        start, counts = rss_mb(process.pid), []
        for _ in range(2):
            list(pool.map(lambda i: reading(url, fn, [json.dumps(SEVEN), False], f"127.0.2.{1 + i % 100}"),
                          range(1000)))
            time.sleep(2)
            counts.append(rss_mb(process.pid))
    print(f"15.9 sessions of one reading each (the page's JSON text): RSS {start:.0f} -> {counts[0]:.0f} MB after "
          f"1,000 ({(counts[0] - start) * 1024 / 1000:.0f} KB each) -> {counts[1]:.0f} MB after 2,000")
    with ThreadPoolExecutor(4) as pool:
        start = rss_mb(process.pid)
        done = sum(ok for ok, _ in pool.map(lambda i: reading(url, fn, [heavy_drawing(i), False], f"127.0.3.{1 + i}"),
                                            range(100)))
        time.sleep(2)
    print(f"15.9 100 sessions each with a 10,000-point drawing sent as a JSON object ({done} read): RSS "
          f"{start:.0f} -> {rss_mb(process.pid):.0f} MB ({(rss_mb(process.pid) - start) * 1024 / 100:.0f} KB each)")
    kinds = {"idle": b"", "header-only": b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Ty",
             "half-sent": request_bytes("POST", "/gradio_api/queue/join", Content_Length="1000") + b'{"data": ['}
    start, sockets = rss_mb(process.pid), {kind: [] for kind in kinds}
    for kind, data in kinds.items():
        for _ in range(800):
            sock = socket.create_connection(("127.0.0.1", port_of(url)), source_address=("127.0.0.19", 0))
            sock.sendall(data)
            sockets[kind].append(sock)
    slowest = max(timed(lambda: httpx.get(f"{url}config", timeout=30)) for _ in range(10))
    opened = rss_mb(process.pid)
    time.sleep(35)

    def still_open(sock: socket.socket) -> bool:
        sock.setblocking(False)
        try:
            while sock.recv(65536):
                pass
            return False
        except BlockingIOError:
            return True
        except OSError:
            return False

    print(f"15.9 800 idle, 800 header-only and 800 half-sent connections: RSS {start:.0f} -> {opened:.0f} MB, another "
          f"user's slowest /config {slowest * 1000:.0f} ms; open 35 s later: " +
          ", ".join(f"{kind} {sum(map(still_open, socks))}" for kind, socks in sockets.items()))
    for socks in sockets.values():
        for sock in socks:
            sock.close()


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


ROWS = ["1", "3", "2", "5", "6", "7", "15.1", "15.2", "15.3", "15.4", "15.5", "15.6", "15.7", "15.8", "15.9"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose demo.py to run")
    parser.add_argument("--rows", nargs="*", default=ROWS, choices=ROWS, help="which rows (default: all)")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as folder, start_server(app_dir=args.app_dir) as (url, process, _):
        folder = Path(folder)
        image = str(folder / "digit.png")
        render_drawn(mnist(train=False).data[0].numpy(), 280, 210, 35, 35).save(image)
        print(f"{args.app_dir}: server at {url}, RSS {rss_mb(process.pid):.0f} MB")
        rows = {
            "1": lambda: item1(url, process),
            "3": lambda: item3(url, image),  # before item 2, whose 66 Plays would hold the old queue for minutes
            "2": lambda: item2(url, image),
            "5": lambda: item5(url, folder),
            "6": lambda: item6_and_7(url, process),
            "7": lambda: None,  # printed with 6
            "15.1": lambda: row15_1(url, process),
            "15.2": lambda: row15_2(url, process),
            "15.3": lambda: row15_3(url, process),
            "15.4": lambda: row15_4(url, process, folder),
            "15.5": lambda: row15_5(url, process, image),
            "15.6": lambda: row15_6(url, process),
            "15.7": lambda: print("15.7 the newest action wins: a behaviour of the page (gallery or upload, then "
                                  "drawing), measured in the browser by tests/test_browser.py, not here"),
            "15.8": lambda: row15_8(url, process),
            "15.9": lambda: row15_9(args.app_dir),
        }
        for row in ROWS:
            if row in args.rows:
                rows[row]()
                time.sleep(2)  # let the queue drain


if __name__ == "__main__":
    main()

"""What one stranger's requests cost everyone else, against `python demo.py` on this machine (loopback only).

    python -m bench.hostile                                  # this checkout: every row
    git worktree add /tmp/before 4a47215 && python -m bench.hostile --app-dir /tmp/before   # the app before
    python -m bench.hostile --rows deep_links held_heartbeats   # some rows only (names below)

Requests are written by hand on raw sockets, each kind of client from a loopback address of its own (Linux
routes all of 127.0.0.0/8 to this machine, and each address is a different client to the server): 127.0.0.2 the
stranger, 127.0.0.3 the honest person they are in the way of, ... 127.0.0.1 is this machine, which the
per-address limits leave alone. Rows marked (own) start a server of their own.

"A public Space" (the first round):
  nulls_body        a body of {"layers": [null, ...]} (2.3 MB, and the largest accepted) sent to the image API while
                    another user loads /config: status, that user's slowest /config, server RSS, log bytes;
  play_at_once      20 people pressing Play at once (an app whose Play runs in the browser makes no request);
  one_session_joins one session joining the queue 66 times while another user reads digits for 15 s;
  twenty_files      20 files of 9.9 MB in one upload: status and bytes stored;
  monitoring_and_unknown_endpoint   /monitoring, /monitoring/summary; an unknown fn_index: status, log lines.
"Round two" (issue 15):
  chunked_bodies    10 and 20 MB of points under "Content-Length: 100" + chunked; "Content-Length: 0" + chunked;
                    chunked alone; uploads of 20 files of 5 MB and of one 100 MB form field, chunked;
  file_spellings    uploads of 50 and 200 files whose Content-Disposition says FILENAME= or `filename =`;
  queue_floods      30 joins of one session at once; /call for a session with its results unread; 160 joins a
                    second for 10 s from one address (reading nothing, and reading every result) beside a person
                    reading a digit every 0.4 s; 100 GIF joins of one session, then another person's GIF;
  heavy_drawings    drawings within every limit but heavy, one and 16 and 32 at once beside an honest pen-up; a
                    PNG of 24.9 megapixels, one and 16 at once;
  busy_page         a page used quickly (each kind of event it sends, 30 ms apart) for 30 s beside 6 API users;
  dropped_streams   a session whose result stream drops 12 times: is it still served;
  newest_action_wins   a browser behaviour, measured by tests/test_browser.py;
  log_floods        1,000 result streams for unknown sessions, 300 bad drawings, garbage to /run/predict;
  sessions_memory   (own) 2,000 sessions of one reading, 100 with a 10,000-point drawing; 800 idle, 800
                    header-only and 800 half-sent connections: still open 35 s later.
"Round three" (issue 18):
  deep_links        for 6 s from one address, a reading of a fresh session, then its /gradio_api/deep_link:
                    files and bytes left in the cache;
  recording         POST /gradio_api/process_recording with three zoom effects: status, time;
  held_heartbeats   (own, 1,024 descriptors) 1,100 held heartbeats from one address: an honest request, the log;
  session_floods    1,100 POST /component_server for fresh sessions, then 120 sessions made by readings, from one
                    address: an honest session's GIF and compare;
  forwarded_loopback   (own, $SPACE_ID set) 120 joins at once with X-Forwarded-For: 127.0.0.1 from the proxy's side;
  costly_formats    a 3 MP noisy JPEG 2000, one and 16 in flight (from one address, from 16) beside an honest
                    person's pen-ups; the worst of each accepted format at its cap, decoded and 16 in flight;
  gets_and_uploads  4 connections on a GET route the page never uses, then on one it does, beside pen-ups; 20
                    uploads of 2 MB at once from one address;
  bad_types         wrongly typed API inputs (a bad file record, 5 layers): what the sender gets, the log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from harness import (
    DIGIT_STROKES,
    ROOT,
    at_once,
    chunked,
    pen_path,
    port_of,
    request_bytes,
    send_raw,
    start_server,
    still_open,
)
from training.mnist import mnist
from training.pens import render_drawn


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used, user and system (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def nulls_body(url: str, process) -> None:
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
        print(f"nulls_body: {len(body) / 1e6:.2f} MB of nulls to /predict: HTTP {response.status_code} in "
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


def play_at_once(url: str, image: str) -> None:
    play = play_index(dependencies(url))
    if play is None:
        print("play_at_once: 20 people pressing Play at once: Play runs in the browser on the rows sent with the reading; "
              "no request, first frame at once (tests/test_browser.py asserts no request is made)")
        return
    with ThreadPoolExecutor(20) as pool:
        firsts = list(pool.map(press_play, [url] * 20, [play] * 20, [image] * 20))
    print(f"play_at_once: 20 people press Play at once: first frame after median {np.median(firsts):.1f}s, worst {max(firsts):.1f}s")


def one_session_joins(url: str, image: str) -> None:
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
    print(f"one_session_joins: one session joins {what} 66 times: HTTP {counts}; another user over 15 s: {answered} answered, "
          f"{failed} refused or failed, slowest {slowest:.2f}s")


def twenty_files(url: str, folder: Path) -> None:
    blob = np.random.default_rng(0).bytes(int(9.9 * 2**20))
    files = [("files", (f"{i}.png", blob, "image/png")) for i in range(20)]
    started = time.perf_counter()
    try:
        response = httpx.post(f"{url}gradio_api/upload", files=files, timeout=120)
        status = response.status_code
        stored = sum(Path(p).stat().st_size for p in response.json()) / 2**20 if status == 200 else 0
    except httpx.HTTPError as error:
        status, stored = type(error).__name__, 0
    print(f"twenty_files: 20 files of 9.9 MB in one upload: HTTP {status} in {time.perf_counter() - started:.1f}s, "
          f"{stored:.0f} MB stored")


def monitoring_and_unknown_endpoint(url: str, process) -> None:
    codes = {path: httpx.get(f"{url}{path}").status_code for path in ("monitoring", "monitoring/summary")}
    log_before = process.log.read_text().count("\n")
    unknown = httpx.post(f"{url}gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "x"})
    time.sleep(0.5)
    print(f"monitoring_and_unknown_endpoint: GET /monitoring -> {codes['monitoring']}, /monitoring/summary -> {codes['monitoring/summary']}")
    print(f"monitoring_and_unknown_endpoint: unknown fn_index -> HTTP {unknown.status_code} {unknown.text[:70]!r}; "
          f"log +{process.log.read_text().count(chr(10)) - log_before} lines")


# ---------------------------------------------------------------------------------------------
# Issue 15: hand-written HTTP/1.1 from loopback addresses of our choosing (Linux routes all of 127.0.0.0/8 here).

ATTACKER, HONEST = "127.0.0.2", "127.0.0.3"
SEVEN = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["7"])}
ONE = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["1"])}


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


def tally(codes) -> dict:
    return dict(sorted(Counter(codes).items(), key=str))


def log_size(process) -> tuple[int, int]:
    time.sleep(0.5)
    text = process.log.read_text()
    return text.count("\n"), len(text.encode())


def chunked_bodies(url: str, process) -> None:
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
        print(f"chunked_bodies: {megabytes} MB of points, Content-Length: 100 + chunked, to /queue/join: HTTP {status}; another "
              f"user's slowest /config {max(times):.2f}s; RSS {rss_before:.0f} -> {rss_mb(process.pid):.0f} MB")
    small = chunked(join_json(fn, [SEVEN, False]))
    for name, headers in (("Content-Length: 0 + chunked", {"Content_Length": "0", "Transfer_Encoding": "chunked"}),
                          ("chunked alone", {"Transfer_Encoding": "chunked"})):
        status, _ = send_raw(url, request_bytes("POST", "/gradio_api/queue/join", **headers), small, source=ATTACKER)
        print(f"chunked_bodies: a drawing, {name}, to /queue/join: HTTP {status}")
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
        print(f"chunked_bodies: upload of {name}, Content-Length: 100 + chunked: HTTP {status} in "
              f"{time.perf_counter() - started:.1f}s, {stored:.0f} MB stored")


def file_spellings(url: str, process) -> None:
    for spelling in ('FILENAME="{i}.png"', 'filename ="{i}.png"'):
        for count in (50, 200):
            body = b"".join(f'--xx\r\nContent-Disposition: form-data; name="files"; {spelling.format(i=i)}\r\n'
                            f"Content-Type: image/png\r\n\r\n".encode() + b"\x89PNG%d\r\n" % i
                            for i in range(count)) + b"--xx--\r\n"
            status, answer = send_raw(url, request_bytes("POST", "/gradio_api/upload", body, "multipart/form-data; "
                                                         "boundary=xx", Content_Length=str(len(body))), source=ATTACKER)
            stored = len(json.loads(answer)) if status == 200 else 0
            print(f"file_spellings: {count} files spelled {spelling.split('=')[0]}=: HTTP {status}, {stored} files stored")


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


def queue_floods(url: str, process) -> None:
    deps = dependencies(url)
    # the page's GIF button: the session's digit (export_gif; an app older than the page's numbering called it
    # row_walk_gif, which now reads a drawing sent with it)
    fn, gif = index_of(deps, "predict_strokes"), index_of(deps, "export_gif") or index_of(deps, "row_walk_gif")
    codes = at_once([lambda: join(url, fn, [SEVEN, False], "thirty-at-once", "127.0.0.10")[0]] * 30)
    print(f"queue_floods: 30 joins of one session at the same moment: HTTP {tally(codes)}")

    for _ in range(10):
        join(url, fn, [SEVEN, False], "unread", "127.0.0.13")
    body = json.dumps({"data": [SEVEN, False], "session_hash": "unread"}).encode()
    status, _ = send_raw(url, request_bytes("POST", "/gradio_api/call/predict_strokes", body,
                                            Content_Length=str(len(body))), source="127.0.0.13")
    print(f"queue_floods: /call/predict_strokes for a session with 10 results unread: HTTP {status}")
    for read, attacker in ((False, ATTACKER), (True, "127.0.0.14")):
        time.sleep(3)  # the queue drains between the two
        with ThreadPoolExecutor(1) as pool:
            person = pool.submit(honest_person, url, fn, 11, HONEST)
            time.sleep(0.5)
            codes, reached = flood(url, fn, 160, 10, attacker, read)
            results = person.result()
        print(f"queue_floods: {reached:.0f} joins/s for 10 s, a fresh session each, from one address "
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
    print(f"queue_floods: 100 GIF joins of one session at once: HTTP {tally(codes)}; another person's GIF right after: HTTP "
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


def heavy_drawings(url: str, process, folder: Path) -> None:
    deps = dependencies(url)
    fn, image_fn = index_of(deps, "predict_strokes"), index_of(deps, "predict_image")
    reading(url, fn, [SEVEN, False], HONEST)  # the first reading of a server warms it up
    seven = min(reading(url, fn, [SEVEN, False], HONEST)[1] for _ in range(3))
    heavy = min(reading(url, fn, [heavy_drawing(0), False], "127.0.4.1")[1] for _ in range(3))
    print(f"heavy_drawings: a 2048x2048 drawing of 10,000 points spread across it: round trip {heavy * 1000:.0f} ms (a 7: "
          f"{seven * 1000:.0f} ms; fastest of 3 each)")
    heaviest = heaviest_accepted(0)
    accepted = min(reading(url, fn, [heaviest, False], "127.0.4.1")[1] for _ in range(3))
    print(f"heavy_drawings: the heaviest drawing within every limit (10,000 points, rows of ink just under the bound, as JSON "
          f"text): round trip {accepted * 1000:.0f} ms")
    calls = [lambda i=i: reading(url, fn, [heaviest, False], f"127.0.4.{1 + i}") for i in range(16)]
    calls.append(lambda: (time.sleep(0.2), reading(url, fn, [SEVEN, False], HONEST))[1])
    results = at_once(calls)
    print(f"heavy_drawings: 16 of them at once (from 16 addresses): {sum(ok for ok, _ in results[:-1])} answered, the last after "
          f"{max(t for _, t in results[:-1]):.1f}s; an honest pen-up (a 7) 0.2 s later: {results[-1][1] * 1000:.0f} ms")
    for many in (16, 32):  # each from an address of its own: the work per request, not the per-address limits
        calls = [lambda i=i: reading(url, fn, [heavy_drawing(i), False], f"127.0.4.{1 + i}") for i in range(many)]
        calls.append(lambda: (time.sleep(0.2), reading(url, fn, [SEVEN, False], HONEST))[1])
        results = at_once(calls)
        print(f"heavy_drawings: {many} of them at once (from {many} addresses): {sum(ok for ok, _ in results[:-1])} answered, "
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
    print(f"heavy_drawings: a {path.stat().st_size / 1024:.0f} KB RGB PNG of 24.9 megapixels: {'read' if ok else 'not read'} in "
          f"{one:.2f}s; 16 at once: {sum(ok for ok, _ in results)} read, all in {time.perf_counter() - started:.1f}s, "
          f"RSS {rss_before:.0f} -> peak {peak[0]:.0f} MB")


def busy_page(url: str, process, image: str) -> None:
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
        print("busy_page: skipped: this app's page has other events")
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
    print(f"busy_page: a page's {len(page)} events, 30 ms apart, {rounds} times in 30 s, while 6 people use the image API "
          f"({answered} readings): HTTP {tally(codes)}")


def dropped_streams(url: str, process) -> None:
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
    print(f"dropped_streams: a session whose result stream dropped 12 times: joins HTTP {tally(codes)}; then a reading "
          f"{'answered' if ok else 'refused'} ({took:.2f}s)")


def log_floods(url: str, process) -> None:
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
    print(f"log_floods: 1,000 result streams for unknown sessions: {tally(codes)} in {time.perf_counter() - started:.1f}s; "
          f"log +{after_lines - lines:,} lines, +{(after_size - size) / 1e6:.2f} MB")
    lines, size = after_lines, after_size
    def bad_drawing(index: int) -> bool:
        session, source = uuid.uuid4().hex, f"127.0.1.{1 + index % 50}"
        return join(url, fn, ["not json", False], session, source)[0] == 200 and read_results(
            url, session, source) == [False]

    with ThreadPoolExecutor(4) as pool:
        answered = sum(pool.map(bad_drawing, range(300)))
    after_lines, after_size = log_size(process)
    print(f"log_floods: 300 bad drawings (each a readable error for its sender, {answered} of 300): log "
          f"+{after_lines - lines:,} lines, +{(after_size - size) / 1e3:.0f} KB")
    lines = after_lines
    response = httpx.post(f"{url}gradio_api/run/predict", json={"data": ["garbage", 1], "fn_index": 0}, timeout=30)
    print(f"log_floods: /run/predict with fn_index 0 and garbage: HTTP {response.status_code}; log "
          f"+{log_size(process)[0] - lines} lines")


def sessions_memory(app_dir: Path) -> None:
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
    print(f"sessions_memory: sessions of one reading each (the page's JSON text): RSS {start:.0f} -> {counts[0]:.0f} MB after "
          f"1,000 ({(counts[0] - start) * 1024 / 1000:.0f} KB each) -> {counts[1]:.0f} MB after 2,000")
    with ThreadPoolExecutor(4) as pool:
        start = rss_mb(process.pid)
        done = sum(ok for ok, _ in pool.map(lambda i: reading(url, fn, [heavy_drawing(i), False], f"127.0.3.{1 + i}"),
                                            range(100)))
        time.sleep(2)
    print(f"sessions_memory: 100 sessions each with a 10,000-point drawing sent as a JSON object ({done} read): RSS "
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

    print(f"sessions_memory: 800 idle, 800 header-only and 800 half-sent connections: RSS {start:.0f} -> {opened:.0f} MB, another "
          f"user's slowest /config {slowest * 1000:.0f} ms; open 35 s later: " +
          ", ".join(f"{kind} {sum(map(still_open, socks))}" for kind, socks in sockets.items()))
    for socks in sockets.values():
        for sock in socks:
            sock.close()


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Issue 18, "A public Space, round three": routes the page never uses, connections nobody counts.


def pen_ups(url: str, fn: int, count: int, source: str = HONEST, every: float = 0.2) -> list[float]:
    """An honest person's pen-ups (a 7, join and read) one after another -> the seconds each took (answered ones)."""
    times = []
    for _ in range(count):
        ok, took = reading(url, fn, [json.dumps(SEVEN), False], source)
        if ok:
            times.append(took)
        time.sleep(max(0.0, every - took))
    return times


def median_ms(times: list[float]) -> str:
    return f"{np.median(times) * 1000:.0f} ms ({len(times)} answered)" if times else "none answered"


def deep_links(url: str, process) -> None:
    """For 6 s from one address, within the event limits: a reading for a fresh session (its state differs from
    the last), then GET /gradio_api/deep_link for it: what the cache keeps."""
    fn = index_of(dependencies(url), "predict_strokes")
    folder = process.cache / "deep_links"
    codes, sent, end, seq = [], 0, time.time() + 6, 0
    while time.time() < end:
        session, seq = uuid.uuid4().hex, seq + 1
        reading(url, fn, [json.dumps({**SEVEN, "seq": seq}), False], ATTACKER, session=session)
        request = request_bytes("GET", f"/gradio_api/deep_link?session_hash={session}")
        sent += len(request)
        codes.append(send_raw(url, request, source=ATTACKER)[0])
    files = [f for f in folder.rglob("*") if f.is_file()] if folder.exists() else []
    print(f"deep_links: {len(codes)} readings of fresh sessions, each then GET /gradio_api/deep_link, in 6 s from one "
          f"address ({sent / 1024:.0f} KB of deep-link requests): HTTP {tally(codes)}; the cache's deep_links/: "
          f"{len(files)} files, +{sum(f.stat().st_size for f in files) / 1e6:.0f} MB")


def recording(url: str, process) -> None:
    """POST /gradio_api/process_recording, a 59 KB "clip" and three zoom effects, as the issue sent it."""
    import shutil

    clip = np.random.default_rng(3).bytes(59 * 1024)
    effects = json.dumps([{"start_frame": 0, "duration": 5, "zoom_level": 2}] * 3)
    body = (b'--xx\r\nContent-Disposition: form-data; name="video"; filename="clip.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + clip + b'\r\n--xx\r\nContent-Disposition: form-data; '
            b'name="zoom_effects"\r\n\r\n' + effects.encode() + b"\r\n--xx--\r\n")
    lines, _ = log_size(process)
    started = time.perf_counter()
    status, answer = send_raw(url, request_bytes("POST", "/gradio_api/process_recording", body,
                                                 "multipart/form-data; boundary=xx", Content_Length=str(len(body))),
                              source=ATTACKER)
    print(f"recording: POST /gradio_api/process_recording (59 KB, 3 zoom effects): HTTP {status} in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms {answer[:60]!r}; log +{log_size(process)[0] - lines} "
          f"lines (ffmpeg {'is' if shutil.which('ffmpeg') else 'is not'} installed here; on a Space it is, and the "
          "issue measured 9.4 s for one effect, 24.5 s for three)")


def held_heartbeats(app_dir: Path) -> None:
    """1,100 held heartbeats from one address against a server held to 1,024 descriptors, as on a small host:
    an honest request, and the log over 21 s."""
    with tempfile.TemporaryDirectory() as cache, start_server(app_dir=app_dir, descriptors=1024,
                                                              env={"GRADIO_TEMP_DIR": cache}) as (url, process, _):
        lines, size = log_size(process)
        started, socks, answers = time.perf_counter(), [], Counter()
        for _ in range(1100):
            try:
                sock = socket.create_connection(("127.0.0.1", port_of(url)), source_address=(ATTACKER, 0), timeout=1)
                sock.sendall(f"GET /gradio_api/heartbeat/{uuid.uuid4().hex} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                socks.append(sock)
            except OSError as error:  # the server accepts nothing more: its backlog is full
                answers[f"connect {type(error).__name__}"] += 1
        opened = time.perf_counter() - started
        waiting, deadline = selectors.DefaultSelector(), time.time() + 3  # epoll: descriptors past 1,024
        for sock in socks:
            waiting.register(sock, selectors.EVENT_READ)
        while waiting.get_map() and time.time() < deadline:
            for key, _ in waiting.select(max(0.0, deadline - time.time())):
                waiting.unregister(key.fileobj)
                try:
                    head = key.fileobj.recv(12)
                    answers[head.decode() if head else "closed"] += 1
                except OSError as error:
                    answers[type(error).__name__] += 1
        answers["no answer in 3 s"] += len(waiting.get_map())
        waiting.close()
        try:
            honest = f"{timed(lambda: httpx.get(f'{url}config', timeout=10)) * 1000:.0f} ms"
        except httpx.HTTPError as error:
            honest = type(error).__name__
        time.sleep(21)
        after_lines, after_size = log_size(process)
        print(f"held_heartbeats: 1,100 heartbeats from one address in {opened:.1f} s, server at 1,024 descriptors: "
              f"{dict(answers)}; an honest /config from another address: {honest}; log over 21 s "
              f"+{after_lines - lines:,} lines, +{(after_size - size) / 1e6:.1f} MB")
        for sock in socks:
            sock.close()


def session_floods(url: str, process) -> None:
    """An honest session with a digit; 1,100 POST /component_server for fresh sessions from one address, then 120
    sessions made by readings from that address: does the honest session's GIF and compare still work?"""
    deps = dependencies(url)
    fn, gif_fn, compare = (index_of(deps, name) for name in ("predict_strokes", "export_gif", "compare_changed"))
    honest = "honest-" + uuid.uuid4().hex
    reading(url, fn, [json.dumps(SEVEN), False], HONEST, session=honest)

    def output(fn_index: int, data: list) -> dict:
        if join(url, fn_index, data, honest, HONEST)[0] != 200:
            return {}
        with httpx.Client(transport=httpx.HTTPTransport(local_address=HONEST), timeout=60) as http:
            with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": honest}) as stream:
                for line in stream.iter_lines():
                    if '"process_completed"' in line:
                        return json.loads(line.removeprefix("data: ")).get("output") or {}
        return {}

    def honest_state() -> str:
        gif = output(gif_fn, [None])
        answer = (output(compare, [None, True]).get("data") or [None])[0]
        return (f"the honest session's GIF: {'made' if gif.get('data') else repr(gif.get('error'))}, compare: "
                f"{'reads ' + answer['digit'] + ' beside the tutorial' if answer else 'nothing to compare'}")

    def component_server(index: int) -> int | str:
        body = json.dumps({"session_hash": f"flood-{index}-{uuid.uuid4().hex}", "component_id": 1, "fn_name": "x",
                           "data": None}).encode()
        return send_raw(url, request_bytes("POST", "/gradio_api/component_server", body,
                                           Content_Length=str(len(body))), source=ATTACKER)[0]

    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:  # refusals for the address's rate are held a second: 32 at a time
        codes = list(pool.map(component_server, range(1100)))
    print(f"session_floods: 1,100 POST /component_server, fresh sessions, one address (32 at a time), in "
          f"{time.perf_counter() - started:.1f} s: HTTP {tally(codes)}; {honest_state()}")

    def one(index: int) -> bool:
        session = f"made-{index}-{uuid.uuid4().hex}"
        while (status := join(url, fn, [json.dumps(SEVEN), False], session, ATTACKER)[0]) == 429:
            time.sleep(0.1)
        return status == 200 and read_results(url, session, ATTACKER) == [True]

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        made = sum(pool.map(one, range(120)))
    print(f"session_floods: then 120 sessions made by readings from that address ({made} read, "
          f"{time.perf_counter() - started:.1f} s): {honest_state()}")


def forwarded_loopback(app_dir: Path) -> None:
    """On a Space ($SPACE_ID set): 120 joins at once from the proxy's side with X-Forwarded-For: 127.0.0.1."""
    with tempfile.TemporaryDirectory() as cache, start_server(app_dir=app_dir, env={
            "SPACE_ID": "bench/hostile", "GRADIO_TEMP_DIR": cache}) as (url, process, _):
        fn = index_of(dependencies(url), "predict_strokes")
        codes = at_once([lambda: send_raw(url, request_bytes(
            "POST", "/gradio_api/queue/join", body := join_json(fn, [SEVEN, False]), Content_Length=str(len(body)),
            X_Forwarded_For="127.0.0.1"))[0] for _ in range(120)])
        print(f"forwarded_loopback: $SPACE_ID set, 120 joins at once from the proxy's side, X-Forwarded-For: "
              f"127.0.0.1: HTTP {tally(codes)}")


def noisy_picture(folder: Path, format: str, pixels: int, **options) -> Path:
    side = int(pixels ** 0.5)
    noise = np.random.default_rng(4).integers(0, 256, (side, side, 3), dtype=np.uint8)
    path = folder / f"noise-{format}-{pixels}.{format.lower()}"
    from PIL import Image

    Image.fromarray(noise).save(path, format=format, **options)
    return path


def costly_formats(url: str, process, folder: Path) -> None:
    """A 3 MP noisy JPEG 2000, one and 16 in flight beside an honest person's pen-ups; then the worst of each
    accepted format at its cap, decoded here (this checkout's server/uploads.py) and read through the API."""
    deps = dependencies(url)
    fn, image_fn = index_of(deps, "predict_strokes"), index_of(deps, "predict_image")
    jp2 = noisy_picture(folder, "JPEG2000", 3_000_000, quality_mode="rates", quality_layers=[10])

    def image_reading(path: Path, source: str) -> tuple[bool, float, str]:
        started = time.perf_counter()
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=120) as http:
            uploaded = http.post(f"{url}gradio_api/upload", files=[("files", (path.name, path.read_bytes()))])
            if uploaded.status_code != 200:
                return False, time.perf_counter() - started, f"upload {uploaded.status_code}"
            data = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}
            session = uuid.uuid4().hex
            status, _ = join(url, image_fn, [data, False], session, source)
            if status != 200:
                return False, time.perf_counter() - started, f"join {status}"
            with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
                for line in stream.iter_lines():
                    if '"process_completed"' in line:
                        message = json.loads(line.removeprefix("data: "))
                        error = (message.get("output") or {}).get("error")
                        return message["success"], time.perf_counter() - started, (error or "read")[:80]
        return False, time.perf_counter() - started, "no result"

    reading(url, fn, [json.dumps(SEVEN), False], HONEST)
    alone = pen_ups(url, fn, 10)
    ok, took, said = image_reading(jp2, ATTACKER)
    print(f"costly_formats: a {jp2.stat().st_size / 1024:.0f} KB noisy JPEG 2000 of 3 MP through /predict_image: "
          f"{took * 1000:.0f} ms round trip, {said!r}")
    for label, sources in (("one address", [ATTACKER] * 16), ("16 addresses", [f"127.0.6.{1 + i}" for i in range(16)])):
        with ThreadPoolExecutor(17) as pool:
            attack = [pool.submit(image_reading, jp2, source) for source in sources]
            time.sleep(0.3)
            during = pen_ups(url, fn, 10)
            results = [a.result() for a in attack]
        print(f"costly_formats: 16 of them in flight from {label}: {tally(said for _, _, said in results)}; an "
              f"honest pen-up's median {median_ms(alone)} alone -> {median_ms(during)} during")
    from server.uploads import FULL_DECODE_PIXELS, open_upload

    worst = [("PNG", FULL_DECODE_PIXELS["PNG"], {}), ("GIF", FULL_DECODE_PIXELS["GIF"], {}),
             ("BMP", FULL_DECODE_PIXELS["BMP"], {}), ("WEBP", FULL_DECODE_PIXELS["WEBP"], {"quality": 100}),
             ("JPEG", FULL_DECODE_PIXELS["JPEG"], {"progressive": True, "quality": 95}),
             ("JPEG", 25_000_000, {"quality": 40})]
    said_formats: list[str] = []
    for format, pixels, options in worst:
        said_formats.append(format)
        path = noisy_picture(folder, format, pixels, **options)
        decode = min(timed(lambda: open_upload(str(path))) for _ in range(3))
        with ThreadPoolExecutor(17) as pool:  # 16 fresh addresses each time: within their upload bytes a minute
            attack = [pool.submit(image_reading, path, f"127.0.{7 + len(said_formats)}.{1 + i}") for i in range(16)]
            time.sleep(0.3)
            during = pen_ups(url, fn, 10)
            results = [a.result() for a in attack]
        kind = f"{'progressive ' if options.get('progressive') else ''}{format}"
        print(f"costly_formats: noise as {kind} at {pixels / 1e6:g} MP ({path.stat().st_size / 1e6:.1f} MB): decoded "
              f"here in {decode * 1000:.0f} ms (best of 3); 16 in flight from 16 addresses: "
              f"{tally(said for _, _, said in results)}; an honest pen-up's median {median_ms(during)}")


def gets_and_uploads(url: str, process) -> None:
    """Four connections from one address on a GET route for 10 s (one the page never uses, then one it does)
    beside an honest person's pen-ups; then 20 uploads of 2 MB at once from one address."""
    fn = index_of(dependencies(url), "predict_strokes")
    reading(url, fn, [json.dumps(SEVEN), False], HONEST)
    alone = pen_ups(url, fn, 15)
    for path in ("gradio_api/queue/status", "theme.css"):
        stop, codes = threading.Event(), Counter()

        def hammer() -> None:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=ATTACKER), timeout=30) as http:
                while not stop.is_set():
                    try:
                        codes[http.get(f"{url}{path}").status_code] += 1
                    except httpx.HTTPError as error:
                        codes[type(error).__name__] += 1

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        cpu_before, started = cpu_seconds(process.pid), time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        during = pen_ups(url, fn, 15)
        stop.set()
        for thread in threads:
            thread.join()
        cpu, seconds = cpu_seconds(process.pid) - cpu_before, time.perf_counter() - started
        print(f"gets_and_uploads: 4 connections on GET /{path} from one address for {seconds:.0f} s "
              f"({sum(codes.values()):,} requests: {tally(codes.elements())}): the server's CPU {cpu:.1f} s "
              f"(the pen-ups' included); an honest pen-up's median {median_ms(alone)} alone -> {median_ms(during)}")
    blob = np.random.default_rng(5).bytes(2 * 2**20)

    def upload(index: int) -> int | str:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=ATTACKER), timeout=60) as http:
            try:
                return http.post(f"{url}gradio_api/upload", files=[("files", (f"{index}.png", blob))]).status_code
            except httpx.HTTPError as error:
                return type(error).__name__

    started = time.perf_counter()
    codes = at_once([lambda i=i: upload(i) for i in range(20)])
    print(f"gets_and_uploads: 20 uploads of 2 MB at once from one address: HTTP {tally(codes)} in "
          f"{time.perf_counter() - started:.1f} s ({codes.count(200) * 2} MB stored)")


def bad_types(url: str, process) -> None:
    """Wrongly typed API inputs: a bad file record to /predict_image, 5 layers to /predict, 10 of each."""
    deps = dependencies(url)
    cases = {"a bad file record to /predict_image": (index_of(deps, "predict_image"),
                                                     [{"path": 5, "meta": {"_type": "gradio.FileData"}}, False]),
             "5 layers to /predict": (index_of(deps, "predict"),
                                      [{"background": None, "layers": [None] * 5, "composite": None}])}
    for name, (fn, data) in cases.items():
        lines, size = log_size(process)
        said = Counter()
        for _ in range(10):
            session = uuid.uuid4().hex
            status, reply = join(url, fn, data, session, ATTACKER)
            if status != 200:  # refused at join (this version: 422 with the sentence), never queued
                said[f"HTTP {status} " + str(json.loads(reply or b"{}").get("error"))[:90]] += 1
                continue
            with httpx.Client(transport=httpx.HTTPTransport(local_address=ATTACKER), timeout=30) as http:
                with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
                    for line in stream.iter_lines():
                        if '"process_completed"' in line:
                            said[str((json.loads(line.removeprefix("data: "))["output"] or {}).get("error"))[:90]] += 1
                            break
        after_lines, _ = log_size(process)
        tracebacks = process.log.read_text().splitlines()[lines:].count("Traceback (most recent call last):")
        print(f"bad_types: {name}, 10 times: the sender got {dict(said)}; log +{after_lines - lines} lines, "
              f"{tracebacks} tracebacks")


def newest_action_wins() -> None:
    print("newest_action_wins: a behaviour of the page (gallery or upload, then drawing), measured in the browser "
          "by tests/test_browser.py, not here")


# Rows in the order they run; those marked "own" start a server of their own.
ROWS = ["nulls_body", "play_at_once", "one_session_joins", "twenty_files", "monitoring_and_unknown_endpoint",
        "chunked_bodies", "file_spellings", "queue_floods", "heavy_drawings", "busy_page", "dropped_streams",
        "newest_action_wins", "log_floods", "sessions_memory",
        "deep_links", "recording", "held_heartbeats", "session_floods", "forwarded_loopback", "costly_formats",
        "gets_and_uploads", "bad_types"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose demo.py to run")
    parser.add_argument("--rows", nargs="*", default=ROWS, choices=ROWS, help="which rows (default: all)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, start_server(app_dir=args.app_dir, env={
            "GRADIO_TEMP_DIR": str(Path(folder) / "cache")}) as (url, process, _):
        folder = Path(folder)
        process.cache = folder / "cache"
        image = str(folder / "digit.png")
        render_drawn(mnist(train=False).data[0].numpy(), 280, 210, 35, 35).save(image)
        print(f"{args.app_dir}: server at {url}, RSS {rss_mb(process.pid):.0f} MB")
        rows = {
            "nulls_body": lambda: nulls_body(url, process),
            # before one_session_joins, whose 66 Plays would hold the old queue for minutes
            "play_at_once": lambda: play_at_once(url, image),
            "one_session_joins": lambda: one_session_joins(url, image),
            "twenty_files": lambda: twenty_files(url, folder),
            "monitoring_and_unknown_endpoint": lambda: monitoring_and_unknown_endpoint(url, process),
            "chunked_bodies": lambda: chunked_bodies(url, process),
            "file_spellings": lambda: file_spellings(url, process),
            "queue_floods": lambda: queue_floods(url, process),
            "heavy_drawings": lambda: heavy_drawings(url, process, folder),
            "busy_page": lambda: busy_page(url, process, image),
            "dropped_streams": lambda: dropped_streams(url, process),
            "newest_action_wins": newest_action_wins,
            "log_floods": lambda: log_floods(url, process),
            "sessions_memory": lambda: sessions_memory(args.app_dir),  # own
            "deep_links": lambda: deep_links(url, process),
            "recording": lambda: recording(url, process),
            "held_heartbeats": lambda: held_heartbeats(args.app_dir),  # own
            "session_floods": lambda: session_floods(url, process),
            "forwarded_loopback": lambda: forwarded_loopback(args.app_dir),  # own
            "costly_formats": lambda: costly_formats(url, process, folder),
            "gets_and_uploads": lambda: gets_and_uploads(url, process),
            "bad_types": lambda: bad_types(url, process),
        }
        for row in ROWS:
            if row in args.rows:
                rows[row]()
                time.sleep(2)  # let the queue drain


if __name__ == "__main__":
    main()

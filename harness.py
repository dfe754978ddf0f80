"""Driving the app from outside, shared by the tests and the benchmarks (neither imports the other).

    from harness import start_server, open_browser, draw, SEVEN
    with start_server() as (url, process, seconds), open_browser() as page:
        page.goto(url); draw(page, SEVEN)

start_server() runs `python demo.py` the way a user does and waits until it serves; request_bytes(),
send_raw(), read_response() and chunked() speak HTTP/1.1 on raw sockets from a loopback address of the caller's
choosing (Linux routes all of 127.0.0.0/8 to this machine: each address is a different client to the server),
as a stranger would, still_open() says whether the server kept a connection, and at_once() runs calls at the
same moment; Counted(model) counts the images a model reads while in use; open_browser()
starts Debian's headless Chromium under Playwright (no browser download); draw() and draw_with_finger()
stroke on the canvas with a real mouse or real touch events; pen_path() gives the points the page keeps of a
pen's path; SEVEN, ONE, ZERO, FOUR, TWO are digits as strokes; varied_drawings() many kinds of drawings;
engine_page() loads the browser's engine into a blank page and worker_page() runs it in a Web Worker there, as
the page does; axe_violations() runs axe-core's WCAG 2.1 A/AA rules on a page.
"""

from __future__ import annotations

import os
import resource
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
# Headless Chromium as root in a sandbox with no network: no background traffic, no GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def start_server(port: int | None = None, timeout: float = 90.0, env: dict | None = None, app_dir: Path = ROOT,
                 descriptors: int | None = None):
    """Run `python demo.py --port PORT` in app_dir; yield (url, process, seconds until it served its page).

    The server's output goes to a file, process.log (a pipe nobody reads would stall a server that logs a lot).
    descriptors: the server's limit on open descriptors, soft and hard (as `ulimit -n` would set it).
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    log = tempfile.NamedTemporaryFile("w+", prefix="demo-", suffix=".log", delete=False)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

    process = subprocess.Popen([sys.executable, "demo.py", "--port", str(port)], cwd=app_dir,
                               env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=limited if descriptors else None)
    process.log = Path(log.name)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"demo.py exited with {process.returncode}:\n{process.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"demo.py did not serve {url} within {timeout:.0f}s")
            time.sleep(0.1)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        process.log.unlink(missing_ok=True)


def log_lines(process) -> list[str]:
    """The lines start_server's process has written so far (after a moment for it to write)."""
    time.sleep(0.3)
    return process.log.read_text().splitlines()


def port_of(url: str) -> int:
    return urlsplit(url).port


def request_bytes(method: str, path: str, body: bytes = b"", content_type: str = "application/json",
                  **headers: str) -> bytes:
    """An HTTP/1.1 request as bytes; headers by keyword, underscores for dashes (Content_Length="12")."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body: bytes, size: int = 65536) -> bytes:
    """A body in chunked transfer coding."""
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def send_raw(url: str, head: bytes, body: bytes = b"", source: str = "127.0.0.1",
             timeout: float = 300) -> tuple[int | str, bytes]:
    """On a fresh connection from `source`: send `head`, then `body` unless the server has answered already ->
    (status, or what went wrong, and the response body). Refusals come with Connection: close."""
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


def still_open(sock: socket.socket) -> bool:
    """Whether the server has not closed a connection (what it sent meanwhile is read and dropped)."""
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def api_index(url: str, api_name: str) -> int | None:
    """The fn_index of the app's event named `api_name` (its config's dependencies), or None."""
    import httpx

    dependencies = httpx.get(f"{url.rstrip('/')}/config", timeout=30).json()["dependencies"]
    return next((i for i, d in enumerate(dependencies) if d.get("api_name") == api_name), None)


def event_body(fn: int, data: list, session: str) -> bytes:
    """A /queue/join body, as the page sends it."""
    import json

    return json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()


def at_once(calls: list) -> list:
    """Run the zero-argument callables all at the same moment (threads behind a barrier) -> their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class Counted:
    """with Counted(model) as counted: ... -> counted.count, the images model(x) read meanwhile (one per image in
    each batch): what a reading costs in passes of the network."""

    def __init__(self, model):
        self.model, self.count = model, 0

    def __enter__(self):
        self.hook = self.model.register_forward_hook(lambda module, args, out: self._add(len(args[0])))
        return self

    def _add(self, n: int) -> None:
        self.count += n

    def __exit__(self, *exc):
        self.hook.remove()


def read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response from a raw socket: read until its Content-Length of body has come, or the server
    closes. A connection reset after part of it came ends it like a close (the server answered, then dropped
    the rest of the request); a reset before anything came is raised."""
    response = b""
    try:
        while chunk := sock.recv(65536):
            response += chunk
            head, _, body = response.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                break
    except OSError:
        if not response:
            raise
    return response


@contextmanager
def open_browser(width: int = 1400, height: int = 1100, phone: bool = False):
    """Yield a Playwright page in headless Debian Chromium (phone=True: a touch screen, 2x pixels)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone,
                                          is_mobile=phone, device_scale_factor=2 if phone else 1)
            yield context.new_page()
        finally:
            browser.close()


def drawing_area(page) -> tuple[float, float, float]:
    """-> (left, top, size) in page pixels: the square at the top left of the 2:1 canvas the user draws on, as
    wide as the canvas is tall ([0, 1] coordinates land in it; x up to 2 reaches the canvas's right edge)."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    return box["x"], box["y"], min(box["width"], box["height"])


def draw(page, strokes: list[list[tuple[float, float]]], steps: int = 8) -> None:
    """Draw strokes given in [0, 1] coordinates of the drawing area, each a pointer down -> up."""
    left, top, size = drawing_area(page)
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(left + x * size, top + y * size)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(left + x * size, top + y * size, steps=steps)
        page.mouse.up()


def draw_with_finger(page, strokes: list[list[tuple[float, float]]], steps: int = 4) -> None:
    """The same with real touch events (touchstart -> touchmove... -> touchend) through Chromium's CDP:
    the browser turns them into pointer events, and would scroll the page if the canvas let it."""
    left, top, size = drawing_area(page)
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": left + x * size, "y": top + y * size} for x, y in points]})

    for stroke in strokes:
        touch("touchStart", [stroke[0]])
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for i in range(1, steps + 1):
                touch("touchMove", [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)])
        touch("touchEnd", [])


def pen_path(strokes: list[list[tuple[float, float]]], canvas: int = 280, step: float = 2.0) -> list[list[list[float]]]:
    """Strokes in [0, 1] of the canvas -> the points canvas.js would keep (one per `step` canvas pixels)."""
    path = []
    for stroke in strokes:
        points = [[stroke[0][0] * canvas, stroke[0][1] * canvas]]
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            length = max(1, int(np.hypot(x1 - x0, y1 - y0) * canvas / step))
            points += [[round((x0 + (x1 - x0) * i / length) * canvas, 1), round((y0 + (y1 - y0) * i / length) * canvas, 1)]
                       for i in range(1, length + 1)]
        path.append(points)
    return path


# Digits as strokes, in [0, 1] of the drawing area (drawn big, as people do on a sketchpad)
SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
ONE = [[(0.5, 0.15), (0.5, 0.85)]]
ZERO = [[(0.5, 0.15), (0.3, 0.3), (0.27, 0.55), (0.35, 0.8), (0.5, 0.86), (0.66, 0.78), (0.73, 0.5),
         (0.68, 0.25), (0.5, 0.15)]]
FOUR = [[(0.6, 0.85), (0.6, 0.15), (0.25, 0.6), (0.75, 0.6)]]
TWO = [[(0.3, 0.3), (0.45, 0.17), (0.65, 0.22), (0.68, 0.4), (0.3, 0.82), (0.75, 0.82)]]
DIGIT_STROKES = {"0": ZERO, "1": ONE, "2": TWO, "4": FOUR, "7": SEVEN}


def engine_page(page, use_kernel: bool = True):
    """Load the browser's engine (frontend.ENGINE_SCRIPTS and the committed model, as the page loads them) into a
    Playwright page as window.engine -> the page. No server: the scripts are added as they are."""
    from frontend import ENGINE_SCRIPTS, model_script
    from model import DEFAULT_WEIGHTS, load_model, sha256_of

    page.set_content("<!doctype html><title>engine</title>")
    page.add_script_tag(content=model_script(load_model(), sha256_of(DEFAULT_WEIGHTS)))
    for name in ENGINE_SCRIPTS:
        page.add_script_tag(content=(ROOT / "web" / name).read_text())
    page.evaluate("useKernel => { window.engine = BiLSTMEngine.create(window.BILSTM_MODEL, useKernel); }", use_kernel)
    return page


def worker_page(page, use_kernel: bool = True, stretch: float = 1.0):
    """The engine as the page runs it: in a Web Worker made from frontend.worker_source() (a Blob URL), in a blank
    Playwright page -> the page, with window.readInWorker(requests) -> Promise of the replies, in order: each
    request {kind: "answer" | "views", ...} as web/worker.js takes them."""
    from frontend import model_script, worker_script
    from model import DEFAULT_WEIGHTS, load_model, sha256_of

    page.set_content("<!doctype html><title>worker</title>")
    page.add_script_tag(content=model_script(load_model(), sha256_of(DEFAULT_WEIGHTS)))
    page.add_script_tag(content=worker_script())
    page.evaluate("""([useKernel, stretch]) => new Promise((ready, failed) => {
        const url = URL.createObjectURL(new Blob([window.BILSTM_WORKER_SOURCE], {type: "text/javascript"}));
        const worker = new Worker(url), waiting = [];
        worker.onerror = (event) => failed(new Error(event.message));
        worker.onmessage = (event) => (event.data.kind === "ready" ? ready(event.data.kernel) : waiting.shift()(event.data));
        window.readInWorker = (requests) => Promise.all(requests.map((request) => new Promise((done) => {
          waiting.push(done);
          worker.postMessage(request);
        })));
        worker.postMessage({kind: "start", model: window.BILSTM_MODEL, useKernel, stretch});
      })""", [use_kernel, stretch])
    return page


def varied_drawings(count: int, seed: int = 0) -> list[dict]:
    """Drawings as the page sends them, of many kinds: the digits above moved, scaled and jittered, on square
    and wide canvases; numbers of 2-4 digits side by side; scribbles; and the odd ones people make (a dot, a
    line, ink on the edges, strokes past the edge, a huge canvas, a tiny one)."""
    rng = np.random.default_rng(seed)
    shapes = list(DIGIT_STROKES.values())
    odd = [
        {"width": 280, "height": 280, "strokes": [[[140, 140]]]},  # a dot
        {"width": 280, "height": 280, "strokes": [[[20, 140], [260, 140]]]},  # a line
        {"width": 280, "height": 280, "strokes": [[[0, 0], [280, 0], [280, 280], [0, 280], [0, 0]]]},  # the edges
        {"width": 280, "height": 280, "strokes": [[[-50, 140], [330, 150]]]},  # past the edges
        {"width": 2048, "height": 2048, "strokes": pen_path(SEVEN, canvas=2048, step=3.0)},  # raster at 1/4
        {"width": 16, "height": 16, "strokes": [[[2, 2], [14, 14]], [[14, 2], [2, 14]]]},  # the smallest canvas
        {"width": 840, "height": 280, "strokes": [[[100, 40]], [[400, 40], [400, 240]], [[700, 240]]]},  # specks
        {"width": 280, "height": 280, "strokes": [[[100.5, 100.5], [100.5, 100.5], [101, 100.5]]]},  # repeats
    ]
    drawings = list(odd)
    while len(drawings) < count:
        kind = rng.integers(4)
        if kind <= 1:  # one digit, anywhere, any size, on a square or wide canvas
            width = int(rng.choice([280, 280, 560, 840, 400]))
            size, jitter = rng.uniform(0.3, 1.0), rng.uniform(0, 0.02)
            x0, y0 = rng.uniform(0, 1 - size) * 280 + rng.uniform(0, width - 280), rng.uniform(0, 1 - size) * 280
            shape = [[(x + rng.normal(0, jitter), y + rng.normal(0, jitter)) for x, y in stroke]
                     for stroke in shapes[rng.integers(len(shapes))]]
            strokes = [[[round(x0 + x * size * 280, 1), round(y0 + y * size * 280, 1)] for x, y in stroke]
                       for stroke in pen_path(shape, canvas=1, step=2.0 / (280 * size))]
            drawings.append({"width": width, "height": 280, "strokes": strokes})
        elif kind == 2:  # a number: 2-4 digits side by side on a 3:1 canvas
            n, strokes, x = int(rng.integers(2, 5)), [], rng.uniform(10, 60)
            for _ in range(n):
                size = rng.uniform(0.55, 0.8)
                for stroke in pen_path(shapes[rng.integers(len(shapes))], canvas=int(280 * size)):
                    strokes.append([[round(x + px, 1), round(20 + py, 1)] for px, py in stroke])
                x += 280 * size * rng.uniform(0.75, 0.95)
            drawings.append({"width": 840, "height": 280, "strokes": strokes})
        else:  # a scribble of random strokes
            strokes = [np.round(np.cumsum(rng.normal(0, 12, (int(rng.integers(1, 40)), 2)), axis=0)
                                + rng.uniform(40, 240, 2), 1).tolist() for _ in range(rng.integers(1, 5))]
            drawings.append({"width": 280, "height": 280, "strokes": strokes})
    return drawings[:count]


AXE = ROOT / "tests" / "vendor" / "axe.min.js"  # axe-core 4.14.1 (npm), vendored for the tests only (MPL-2.0)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA rules on the page as it is now -> one line per rule broken ([] when none).
    axe-core is run through DevTools (Runtime.evaluate), which a page's Content-Security-Policy does not govern:
    the static page refuses inline scripts, as it should."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Runtime.evaluate", {"expression": AXE.read_text()})
    cdp.detach()
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [f"{v['id']}: {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['target']}: {v['help']}"
            for v in result["violations"]]


def prediction_text(page) -> str:
    """The big answer on the page ('' when there is none)."""
    value = page.locator("#prediction [data-testid=label-output-value]")
    return value.first.inner_text().strip() if value.count() else ""



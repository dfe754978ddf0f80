"""What a phone in the audience gets: both pages (`python demo.py` and the static build) on a 390x844 touch screen,
with the CPU at full speed (x1) and slowed 4x (DevTools' mid-tier phone), a finger drawing a circle at a finger's
pace (60 touch moves sent a second, 1.5 s); and the same on a desktop (1280x900, a mouse) beside it.

    python -m bench.phone                       # both pages, x1 and x4, phone and desktop (needs /usr/bin/chromium)
    python -m bench.phone --rounds 4 --pages static --rates 4 --no-desktop
    python -m bench.phone --pages static --site OLD   # another version's static build (python build_static.py OLD)

Printed for each: pointer moves the page took a second (Chromium takes the next move only once the page has taken
this one: a busy main thread takes fewer), long tasks (over 50 ms, PerformanceObserver "longtask") during the stroke
and the longest, answers and row views shown a second while the finger moves, how far the answer on screen was
behind the finger (the newest move's time minus the time of the newest point in the answer shown, just before each
new answer is painted), the time from the finger's last move to its answer and to its row views on screen, the main
thread's time to paint one reading, and, on the Gradio page, requests sent while the finger moves and finger-up ->
the server's reading on the page.

CPU x4: `Emulation.setCPUThrottlingRate` slows a page's main thread 4x, but not its Web Workers as much (measured
here: about 2x; DevTools cannot throttle a worker itself: "Operation is only supported for pages, not workers"). So
that the engine's worker runs as slowly as a phone's would, the page is told to stretch the worker's time
(window.BILSTM_WORKER_STRETCH, see web/worker.js) by the factor that brings it to 4x; the factor is measured first
on the same drawing, and the slowdown reached is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

import build_static
from harness import CHROMIUM, CHROMIUM_ARGS, SEVEN, drawing_area, pen_path, start_server, worker_page

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
MOVES_PER_SECOND, STROKE_SECONDS = 60, 1.5  # a finger's pace: 90 moves
WATCH = """
window.longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push([e.startTime, e.duration]); })
  .observe({type: "longtask", buffered: true});
window.moves = [];  // [event time, points merged into it] of every pointermove the page took
addEventListener("pointermove", (e) => moves.push([e.timeStamp, e.getCoalescedEvents ? e.getCoalescedEvents().length : 1]),
                 {capture: true, passive: true});
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def static_site(built: Path | None = None):
    """The static build (in a temporary folder, or one built before), served as `python -m http.server` serves
    it -> its URL."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = str(built or temporary)
        if built is None:
            build_static.build(Path(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()


def throttle(page, rate: float):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    return cdp


def worker_stretch(browser, rate: float) -> tuple[float, str]:
    """The factor that makes the engine's worker `rate` times slower under DevTools' throttling -> (factor, what
    was measured). Each measure: the median worker time of 20 answers and their row views of a drawn 7; the factor
    is corrected once more if the slowdown it gives is off by more than a tenth (this machine is shared)."""
    drawing = {"width": 560, "height": 280, "strokes": pen_path([[(0.5 * x + 0.25, y) for x, y in SEVEN[0]]], canvas=560)}
    requests = [r for i in range(24) for r in ({"kind": "answer", "id": i, "drawing": drawing, "pick": None},
                                              {"kind": "views", "id": i})]

    def measure(throttled: float, stretch: float) -> float:
        page = worker_page(browser.new_page(), stretch=stretch)
        throttle(page, throttled)
        replies = page.evaluate("rs => readInWorker(rs)", requests)[8:]  # the first four readings warm it up
        page.close()
        return float(np.median([a["ms"] + v["ms"] for a, v in zip(replies[::2], replies[1::2])]))

    if rate == 1:
        return 1.0, "none"
    alone, throttled = measure(1, 1), measure(rate, 1)
    factor = max(1.0, rate * alone / throttled)
    reached = measure(rate, factor) / alone
    if abs(reached / rate - 1) > 0.1:
        factor = max(1.0, factor * rate / reached)
        reached = measure(rate, factor) / alone
    return factor, (f"the worker alone {alone:.1f} ms a reading, {throttled / alone:.1f}x slower under DevTools' x{rate:g}; "
                    f"its replies delayed {factor:.2f}x: {reached:.1f}x")


def circle(count: int) -> list[tuple[float, float]]:
    """A loop drawn by a finger, in [0, 1] of the drawing area: a zero, from its top, clockwise."""
    return [(0.5 + 0.28 * math.sin(2 * math.pi * i / (count - 1)), 0.5 - 0.36 * math.cos(2 * math.pi * i / (count - 1)))
            for i in range(count)]


class Finger:
    """Touch through Chromium's DevTools (touchStart, touchMove..., touchEnd), or a mouse on the desktop."""

    def __init__(self, page, touch: bool):
        self.page, self.touch = page, touch
        self.cdp = page.context.new_cdp_session(page) if touch else None
        self.left, self.top, self.size = drawing_area(page)

    def _at(self, x: float, y: float) -> tuple[float, float]:
        return self.left + x * self.size, self.top + y * self.size

    def down(self, x: float, y: float) -> None:
        if self.touch:
            X, Y = self._at(x, y)
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": X, "y": Y}]})
        else:
            self.page.mouse.move(*self._at(x, y))
            self.page.mouse.down()

    def move(self, x: float, y: float) -> None:
        if self.touch:
            X, Y = self._at(x, y)
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": X, "y": Y}]})
        else:
            self.page.mouse.move(*self._at(x, y))

    def up(self) -> None:
        if self.touch:
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            self.page.mouse.up()


def one_stroke(page, finger: Finger, gradio: bool, posts: list) -> dict:
    """Clear, then draw the circle at 60 moves a second -> this round's numbers."""
    page.evaluate("() => document.querySelector('#clear').click()")
    page.wait_for_timeout(400)
    path = circle(int(MOVES_PER_SECOND * STROKE_SECONDS) + 1)
    start, local, posts_before = *page.evaluate("() => [performance.now(), bilstm.stats.local]"), len(posts)
    finger.down(*path[0])
    began = time.perf_counter()
    for index, (x, y) in enumerate(path[1:], start=1):
        finger.move(x, y)
        time.sleep(max(0.0, began + index / MOVES_PER_SECOND - time.perf_counter()))
    sending = time.perf_counter() - began
    if page.evaluate("() => !bilstm.stats.painted"):  # an older page (--site): what it counts, while the finger moved
        shown = page.evaluate("() => bilstm.stats.local") - local
        page.wait_for_timeout(1000)
        numbers = page.evaluate("""start => {
            const moves = window.moves.filter(([t]) => t >= start), end = moves.at(-1)[0];
            const tasks = longTasks.filter(([t]) => t >= start && t <= end);
            return {seconds: (end - moves[0][0]) / 1000, moves: moves.length, merged: moves.reduce((n, [, k]) => n + k, 0),
                    behind: [], lastAnswer: null, lastViews: null, longTasks: tasks.length,
                    longest: tasks.reduce((m, [, d]) => Math.max(m, d), 0), frames: bilstm.stats.frames.slice(-20)}; }""", start)
        numbers["answers"] = numbers["views"] = shown * numbers["seconds"] / sending
    else:
        # the finger rests: wait for its last point's answer and row views on screen
        page.wait_for_function("""() => { const p = bilstm.stats.painted.at(-1);
            return p && p.stamp === bilstm.pad.lastPointAt() && p.views === p.id; }""", timeout=20_000)
        numbers = page.evaluate("""start => {
            const moves = window.moves.filter(([t]) => t >= start), painted = bilstm.stats.painted.filter(p => p.at >= start);
            const last = bilstm.pad.lastPointAt(), first = moves[0][0], end = moves.at(-1)[0];
            const answers = [], views = [];
            for (const p of painted) {
              if (!answers.length || answers.at(-1).id !== p.id) answers.push(p);
              if (p.views !== null && (!views.length || views.at(-1).views !== p.views)) views.push(p);
            }
            const during = (list) => list.filter(p => p.at >= first && p.at <= end).length;
            const newestMove = (t) => { let m = first; for (const [at] of moves) if (at <= t) m = at; return m; };
            // just before each new answer is painted: the newest move then, minus the newest point in the answer shown
            const behind = answers.map((p, i) => (i && p.at <= end ? newestMove(p.at) - answers[i - 1].stamp : null))
                                  .filter(v => v !== null);
            const mine = answers.find(p => p.stamp === last), myViews = views.find(p => p.views === (mine && mine.id));
            const tasks = longTasks.filter(([t]) => t >= start && t <= end);
            return {seconds: (end - first) / 1000, moves: moves.length, merged: moves.reduce((n, [, k]) => n + k, 0),
                    answers: during(answers), views: during(views), behind,
                    lastAnswer: mine ? mine.at - last : null, lastViews: myViews ? myViews.at - last : null,
                    longTasks: tasks.length, longest: tasks.reduce((m, [, d]) => Math.max(m, d), 0),
                    frames: bilstm.stats.frames.slice(-painted.length)}; }""", start)
    numbers["taken"] = (len(path) - 1) / sending  # moves Chromium let through a second
    if gradio:
        numbers["requests"] = len(posts) - posts_before  # sent while the finger moved (and rested, before it lifted)
        page.evaluate("() => { window.upAt = performance.now(); }")
        finger.up()
        page.wait_for_function("() => document.querySelector('#reading .reading').dataset.from === 'server' && "
                               "document.querySelector('#reading .reading').dataset.points === String(bilstm.pad.points())",
                               timeout=20_000, polling="raf")
        numbers["server"] = page.evaluate("() => performance.now() - window.upAt")
    else:
        finger.up()
    page.wait_for_timeout(300)
    return numbers


def measure(browser, url: str, gradio: bool, device: dict, rate: float, stretch: float, rounds: int) -> list[dict]:
    context = browser.new_context(**device)
    context.add_init_script(WATCH + f"window.BILSTM_WORKER_STRETCH = {stretch};")
    page = context.new_page()
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(url)
    page.wait_for_function("() => window.bilstm && bilstm.stats.engine", timeout=60_000)
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(800)
    throttle(page, rate)
    finger = Finger(page, touch=device.get("has_touch", False))
    results = [one_stroke(page, finger, gradio, posts) for _ in range(rounds)]
    context.close()
    return results[1:]  # the first is a warm-up


def report(name: str, results: list[dict]) -> None:
    get = lambda key: np.array([r[key] for r in results if r.get(key) is not None], dtype=float)  # noqa: E731
    behind = np.concatenate([r["behind"] for r in results]) if any(r["behind"] for r in results) else None
    frames = np.concatenate([r["frames"] for r in results])
    answers, views = get("answers") / get("seconds"), get("views") / get("seconds")
    line = (f"{name}: moves taken {get('taken').mean():.0f}/s (min {get('taken').min():.0f}; the page got "
            f"{(get('moves') / get('seconds')).mean():.0f} pointermove events/s holding {(get('merged') / get('seconds')).mean():.0f} points/s); "
            f"long tasks {get('longTasks').mean():.1f} a stroke (most {get('longTasks').max():.0f}, longest {get('longest').max():.0f} ms); "
            f"answers shown {answers.mean():.1f}/s (min {answers.min():.1f}), row views {views.mean():.1f}/s; "
            + (f"answer behind the finger median {np.median(behind):.0f} ms, max {behind.max():.0f} ms; " if behind is not None else "")
            + (f"last move -> its answer {np.median(get('lastAnswer')):.0f} ms, its row views {np.median(get('lastViews')):.0f} ms; "
               if len(get("lastAnswer")) else "") +
            f"painting a reading median {np.median(frames):.1f} ms, p95 {np.percentile(frames, 95):.1f} ms")
    if "server" in results[0]:
        line += (f"; requests while the finger moves {int(get('requests').sum())} in {len(results)} strokes; "
                 f"finger-up -> the server's reading median {np.median(get('server')):.0f} ms, p95 {np.percentile(get('server'), 95):.0f} ms")
    print(line + f" ({len(results)} strokes)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="strokes per page and rate (the first is a warm-up)")
    parser.add_argument("--pages", nargs="+", default=["gradio", "static"], choices=["gradio", "static"])
    parser.add_argument("--rates", nargs="+", type=float, default=[1, 4])
    parser.add_argument("--no-desktop", action="store_true")
    parser.add_argument("--site", type=Path, default=None,
                        help="the static page from this folder, built before (another version's, to compare)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} missing")
    from playwright.sync_api import sync_playwright

    server = start_server() if "gradio" in args.pages else contextlib.nullcontext((None, None, None))
    with sync_playwright() as playwright, static_site(args.site) as static_url, server as (gradio_url, _, _):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for rate in args.rates:
                stretch, said = worker_stretch(browser, rate)
                print(f"CPU x{rate:g}: worker emulation: {said}", flush=True)
                for name in args.pages:
                    url, gradio = (gradio_url, True) if name == "gradio" else (static_url, False)
                    report(f"  {name} page, phone 390x844, touch, CPU x{rate:g}",
                           measure(browser, url, gradio, PHONE, rate, stretch, args.rounds))
            if not args.no_desktop:
                for name in args.pages:
                    url, gradio = (gradio_url, True) if name == "gradio" else (static_url, False)
                    report(f"  {name} page, desktop 1280x900, mouse, CPU x1",
                           measure(browser, url, gradio, DESKTOP, 1, 1.0, args.rounds))
        finally:
            browser.close()


if __name__ == "__main__":
    main()

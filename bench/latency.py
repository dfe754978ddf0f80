"""How fast the app answers on a desktop: the reading in the browser, the server's handler, gradio_client round
trips, start-up, and a real page: readings per second while the pen moves, the main thread's time to paint one,
requests sent while drawing, and pen-up -> the server's reading on the page. A phone's figures (touch, CPU slowed
4x, pointer moves taken, long tasks): `python -m bench.phone`.

    python -m bench.latency                 # all of it (the browser parts need /usr/bin/chromium)
    python -m bench.latency --no-browser

The handler is demo.read_strokes: the strokes checked and rasterized, preprocessing, the model's 56 partial
readings, the 28 blanked-row readings: everything the server computes for the finished drawing. The browser's
engine (web/strokes.js, preprocess.js, lstm.js, readings.js) computes the same reading (tests/test_engine.py) in
a Web Worker while the pen moves, the answer first and the row views after it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DIGIT_STROKES,
    SEVEN,
    engine_page,
    open_browser,
    pen_path,
    start_server,
    varied_drawings,
)
from training.mnist import mnist
from training.pens import render_drawn


def summary(seconds: list[float]) -> str:
    ms = 1000 * np.array(seconds)
    return f"median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms (n={len(ms)})"


def engine_alone(count: int) -> None:
    """The engine in Chromium with no page around it (on the page's thread): one whole reading (raster,
    preprocessing, the BiLSTM, the 56 partial and 28 blanked-row readings) of a drawn digit, and of a number (only
    its walked digit gets the partial readings), and its two steps as the worker runs them (the answer; the row
    views), with the WebAssembly kernel and with plain JavaScript."""
    from playwright.sync_api import sync_playwright

    digit = {"width": 560, "height": 280, "strokes": pen_path(SEVEN)}
    number = next(d for d in varied_drawings(80, seed=5) if d["width"] == 840 and len(d["strokes"]) >= 4)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for kernel in (True, False):
            page = engine_page(browser.new_page(), use_kernel=kernel)
            for name, drawing in (("a drawn 7", digit), ("a number", number)):
                times = page.evaluate("""([d, n]) => { for (let i = 0; i < 5; i++) engine.readDrawing(d);
                    const t = []; for (let i = 0; i < n; i++) { const s = performance.now(); engine.readDrawing(d); t.push(performance.now() - s); }
                    return t; }""", [drawing, count])
                print(f"engine in Chromium ({page.evaluate('() => engine.kernel')}), {name}: one whole reading "
                      f"{summary([t / 1000 for t in times])}")
            steps = page.evaluate("""([d, n]) => { const answer = [], views = [];
                for (let i = 0; i < n + 5; i++) {
                  let s = performance.now(); const first = engine.answerDrawing(d); answer.push(performance.now() - s);
                  s = performance.now(); engine.rowViews(first.digit); views.push(performance.now() - s);
                }
                return [answer.slice(5), views.slice(5)]; }""", [digit, count])
            print(f"engine in Chromium ({page.evaluate('() => engine.kernel')}), a drawn 7 in two steps: the answer "
                  f"{summary([t / 1000 for t in steps[0]])}; its row views {summary([t / 1000 for t in steps[1]])}")
            page.close()
        browser.close()


def browser_rounds(url: str, rounds: int) -> None:
    """Draw a 7 (two segments, 1.5 s of pen movement at ~60 pointer events a second) `rounds` times on the page."""
    with open_browser(width=1280, height=900) as page:
        posts = []
        page.on("request", lambda request: posts.append(time.perf_counter()) if request.method == "POST" else None)
        page.goto(url)
        page.wait_for_function("() => window.bilstm")
        page.evaluate("() => document.fonts.ready")
        page.wait_for_timeout(500)
        box = page.locator("#sketchpad canvas").bounding_box()
        left, top, size = box["x"] + box["width"] / 4, box["y"], box["height"]
        finals, rates, frames, sent = [], [], [], []
        for _ in range(rounds):
            page.keyboard.press("c")
            page.wait_for_timeout(300)
            (x0, y0), (x1, y1), (x2, y2) = SEVEN[0]
            path = [(x0 + (x1 - x0) * i / 45, y0) for i in range(46)] + \
                   [(x1 + (x2 - x1) * i / 45, y1 + (y2 - y1) * i / 45) for i in range(1, 46)]
            page.mouse.move(left + path[0][0] * size, top + path[0][1] * size)
            page.mouse.down()
            local_before, start = page.evaluate("() => [bilstm.stats.local, performance.now()]")
            began = time.perf_counter()
            for index, (x, y) in enumerate(path[1:], start=1):
                page.mouse.move(left + x * size, top + y * size)
                time.sleep(max(0.0, began + index / 60 - time.perf_counter()))  # ~60 pointer events a second
            drawing_seconds = time.perf_counter() - began
            local = page.evaluate("() => bilstm.stats.local") - local_before
            sent.append(sum(began <= t <= began + drawing_seconds for t in posts))
            frames += page.evaluate("start => bilstm.stats.frames.slice(-bilstm.stats.painted.filter(p => p.at >= start).length)", start)
            page.evaluate("() => { window.upAt = performance.now(); }")
            page.mouse.up()
            page.wait_for_function("() => document.querySelector('#reading .reading').dataset.from === 'server' && "
                                   "document.querySelector('#reading .reading').dataset.points === String(bilstm.pad.points())",
                                   timeout=15_000, polling="raf")
            finals.append(page.evaluate("() => performance.now() - window.upAt") / 1000)
            rates.append(local / drawing_seconds)
        print(f"page (headless Chromium, 1280x900, `python demo.py`): local readings shown while the pen moves "
              f"{np.mean(rates[1:]):.1f}/s (min {min(rates[1:]):.1f}); painting one on the main thread (the engine runs "
              f"in a worker): {summary([f / 1000 for f in frames])}; requests sent while the pen moves: {sum(sent[1:])} in "
              f"{rounds - 1} digits; pen-up -> the server's reading on the page {summary(finals[1:])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=11, help="browser: digits drawn (the first is a warm-up)")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    digits = mnist(train=False).data.numpy()
    start = time.perf_counter()
    import demo  # noqa: E402 - timed: imports torch and gradio, loads both weights, builds the page

    print(f"import demo (torch, gradio, weights, page): {time.perf_counter() - start:.1f}s")
    demo.apply_process_settings()
    drawings = [json.dumps({"width": 560, "height": 280, "strokes": pen_path(DIGIT_STROKES[d])})
                for d in sorted(DIGIT_STROKES)]
    for drawing in drawings:
        demo.read_strokes(drawing)
    seconds = []
    for i in range(args.runs):
        start = time.perf_counter()
        demo.read_strokes(drawings[i % len(drawings)])
        seconds.append(time.perf_counter() - start)
    print(f"handler demo.read_strokes (a whole reading): {summary(seconds)}")
    seconds = []
    for i in range(args.runs // 4):
        start = time.perf_counter()
        demo.read_strokes(drawings[i % len(drawings)], True)
        seconds.append(time.perf_counter() - start)
    print(f"the same with the tutorial's model beside ours (compare on): {summary(seconds)}")

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as folder, start_server() as (url, _, startup):
        print(f"`python demo.py` to serving its page: {startup:.1f}s")
        client = Client(url, verbose=False, ssl_verify=False)
        seconds = []
        for i in range(max(20, args.runs // 4)):
            start = time.perf_counter()
            client.predict(drawings[i % len(drawings)], api_name="/predict_strokes")
            seconds.append(time.perf_counter() - start)
        print(f"gradio_client round trip, /predict_strokes: {summary(seconds[3:])}")
        paths = []
        for i in range(20):
            path = Path(folder) / f"{i}.png"
            render_drawn(digits[i], 280, 210, 35, 35).save(path)
            paths.append(str(path))
        # gradio_client's default ssl_verify=True builds a new SSL context (CA bundle) for every request, even
        # over plain http: ~70 ms of client CPU. Both are shown; the server's work is the same.
        for ssl_verify in (True, False):
            client = Client(url, verbose=False, ssl_verify=ssl_verify)
            seconds = []
            for i in range(max(20, args.runs // 4)):
                value = {"background": None, "layers": [], "composite": handle_file(paths[i % len(paths)])}
                start = time.perf_counter()
                client.predict(value, api_name="/predict")
                seconds.append(time.perf_counter() - start)
            print(f"gradio_client round trip, /predict (upload PNG, read, download 3 pictures), ssl_verify={ssl_verify}: "
                  f"{summary(seconds[3:])}")

        if args.no_browser or not Path(CHROMIUM).exists():
            print("browser: skipped")
            return
        browser_rounds(url, args.rounds)
    engine_alone(args.runs // 2)


if __name__ == "__main__":
    main()

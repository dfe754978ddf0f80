"""How fast the app answers: the reading handler, gradio_client round trips, start-up, and a real browser:
readings per second while the pen moves, and pen-up -> the reading of the finished drawing on the page.

    python -m bench.latency                 # all of it (the browser part needs /usr/bin/chromium)
    python -m bench.latency --no-browser

The handler is demo.read_strokes: strokes checked and drawn, preprocessing, the model's 56 partial readings,
the 28 blanked-row readings, pictures and charts: everything a live reading computes before Gradio sends it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import CHROMIUM, DIGIT_STROKES, SEVEN, drawing_area, open_browser, pen_path, render_drawn, start_server
from train import mnist

POINTS_SHOWN = "(() => { const r = document.querySelector('#reading .reading'); return r ? r.dataset.points : null; })()"
POINTS_SENT = "document.querySelector('#sketchpad canvas').dataset.points"


def summary(seconds: list[float]) -> str:
    ms = 1000 * np.array(seconds)
    return f"median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms (n={len(ms)})"


def browser_rounds(url: str, rounds: int) -> None:
    """Draw a 7 (two segments, 1.5 s of pen movement at ~60 pointer events a second) `rounds` times."""
    with open_browser(width=1280, height=900) as page:
        page.goto(url)
        page.locator("#sketchpad canvas").wait_for()
        left, top, size = drawing_area(page)
        finals, rates = [], []
        for _ in range(rounds):
            page.keyboard.press("c")
            page.wait_for_timeout(300)
            page.evaluate(f"""() => {{ window.seen = []; window.watch = setInterval(() => {{
                const p = {POINTS_SHOWN}; const last = window.seen[window.seen.length - 1];
                if (p && (!last || last[1] !== p)) window.seen.push([performance.now(), p]); }}, 2); }}""")
            (x0, y0), (x1, y1), (x2, y2) = SEVEN[0]
            path = [(x0 + (x1 - x0) * i / 45, y0) for i in range(46)] + \
                   [(x1 + (x2 - x1) * i / 45, y1 + (y2 - y1) * i / 45) for i in range(1, 46)]
            page.mouse.move(left + path[0][0] * size, top + path[0][1] * size)
            page.mouse.down()
            down = page.evaluate("performance.now()")
            began = time.perf_counter()
            for index, (x, y) in enumerate(path[1:], start=1):
                page.mouse.move(left + x * size, top + y * size)
                time.sleep(max(0.0, began + index / 60 - time.perf_counter()))  # ~60 pointer events a second
            up = page.evaluate("performance.now()")
            page.mouse.up()
            page.wait_for_function(f"() => {POINTS_SHOWN} === {POINTS_SENT}", timeout=15_000)
            page.evaluate("() => clearInterval(window.watch)")
            seen = page.evaluate("window.seen")
            sent = page.evaluate(POINTS_SENT)
            final = next(t for t, p in seen if p == sent)
            finals.append((final - up) / 1000)
            rates.append(sum(down <= t <= up for t, _ in seen) / ((up - down) / 1000))
        print(f"browser (headless Chromium, 1280x900): readings on the page while the pen moves "
              f"{np.mean(rates):.1f}/s (min {min(rates):.1f}); pen-up -> reading of the finished drawing "
              f"{summary(finals[1:])}; runs {', '.join(f'{1000 * s:.0f}' for s in finals[1:])} ms")


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
    drawings = [json.dumps({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES[d])})
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


if __name__ == "__main__":
    main()

"""How fast the app answers: the prediction handler, the gradio_client round trip, start-up, and a
real browser from mouse-up to the answer on the page.

    python bench/latency.py                 # all four (the browser part needs /usr/bin/chromium)
    python bench/latency.py --no-browser

The handler is demo.read_sketch: preprocessing + model + the 56 partial readings + the pictures,
everything the live endpoint computes before Gradio encodes the outputs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.drawn_digits import render_drawn  # noqa: E402
from bench.harness import CHROMIUM, SEVEN, draw, open_browser, start_server  # noqa: E402


def summary(seconds: list[float]) -> str:
    ms = 1000 * np.array(seconds)
    return f"median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()

    from torchvision.datasets import MNIST

    digits = MNIST(args.data_dir, train=False, download=True).data.numpy()
    start = time.perf_counter()
    import demo  # noqa: E402 - timed: imports torch and gradio, loads the weights, builds the page

    print(f"import demo (torch, gradio, weights, page): {time.perf_counter() - start:.1f}s")
    for canvas in (280, 800):
        values = [{"background": None, "layers": [], "composite":
                   render_drawn(digits[i % 100], canvas, canvas * 3 // 4, canvas // 8, canvas // 8)}
                  for i in range(args.runs)]
        for value in values[:10]:
            demo.read_sketch(value)
        seconds = []
        for value in values:
            start = time.perf_counter()
            demo.read_sketch(value)
            seconds.append(time.perf_counter() - start)
        print(f"handler, {canvas}x{canvas} sketch: {summary(seconds)}")

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as folder, start_server() as (url, _, startup):
        print(f"`python demo.py` to serving its page: {startup:.1f}s")
        paths = []
        for i in range(20):
            path = Path(folder) / f"{i}.png"
            render_drawn(digits[i], 280, 210, 35, 35).save(path)
            paths.append(str(path))
        # gradio_client's default ssl_verify=True builds a new SSL context (CA bundle) for every request,
        # even over plain http: ~70 ms of client CPU. Both are shown; the server's work is the same.
        for ssl_verify in (True, False):
            client = Client(url, verbose=False, ssl_verify=ssl_verify)
            seconds = []
            for i in range(max(20, args.runs // 4)):
                value = {"background": None, "layers": [], "composite": handle_file(paths[i % len(paths)])}
                start = time.perf_counter()
                client.predict(value, api_name="/predict")
                seconds.append(time.perf_counter() - start)
            print(f"gradio_client round trip (upload PNG, predict, download outputs), ssl_verify={ssl_verify}: "
                  f"{summary(seconds[3:])}")

        if args.no_browser or not Path(CHROMIUM).exists():
            print("browser: skipped")
            return
        with open_browser() as page:
            page.goto(url)
            page.locator("#sketchpad canvas").first.wait_for()
            seconds = []
            for i in range(6):
                page.locator("#clear").click()
                page.wait_for_timeout(400)
                page.evaluate("""() => { window.__answer = null;
                    const target = document.querySelector('#prediction');
                    new MutationObserver(() => {
                        const el = target.querySelector('[data-testid=label-output-value]');
                        if (el && el.textContent.trim() && window.__answer === null) window.__answer = performance.now();
                    }).observe(target, {subtree: true, childList: true, characterData: true}); }""")
                draw(page, SEVEN)
                released = page.evaluate("performance.now()")  # right after mouse-up
                page.wait_for_function("window.__answer !== null", timeout=15_000)
                seconds.append((page.evaluate("window.__answer") - released) / 1000)
            print(f"browser, mouse-up to answer on the page (headless Chromium): {summary(seconds[1:])}; "
                  f"runs {', '.join(f'{1000 * s:.0f}' for s in seconds[1:])} ms")


if __name__ == "__main__":
    main()

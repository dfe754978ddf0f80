"""Load on `python demo.py` from many simulated people at once, all on this machine (loopback only).

    python -m bench.load live                 # 1, 4 and 16 people drawing at once (the page's protocol)
    python -m bench.load images               # 16 users x 25 images through /predict, then the identical storm
    python -m bench.load soak --soak 3000     # thousands of different strokes: memory and disk over time
    python -m bench.load all

live: each person, in a process of its own with gradio_client, draws digits the way canvas.js sends them:
the pen moves for about 2 s per digit; at most every 100 ms the drawing so far is triggered, one request is
in flight at a time and, when it returns, only the newest drawing is sent (Gradio's always_last); when the
pen lifts the finished drawing is sent at once to its own endpoint (/predict_strokes), as on the page. Prints per person the
readings per second that came back while the pen moved, pen-up -> reading of the finished drawing
p50/p95, errors, and the server's memory.
images: USERS clients send real MNIST test digits drawn on a 280x280 canvas through the image API
(/predict) and download the output pictures as a browser does; then the identical-input storm: 16 clients
send the same digit 10 times each at once (before the fix in demo.cached_png, 18 of 160 failed).
soak: strokes from 4 clients, every one a different image; RSS and Gradio's cache on disk as they go.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from harness import DIGIT_STROKES, ROOT, pen_path, render_drawn, start_server
from model import load_model, predict
from train import mnist

CANVAS = 280
SEND_MS = 100  # = canvas.js SEND_MS
STROKE_SECONDS = 2.0  # how long the pen moves for one digit


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _client(url: str, download: bool = False):
    from gradio_client import Client

    # ssl_verify=False: plain http on loopback, nothing to verify; with the default, gradio_client builds a
    # new SSL context for every request (~70 ms of CPU), and on 2 shared cores the load generator would be
    # the bottleneck.
    return Client(url, verbose=False, download_files=download, ssl_verify=False)


# ---------------------------------------------------------------------------------------------
# live: people drawing


def person(url: str, digits: list[str], start_at: float) -> dict:
    """One simulated person drawing `digits` one after another, as the page sends them."""
    client = _client(url)
    time.sleep(max(0.0, start_at - time.time()))
    readings_while_drawing, drawing_seconds, finals, errors, wrong, seq = 0, 0.0, [], [], 0, 0
    for digit in digits:
        path = pen_path(DIGIT_STROKES[digit], CANVAS)
        flat = [(s, i) for s, stroke in enumerate(path) for i in range(len(stroke))]

        def drawing_at(fraction: float) -> dict:
            nonlocal seq
            upto = max(1, int(round(fraction * len(flat))))
            last_stroke, last_point = flat[upto - 1]
            strokes = [stroke for stroke in path[:last_stroke]] + [path[last_stroke][: last_point + 1]]
            seq += 1
            return {"width": CANVAS, "height": CANVAS, "strokes": strokes, "seq": seq}

        job, dirty, last_trigger, began = None, False, -1.0, time.perf_counter()

        def collect(finished_job) -> None:
            nonlocal readings_while_drawing
            try:
                finished_job.result()
                readings_while_drawing += 1
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(repr(error)[:160])

        while (now := time.perf_counter() - began) < STROKE_SECONDS:  # the pen moves: ~60 pointer events/s
            if now - last_trigger >= SEND_MS / 1000:
                last_trigger = now
                if job is None or job.done():
                    if job is not None:
                        collect(job)
                    job = client.submit(drawing_at(now / STROKE_SECONDS), False, api_name="/predict_strokes_live")
                    dirty = False
                else:
                    dirty = True
            elif job is not None and job.done() and dirty:  # always_last: the newest, once the last returned
                collect(job)
                job, dirty = client.submit(drawing_at(now / STROKE_SECONDS), False, api_name="/predict_strokes_live"), False
            time.sleep(1 / 60)
        lifted = time.perf_counter()
        drawing_seconds += lifted - began
        try:  # the finished drawing goes at once, beside the reading still in flight (if any)
            outputs = client.predict(drawing_at(1.0), False, api_name="/predict_strokes")
            finals.append(time.perf_counter() - lifted)
            wrong += outputs[0]["digit"] != digit
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error)[:160])
        if job is not None:
            try:
                job.result()
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error)[:160])
        time.sleep(0.3)  # looks at the answer, then draws the next digit
    return {"rate": readings_while_drawing / drawing_seconds, "finals": finals, "errors": errors, "wrong": wrong}


def run_live(url: str, pid: int, people_counts: list[int], digits_each: int) -> None:
    print(f"live: people drawing at once, {digits_each} digits each, pen moving {STROKE_SECONDS:.0f} s per digit")
    kinds = list(DIGIT_STROKES)
    for people in people_counts:
        before, cpu_before = rss_mb(pid), cpu_seconds(pid)
        start_at = time.time() + 4 + people / 3
        plans = [[kinds[(p + k) % len(kinds)] for k in range(digits_each)] for p in range(people)]
        began = time.time()
        with ProcessPoolExecutor(people) as pool:
            results = list(pool.map(person, [url] * people, plans, [start_at] * people))
        seconds = time.time() - max(began, start_at)
        rates = np.array([r["rate"] for r in results])
        finals = 1000 * np.array([t for r in results for t in r["finals"]])
        errors = [e for r in results for e in r["errors"]]
        print(f"  {people:2d} drawing: readings while the pen moves {rates.mean():.1f}/s per person "
              f"(min {rates.min():.1f}, max {rates.max():.1f}); pen-up -> final reading p50 {np.median(finals):.0f} ms, "
              f"p95 {np.percentile(finals, 95):.0f} ms, max {finals.max():.0f} ms ({len(finals)} drawings); "
              f"errors {len(errors)}, wrong {sum(r['wrong'] for r in results)}; server RSS {before:.0f} -> "
              f"{rss_mb(pid):.0f} MB; server CPU {(cpu_seconds(pid) - cpu_before) / seconds:.2f} of {os.cpu_count()} cores",
              flush=True)
        for error in sorted(set(errors))[:3]:
            print(f"      {error}")


# ---------------------------------------------------------------------------------------------
# images: the image API, many users, and many users sending the same image


def make_pages(count: int, folder: Path) -> list[tuple[str, str]]:
    """-> [(png path, the label the model gives it)] for count test digits drawn on 280x280."""
    test = mnist(train=False)
    count = min(count, len(test))
    model, pages = load_model(), []
    rng = np.random.default_rng(0)
    for index in range(count):
        size = int(rng.integers(120, 260))
        left, top = (int(v) for v in rng.integers(0, CANVAS - size + 1, size=2))
        page = render_drawn(test.data[index].numpy(), CANVAS, size, left, top)
        path = folder / f"{index}.png"
        page.save(path)
        pages.append((str(path), str(int(predict(model, page).argmax()))))
    return pages


def user(url: str, jobs: list[tuple[str, str]], download: bool, start_at: float):
    """One image-API user in its own process -> (latencies, errors, wrong answers, first send, last answer)."""
    from gradio_client import handle_file

    client = _client(url, download)
    latencies, errors, wrong = [], [], 0
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    for path, expected in jobs:
        start = time.perf_counter()
        try:
            label = client.predict({"background": None, "layers": [], "composite": handle_file(path)},
                                   api_name="/predict")[1]
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(repr(error)[:200])
            continue
        latencies.append(time.perf_counter() - start)
        wrong += label["label"] != expected
    return latencies, errors, wrong, began, time.time()


def run_users(url: str, jobs: list[list[tuple[str, str]]], download: bool):
    """One process per user -> (seconds, latencies, errors, wrong)."""
    users = len(jobs)
    start_at = time.time() + 5 + users / 2  # time for every process to import and connect
    with ProcessPoolExecutor(users) as pool:
        results = list(pool.map(user, [url] * users, jobs, [download] * users, [start_at] * users))
    latencies = np.array([t for r in results for t in r[0]])
    errors = [e for r in results for e in r[1]]
    seconds = max(r[4] for r in results) - min(r[3] for r in results)
    return seconds, latencies, errors, sum(r[2] for r in results)


def report(title: str, pid: int, before: float, seconds: float, latencies, errors, wrong) -> None:
    print(f"{title}: {len(latencies)} answered in {seconds:.1f}s, {len(latencies) / seconds:.1f}/s; "
          f"p50 {1000 * np.median(latencies):.0f} ms, p95 {1000 * np.percentile(latencies, 95):.0f} ms; "
          f"errors {len(errors)}, wrong {wrong}; server RSS {before:.0f} -> {rss_mb(pid):.0f} MB", flush=True)
    for error in sorted(set(errors))[:3]:
        print(f"    {error}")


def run_images(url: str, pid: int, pages, users: int, per_user: int) -> None:
    jobs = [[pages[(n * per_user + i) % len(pages)] for i in range(per_user)] for n in range(users)]
    before = rss_mb(pid)
    report(f"images: {users} users x {per_user} through /predict, downloading the pictures", pid, before,
           *run_users(url, jobs, download=True))
    storm = [[pages[0]] * 10 for _ in range(16)]
    before = rss_mb(pid)
    report("identical storm: 16 users x 10 of the same digit at once, downloading the pictures", pid, before,
           *run_users(url, storm, download=True))


def run_soak(url: str, pid: int, pages, cache: Path, strokes: int) -> None:
    print(f"soak: {strokes} strokes from 4 clients, every one a different image")
    done, per_round = 0, 500
    while done < strokes:
        n = min(per_round, strokes - done) // 4
        jobs = [[pages[(done + k * n + i) % len(pages)] for i in range(n)] for k in range(4)]
        _, latencies, errors, wrong = run_users(url, jobs, download=False)
        done += 4 * n
        print(f"  after {done:5d}: RSS {rss_mb(pid):.0f} MB, gradio cache {dir_mb(cache):.1f} MB, "
              f"p50 {1000 * np.median(latencies):.0f} ms, errors {len(errors)}, wrong {wrong}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["live", "images", "soak", "all"], nargs="?", default="all")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 4, 16], help="live: people drawing at once")
    parser.add_argument("--digits", type=int, default=6, help="live: digits each person draws")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--per-user", type=int, default=25)
    parser.add_argument("--soak", type=int, default=2000, help="strokes in the soak")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose demo.py to run (images, soak)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cache = folder / "gradio-cache"
        pages = make_pages(max(400, args.soak) if args.mode in ("soak", "all") else 400, folder) \
            if args.mode != "live" else []
        with start_server(env={"GRADIO_TEMP_DIR": str(cache)}, app_dir=args.app_dir) as (url, process, startup):
            print(f"server up in {startup:.1f}s at {url}; RSS {rss_mb(process.pid):.0f} MB")
            if args.mode in ("live", "all"):
                run_live(url, process.pid, args.people, args.digits)
            if args.mode in ("images", "all"):
                run_images(url, process.pid, pages, args.users, args.per_user)
            if args.mode in ("soak", "all"):
                run_soak(url, process.pid, pages, cache, args.soak)


if __name__ == "__main__":
    main()

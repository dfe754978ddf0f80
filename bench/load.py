"""Load on `python demo.py` from many simulated people at once, all on this machine (loopback only).

    python -m bench.load live                 # 1, 16, 64 and 128 people drawing at once (the page's protocol)
    python -m bench.load images               # 16 users x 25 images through /predict, then the identical storm
    python -m bench.load soak --soak 3000     # thousands of different strokes: memory and disk over time
    python -m bench.load all

live: each person (a thread with its own gradio_client session; people are spread over a few processes)
draws digits the way the page sends them (web/page.js): while the pen moves (2 s a digit) the browser reads
the drawing itself and sends nothing; when the pen lifts, the finished drawing goes once to /predict_strokes,
numbered. Prints pen-up -> the server's reading p50/p95, errors and wrong answers, the server's memory, its CPU
(cores busy) and its CPU time per reading: what a real server's capacity can be read from, since here the
simulated people share the machine's 2 cores with the server.
images: USERS clients send real MNIST test digits drawn on a 280x280 canvas through the image API
(/predict) and download the output pictures as a browser does; then the identical-input storm: 16 clients
send the same digit 10 times each at once (before the fix in server.pictures.cached_png, 18 of 160 failed).
soak: strokes from 4 clients, every one a different image; RSS and Gradio's cache on disk as they go.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from frontend import CANVAS_HEIGHT, CANVAS_WIDTH  # the page's canvas
from harness import DIGIT_STROKES, ROOT, pen_path, start_server
from model import load_model
from reader.readings import predict
from training.mnist import mnist
from training.pens import render_drawn

CANVAS = 280  # the images' canvas (/predict)
STROKE_SECONDS = 2.0  # how long the pen moves for one digit
PROCESSES = 8  # the simulated people are spread over this many processes


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
    """One simulated person drawing `digits` one after another, as the page sends them: nothing while the pen
    moves, the finished drawing once when it lifts."""
    client = _client(url)
    # People do not lift their pens in step: each starts at a random moment within one digit's time.
    time.sleep(max(0.0, start_at - time.time()) + np.random.default_rng().uniform(0, STROKE_SECONDS + 0.3))
    finals, errors, wrong = [], [], 0
    for seq, digit in enumerate(digits, start=1):
        time.sleep(STROKE_SECONDS)  # the pen moves: the browser reads, nothing is sent
        lifted = time.perf_counter()
        try:
            answer, _ = client.predict({"width": CANVAS_WIDTH, "height": CANVAS_HEIGHT, "seq": seq,
                                        "strokes": pen_path(DIGIT_STROKES[digit], CANVAS_HEIGHT)},
                                       False, api_name="/predict_strokes")
            finals.append(time.perf_counter() - lifted)
            wrong += answer["digit"] != digit
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(repr(error)[:160])
        time.sleep(0.3)  # looks at the answer, then draws the next digit
    return {"finals": finals, "errors": errors, "wrong": wrong}


def people_in_a_process(url: str, plans: list[list[str]], start_at: float) -> list[dict]:
    """Several people in one process, a thread each (128 processes would not fit beside the server)."""
    with ThreadPoolExecutor(len(plans)) as pool:
        return list(pool.map(person, [url] * len(plans), plans, [start_at] * len(plans)))


def run_live(url: str, pid: int, people_counts: list[int], digits_each: int) -> None:
    print(f"live: people drawing at once, {digits_each} digits each, the pen moving {STROKE_SECONDS:.0f} s per digit")
    kinds = list(DIGIT_STROKES)
    for people in people_counts:
        before, cpu_before = rss_mb(pid), cpu_seconds(pid)
        plans = [[kinds[(p + k) % len(kinds)] for k in range(digits_each)] for p in range(people)]
        groups = [plans[i::PROCESSES] for i in range(min(PROCESSES, people))]
        start_at = time.time() + 5 + people / 10  # every client connected first
        with ProcessPoolExecutor(len(groups)) as pool:
            results = [r for group in pool.map(people_in_a_process, [url] * len(groups), groups,
                                                [start_at] * len(groups)) for r in group]
        seconds = time.time() - start_at
        finals = 1000 * np.array([t for r in results for t in r["finals"]])
        errors = [e for r in results for e in r["errors"]]
        cpu = cpu_seconds(pid) - cpu_before
        print(f"  {people:3d} drawing: pen-up -> the server's reading p50 {np.median(finals):.0f} ms, "
              f"p95 {np.percentile(finals, 95):.0f} ms, max {finals.max():.0f} ms ({len(finals)} drawings, "
              f"{len(finals) / seconds:.1f}/s); errors {len(errors)}, wrong {sum(r['wrong'] for r in results)}; "
              f"server RSS {before:.0f} -> {rss_mb(pid):.0f} MB; server CPU {cpu / seconds:.2f} of "
              f"{os.cpu_count()} cores, {1000 * cpu / max(1, len(finals)):.1f} ms per reading", flush=True)
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
    parser.add_argument("--people", type=int, nargs="+", default=[1, 16, 64, 128], help="live: people drawing at once")
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

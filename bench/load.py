"""Load and soak test of `python demo.py` through gradio_client, all on this machine (loopback only).

    python bench/load.py                          # 16 users x 25 predictions, then a 2000-stroke soak
    python bench/load.py --users 32 --per-user 25 --soak 5000

Phase 1: USERS concurrent clients, each sending PER_USER sketchpad values (real MNIST test digits
drawn on a 280x280 canvas, as the sketchpad sends them); reports throughput, p50/p95 latency,
errors, wrong answers (against the model's own answer on the same digit), and the server's
memory (RSS) before and after. Phase 2: SOAK strokes from 4 clients, RSS and Gradio's cache on
disk sampled as they go, to show neither grows without bound.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.drawn_digits import render_drawn  # noqa: E402
from bench.harness import start_server  # noqa: E402
from model import load_model, predict  # noqa: E402


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


def make_pages(count: int, data_dir: str, folder: Path) -> list[tuple[str, str]]:
    """-> [(png path, the label the model gives it)] for count test digits drawn on 280x280."""
    from torchvision.datasets import MNIST

    test = MNIST(data_dir, train=False, download=True)
    count = min(count, len(test))
    model, pages = load_model(), []
    rng = np.random.default_rng(0)
    for index in range(count):
        size = int(rng.integers(120, 260))
        left, top = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        page = render_drawn(test.data[index].numpy(), 280, size, left, top)
        path = folder / f"{index}.png"
        page.save(path)
        pages.append((str(path), str(int(predict(model, page).argmax()))))
    return pages


def user(url: str, jobs: list[tuple[str, str]], download: bool, start_at: float):
    """One simulated user in its own process: connect, wait for start_at (so that no process is still
    starting up while others are measured), then send jobs one after another.

    -> (latencies, errors, wrong answers, first send time, last answer time, CPU seconds spent sending).
    """
    from gradio_client import Client, handle_file

    # ssl_verify=False: the URL is plain http on loopback, so there is no TLS to verify; with the
    # default, gradio_client builds a new SSL context (loading the CA bundle) for every request,
    # about 70 ms of CPU each, and on these 2 shared cores the load generator would be the bottleneck.
    # download_files: whether to also fetch the three output PNGs, as a browser does (--download).
    client = Client(url, verbose=False, download_files=download, ssl_verify=False)
    latencies, errors, wrong = [], [], 0
    time.sleep(max(0.0, start_at - time.time()))
    began, cpu = time.time(), time.process_time()
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
    return latencies, errors, wrong, began, time.time(), time.process_time() - cpu


def run_users(url: str, pages, users: int, per_user: int, download: bool = False, offset: int = 0):
    """USERS processes (no shared GIL between simulated users) -> (seconds, latencies, errors, wrong, client CPU)."""
    jobs = [[pages[(offset + n * per_user + i) % len(pages)] for i in range(per_user)] for n in range(users)]
    start_at = time.time() + 5 + users / 2  # time for every process to import and connect
    with ProcessPoolExecutor(users) as pool:
        results = list(pool.map(user, [url] * users, jobs, [download] * users, [start_at] * users))
    latencies = np.array([t for r in results for t in r[0]])
    errors = [e for r in results for e in r[1]]
    seconds = max(r[4] for r in results) - min(r[3] for r in results)
    client_cpu = sum(r[5] for r in results)
    return seconds, latencies, errors, sum(r[2] for r in results), client_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--per-user", type=int, default=25)
    parser.add_argument("--download", action="store_true", help="clients also download the output images")
    parser.add_argument("--soak", type=int, default=2000, help="strokes in the soak phase (0: skip)")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        # every soak stroke a different image, so Gradio's content-addressed cache cannot dedupe them
        pages = make_pages(max(400, args.soak), args.data_dir, folder)
        cache = folder / "gradio-cache"
        with start_server(env={"GRADIO_TEMP_DIR": str(cache)}) as (url, process, startup):
            print(f"server up in {startup:.1f}s at {url}; RSS {rss_mb(process.pid):.0f} MB")
            run_users(url, pages, 2, 5)  # warm-up
            before, cpu_before = rss_mb(process.pid), cpu_seconds(process.pid)
            seconds, latencies, errors, wrong, client_cpu = run_users(url, pages, args.users, args.per_user,
                                                                      args.download)
            after, cpu = rss_mb(process.pid), cpu_seconds(process.pid) - cpu_before
            total = args.users * args.per_user
            print(f"{args.users} users x {args.per_user} predictions = {total} in {seconds:.1f}s: "
                  f"{len(latencies) / seconds:.1f} predictions/s")
            print(f"  latency p50 {1000 * np.median(latencies):.0f} ms, p95 {1000 * np.percentile(latencies, 95):.0f} ms, "
                  f"max {1000 * latencies.max():.0f} ms")
            print(f"  errors {len(errors)}, wrong answers {wrong}; server CPU {1000 * cpu / total:.0f} ms per prediction "
                  f"({cpu / seconds:.2f} of {os.cpu_count()} cores busy in the server); the gradio_client "
                  f"users spent {1000 * client_cpu / total:.0f} ms CPU per prediction (in their main threads)")
            for error in sorted(set(errors))[:5]:
                print(f"    {error}")
            print(f"  server RSS {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)")
            if args.soak:
                print(f"soak: {args.soak} strokes from 4 clients")
                done, per_round = 0, 500
                while done < args.soak:
                    n = min(per_round, args.soak - done)
                    _, lat, errs, bad, _ = run_users(url, pages, 4, n // 4, offset=done)
                    done += 4 * (n // 4)
                    print(f"  after {done:5d} strokes: RSS {rss_mb(process.pid):.0f} MB, gradio cache "
                          f"{dir_mb(cache):.1f} MB, p50 {1000 * np.median(lat):.0f} ms, errors {len(errs)}, wrong {bad}",
                          flush=True)


if __name__ == "__main__":
    main()

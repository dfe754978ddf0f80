"""What one stranger's requests cost everyone else, against `python demo.py` on this machine (loopback only).

    python -m bench.hostile                          # this checkout
    git worktree add /tmp/before b658013 && python -m bench.hostile --app-dir /tmp/before   # the app before

Each item of the "public Space" issue, with the numbers a bystander sees:
  1. a body of {"layers": [null, null, ...]} (2.3 MB, and the largest this app accepts) sent to the image
     endpoint while another user loads /config: status, that user's slowest /config, server RSS, log bytes;
  2. one session joining the queue 66 times (Play where the app has one, else the live reading) while another
     user reads digits for 15 s: how many of theirs were answered, and their slowest answer;
  3. 20 people pressing Play at once: seconds to the first frame (an app whose Play runs in the browser
     makes no request: nothing to wait for);
  5. 20 files of 9.9 MB in one upload request: status and bytes stored;
  6. /monitoring and /monitoring/summary; 7. an unknown fn_index: status and log lines.
(Item 4, stale Play frames after a newer reading, is a browser behaviour: tests/test_browser.py.)
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from harness import DIGIT_STROKES, ROOT, pen_path, render_drawn, start_server
from train import mnist


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose demo.py to run")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as folder, start_server(app_dir=args.app_dir) as (url, process, _):
        folder = Path(folder)
        image = str(folder / "digit.png")
        render_drawn(mnist(train=False).data[0].numpy(), 280, 210, 35, 35).save(image)
        print(f"{args.app_dir}: server at {url}, RSS {rss_mb(process.pid):.0f} MB")
        item1(url, process)
        item3(url, image)  # before item 2, whose 66 Plays would hold the old queue for minutes
        item2(url, image)
        item5(url, folder)
        item6_and_7(url, process)


if __name__ == "__main__":
    main()

"""Photos and scans of handwriting (training/photos.py) read through the app's upload path: before and after the paper path.

    python -m bench.paper                                  # 150 shots per condition, the committed weights
    python -m bench.paper --count 300 --conditions plain lined --weights /tmp/q.pt

Each shot is the file a person uploads (a JPEG with its EXIF tag, or a PNG), opened by demo.open_upload (as
/predict_image and the page's upload open it: a JPEG decoded reduced by Pillow's draft), then read twice:
  before: readings.read_picture, model.to_mnist_digits's ink map (the path every picture took at commit 4a47215;
          it is still the gallery's and the browser engine's);
  after:  readings.read_upload, reader/paper.py's path (what uploads and /predict_image take now).
A digit is read right when the answer's number is its label; flagged when a part is "not a digit" (the number is
None); "no ink" when nothing was found to read (after: a sentence says why); else wrong (another digit, or split
into several). A number is right only when read exactly. A non-digit is caught when flagged or nothing is read.
Also printed: photos of digits by pen, by source of writing and by how uneven the light is, and the time per
photo: reader.paper.clean alone and the whole reading (the model's included).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model import DEFAULT_WEIGHTS, load_model
from reader.paper import clean
from reader.readings import read_picture, read_upload
from training.photos import CONDITIONS, shot


def outcome(result: dict | None, label: str) -> str:
    """A reading -> "right", "flagged", "no ink" or "wrong" for a digit or number labelled label ("" for a non-digit)."""
    if result is None:
        return "no ink"
    number = result["answer"]["number"]
    if number is None:
        return "flagged"
    return "right" if number == label else "wrong"


def row(name: str, outcomes: list[str], width: int = 22) -> str:
    n = max(len(outcomes), 1)
    shares = [100 * outcomes.count(k) / n for k in ("right", "flagged", "wrong", "no ink")]
    return f"  {name:<{width}} {len(outcomes):>5}  " + "  ".join(f"{s:6.1f}%" for s in shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--count", type=int, default=150, help="shots per condition")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", nargs="*", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--no-before", action="store_true", help="skip today's path (half the time)")
    args = parser.parse_args()
    from demo import open_upload  # imports Gradio: here, not at the top, so that --help is quick

    torch.set_num_threads(1)  # as the server reads (demo.apply_process_settings): one thread per request
    model = load_model(args.weights)
    results: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    clean_ms, read_ms = [], []
    with tempfile.TemporaryDirectory() as folder:
        for condition in args.conditions:
            for index in range(args.count):
                made = shot(condition, index, args.seed)
                path = Path(folder) / f"shot{made.suffix}"
                path.write_bytes(made.data)
                picture = open_upload(str(path))
                started = time.perf_counter()
                clean(picture)
                clean_ms.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                after = outcome(read_upload(model, picture), made.label)
                read_ms.append(1000 * (time.perf_counter() - started))
                results[condition]["after"].append(after)
                if not args.no_before:
                    results[condition]["before"].append(outcome(read_picture(model, picture), made.label))
                if CONDITIONS[condition][0] == "digit" and not made.look.scan:
                    by["pen"][made.pen].append(after)
                    by["source"][made.source].append(after)
                    bin_ = min(int(made.look.uneven * 10), 2)
                    by["light"][f"uneven {10 * bin_}-{10 * bin_ + 10}%"].append(after)
                    by["paper"][made.look.paper].append(after)

    print(f"photos and scans of handwriting (training/photos.py, seed {args.seed}, {args.count} per condition), "
          f"weights {args.weights}")
    print(f"  {'condition':<22} {'shots':>5}  {'right':>7}  {'flagged':>7}  {'wrong':>7}  {'no ink':>7}")
    for condition in args.conditions:
        for when in ("before", "after"):
            if results[condition][when]:
                print(row(f"{condition}, {when}", results[condition][when]))
    for name, groups in by.items():
        print(f"photos of single digits by {name} (after):")
        for group, outcomes in sorted(groups.items()):
            print(row(group, outcomes))
    print(f"time per picture: reader.paper.clean median {np.median(clean_ms):.1f} ms, p95 "
          f"{np.percentile(clean_ms, 95):.1f} ms, max {max(clean_ms):.1f} ms; the whole read_upload median "
          f"{np.median(read_ms):.1f} ms, p95 {np.percentile(read_ms, 95):.1f} ms")
    # the largest picture an upload decodes to (demo.MAX_DECODED_PIXELS, a PNG of 3 MP): reduced to the working size
    large = Image.open(io.BytesIO(shot("lined", 0, args.seed).data)).convert("RGB").resize((2000, 1500))
    large_ms = []
    for _ in range(10):
        started = time.perf_counter()
        clean(large)
        large_ms.append(1000 * (time.perf_counter() - started))
    print(f"  a 2000x1500 picture (3 MP, the most an upload decodes to): clean median {np.median(large_ms):.1f} ms")


if __name__ == "__main__":
    main()

"""Digits that touch: how many numbers are read exactly with and without segmentation by recognition.

    python -m bench.touching                        # 200 numbers per row, 10,000 single digits, 1,800 non-digits
    python -m bench.touching --count 50 --singles 1000 --negatives 300      # a quick look

"before" is the split the app made before reader.segment (reader.preprocess.to_mnist_digits: empty
columns only, as at commit 4a47215); "after" is reader.segment.split_digits(model, picture), the app's path now.
Every verdict is model.judge on the digit's full reading; a number is read exactly when every part is a digit
and the digits, left to right, are its label.
  - Numbers (training/numbers.py): 2-4 digits of writers the model never trained on (MNIST test, load_digits),
    separated by a clear gap, touching, or overlapping 2-6 px, as canvas drawings (the page's strokes, drawn by
    reader.strokes.render_drawing) and as pictures (grey scans). Prints the share read exactly, the share read as one
    part, the readings of the model a number cost (its parts whole, merges and pieces), and the time per number of
    split_digits and of the whole reading the server gives, row views and all (reader.readings.read_drawing for
    a drawing: the pen-up reading; read_picture for a picture), one thread as the server reads.
  - Single digits: MNIST's 10,000 test digits as given (28x28 pictures, as the v1 API and an upload) and as
    canvas ink (traced into strokes, drawn on a 560x280 canvas at a random size and place): how many are cut
    into more than one part (wrongly: each is one digit), and the share read right, before and after.
  - Non-digits: negatives.pool("held_out")'s drawings (kinds and seeds never trained on) on the page's 280 px
    canvas: the share read as "not a digit" (some part flagged), before and after.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from harness import Counted
from model import DEFAULT_WEIGHTS, BiLSTM, judge, load_model
from reader.preprocess import to_mnist_digits
from reader.readings import read_drawing, read_picture
from reader.segment import split_digits
from reader.strokes import parse_drawing, render_drawing
from training import negatives
from training.numbers import FORMS, SOURCES, SPACINGS, digits_of, numbers
from training.pens import digit_strokes


@torch.inference_mode()
def number_of(model: BiLSTM, parts: list[dict]) -> str | None:
    """The number the app answers for these parts: their digits left to right; None when one is not a digit."""
    if not parts:
        return None
    logits = model(torch.from_numpy(np.stack([part["digit"] for part in parts])))
    verdicts = [judge(model, row) for row in logits.numpy()]
    return None if any(v.not_a_digit for v in verdicts) else "".join(str(v.digit) for v in verdicts)


def canvas_drawing(digit: np.ndarray, rng: np.random.Generator, width: int = 560, height: int = 280):
    """An MNIST digit traced into strokes and drawn on the page's 2:1 canvas, 35-90% of its height, anywhere:
    -> (the picture the strokes make, the checked drawing)."""
    strokes = [np.array(s, np.float64) for s in digit_strokes(digit)]
    points = np.concatenate(strokes)
    low, span = points.min(0), max(float(np.ptp(points[:, 1])), 1.0)
    scale = rng.uniform(0.35, 0.9) * height * 0.85 / span
    extent = (points.max(0) - low) * scale
    brush = 24 / 280 * height
    x = rng.uniform(brush, max(brush, width - brush - extent[0]))
    y = rng.uniform(brush, max(brush, height - brush - extent[1]))
    drawing = {"width": width, "height": height,
               "strokes": [[[round(float(px), 1), round(float(py), 1)] for px, py in (s - low) * scale + [x, y]]
                           for s in strokes]}
    checked = parse_drawing(drawing)
    return render_drawing(checked), checked


def numbers_table(model: BiLSTM, count: int, seed: int, rows: list[str] | None = None) -> None:
    print(f"Numbers of 2-4 digits, {count} per row: read exactly before -> after (one part before -> after); "
          "model readings a number (the parts whole, merges, pieces), median / max; ms a number: to_mnist_digits median / "
          "p95, and the whole reading (reader.readings.read_drawing or read_picture, on a quarter of them) median / max")
    for source in SOURCES:
        for spacing in SPACINGS:
            for form in FORMS:
                if rows and f"{source}:{spacing}:{form}" not in rows:
                    continue
                made = numbers(source, spacing, form, count, seed)
                pictures = [m.picture if form == "picture" else render_drawing(parse_drawing(m.drawing)) for m in made]
                exact, one = {}, {}
                reads, seconds, whole = [], [], []
                for mode in ("before", "after"):
                    right = single = 0
                    for number, picture in zip(made, pictures):
                        with Counted(model) as counted:
                            started = time.perf_counter()
                            drawn = parse_drawing(number.drawing) if form == "canvas" else None
                            parts = (split_digits(model, picture, drawing=drawn) if mode == "after"
                                     else to_mnist_digits(picture))
                            if mode == "after":
                                seconds.append(time.perf_counter() - started)
                                reads.append(counted.count)
                        right += number_of(model, parts) == number.label
                        single += len(parts) == 1
                    exact[mode], one[mode] = right / count, single / count
                for number, picture in list(zip(made, pictures))[: max(1, count // 4)]:
                    started = time.perf_counter()  # the server's whole reading: the answer and the row views
                    if form == "canvas":
                        read_drawing(model, parse_drawing(number.drawing))
                    else:
                        read_picture(model, picture)
                    whole.append(time.perf_counter() - started)
                print(f"  {source:11s} {spacing:11s} {form:7s} exact {100 * exact['before']:5.1f}% -> "
                      f"{100 * exact['after']:5.1f}%   one part {100 * one['before']:5.1f}% -> {100 * one['after']:5.1f}%"
                      f"   readings {int(np.median(reads))} / {max(reads)}   ms {1000 * np.median(seconds):.1f} / "
                      f"{1000 * np.percentile(seconds, 95):.1f}, whole reading {1000 * np.median(whole):.1f} / "
                      f"{1000 * np.max(whole):.1f}", flush=True)


def singles_table(model: BiLSTM, count: int, seed: int) -> None:
    images, labels = digits_of("mnist_test")
    rng = np.random.default_rng(seed)
    picks = np.arange(min(count, len(images)))
    print(f"Single digits: the first {len(picks)} MNIST test digits, each one digit: cut into more than one part, "
          "read right")
    for form in ("as given", "canvas ink"):
        cut = {"before": 0, "after": 0}
        right = {"before": 0, "after": 0}
        for i in picks:
            picture, drawn = (images[i], None) if form == "as given" else canvas_drawing(images[i], rng)
            for mode in ("before", "after"):
                parts = (split_digits(model, picture, drawing=drawn) if mode == "after" else to_mnist_digits(picture))
                cut[mode] += len(parts) > 1
                right[mode] += number_of(model, parts) == str(labels[i])
        print(f"  {form:10s} cut {cut['before']} -> {cut['after']} of {len(picks)}   read right "
              f"{100 * right['before'] / len(picks):.2f}% -> {100 * right['after'] / len(picks):.2f}%", flush=True)


def negatives_table(model: BiLSTM, count: int) -> None:
    order = negatives.kinds_of("held_out")
    flagged = {"before": 0, "after": 0}
    for i in range(count):
        rng = np.random.default_rng([negatives.SPLITS["held_out"], 0, i])  # the drawings negatives.pool makes
        kind = order[i % len(order)]
        if negatives.KINDS[kind].strokes is None:  # a typed glyph: a picture
            picture, drawn = negatives.picture(kind, rng, negatives.HELD_OUT_CANVAS), None
        else:  # a pen kind: the drawing as the page sends it, and the picture it makes (what negatives.picture draws)
            drawn = parse_drawing(negatives.drawing(kind, rng, negatives.HELD_OUT_CANVAS))
            picture = render_drawing(drawn)
        for mode in ("before", "after"):
            parts = split_digits(model, picture, drawing=drawn) if mode == "after" else to_mnist_digits(picture)
            flagged[mode] += number_of(model, parts) is None
    print(f"Non-digits: {count} of negatives.pool('held_out') flagged {100 * flagged['before'] / count:.1f}% -> "
          f"{100 * flagged['after'] / count:.1f}%", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--count", type=int, default=200, help="numbers per source, spacing and form")
    parser.add_argument("--singles", type=int, default=10000, help="MNIST test digits, as given and as canvas ink")
    parser.add_argument("--negatives", type=int, default=1800, help="held-out non-digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("numbers", "singles", "negatives"), default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the server reads with one thread per request; so does a phone
    model = load_model(args.weights)
    print(f"weights {args.weights}")
    if args.only in (None, "numbers"):
        numbers_table(model, args.count, args.seed)
    if args.only in (None, "singles"):
        singles_table(model, args.singles, args.seed)
    if args.only in (None, "negatives"):
        negatives_table(model, args.negatives)


if __name__ == "__main__":
    main()

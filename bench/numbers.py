"""Numbers of 2-4 drawn digits side by side on a 3:1 canvas: how many does the app read whole?

    python -m bench.numbers                    # 400 numbers on an 840x280 canvas, committed weights
    python -m bench.numbers --count 1000 --weights /tmp/q.pt

Each digit is a real person's: an MNIST test digit turned into pen strokes (training.pens.digit_strokes: thinned
and traced), drawn at a random height (45-80% of the canvas), side by side with random gaps between the
inks (8-30% of the height) and a little up-and-down wander, by strokes.render_drawing with the canvas's
brush, as the page would draw it. The picture goes to readings.read_picture(model, picture), the server's
reading of a picture, whose answer is {"number": "2026" (None when a part is not a digit), "digits":
[{"digit": "2", "confidence", "probs", "not_a_digit", "box"}, ...], ...}.
Prints the share read whole (goal >= 95%), the share split into the right count of digits, per-digit
accuracy (digits in place, in numbers split right), and the same digits each drawn alone on the same
canvas and read with reader.readings.read_digit: what a perfect split would give.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from model import DEFAULT_WEIGHTS, load_model
from reader.readings import read_digit, read_picture
from reader.strokes import BRUSH_FRACTION, parse_drawing, render_drawing
from training.mnist import load_mnist
from training.pens import digit_strokes


def compose(digits: list[np.ndarray], rng: np.random.Generator, width: int, height: int) -> list[list[list[list[float]]]]:
    """MNIST digits (uint8 28x28) -> per digit, its strokes in canvas pixels, left to right with gaps."""
    shapes = []
    for digit in digits:
        strokes = [np.array(s, dtype=np.float64) for s in digit_strokes(digit)]
        points = np.concatenate(strokes)
        low, high = points.min(0), points.max(0)
        size = rng.uniform(0.45, 0.8) * height
        scale = size / max(high[1] - low[1], 1.0)  # digits are sized by their height, as people write them
        shapes.append([(s - low) * scale for s in strokes])
    widths = [max(np.concatenate(s)[:, 0].max(), 1.0) for s in shapes]
    spaces = [rng.uniform(0.08, 0.3) * np.concatenate(s)[:, 1].max() for s in shapes[1:]]  # between inks' edges
    brush = BRUSH_FRACTION * min(width, height)  # strokes are centre lines: the ink is a brush wider
    room = 0.92 * width - brush * (len(shapes) - 1)
    fit = min(1.0, room / (sum(widths) + sum(spaces)))  # too wide for the canvas: everything smaller
    total = (sum(widths) + sum(spaces)) * fit + brush * (len(shapes) - 1)
    x = rng.uniform(0.02 * width, max(0.02 * width, 0.98 * width - total))
    placed = []
    for i, strokes in enumerate(shapes):
        tall = np.concatenate(strokes)[:, 1].max() * fit
        top = (height - tall) / 2 + rng.uniform(-0.08, 0.08) * height
        top = float(np.clip(top, 0.02 * height, height - tall - 0.02 * height))
        placed.append([[[round(float(px * fit + x), 1), round(float(py * fit + top), 1)] for px, py in s]
                       for s in strokes])
        x += widths[i] * fit + (spaces[i] * fit + brush if i < len(spaces) else 0)
    return placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--data-dir", default=None, help="MNIST root; default: training.mnist's rule")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--width", type=int, default=840)
    parser.add_argument("--height", type=int, default=280)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.weights)
    test_x, test_y = load_mnist(args.data_dir, train=False, device=torch.device("cpu"))
    test_u8, labels = (test_x * 255).round().to(torch.uint8).numpy(), test_y.numpy()
    rng = np.random.default_rng(args.seed)
    whole = counted = digits_right = digits_total = alone_right = 0
    by_length: dict[int, list[bool]] = {}
    seconds = []
    for _ in range(args.count):
        length = int(rng.integers(2, 5))
        picks = rng.choice(len(test_u8), length, replace=False)
        truth = "".join(str(labels[i]) for i in picks)
        placed = compose([test_u8[i] for i in picks], rng, args.width, args.height)
        picture = render_drawing(parse_drawing({"width": args.width, "height": args.height,
                                                "strokes": [s for digit in placed for s in digit]}))
        started = time.perf_counter()
        read = read_picture(model, picture)
        answer = read["answer"] if read else None
        seconds.append(time.perf_counter() - started)
        number = answer["number"] if answer else ""
        whole += number == truth
        by_length.setdefault(length, []).append(number == truth)
        if answer and len(answer["digits"]) == length:
            counted += 1
            digits_right += sum(d["digit"] == t for d, t in zip(answer["digits"], truth))
        digits_total += length
        for strokes, t in zip(placed, truth):  # each digit alone on the same canvas: a perfect split
            alone = read_digit(model, render_drawing(parse_drawing({"width": args.width, "height": args.height,
                                                                    "strokes": strokes})))
            alone_right += alone is not None and str(alone.digit) == t

    print(f"{args.count} numbers of 2-4 MNIST test digits as pen strokes on a {args.width}x{args.height} canvas "
          f"(weights {args.weights})")
    print(f"  read whole:             {100 * whole / args.count:.1f}%   goal >= 95%   "
          + ", ".join(f"{n} digits {100 * np.mean(v):.1f}%" for n, v in sorted(by_length.items())))
    print(f"  split into the right count of digits: {100 * counted / args.count:.1f}%")
    print(f"  digits right in place:  {100 * digits_right / digits_total:.2f}% of {digits_total}")
    print(f"  each digit drawn alone: {100 * alone_right / digits_total:.2f}% right (what a perfect split gives)")
    print(f"  read_picture (the whole reading) per picture: median {1000 * np.median(seconds):.1f} ms, p95 {1000 * np.percentile(seconds, 95):.1f} ms")


if __name__ == "__main__":
    main()

"""Do drawn digits come out right as often as MNIST's own? MNIST test digits redrawn on a canvas.

    python -m bench.drawn_digits                       # 2000 test digits, 800x800 canvas
    python -m bench.drawn_digits --count 10000

Each test digit is enlarged to a random size from a third of the canvas to nearly all of it, turned
into pure black ink on white (as the sketchpad sends it: 0 or 255, no anti-aliasing), pasted at a
random place (training.pens.drawn_at_random), and read through reader.readings.read_digit. Prints the accuracy next to the
model's accuracy on the same digits as MNIST gives them (28x28 straight into the model), and how many of
the drawn digits the checkpoint's rule calls "not a digit".
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from model import load_model
from reader.readings import read_digit
from training.mnist import mnist
from training.pens import drawn_at_random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST root; default: training.mnist's rule")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--canvas", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    test = mnist(args.data_dir, train=False)
    images, labels = test.data.numpy()[: args.count], test.targets.numpy()[: args.count]
    model = load_model()
    with torch.inference_mode():
        clean = model(torch.from_numpy(images).float() / 255).argmax(1).numpy()
    rng = np.random.default_rng(args.seed)
    drawn, flagged, seconds = [], [], []
    for digit in images:
        page = drawn_at_random(digit, rng, args.canvas)
        start = time.perf_counter()
        verdict = read_digit(model, page)
        seconds.append(time.perf_counter() - start)
        drawn.append(-1 if verdict is None else verdict.digit)
        flagged.append(verdict is not None and verdict.not_a_digit)
    drawn = np.array(drawn)
    print(f"{args.count} MNIST test digits, drawn on a {args.canvas}x{args.canvas} white canvas at sizes "
          f"{args.canvas // 3}..{args.canvas - args.canvas // 40} px, random places")
    print(f"  as MNIST gives them (28x28): {100 * (clean == labels).mean():.2f}% right")
    print(f"  drawn, through to_mnist:     {100 * (drawn == labels).mean():.2f}% right")
    print(f"  both right {((clean == labels) & (drawn == labels)).sum()}, only MNIST right "
          f"{((clean == labels) & (drawn != labels)).sum()}, only drawn right {((clean != labels) & (drawn == labels)).sum()}")
    print(f"  called not a digit:          {100 * np.mean(flagged):.2f}% ({int(np.sum(flagged))})")
    print(f"  read_digit() per canvas: median {1000 * np.median(seconds):.1f} ms, p95 {1000 * np.percentile(seconds, 95):.1f} ms")


if __name__ == "__main__":
    main()

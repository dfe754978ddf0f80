"""Digits in styles MNIST lacks, drawn with a pen through the app's own path: for other hands than MNIST's.

    from training.styles import pool
    images, labels = pool(count=1000, seed=0)   # (N, 28, 28) float32 through to_mnist, labels (N,) int64

MNIST's writers were American; many people write a 1 with a flag and a foot, cross their 7, leave the top
of a 4 open and give a 3 a flat top. Those styles are rare or absent in MNIST, and the model reads a flagged
1 as a 4 or 7 and a crossed 7 as a 3. Each style here is a few ideal strokes; training.pens.by_hand draws them
the way a hand does (slant, proportions, wobble, size and place on the canvas), reader.strokes.render_drawing puts
them on the canvas and to_mnist makes the 28x28, exactly as the app reads a drawing.

    python -m training.styles --out /tmp/styles.png      # a contact sheet
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from reader.preprocess import to_mnist
from reader.strokes import parse_drawing, render_drawing
from training.pens import TRAIN_CANVAS, by_hand


def _flag(rng: np.random.Generator) -> tuple[float, float]:
    return (rng.uniform(0.05, 0.3), rng.uniform(0.25, 0.45))


# digit -> style name -> (rng) -> strokes, on a 1 x 1.4 box (y down)
STYLES = {
    1: {
        "flag": lambda rng: [np.array([_flag(rng), (0.55, 0), (0.55, 1.4)])],
        "flag and foot": lambda rng: [np.array([_flag(rng), (0.55, 0), (0.55, 1.4)]),
                                      np.array([(0.15, 1.4), (0.95, 1.4)])],
    },
    7: {
        "crossed": lambda rng: [np.array([(0, 0), (1, 0), (0.4, 1.4)]),
                                np.array([(rng.uniform(0.3, 0.45), 0.7), (rng.uniform(0.9, 1.05), 0.7)])],
        "crossed, hooked": lambda rng: [np.array([(0, 0.2), (0.05, 0), (1, 0), (0.4, 1.4)]),
                                        np.array([(0.35, 0.72), (1.0, 0.68)])],
    },
    4: {
        "open top": lambda rng: [np.array([(0.15, 0), (0.05, 0.9), (1, 0.9)]),
                                 np.array([(0.75, rng.uniform(0.2, 0.45)), (0.75, 1.4)])],
    },
    3: {
        "flat top": lambda rng: [np.array([(0.05, 0), (0.95, 0), (0.4, 0.55), (0.75, 0.6), (0.95, 0.85),
                                           (0.9, 1.15), (0.6, 1.38), (0.25, 1.38), (0, 1.2)])],
    },
    9: {
        "straight stem": lambda rng: [np.concatenate([
            np.stack([0.5 + 0.45 * np.cos(t), 0.38 + 0.38 * np.sin(t)], axis=1)
            for t in [np.linspace(0, 2 * np.pi, 20)]] + [np.array([(0.95, 0.38), (0.9, 1.4)])])],
    },
}
STYLE_NAMES = [(digit, name) for digit, styles in STYLES.items() for name in styles]
SEED_SPACE = 3  # styled digits draw from their own seed space, apart from negatives' splits 0-2


def pool(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """count styled digits, round-robin over the styles -> images (count, 28, 28) float32, labels (count,) int64."""
    images, labels = np.zeros((count, 28, 28), np.float32), np.zeros(count, np.int64)
    for i in range(count):
        rng = np.random.default_rng([SEED_SPACE, seed, i])
        digit, name = STYLE_NAMES[i % len(STYLE_NAMES)]
        canvas = int(rng.integers(*TRAIN_CANVAS))
        images[i] = to_mnist(render_drawing(parse_drawing(by_hand(STYLES[digit][name](rng), rng, canvas))))
        labels[i] = digit
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description="A contact sheet of the styled digits, as the model reads them")
    parser.add_argument("--out", default="styles.png")
    args = parser.parse_args()
    images, _ = pool(len(STYLE_NAMES) * 10)
    rows = [np.concatenate(list(images[i::len(STYLE_NAMES)]), axis=1) for i in range(len(STYLE_NAMES))]
    sheet = Image.fromarray((np.concatenate(rows) * 255).astype(np.uint8))
    sheet.resize((sheet.width * 3, sheet.height * 3), Image.Resampling.NEAREST).save(args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{d} {n}" for d, n in STYLE_NAMES))


if __name__ == "__main__":
    main()

"""Numbers of 2-4 handwritten digits, with a clear gap between them, touching, or overlapping: to measure reading.

    from training.numbers import numbers
    for number in numbers("mnist_test", "touching", "canvas", count=200):
        number.label        # "407"
        number.drawing      # {"width": 840, "height": 280, "strokes": [...]}: what the page's canvas sends
    for number in numbers("load_digits", "overlapping", "picture", count=200):
        number.picture      # 840x280 grey PIL image, dark ink on white: an upload

    python -m training.numbers --out /tmp/numbers.png    # a contact sheet of each spacing, canvas and picture

Writers the model never trained on: MNIST's *test* digits (train.py never reads them) and scikit-learn's
load_digits (UCI optdigits: 43 other people; each 8x8 enlarged to 160 px of black ink as bench/other_hands.py
reads it, then made a 28x28 MNIST-like digit by reader.preprocess.to_mnist). Two forms:
  - "canvas": each digit thinned and traced into pen strokes (training.pens.digit_strokes), drawn with the page's
    brush (24 px on the 280 px high canvas) by reader.strokes.rasterize: the page's path for a drawing;
  - "picture": the digit's own grey pixels enlarged (bilinear), dark on white: a clean scan.
Each digit is 45-80% of the canvas high (people write digits of a number at different sizes) and wanders up or
down by up to 8% of the height. Spacing, measured on the ink in canvas pixels, from the right digit's left:
  - "separated": a clear gap between the inks, 8-30% of the taller one's height (bench/numbers.py's rule);
  - "touching": slid left until its ink first shares a pixel with the ink to its left, in some row;
  - "overlapping": slid 2-6 canvas px further than touching (strokes cross, or lie in the other's columns).
Deterministic: number i of (source, spacing, form, seed) has its own generator seeded by those, so the same call
gives the same numbers and any prefix of a longer run is the shorter run.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from reader.strokes import BRUSH_FRACTION, Drawing, rasterize
from training.pens import digit_strokes

SOURCES = ("mnist_test", "load_digits")
SPACINGS = ("separated", "touching", "overlapping")
FORMS = ("canvas", "picture")
WIDTH, HEIGHT = 840, 280  # a 3:1 canvas, as bench/numbers.py draws on
SIZES = (0.45, 0.8)  # each digit's height, as a fraction of the canvas's
WANDER = 0.08  # up or down, as a fraction of the canvas's height
GAP = (0.08, 0.3)  # "separated": the gap between inks, as a fraction of the taller digit's height
OVERLAP = (2, 6)  # "overlapping": canvas pixels past the first touch
LENGTHS = (2, 4)  # digits in a number, both included


@dataclass(frozen=True)
class Number:
    """One number: its label, and the drawing (form "canvas") or the picture (form "picture") that shows it."""

    label: str
    spacing: str
    form: str
    drawing: dict | None  # {"width", "height", "strokes"} in canvas pixels, as the page sends a drawing
    picture: Image.Image | None  # WIDTH x HEIGHT, "L", dark ink (0) on white (255)


@lru_cache(maxsize=2)
def digits_of(source: str) -> tuple[np.ndarray, np.ndarray]:
    """-> (N, 28, 28) uint8 digits (ink = 255) of writers the model never trained on, and their labels (N,)."""
    if source == "mnist_test":
        from training.mnist import load_mnist

        images, labels = load_mnist(None, train=False, device=torch.device("cpu"))
        return (images * 255).round().to(torch.uint8).numpy(), labels.numpy()
    if source == "load_digits":
        from sklearn.datasets import load_digits  # scikit-learn ships the data: nothing is downloaded

        from reader.preprocess import to_mnist

        data = load_digits()
        digits = np.zeros((len(data.images), 28, 28), np.uint8)
        for digit, image in zip(digits, data.images):  # (8, 8) ink counts 0..16, as bench/other_hands reads them:
            big = Image.fromarray((image / 16 * 255).astype(np.uint8)).resize((160, 160), Image.Resampling.BICUBIC)
            ink = np.where(np.asarray(big) >= 128, 0, 255).astype(np.uint8)  # enlarged, black on white
            digit[:] = np.round(to_mnist(ink) * 255).astype(np.uint8)  # then MNIST's own recipe, to 28x28
        return digits, data.target.astype(np.int64)
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def _stroke_ink(strokes: list[np.ndarray]) -> tuple[np.ndarray, int, int]:
    """Strokes in canvas pixels -> (mask, x, y): the ink the page's brush makes of them at one raster pixel per
    canvas pixel (reader.strokes.rasterize on a canvas of the page's height, so the brush is the page's), and where the
    mask's (0, 0) lies on the canvas."""
    radius = BRUSH_FRACTION * HEIGHT / 2
    points = np.concatenate(strokes)
    x, y = int(np.floor(points[:, 0].min() - radius)) - 1, int(np.floor(points[:, 1].min() - radius)) - 1
    width = int(np.ceil(points[:, 0].max() - x + radius)) + 2
    if width > 512:  # rasterize draws at scale 1 up to 512 px; no digit 80% of 280 px high is that wide
        raise ValueError(f"a digit {width} px wide")
    ink = rasterize(Drawing(max(width, HEIGHT), HEIGHT, tuple(s - [x, y] for s in strokes)))
    rows, cols = np.nonzero(ink)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1], x + int(cols.min()), y + int(rows.min())


def _picture_ink(digit: np.ndarray, height: float) -> np.ndarray:
    """(28, 28) uint8 digit -> its ink cropped and enlarged to `height` px high (bilinear), float in [0, 1]."""
    rows, cols = np.nonzero(digit)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(height)))
    return np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR), np.float64) / 255


def _slide(left: np.ndarray, mask: np.ndarray, top: int) -> int:
    """The canvas x at which mask (placed with its row 0 at canvas row top) first shares a pixel with `left`
    (a canvas-sized bool mask) when slid in from the right; None when no row holds ink of both."""
    rows = np.arange(mask.shape[0])
    shared = [r for r in rows if mask[r].any() and 0 <= top + r < left.shape[0] and left[top + r].any()]
    if not shared:
        return None
    return max(int(np.nonzero(left[top + r])[0].max()) - int(np.nonzero(mask[r])[0].min()) for r in shared)


def number(digits: list[np.ndarray], spacing: str, form: str, rng: np.random.Generator) -> tuple[dict | None, Image.Image | None]:
    """Digits (uint8 28x28 each) -> (drawing, None) for form "canvas", (None, picture) for "picture"."""
    heights = rng.uniform(*SIZES, size=len(digits)) * HEIGHT
    wander = rng.uniform(-WANDER, WANDER, size=len(digits)) * HEIGHT
    gaps = rng.uniform(*GAP, size=len(digits))
    overlaps = rng.integers(OVERLAP[0], OVERLAP[1] + 1, size=len(digits))
    for attempt in range(8):  # too wide for the canvas: every digit smaller, then again
        inks, shapes = [], []
        for digit, height in zip(digits, heights):
            if form == "canvas":
                strokes = [np.array(s, np.float64) for s in digit_strokes(digit)]
                low = np.concatenate(strokes).min(0)
                span = max(float(np.ptp(np.concatenate(strokes)[:, 1])), 1.0)
                body = height - BRUSH_FRACTION * HEIGHT  # the ink is the centre line plus the brush
                strokes = [(s - low) * max(body, 8.0) / span for s in strokes]
                mask, x, y = _stroke_ink(strokes)
                shapes.append([s - [x, y] for s in strokes])  # strokes relative to the mask's (0, 0)
                inks.append(mask)
            else:
                inks.append(_picture_ink(digit, height))
        masks = [ink >= 0.5 if ink.dtype != bool else ink for ink in inks]
        canvas = np.zeros((HEIGHT, 5 * WIDTH), bool)  # room either side for any layout; the fit is checked after
        placed, x = [], WIDTH
        for i, (mask, shift) in enumerate(zip(masks, wander)):
            top = int(np.clip(round((HEIGHT - mask.shape[0]) / 2 + shift), 2, HEIGHT - mask.shape[0] - 2))
            if i > 0:
                rows, cols = np.nonzero(canvas)
                if spacing == "separated":
                    x = int(cols.max()) + 1 + round(gaps[i] * max(mask.shape[0], rows.max() - rows.min() + 1))
                    x -= int(np.nonzero(mask.any(axis=0))[0].min())
                else:
                    touch = _slide(canvas, mask, top)
                    if touch is None:  # no row in common: edge to edge
                        touch = int(cols.max()) - int(np.nonzero(mask.any(axis=0))[0].min())
                    x = touch - (int(overlaps[i]) if spacing == "overlapping" else 0)
            canvas[top : top + mask.shape[0], x : x + mask.shape[1]] |= mask
            placed.append((x, top))
        inked = np.nonzero(canvas.any(axis=0))[0]
        left, span = int(inked.min()), int(inked.max()) + 1 - int(inked.min())
        if span <= WIDTH - 16:
            break
        heights = heights * (WIDTH - 16) / span * 0.98
    else:
        raise ValueError("could not fit the number on the canvas")
    shift = int(rng.integers(8, WIDTH - 8 - span + 1)) - left  # anywhere along the canvas
    if form == "canvas":
        strokes = [[[round(float(px) + x + shift, 2), round(float(py) + top, 2)] for px, py in s]
                   for strokes_, (x, top) in zip(shapes, placed) for s in strokes_]
        return {"width": WIDTH, "height": HEIGHT, "strokes": strokes}, None
    page = np.zeros(canvas.shape, np.float64)
    for ink, (x, top) in zip(inks, placed):
        window = page[top : top + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(window, ink, out=window)  # where strokes cross, the darker ink shows
    page = page[:, -shift : WIDTH - shift]
    return None, Image.fromarray(np.round(255 - 255 * page).astype(np.uint8), mode="L")


def numbers(source: str, spacing: str, form: str, count: int, seed: int = 0) -> list[Number]:
    """count numbers of 2-4 digits of a source with a spacing, in a form (see the module's docstring)."""
    if spacing not in SPACINGS or form not in FORMS:
        raise ValueError(f"spacing must be one of {SPACINGS} and form one of {FORMS}, got {spacing!r}, {form!r}")
    images, labels = digits_of(source)
    made = []
    for i in range(count):
        rng = np.random.default_rng([SOURCES.index(source), SPACINGS.index(spacing), FORMS.index(form), seed, i])
        picks = rng.choice(len(images), int(rng.integers(LENGTHS[0], LENGTHS[1] + 1)), replace=False)
        drawing, picture = number([images[p] for p in picks], spacing, form, rng)
        made.append(Number("".join(str(labels[p]) for p in picks), spacing, form, drawing, picture))
    return made


def main() -> None:
    from reader.strokes import parse_drawing, render_drawing

    parser = argparse.ArgumentParser(description="A contact sheet of the numbers: each spacing, canvas and picture")
    parser.add_argument("--out", default="numbers.png")
    parser.add_argument("--source", default="mnist_test", choices=SOURCES)
    parser.add_argument("--per-spacing", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for spacing in SPACINGS:
        for form in FORMS:
            for made in numbers(args.source, spacing, form, args.per_spacing):
                picture = made.picture if form == "picture" else render_drawing(parse_drawing(made.drawing))
                rows.append(picture.convert("L").resize((WIDTH // 2, HEIGHT // 2)))
    sheet = Image.new("L", (WIDTH // 2, len(rows) * (HEIGHT // 2 + 4)), 128)
    for i, row in enumerate(rows):
        sheet.paste(row, (0, i * (HEIGHT // 2 + 4)))
    sheet.save(args.out)
    print(f"wrote {args.out}: {len(rows)} numbers, {args.per_spacing} per spacing and form, rows in the order "
          + ", ".join(f"{s} {f}" for s in SPACINGS for f in FORMS))


if __name__ == "__main__":
    main()

"""Phone photos and scans of handwritten digits and numbers, made here, by writers the model never trained on.

    from training.photos import shot, CONDITIONS
    one = shot("lined", index=7)              # a Shot: .data (the file's bytes, as uploaded), .label "4", ...
    picture = PIL.Image.open(io.BytesIO(one.data))

    python -m training.photos --out /tmp/photos.png     # a contact sheet: a few shots of every condition

What bench/paper.py reads through the app's upload path. Every shot is seeded by (condition, seed, index):
the same call gives the same bytes. The writing comes from three sources, taken in turn (index % 3):
  - "load_digits": scikit-learn's load_digits (the test part of UCI optdigits: 43 writers, none of MNIST's),
    8x8 counts enlarged to 48x48, cut at half ink, thinned and traced to pen strokes (read as canvas ink: 85%,
    against 94% for its blobs as bench.other_hands draws them: thinning a blob of 8x8 cells loses some shapes);
  - "mnist_test": MNIST *test* digits (their writers are disjoint from MNIST's training writers; train.py
    reads the training file only), traced the same way by harness.digit_strokes;
  - "pen": digits from ideal strokes of our own (PEN_DIGITS: a few forms of each), drawn by a hand
    (negatives.by_hand: slant, proportions, wobble).
Non-digits ("non_digit") are negatives.py's pen kinds, held-out kinds included, drawn by a hand as they are.

A photo: off-white paper (plain, lined or squared, the ruling pale blue or grey, a red margin sometimes), the
writing in one of PENS (ballpoint, gel, felt pen, marker, pencil; black, blue, grey), light uneven by 0-30%
(max - min over max of the light across the frame), a white-balance cast, a mild tilt (+-6 degrees) and a
slight keystone, blur, sensor noise, JPEG at quality 60-85, and what a condition adds: a soft shadow, a desk
at the frame's edge, or the pixels stored sideways with the EXIF orientation tag of a phone's portrait. A scan:
white paper, even light, little blur or noise, PNG or JPEG at 92. Digits are 20-55% of the frame's short side
tall; numbers of 3-4 digits have a clear gap (15-45% of a digit's height) between inks.
"""

from __future__ import annotations

import argparse
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from training.negatives import KINDS, kinds_of
from training.pens import by_hand, digit_strokes, thin, trace

Strokes = list[np.ndarray]  # polylines, each (N, 2) of x, y, y down

SEED_SPACE = 20  # photos draw from their own seed space (negatives uses 0-2, styles 3)
SOURCES = ("load_digits", "mnist_test", "pen")
UNEVEN = 0.3  # the light across the frame varies by up to this fraction of its brightest (the 30%)
TILT_DEGREES = 6.0  # the paper turned in the frame by up to this much either way ("mild rotation")
JPEG_QUALITY = (60, 85)  # a phone's upload, saved again by a messaging app
SCAN_QUALITY = 92  # a scanner's JPEG
DIGIT_HEIGHT = (0.2, 0.55)  # a digit's height as a fraction of the frame's short side (a photo of one digit)
NUMBER_GAP = (0.15, 0.45)  # between the inks of two digits of a number, as a fraction of a digit's height


@dataclass(frozen=True)
class Pen:
    """How a pen puts ink on paper: its colour (RGB in [0, 1]), how much of the paper's light a full stroke takes
    away (opacity), its width as a fraction of the digit's height, and whether it is grainy (pencil)."""

    name: str
    colour: tuple[float, float, float]
    opacity: tuple[float, float]
    width: tuple[float, float]
    grain: bool = False


PENS = {
    "ballpoint": Pen("ballpoint", (0.08, 0.1, 0.25), (0.75, 0.95), (0.02, 0.04)),
    "gel blue": Pen("gel blue", (0.1, 0.25, 0.75), (0.8, 0.95), (0.03, 0.055)),
    "felt pen": Pen("felt pen", (0.05, 0.05, 0.07), (0.85, 1.0), (0.05, 0.09)),
    "marker": Pen("marker", (0.05, 0.05, 0.08), (0.9, 1.0), (0.09, 0.16)),
    "pencil": Pen("pencil", (0.3, 0.3, 0.32), (0.55, 0.85), (0.025, 0.05), grain=True),
}


@dataclass(frozen=True)
class Look:
    """Everything that decides how one shot looks, besides the writing."""

    canvas: bool = False  # not a photo: the writing drawn on the page's canvas (the reference)
    scan: bool = False
    board: bool = False  # chalk on a blackboard: light writing on dark
    paper: str = "plain"  # "plain", "lined" or "squared"
    uneven: float = 0.0  # (max - min) / max of the light over the frame
    shadow: float = 0.0  # how much light a soft shadow takes away where it is darkest (0: none)
    desk: int = 0  # frame edges where the desk shows (0-2)
    exif: int = 1  # the EXIF orientation tag: 1 upright, 6 or 8 stored sideways
    tilt: float = 0.0  # degrees the paper is turned in the frame
    blur: float = 0.0  # Gaussian blur sigma, frame pixels
    quality: int = 0  # JPEG quality; 0: PNG


@dataclass(frozen=True)
class Shot:
    """One picture as a person uploads it: the file's bytes and what is in it."""

    data: bytes
    suffix: str  # ".jpg" or ".png"
    label: str  # the digit or number written ("" for a non-digit)
    condition: str
    source: str  # SOURCES, or "non_digit"
    pen: str
    look: Look
    extra: dict = field(default_factory=dict)  # the writing's kind (non-digits)


# ---------------------------------------------------------------------------------------------
# The writing: strokes of a digit from each source, in a box whose height is 1 (y down).


def _unit(strokes: Strokes) -> Strokes:
    """Strokes -> the same shape, its ink's top-left at (0, 0) and its height 1 (its width whatever it is)."""
    points = np.concatenate(strokes)
    low, high = points.min(0), points.max(0)
    size = max(float(high[1] - low[1]), 0.3 * float(high[0] - low[0]), 1e-6)  # a flat dash: 0.3 of its length
    return [(np.asarray(s, dtype=np.float64) - low) / size for s in strokes]


def _smooth(stroke: np.ndarray, k: int = 2) -> np.ndarray:
    """A traced skeleton's staircase -> a pen's path: a moving mean over 2k+1 points (the ends kept)."""
    if len(stroke) < 2 * k + 1:
        return stroke
    padded = np.concatenate([np.repeat(stroke[:1], k, 0), stroke, np.repeat(stroke[-1:], k, 0)])
    sums = np.cumsum(np.concatenate([np.zeros((1, 2)), padded]), axis=0)
    return (sums[2 * k + 1:] - sums[: -2 * k - 1]) / (2 * k + 1)


@lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # scikit-learn ships the data: nothing is downloaded

    data = load_digits()
    return data.images, data.target


def _extended(stroke: np.ndarray, blob: np.ndarray) -> np.ndarray:
    """A skeleton's stroke with each loose end carried on along its direction to the blob's edge: thinning a thick
    blob shortens its ends by about half the blob's width (a 2's foot, a 5's bar)."""
    if len(stroke) < 4:
        return stroke
    h, w = blob.shape
    ends = []
    back = min(len(stroke) - 1, 5)
    for tip, back in ((stroke[-1], stroke[-1 - back]), (stroke[0], stroke[back])):
        direction = tip - back
        direction = direction / max(float(np.hypot(*direction)), 1e-6)
        point, added = tip.copy(), []
        while True:
            point = point + 0.5 * direction
            x, y = int(point[0]), int(point[1])
            if not (0 <= x < w and 0 <= y < h and blob[y, x]):
                break
            added.append(point.copy())
        ends.append(added[:-2])  # stop a pixel short of the edge: the pen's own width covers it
    tail, head = ends
    return np.concatenate([np.array(head[::-1]).reshape(-1, 2), stroke, np.array(tail).reshape(-1, 2)])


def load_digits_strokes(index: int) -> tuple[Strokes, str]:
    """load_digits[index % 1797] -> its strokes and label: 8x8 counts (0-16) enlarged to 48x48 (bicubic), cut at
    128/255, thinned, traced, smoothed, and the ends carried on to the blob's edge. Read as canvas ink, 85% of them
    are right with this cut (every 6th of load_digits); cut at 80, 100, 150 or 170: 77-82%."""
    images, labels = _load_digits()
    image = images[index % len(images)]
    grey = Image.fromarray((image / 16 * 255).astype(np.uint8)).resize((48, 48), Image.Resampling.BICUBIC)
    blob = np.asarray(grey) >= 128
    strokes = [_extended(_smooth(np.array(s, dtype=np.float64)), blob) for s in trace(thin(blob)) if len(s) >= 3]
    return _unit(strokes or [np.array([(24.0, 10.0), (24.0, 38.0)])]), str(labels[index % len(images)])


@lru_cache(maxsize=1)
def _mnist_test() -> tuple[np.ndarray, np.ndarray]:
    import torch

    from training.mnist import load_mnist

    images, labels = load_mnist(None, train=False, device=torch.device("cpu"))
    return (images * 255).round().to(torch.uint8).numpy(), labels.numpy()


def mnist_test_strokes(index: int) -> tuple[Strokes, str]:
    """MNIST test[index % 10000] -> its strokes (harness.digit_strokes, smoothed) and label."""
    images, labels = _mnist_test()
    strokes = [_smooth(np.array(s, dtype=np.float64)) for s in digit_strokes(images[index % len(images)])]
    return _unit(strokes), str(labels[index % len(images)])


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 20) -> np.ndarray:
    """Ellipse arc from angle start to end (degrees, 0 = right, clockwise on screen since y is down)."""
    t = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _path(*parts) -> np.ndarray:
    return np.concatenate([np.atleast_2d(np.asarray(p, dtype=np.float64)) for p in parts])


# digit -> forms, each (rng) -> strokes on a box about 1 wide and 1.4 tall (y down): our own pen models
PEN_DIGITS = {
    "0": [lambda r: [_arc(0.5, 0.7, 0.42, 0.68, -90, 275 + r.uniform(-10, 20), 36)],
          lambda r: [_arc(0.5, 0.7, 0.3, 0.68, -100, 265, 36)]],
    "1": [lambda r: [_path((0.5, 0), (0.5 + r.uniform(-0.1, 0.05), 1.4))],
          lambda r: [_path((0.25, 0.3), (0.55, 0), (0.52, 1.4))]],
    "2": [lambda r: [_path(_arc(0.5, 0.38, 0.42, 0.36, 200, 360, 14), (0.92, 0.5), (0.05, 1.4), (1.0, 1.38))],
          lambda r: [_path(_arc(0.5, 0.4, 0.4, 0.38, 190, 370, 14), (0.15, 1.3), _arc(0.2, 1.25, 0.12, 0.12, 0, 330, 10),
                           (0.5, 1.35), (1.0, 1.32))]],
    "3": [lambda r: [_path(_arc(0.48, 0.35, 0.4, 0.33, 210, 450, 16), _arc(0.48, 1.02, 0.45, 0.36, -90, 150, 18))],
          lambda r: [_path((0.08, 0.02), (0.9, 0.02), (0.4, 0.62), _arc(0.45, 1.0, 0.45, 0.38, -80, 150, 16))]],
    "4": [lambda r: [_path((0.65, 0), (0.0, 0.92), (1.0, 0.92)), _path((0.72, 0.35), (0.72, 1.4))],
          lambda r: [_path((0.12, 0), (0.05, 0.85), (1.0, 0.85)), _path((0.75, 0.05), (0.72, 1.4))]],
    "5": [lambda r: [_path((0.18, 0.02), (0.12, 0.62), _arc(0.48, 0.98, 0.44, 0.4, -120, 150, 18)),
                     _path((0.18, 0.02), (0.92, 0.0))],
          lambda r: [_path((0.95, 0.0), (0.2, 0.02), (0.15, 0.6), _arc(0.5, 0.98, 0.45, 0.4, -125, 160, 18))]],
    "6": [lambda r: [_path(_arc(1.25, 0.75, 0.85, 0.75, 240, 180, 10), _arc(0.52, 1.02, 0.42, 0.37, 180, 540, 22))]],
    "7": [lambda r: [_path((0.0, 0.02), (1.0, 0.0), (0.35, 1.4))],
          lambda r: [_path((0.0, 0.1), (0.05, 0.0), (1.0, 0.0), (0.45, 1.4))]],
    "8": [lambda r: [_path(_arc(0.5, 0.36, 0.36, 0.34, 0, -270, 16), _arc(0.5, 1.04, 0.44, 0.36, -90, 270, 22),
                           _arc(0.5, 0.36, 0.36, 0.34, 90, 0, 8))]],
    "9": [lambda r: [_path(_arc(0.5, 0.38, 0.4, 0.36, 0, -360, 24), (0.9, 0.4), (0.85, 1.4))],
          lambda r: [_path(_arc(0.48, 0.38, 0.4, 0.36, -10, -370, 24), (0.88, 0.5), _arc(0.5, 0.95, 0.38, 0.45, 0, 120, 10))]],
}


def pen_strokes(index: int, rng: np.random.Generator) -> tuple[Strokes, str]:
    """Digit index % 10 in one of its PEN_DIGITS forms, as a hand draws it (negatives.by_hand)."""
    label = str(index % 10)
    forms = PEN_DIGITS[label]
    ideal = forms[int(rng.integers(len(forms)))](rng)
    drawn = by_hand(ideal, rng, canvas=1000)
    return _unit([np.array(s, dtype=np.float64) for s in drawn["strokes"]]), label


def digit_writing(source: str, index: int, rng: np.random.Generator) -> tuple[Strokes, str]:
    """One digit from a source -> (strokes of height 1, label)."""
    if source == "load_digits":
        return load_digits_strokes(index)
    if source == "mnist_test":
        return mnist_test_strokes(index)
    if source == "pen":
        return pen_strokes(index, rng)
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def non_digit_writing(index: int, rng: np.random.Generator) -> tuple[Strokes, str]:
    """A non-digit drawn by a hand: negatives.py's pen kinds in turn (held-out kinds included) -> (strokes, kind)."""
    kinds = [k for k in kinds_of("held_out") if KINDS[k].strokes is not None]
    kind = kinds[index % len(kinds)]
    drawn = by_hand(KINDS[kind].strokes(rng), rng, canvas=1000, spin=KINDS[kind].spin)
    return _unit([np.array(s, dtype=np.float64) for s in drawn["strokes"]]), kind


def number_writing(source: str, index: int, rng: np.random.Generator, length: int,
                   pen_width: float = 0.0) -> tuple[list[Strokes], str]:
    """length digits from one source side by side, a clear gap between their inks, each a little higher or
    lower and larger or smaller -> (each digit's strokes, in place; the number). Gaps are set in units of the
    digits' height (1), between the inks' edges: pen_width (in the same units) is added, as the strokes are the
    pen's centre lines."""
    digits, label, x = [], "", 0.0
    for k in range(length):
        digit, name = digit_writing(source, index * 7 + k * 3 + int(rng.integers(1000)) * 10, rng)
        size = rng.uniform(0.9, 1.1)
        dy = rng.uniform(-0.08, 0.08)
        width = max(float(np.concatenate(digit)[:, 0].max()), 0.05) * size
        digits.append([s * size + [x, dy] for s in digit])
        label += name
        x += width + rng.uniform(*NUMBER_GAP) + pen_width
    return digits, label


# ---------------------------------------------------------------------------------------------
# The picture: paper, ruling, ink, light, desk, camera.


def _ink_coverage(strokes: Strokes, size: tuple[int, int], width: float, rng: np.random.Generator) -> np.ndarray:
    """Strokes in frame pixels -> (H, W) float32 in [0, 1]: how much of each pixel a pen `width` frame pixels wide
    covers. Drawn at 2x and box-reduced (anti-aliased); the width varies along a stroke as a hand's pressure does
    (+-20%)."""
    w, h = size
    canvas = Image.new("L", (2 * w, 2 * h), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        points = 2 * np.asarray(stroke)
        pressure = 1 + 0.2 * np.sin(np.linspace(0, rng.uniform(1, 4), len(points)) * 2 * np.pi + rng.uniform(0, 6.3))
        for (a, b), p in zip(zip(points[:-1], points[1:]), pressure):
            radius = max(0.5, width * p)  # at 2x: 2 x (width / 2)
            draw.line([tuple(a), tuple(b)], fill=255, width=max(1, round(2 * radius)))
            draw.ellipse([a[0] - radius, a[1] - radius, a[0] + radius, a[1] + radius], fill=255)
        end = points[-1]
        radius = max(0.5, width * pressure[-1])
        draw.ellipse([end[0] - radius, end[1] - radius, end[0] + radius, end[1] + radius], fill=255)
    return np.asarray(canvas.reduce(2), dtype=np.float32) / 255.0


def _field(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth field over the frame in [0, 1] (both ends reached): a linear ramp in a random direction mixed
    with a radial fall-off from a random centre, as a window or a lamp lights a page."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (x * math.cos(angle) + y * math.sin(angle)) / max(h, w)
    cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
    radial = np.hypot(x - cx, y - cy) / max(h, w)
    mix = rng.uniform(0, 1)
    values = mix * ramp + (1 - mix) * radial ** 2
    return (values - values.min()) / max(float(np.ptp(values)), 1e-6)


def _rotated(h: int, w: int, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame pixel centres in the paper's own axes (turned by degrees about the frame's centre): (u, v)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    x, y = x - w / 2, y - h / 2
    return x * c + y * s + w / 2, -x * s + y * c + h / 2


def _lines(coordinate: np.ndarray, spacing: float, offset: float, width: float) -> np.ndarray:
    """How much of each pixel a ruling line covers, for lines where coordinate = offset + k * spacing."""
    phase = np.mod(coordinate - offset, spacing)
    distance = np.minimum(phase, spacing - phase)
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)


def _blend(picture: np.ndarray, colour, amount: np.ndarray) -> np.ndarray:
    """Lay a colour over the picture (H, W, 3) where amount (H, W) in [0, 1] says how much, multiplicatively:
    ink and ruling take light away, they do not paint over the light that falls on them."""
    return picture * (1 - amount[..., None] * (1 - np.asarray(colour, dtype=np.float32)))


def render(strokes: Strokes, look: Look, pen: Pen, width: float, rng: np.random.Generator, frame: tuple[int, int],
           height: float) -> Image.Image:
    """Strokes of height 1 (a digit or a number) -> the picture the camera or scanner makes (RGB, upright).

    width: the pen's, as a fraction of the digit's height; frame: (W, H) in pixels; height: the digit's height in
    frame pixels."""
    w, h = frame
    u, v = _rotated(h, w, look.tilt)
    tone = rng.uniform(0.88, 0.98)  # off-white, a little warm (cream) or cool (recycled grey-blue) at times
    paper = np.array([tone, tone * rng.uniform(0.97, 1.0), tone * rng.uniform(0.9, 1.02)], np.float32)
    if look.scan:
        paper = np.full(3, rng.uniform(0.95, 1.0), np.float32)
    if look.board:  # green or black slate
        paper = (np.array([0.12, 0.22, 0.16]) if rng.random() < 0.5 else np.full(3, 0.12)) * rng.uniform(0.6, 1.4)
        paper = paper.astype(np.float32)
    picture = np.broadcast_to(paper, (h, w, 3)).copy()
    # the paper's own texture: a faint mottle and grain
    mottle = np.asarray(Image.fromarray((rng.random((h // 16 + 2, w // 16 + 2)) * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
    picture *= (1 - 0.02 * mottle - 0.01 * rng.random((h, w), dtype=np.float32))[..., None]

    # ruling, in the paper's axes: lines about a digit's height apart (or a third to a half, squared)
    if look.paper != "plain":
        blue = rng.random() < 0.7
        colour = (rng.uniform(0.45, 0.7), rng.uniform(0.6, 0.8), rng.uniform(0.85, 0.95)) if blue else \
            (rng.uniform(0.55, 0.75),) * 3
        line_width = rng.uniform(0.8, 2.2) * max(w, h) / 1000
        if look.paper == "lined":
            spacing = height / rng.uniform(0.7, 1.6)
            picture = _blend(picture, colour, _lines(v, spacing, rng.uniform(0, spacing), line_width))
            if rng.random() < 0.3:  # a red margin
                margin = rng.uniform(0.05, 0.2) * w
                picture = _blend(picture, (0.9, 0.35, 0.4), _lines(u, 10 * w, margin, line_width * 1.3))
        else:
            spacing = height / rng.uniform(1.5, 3.5)
            cover = np.maximum(_lines(v, spacing, rng.uniform(0, spacing), line_width),
                               _lines(u, spacing, rng.uniform(0, spacing), line_width))
            picture = _blend(picture, colour, cover)

    # where the page ends, in the paper's axes: a desk shows along one or two edges of the frame
    low, high = np.zeros(2), np.array([w, h], np.float64)  # the page's corners (x, y)
    desk_sides = []
    if look.desk and not look.scan:
        for side in rng.choice(4, look.desk, replace=False):
            depth = rng.uniform(0.06, 0.22)
            desk_sides.append((int(side), depth))
            axis, end = int(side) // 2, int(side) % 2  # 0: left, 1: right, 2: top, 3: bottom
            if end == 0:
                low[axis] = depth * (w, h)[axis]
            else:
                high[axis] = (1 - depth) * (w, h)[axis]

    # the writing, placed on the page in its axes, then turned with the paper
    points = np.concatenate(strokes)
    extent = points.max(0)  # (width, height) of the writing, its height 1
    height = min(height, 0.85 * float(high[1] - low[1]), 0.85 * float(high[0] - low[0]) / max(float(extent[0]), 1e-6))
    extent = extent * height
    room = np.maximum((high - low) * 0.9 - extent, 0)
    corner = low + (high - low) * 0.05 + rng.uniform(0.15, 0.85, 2) * room
    c, s = math.cos(math.radians(look.tilt)), math.sin(math.radians(look.tilt))
    to_frame = np.array([[c, -s], [s, c]])  # paper axes -> frame axes, about the frame's centre
    centre = np.array([w / 2, h / 2])
    placed = [((stroke * height + corner) - centre) @ to_frame.T + centre for stroke in strokes]
    cover = _ink_coverage(placed, (w, h), width * height, rng)
    opacity = rng.uniform(*pen.opacity)
    if pen.grain:  # graphite skips over the paper's grain
        grain = np.asarray(Image.fromarray((rng.random((h, w)) * 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(0.7)), dtype=np.float32) / 255.0
        cover = cover * np.clip(0.75 + 3.0 * (grain - 0.5), 0.3, 1.0)
    if look.board:  # chalk lies on the board: it paints over, light
        chalk = cover * opacity * np.clip(0.6 + 0.8 * rng.random((h, w), dtype=np.float32), 0, 1)  # dusty
        picture = picture + chalk[..., None] * (rng.uniform(0.8, 0.95) - picture)
    else:
        picture = _blend(picture, pen.colour, cover * opacity)

    if not look.scan:
        # a desk around the page: the page ends at one or two edges of the frame
        if desk_sides:
            outside = (u < low[0]) | (u > high[0]) | (v < low[1]) | (v > high[1])
            kind = rng.integers(3)
            if kind == 0:  # wood
                tone = np.array([0.55, 0.37, 0.2]) * rng.uniform(0.6, 1.1)
                grain = 0.85 + 0.15 * np.sin(v / rng.uniform(3, 9) + 2 * np.sin(u / 40))
                desk = tone[None, None, :] * grain[..., None]
            elif kind == 1:  # dark
                desk = np.broadcast_to(np.full(3, rng.uniform(0.08, 0.25)), (h, w, 3))
            else:  # grey or coloured cloth
                desk = np.broadcast_to(rng.uniform(0.3, 0.6, 3), (h, w, 3))
            edge = np.asarray(Image.fromarray((outside * 255).astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(0.8)), dtype=np.float32) / 255.0  # the page's edge, a pixel soft
            picture = picture * (1 - edge[..., None]) + desk.astype(np.float32) * edge[..., None]

        # light: uneven across the frame, and a soft shadow (a hand or the phone) over part of it
        light = 1 - look.uneven * _field(h, w, rng)
        if look.shadow:
            y, x = np.mgrid[0:h, 0:w].astype(np.float32)
            angle = rng.uniform(0, 2 * np.pi)
            along = (x - w / 2) * math.cos(angle) + (y - h / 2) * math.sin(angle)
            edge_at = rng.uniform(-0.25, 0.25) * min(w, h)
            softness = rng.uniform(0.01, 0.06) * max(w, h)
            light = light * (1 - look.shadow / (1 + np.exp(-(along - edge_at) / softness)))
        exposure = rng.uniform(0.8, 1.05)
        balance = np.exp(rng.normal(0, 0.03, 3)).astype(np.float32)  # the camera's white balance, a little off
        picture = picture * (light * exposure)[..., None] * balance

    picture = Image.fromarray((np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    if not look.scan:  # a slight keystone: the phone not quite square to the page (corners taken from inside)
        k = rng.uniform(0, 0.04, 8) * np.array([w, h] * 4)
        quad = (k[0], k[1], k[2], h - k[3], w - k[4], h - k[5], w - k[6], k[7])  # top-left, bottom-left, ...
        picture = picture.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    if look.blur:
        picture = picture.filter(ImageFilter.GaussianBlur(look.blur))
    noise = 0.004 if look.scan else rng.uniform(0.008, 0.025)
    array = np.asarray(picture, dtype=np.float32) + (noise * 255) * rng.standard_normal((h, w, 1), np.float32) \
        + (noise * 128) * rng.standard_normal((h, w, 3), np.float32)  # grain in light, and a little in colour
    return Image.fromarray(np.clip(array + 0.5, 0, 255).astype(np.uint8), "RGB")


def canvas_picture(strokes: Strokes, rng: np.random.Generator, side: int = 280) -> bytes:
    """The writing drawn on a canvas `side` tall (as wide, or wider for a number; the page's brush,
    reader.strokes.render_drawing), 45-80% of it tall, as a PNG: what the same hand would give the app by drawing, the
    reference for the photos."""
    from reader.strokes import parse_drawing, render_drawing

    height = rng.uniform(0.45, 0.8) * side
    extent = np.concatenate(strokes).max(0) * height
    width = max(side, int(np.ceil(extent[0] / 0.9)))
    corner = (np.array([width, side]) - extent) / 2 + rng.uniform(-0.05, 0.05, 2) * side
    drawing = {"width": width, "height": side,
               "strokes": [np.round(s * height + corner, 1).tolist() for s in strokes]}
    buffer = io.BytesIO()
    render_drawing(parse_drawing(drawing)).save(buffer, "PNG")
    return buffer.getvalue()


def encode(picture: Image.Image, look: Look) -> tuple[bytes, str]:
    """The upright picture -> the file a person uploads: a JPEG (with the EXIF orientation tag, pixels stored
    sideways for 6 and 8, as a phone saves a portrait) or a PNG."""
    buffer = io.BytesIO()
    if look.exif != 1:
        # tag 6: show the stored pixels turned 90 degrees clockwise; so store them turned 90 counter-clockwise
        stored = picture.transpose(Image.Transpose.ROTATE_90 if look.exif == 6 else Image.Transpose.ROTATE_270)
        exif = Image.Exif()
        exif[0x0112] = look.exif
        stored.save(buffer, "JPEG", quality=look.quality, exif=exif.tobytes())
        return buffer.getvalue(), ".jpg"
    if look.quality:
        picture.save(buffer, "JPEG", quality=look.quality)
        return buffer.getvalue(), ".jpg"
    picture.convert("L").save(buffer, "PNG")
    return buffer.getvalue(), ".png"


# ---------------------------------------------------------------------------------------------
# Conditions: what bench/paper.py reports a row for. Each is (rng) -> Look; a photo has every photo's
# variety (light 0-30% uneven, tilt, blur, JPEG) and what the condition is about.


def _photo(rng: np.random.Generator, **changes) -> Look:
    look = dict(paper=str(rng.choice(["plain", "lined", "squared"])), uneven=float(rng.uniform(0, UNEVEN)),
                tilt=float(rng.uniform(-TILT_DEGREES, TILT_DEGREES)), blur=float(rng.uniform(0.0, 1.5)),
                quality=int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))
    look.update(changes)
    return Look(**look)


def _scan(rng: np.random.Generator) -> Look:
    return Look(scan=True, uneven=0.0, tilt=float(rng.uniform(-1.5, 1.5)), blur=float(rng.uniform(0.2, 0.7)),
                quality=SCAN_QUALITY if rng.random() < 0.5 else 0)


CONDITIONS = {
    # what is written, what the picture is: (writing kind, (rng) -> Look)
    "canvas": ("digit", lambda r: Look(canvas=True)),
    "scan": ("digit", _scan),
    "plain": ("digit", lambda r: _photo(r, paper="plain")),
    "lined": ("digit", lambda r: _photo(r, paper="lined")),
    "squared": ("digit", lambda r: _photo(r, paper="squared")),
    "shadow": ("digit", lambda r: _photo(r, shadow=float(r.uniform(0.25, 0.55)))),
    "desk": ("digit", lambda r: _photo(r, desk=int(r.integers(1, 3)))),
    "exif": ("digit", lambda r: _photo(r, exif=int(r.choice([6, 8])))),
    "board": ("digit", lambda r: _photo(r, paper="plain", board=True)),
    "number canvas": ("number", lambda r: Look(canvas=True)),
    "number scan": ("number", _scan),
    "number": ("number", lambda r: _photo(r)),
    "non-digit": ("non_digit", lambda r: _photo(r)),
}


def shot(condition: str, index: int, seed: int = 0) -> Shot:
    """Shot number index of a condition: deterministic in (condition, seed, index)."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {tuple(CONDITIONS)}, got {condition!r}")
    writing, make_look = CONDITIONS[condition]
    rng = np.random.default_rng([SEED_SPACE, list(CONDITIONS).index(condition), seed, index])
    look = make_look(rng)
    pen = PENS[str(rng.choice(list(PENS)))]
    width = rng.uniform(*pen.width)  # of the digits' height
    if look.canvas:
        width = 0.2  # the page's brush: 24/280 of a canvas whose digits are 45-80% of it tall, up to 0.19 of a digit
    source = SOURCES[index % len(SOURCES)]
    extra = {}
    if writing == "digit":
        strokes, label = digit_writing(source, index // len(SOURCES) + 1000 * seed, rng)
    elif writing == "number":
        digits, label = number_writing(source, index // len(SOURCES) + 1000 * seed, rng, int(rng.integers(3, 5)),
                                       width)
        strokes = [stroke for digit in digits for stroke in digit]
    else:
        strokes, extra["kind"] = non_digit_writing(index, rng)
        source, label = "non_digit", ""
    if look.canvas:
        data = canvas_picture(strokes, rng)
        return Shot(data, ".png", label, condition, source, "canvas brush", look, extra)
    long_side = int(rng.integers(720, 1101)) if not look.scan else int(rng.integers(500, 1001))
    short_side = int(long_side * rng.uniform(0.7, 0.8))
    portrait = look.exif != 1 or rng.random() < 0.3
    frame = (short_side, long_side) if portrait else (long_side, short_side)
    extent = np.concatenate(strokes).max(0)  # (width, 1): the writing's width in digit heights
    height = rng.uniform(*DIGIT_HEIGHT) * min(frame)
    height = min(height, 0.8 * frame[0] / max(extent[0], 1e-6))  # a number fits across the frame
    picture = render(strokes, look, pen, width, rng, frame, height)
    data, suffix = encode(picture, look)
    return Shot(data, suffix, label, condition, source, pen.name, look, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description="A contact sheet of the photos and scans: a few of every condition")
    parser.add_argument("--out", default="photos.png")
    parser.add_argument("--per-condition", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from PIL import ImageOps

    cell = 200
    sheet = Image.new("RGB", (cell * args.per_condition, cell * len(CONDITIONS)), "white")
    for row, condition in enumerate(CONDITIONS):
        for col in range(args.per_condition):
            made = shot(condition, col, args.seed)
            picture = ImageOps.exif_transpose(Image.open(io.BytesIO(made.data))).convert("RGB")
            picture.thumbnail((cell - 4, cell - 4))
            sheet.paste(picture, (cell * col + 2, cell * row + 2))
            ImageDraw.Draw(sheet).text((cell * col + 4, cell * row + 4), f"{condition} {made.label} {made.pen}",
                                       fill=(255, 0, 0))
    sheet.save(args.out)
    print(f"wrote {args.out}: {len(CONDITIONS)} conditions x {args.per_condition}")


if __name__ == "__main__":
    main()

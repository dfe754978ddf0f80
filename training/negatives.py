"""Drawings that are not digits, made the way the app receives drawings: for teaching the model to say so.

    from training.negatives import pool, KINDS
    images, kinds = pool("train", count=2000, seed=0)   # (N, 28, 28) float32 in [0, 1], what the model reads
    images, kinds = pool("held_out", count=1200)        # for the benchmark: seeds and kinds never trained on

Every kind is a generator of one family: shapes (square, star, heart, house...), doodles (smiley, sun,
flower...), letters drawn with a pen, letters and symbols typed in Debian's DejaVu and Liberation fonts,
scribbles, and partial strokes (a dash, a dot, a corner: what a drawing looks like before it is a digit).
Pen kinds make strokes in the page's format ({"width", "height", "strokes": [[[x, y], ...], ...]}) with a
hand's wobble, slant and proportions, drawn by reader.strokes.render_drawing; font kinds make a picture of the
glyph in black-or-white ink, as the canvas shows ink. Both then go through reader.preprocess.to_mnist like any
drawing or upload: the model sees exactly what the app would give it.

Held out, so the check is on things the model never saw: whole kinds (some shapes, doodles, letters,
scribbles and partial strokes, and whole fonts) are never in the "train" or "calibration" splits; and
every drawing's randomness comes from (split, seed, index), so "held_out" drawings of the trained kinds
are other drawings than the ones trained on. Shapes that are digits (a circle is a 0, an upright line a
1, an S a 5) are not made; letters that pass for digits (O, I, l, S, Z, G, b, g, q...) are left out.

    python -m training.negatives --out /tmp/negatives.png      # a contact sheet of what each kind makes
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from reader.preprocess import to_mnist
from reader.strokes import parse_drawing, render_drawing
from training.pens import TRAIN_CANVAS, Strokes, by_hand

SPLITS = {"train": 0, "calibration": 1, "held_out": 2}  # part of every drawing's seed: the splits never share one
FONT_DIR = Path("/usr/share/fonts/truetype")
HELD_OUT_CANVAS = 280  # the page's canvas, for the held-out drawings


# ---------------------------------------------------------------------------------------------
# Pen strokes: a few primitives, then the kinds, each (rng) -> strokes.


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> np.ndarray:
    """Ellipse arc from angle start to end (radians, 0 = right, clockwise on screen since y is down)."""
    t = np.linspace(start, end, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


def _closed(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, points[:1]])


def _ring(rng: np.random.Generator, cx: float, cy: float, r: float, squash: float = 1.0) -> np.ndarray:
    """A hand-drawn circle: starts anywhere, sometimes overshoots its start a little."""
    start = rng.uniform(0, 2 * math.pi)
    return _arc(cx, cy, r, r * squash, start, start + 2 * math.pi + rng.uniform(0, 0.4), 32)


def triangle(rng):
    top = (rng.uniform(0.3, 0.7), 0.0)
    return [_closed(_line(top, (0.0, 1.0), (1.0, rng.uniform(0.9, 1.0))))]


def square(rng):
    w = rng.uniform(0.85, 1.15)
    corners = _line((0, 0), (w, 0), (w, 1), (0, 1))
    if rng.random() < 0.5:  # one stroke round, or four sides
        return [_closed(np.roll(corners, int(rng.integers(4)), axis=0))]
    return [corners[[i, (i + 1) % 4]] for i in range(4)]


def rectangle(rng):
    w = rng.uniform(1.5, 2.6)  # wide: a tall narrow rectangle is how some people write 0
    return [_closed(_line((0, 0), (w, 0), (w, 1), (0, 1)))]


def star(rng):
    angles = -math.pi / 2 + np.arange(5) * 4 * math.pi / 5 + rng.normal(0, 0.05, 5)
    if rng.random() < 0.6:  # the pentagram, one stroke
        points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return [_closed(points)]
    outer = -math.pi / 2 + np.arange(10) * math.pi / 5  # the outline, inner points at 0.4-0.5
    radius = np.where(np.arange(10) % 2 == 0, 1.0, rng.uniform(0.38, 0.5))
    return [_closed(np.stack([radius * np.cos(outer), radius * np.sin(outer)], axis=1))]


def heart(rng):
    t = np.linspace(0, 2 * math.pi, 48)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x, y * rng.uniform(0.85, 1.15)], axis=1)]


def house(rng):
    roof = rng.uniform(0.3, 0.6)
    body = _closed(_line((0, roof), (1, roof), (1, 1.3), (0, 1.3)))
    strokes = [body, _line((-0.1, roof), (0.5, 0), (1.1, roof))]
    if rng.random() < 0.6:  # a door
        x = rng.uniform(0.25, 0.55)
        strokes.append(_line((x, 1.3), (x, 0.95), (x + 0.2, 0.95), (x + 0.2, 1.3)))
    return strokes


def trapezoid(rng):
    top = rng.uniform(0.15, 0.35)
    return [_closed(_line((top, 0), (1 - top, 0), (1, 0.7), (0, 0.7)))]


def parallelogram(rng):
    lean = rng.uniform(0.25, 0.45) * rng.choice([-1, 1])
    return [_closed(_line((lean, 0), (1.2 + lean, 0), (1.2, 0.7), (0, 0.7)))]


def bow_tie(rng):
    return [_closed(_line((0, 0), (1, 0.7), (1, 0), (0, 0.7)))]


def grid(rng):
    """Tic-tac-toe."""
    return [_line((0.33, 0), (0.33, 1)), _line((0.66, 0), (0.66, 1)), _line((0, 0.33), (1, 0.33)), _line((0, 0.66), (1, 0.66))]


def diamond(rng):
    return [_closed(_line((0.5, 0), (1, rng.uniform(0.4, 0.6)), (0.5, 1), (0, rng.uniform(0.4, 0.6))))]


def arrow(rng):
    head = rng.uniform(0.2, 0.35)
    strokes = [_line((0, 0.5), (1, 0.5)), _line((1 - head, 0.5 - head), (1, 0.5), (1 - head, 0.5 + head))]
    if rng.random() < 0.5:  # pointing left
        strokes = [s * [-1, 1] for s in strokes]
    return strokes


def plus(rng):
    return [_line((0, 0.5), (1, 0.5)), _line((0.5, 0), (0.5, 1))]


def cross(rng):
    return [_line((0, 0), (1, 1)), _line((1, 0), (0, 1))]


def spiral(rng):
    turns = rng.uniform(2.0, 3.2)
    t = np.linspace(0, turns * 2 * math.pi, 90)
    r = 0.08 + t / t[-1]
    return [np.stack([r * np.cos(t), r * np.sin(t) * rng.choice([-1, 1])], axis=1)]


def lightning(rng):
    return [_closed(_line((0.55, 0), (0.15, 0.55), (0.45, 0.55), (0.3, 1.1), (0.85, 0.4), (0.55, 0.4),
                          (0.8, 0)))]


def crescent(rng):
    outer = _arc(0, 0, 1, 1, math.pi * 0.35, math.pi * 1.65, 28)
    inner = _arc(rng.uniform(0.3, 0.45), 0, 0.8, 0.85, math.pi * 1.62, math.pi * 0.38, 24)
    return [np.concatenate([outer, inner])]


def cloud(rng):
    bumps = int(rng.integers(4, 7))
    points = []
    for i in range(bumps):  # scallops around a wide ellipse
        a0, a1 = 2 * math.pi * i / bumps, 2 * math.pi * (i + 1) / bumps
        mid = (a0 + a1) / 2
        cx, cy = 1.6 * math.cos(mid), 0.8 * math.sin(mid)
        r = 0.55 * rng.uniform(0.85, 1.15)
        points.append(_arc(cx, cy, r, r, mid - 1.6, mid + 1.6, 10))
    return [np.concatenate(points)]


def check_mark(rng):
    return [_line((0, 0.55), (0.35, 1), (1.1, rng.uniform(-0.1, 0.15)))]


def infinity(rng):
    t = np.linspace(0, 2 * math.pi, 50)
    return [np.stack([np.cos(t), np.sin(2 * t) / 2], axis=1)]


def smiley(rng):
    r = 1.0
    strokes = [_ring(rng, 0, 0, r)]
    eye_y, eye_x = rng.uniform(-0.45, -0.25), rng.uniform(0.28, 0.42)
    for side in (-1, 1):  # eyes: dots, or short dashes
        if rng.random() < 0.6:
            strokes.append(_line((side * eye_x, eye_y)))
        else:
            strokes.append(_line((side * eye_x, eye_y - 0.1), (side * eye_x, eye_y + 0.1)))
    mouth = rng.uniform(0.35, 0.6)
    if rng.random() < 0.8:
        strokes.append(_arc(0, 0.1, mouth, mouth * rng.uniform(0.5, 0.9), 0.2 * math.pi, 0.8 * math.pi, 14))
    else:  # a straight or sad mouth
        strokes.append(_arc(0, 0.75, mouth, 0.2, 1.2 * math.pi, 1.8 * math.pi, 12))
    return strokes


def sun(rng):
    strokes = [_ring(rng, 0, 0, 0.5)]
    rays = int(rng.integers(6, 11))
    for a in np.arange(rays) * 2 * math.pi / rays + rng.uniform(0, 1):
        strokes.append(_line((0.7 * math.cos(a), 0.7 * math.sin(a)), (1.05 * math.cos(a), 1.05 * math.sin(a))))
    return strokes


def flower(rng):
    petals = int(rng.integers(5, 8))
    strokes = [_ring(rng, 0, 0, 0.22)]
    for a in np.arange(petals) * 2 * math.pi / petals:
        c, s = math.cos(a), math.sin(a)
        loop = _arc(0.55, 0, 0.33, 0.18, 0, 2 * math.pi, 16)
        strokes.append(np.stack([loop[:, 0] * c - loop[:, 1] * s, loop[:, 0] * s + loop[:, 1] * c], axis=1))
    if rng.random() < 0.5:
        strokes.append(_line((0, 0.9), (0.05, 2.0)))  # a stem
    return strokes


def tree(rng):
    if rng.random() < 0.5:  # a fir
        return [_closed(_line((0.5, 0), (0, 0.8), (1, 0.8))), _line((0.45, 0.8), (0.45, 1.05), (0.55, 1.05), (0.55, 0.8))]
    return [cloud(rng)[0] * 0.5 + [0, -0.3], _line((-0.1, 0.1), (-0.1, 0.9)), _line((0.1, 0.1), (0.1, 0.9))]


def stick_figure(rng):
    return [_ring(rng, 0, -0.75, 0.25), _line((0, -0.5), (0, 0.4)), _line((-0.5, -0.2), (0.5, -0.2)),
            _line((-0.4, 1.0), (0, 0.4), (0.4, 1.0))]


def fish(rng):
    body = _arc(0, 0, 1, 0.5, 0.25 * math.pi, 1.75 * math.pi, 28)
    tail = _line((0.7, -0.35), (1.5, 0.4), (1.5, -0.4), (0.7, 0.35))
    strokes = [body, tail, _line((-0.5, -0.12))]
    return [s * [-1, 1] for s in strokes] if rng.random() < 0.5 else strokes


def cat(rng):
    return [_ring(rng, 0, 0, 1), _line((-0.8, -0.55), (-0.6, -1.25), (-0.25, -0.95)),
            _line((0.25, -0.95), (0.6, -1.25), (0.8, -0.55)), _line((-0.35, -0.2)), _line((0.35, -0.2)),
            _line((-1.2, 0.1), (-0.4, 0.25)), _line((1.2, 0.1), (0.4, 0.25))]


def car(rng):
    body = _line((0, 0.6), (0, 0.3), (0.3, 0.3), (0.45, 0), (1.1, 0), (1.3, 0.3), (1.7, 0.3), (1.7, 0.6), (0, 0.6))
    return [body, _ring(rng, 0.4, 0.65, 0.17), _ring(rng, 1.3, 0.65, 0.17)]


def envelope(rng):
    w = rng.uniform(1.3, 1.8)
    return [_closed(_line((0, 0), (w, 0), (w, 1), (0, 1))), _line((0, 0), (w / 2, 0.55), (w, 0))]


def eye(rng):
    upper = _arc(0, 0.6, 1.2, 1.0, 1.2 * math.pi, 1.8 * math.pi, 16)
    lower = _arc(0, -0.6, 1.2, 1.0, 0.2 * math.pi, 0.8 * math.pi, 16)
    return [upper, lower, _ring(rng, 0, 0, 0.25)]


def bird(rng):
    """The gull children draw: two arcs meeting at a point."""
    return [np.concatenate([_arc(-0.5, 0.3, 0.5, 0.4, 1.1 * math.pi, 1.9 * math.pi, 12),
                            _arc(0.5, 0.3, 0.5, 0.4, 1.1 * math.pi, 1.9 * math.pi, 12)])]


def glasses(rng):
    return [_ring(rng, -0.6, 0, 0.45), _ring(rng, 0.6, 0, 0.45), _arc(0, 0.05, 0.15, 0.12, 1.1 * math.pi, 1.9 * math.pi, 6)]


def ice_cream(rng):
    return [_closed(_line((-0.5, 0), (0, 1.3), (0.5, 0))), _arc(0, 0, 0.55, 0.55, math.pi, 2 * math.pi, 16)]


def umbrella(rng):
    canopy = _arc(0, 0, 1, 0.7, math.pi, 2 * math.pi, 20)
    return [_closed(canopy), _line((0, 0), (0, 0.9)), _arc(0.15, 0.9, 0.15, 0.15, math.pi, 0, 8)]


# Letters as a pen makes them, on a 1 x 1.4 box: none of them passes for a digit.
PEN_LETTERS = {
    "A": [[(0, 1.4), (0.5, 0), (1, 1.4)], [(0.22, 0.85), (0.78, 0.85)]],
    "E": [[(1, 0), (0, 0), (0, 1.4), (1, 1.4)], [(0, 0.7), (0.8, 0.7)]],
    "F": [[(1, 0), (0, 0), (0, 1.4)], [(0, 0.7), (0.75, 0.7)]],
    "H": [[(0, 0), (0, 1.4)], [(1, 0), (1, 1.4)], [(0, 0.7), (1, 0.7)]],
    "K": [[(0, 0), (0, 1.4)], [(1, 0), (0, 0.8)], [(0.3, 0.55), (1, 1.4)]],
    "M": [[(0, 1.4), (0.1, 0), (0.5, 0.9), (0.9, 0), (1, 1.4)]],
    "N": [[(0, 1.4), (0, 0), (1, 1.4), (1, 0)]],
    "W": [[(0, 0), (0.25, 1.4), (0.5, 0.5), (0.75, 1.4), (1, 0)]],
    "Y": [[(0, 0), (0.5, 0.7)], [(1, 0), (0.5, 0.7), (0.5, 1.4)]],
    "B": [[(0, 1.4), (0, 0), (0.6, 0), (0.85, 0.15), (0.85, 0.5), (0.6, 0.65), (0, 0.65), (0.7, 0.65),
           (1, 0.85), (1, 1.2), (0.7, 1.4), (0, 1.4)]],
    "R": [[(0, 1.4), (0, 0), (0.7, 0), (0.95, 0.2), (0.95, 0.5), (0.7, 0.7), (0, 0.7)], [(0.4, 0.7), (1, 1.4)]],
    "P": [[(0, 1.4), (0, 0), (0.7, 0), (0.95, 0.2), (0.95, 0.5), (0.7, 0.7), (0, 0.7)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1.4)]],
    "L": [[(0, 0), (0, 1.4), (0.9, 1.4)]],
    "U": [[(0, 0), (0, 1.1), (0.2, 1.4), (0.8, 1.4), (1, 1.1), (1, 0)]],
    "V": [[(0, 0), (0.5, 1.4), (1, 0)]],
    "X": [[(0, 0), (1, 1.4)], [(1, 0), (0, 1.4)]],
    "C": [[(1, 0.2), (0.7, 0), (0.3, 0), (0, 0.35), (0, 1.05), (0.3, 1.4), (0.7, 1.4), (1, 1.2)]],
    "D": [[(0, 0), (0, 1.4)], [(0, 0), (0.6, 0.05), (1, 0.45), (1, 0.95), (0.6, 1.35), (0, 1.4)]],
    "J": [[(0.2, 0), (1, 0)], [(0.7, 0), (0.7, 1.15), (0.45, 1.4), (0.15, 1.3), (0, 1.05)]],
    "h": [[(0, 0), (0, 1.4)], [(0, 0.85), (0.3, 0.6), (0.75, 0.6), (0.95, 0.85), (0.95, 1.4)]],
    "k": [[(0, 0), (0, 1.4)], [(0.9, 0.5), (0, 1.0), (0.9, 1.4)]],
    "f": [[(0.9, 0.1), (0.6, 0), (0.35, 0.15), (0.35, 1.4)], [(0, 0.55), (0.8, 0.55)]],
    "u": [[(0, 0.5), (0, 1.2), (0.25, 1.4), (0.7, 1.4), (0.95, 1.15)], [(0.95, 0.5), (0.95, 1.4)]],
    "v": [[(0, 0.5), (0.5, 1.4), (1, 0.5)]],
    "m": [[(0, 1.4), (0, 0.5), (0.15, 0.4), (0.45, 0.45), (0.5, 1.4)], [(0.5, 0.6), (0.7, 0.4), (0.95, 0.5), (1, 1.4)]],
    "n": [[(0, 1.4), (0, 0.5)], [(0, 0.75), (0.3, 0.5), (0.75, 0.5), (0.95, 0.75), (0.95, 1.4)]],
    "r": [[(0, 1.4), (0, 0.5)], [(0, 0.85), (0.35, 0.55), (0.8, 0.5)]],
    "w": [[(0, 0.5), (0.25, 1.4), (0.5, 0.8), (0.75, 1.4), (1, 0.5)]],
    "e": [[(0.05, 0.95), (0.95, 0.95), (0.9, 0.7), (0.6, 0.5), (0.3, 0.55), (0.05, 0.9), (0.15, 1.25),
           (0.5, 1.4), (0.95, 1.3)]],
    "x": [[(0, 0.5), (1, 1.4)], [(1, 0.5), (0, 1.4)]],
}
TRAIN_PEN_LETTERS = "AEFHMNWYBPUVXChknwfuv"  # the A, B and K are in the train (K) and held-out sets
HELD_OUT_PEN_LETTERS = "KRLDJmrex"


def _pen_letter(letters: str) -> Callable[[np.random.Generator], Strokes]:
    def make(rng):
        return [_line(*stroke) for stroke in PEN_LETTERS[letters[int(rng.integers(len(letters)))]]]
    return make


def _smooth(points: np.ndarray, n: int) -> np.ndarray:
    """Catmull-Rom spline through points, n points in all: a hand's smooth curve through them."""
    p = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0, len(points) - 1, n)
    i = np.minimum(t.astype(int), len(points) - 2)
    u = (t - i)[:, None]
    p0, p1, p2, p3 = p[i], p[i + 1], p[i + 2], p[i + 3]
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u**3)


def scribble(rng):
    """A tangle: a smooth curve through many random points."""
    points = rng.uniform(0, 1, (int(rng.integers(6, 14)), 2))
    return [_smooth(points, 80)]


def zigzag(rng):
    teeth = int(rng.integers(3, 8))
    x = np.linspace(0, 1, 2 * teeth + 1)
    y = np.where(np.arange(2 * teeth + 1) % 2 == 0, 0.0, rng.uniform(0.2, 0.6))
    return [np.stack([x, y + rng.normal(0, 0.03, x.size)], axis=1)]


def hatching(rng):
    lines = int(rng.integers(3, 7))
    slope = rng.uniform(-0.6, 0.6)
    return [_line((0, i * 0.25), (1, i * 0.25 + slope)) for i in range(lines)]


def loops(rng):
    """Cursive loops, like a row of e's or a telephone cord."""
    n = int(rng.integers(3, 7))
    t = np.linspace(0, n * 2 * math.pi, 40 * n)
    return [np.stack([t / (2 * math.pi) * 0.7 + 0.45 * np.cos(t + math.pi), -0.6 * np.sin(t)], axis=1)]


def fill(rng):
    """Back and forth, filling an area: colouring in."""
    rows = int(rng.integers(5, 12))
    points = [(0.0 if i % 2 == 0 else 1.0, i / rows) for i in range(rows)]
    return [_line(*points) + rng.normal(0, 0.02, (rows, 2))]


def polyline(rng):
    return [rng.uniform(0, 1, (int(rng.integers(6, 10)), 2))]  # five or more segments: fewer can make a 7 or a 2


def bits(rng):
    """A few short strokes here and there: lines and small arcs, nothing joined."""
    strokes = []
    for _ in range(int(rng.integers(3, 6))):
        x, y = rng.uniform(0, 1, 2)
        if rng.random() < 0.5:
            angle = rng.uniform(0, math.pi)
            strokes.append(_line((x, y), (x + 0.3 * math.cos(angle), y + 0.3 * math.sin(angle))))
        else:
            start = rng.uniform(0, 2 * math.pi)
            strokes.append(_arc(x, y, 0.15, 0.15, start, start + rng.uniform(1, 3), 10))
    return strokes


def dash(rng):
    angle = rng.uniform(-0.35, 0.35)  # near horizontal: a steep line is a 1
    return [_line((0, 0), (math.cos(angle), math.sin(angle)))]


def dots(rng):
    n = int(rng.integers(1, 4))
    return [_line((rng.uniform(0, 1), rng.uniform(0, 0.3))) for _ in range(n)]


def bowl(rng):
    """A short arc opening up or down: a smile, a frown, the start of many things."""
    span = rng.uniform(0.5, 0.9) * math.pi
    mid = math.pi / 2 if rng.random() < 0.5 else 3 * math.pi / 2
    return [_arc(0, 0, 1, rng.uniform(0.3, 0.7), mid - span / 2, mid + span / 2, 16)]


def equals(rng):
    lines = int(rng.integers(2, 4))
    return [_line((0, i * 0.35), (1, i * 0.35 + rng.normal(0, 0.04))) for i in range(lines)]


def corner(rng):
    """Two strokes' worth of a start: a V, a caret, a less-than, an L."""
    shape = int(rng.integers(4))
    return [[_line((0, 0), (0.5, 1), (1, 0)), _line((0, 1), (0.5, 0), (1, 1)), _line((1, 0), (0, 0.5), (1, 1)),
             _line((0, 0), (0, 1), (1, 1))][shape]]


def wave(rng):
    x = np.linspace(0, 1, 40)
    return [np.stack([x, 0.15 * np.sin(x * rng.uniform(2, 5) * math.pi)], axis=1)]


# ---------------------------------------------------------------------------------------------
# Typed glyphs: letters and symbols in Debian's fonts, drawn as black-or-white ink.

# Letters that pass for digits are left out: O o D Q (0), I l i j J (1), Z z (2), S s (5), G b (6), g q (9), B (8)
# in print (a pen's B is taught above, with its straight back), T (7 in some hands).
FONT_LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy"
# Symbols that pass for digits or do not exist in most fonts are left out (arrows up/down look like a 1).
FONT_SYMBOLS = "★☆♥♡☺☻♪♫☀☂☃✓✗⚑♠♣♦✿❄☯⌂∞@#%?πΩΣΔλψΦ→←♀♂☎✈✉⚡☁☾☼⚓♚♞⌘"
TRAIN_FONTS = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSerif.ttf",
               "dejavu/DejaVuSansCondensed-Oblique.ttf", "liberation/LiberationSans-Regular.ttf",
               "liberation/LiberationMono-Regular.ttf", "liberation/LiberationSansNarrow-Regular.ttf")
HELD_OUT_FONTS = ("liberation/LiberationSerif-Regular.ttf", "liberation/LiberationSerif-Italic.ttf",
                  "dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSerif-Italic.ttf")
GLYPH_SIZE = 96  # font size in pixels for the glyph pictures (to_mnist scales them to 20 px anyway)


@lru_cache(maxsize=None)
def _font(name: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), GLYPH_SIZE)


@lru_cache(maxsize=None)
def _has_glyph(name: str, char: str) -> bool:
    """Whether the font draws char itself (not its 'missing glyph' box)."""
    font = _font(name)
    missing = font.getmask("\U000f0000")  # a private-use code point no font here has
    mask = font.getmask(char)
    return mask.size[0] * mask.size[1] > 0 and not (mask.size == missing.size and bytes(mask) == bytes(missing))


def _glyph_picture(fonts: tuple[str, ...], chars: str, rng: np.random.Generator) -> Image.Image:
    """One character in one of the fonts, slanted and stretched a little, black ink on white, no grey."""
    name = fonts[int(rng.integers(len(fonts)))]
    chars = "".join(c for c in chars if _has_glyph(name, c))
    char = chars[int(rng.integers(len(chars)))]
    side = 2 * GLYPH_SIZE
    picture = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(picture)
    draw.fontmode = "1"  # no anti-aliasing: the canvas's ink is black or white
    draw.text((side / 2, side / 2), char, font=_font(name), fill=0, anchor="mm")
    # The hand: rotation, slant and proportions, as for the pen kinds (inverse map for PIL, about the centre)
    angle, shear = rng.normal(0, 0.1), rng.uniform(-0.25, 0.25)
    sx, sy = np.exp(rng.normal(0, 0.12, 2))
    c, s = math.cos(angle), math.sin(angle)
    forward = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([sx, sy])
    inverse = np.linalg.inv(forward)
    offset = np.array([side / 2, side / 2]) - inverse @ np.array([side / 2, side / 2])
    coefficients = (*inverse[0], offset[0], *inverse[1], offset[1])
    return picture.transform(picture.size, Image.Transform.AFFINE, coefficients, Image.Resampling.NEAREST, fillcolor=255)


# ---------------------------------------------------------------------------------------------
# The kinds, and how a pen kind's strokes become the page's drawing.


@dataclass(frozen=True)
class Kind:
    """One generator: family, whether it is held out whole, and how it makes a picture."""

    family: str
    held_out: bool
    strokes: Callable[[np.random.Generator], Strokes] | None = None  # pen kinds
    fonts: tuple[str, ...] = ()  # font kinds: one of these fonts ...
    chars: str = ""  # ... and one of these characters
    spin: float = 0.0  # turned by up to this many radians either way (a heart on its side is still no digit;
    #                    letters and strokes are not turned: a dash on end is a 1, an N on its side a Z)


TURN = math.pi / 4  # shapes and doodles: any tilt up to 45 degrees (a square at 45 is a diamond)
# Not turned, whatever their family: turned, they pass for digits (an infinity or glasses on end are an 8, a bird
# on its side a 3, a long rectangle or a check mark on a slant a 1).
UPRIGHT = ("rectangle", "check_mark", "infinity", "bow_tie", "bird", "glasses", "eye")
KINDS: dict[str, Kind] = {
    **{name: Kind("shapes", name in ("arrow", "crescent", "lightning"), f, spin=0.0 if name in UPRIGHT else TURN)
       for name, f in [
        ("triangle", triangle), ("square", square), ("rectangle", rectangle), ("star", star), ("heart", heart),
        ("house", house), ("plus", plus), ("cross", cross), ("spiral", spiral), ("cloud", cloud),
        ("check_mark", check_mark), ("infinity", infinity), ("diamond", diamond), ("trapezoid", trapezoid),
        ("parallelogram", parallelogram), ("bow_tie", bow_tie), ("grid", grid),
        ("arrow", arrow), ("crescent", crescent), ("lightning", lightning)]},
    **{name: Kind("doodles", name in ("cat", "car", "umbrella"), f, spin=0.0 if name in UPRIGHT else TURN)
       for name, f in [
        ("smiley", smiley), ("sun", sun), ("flower", flower), ("tree", tree), ("stick_figure", stick_figure),
        ("fish", fish), ("envelope", envelope), ("eye", eye), ("bird", bird), ("glasses", glasses),
        ("ice_cream", ice_cream), ("cat", cat), ("car", car), ("umbrella", umbrella)]},
    "pen_letters": Kind("letters", False, _pen_letter(TRAIN_PEN_LETTERS)),
    "pen_letters_held_out": Kind("letters", True, _pen_letter(HELD_OUT_PEN_LETTERS)),
    "font_letters": Kind("letters", False, fonts=TRAIN_FONTS, chars=FONT_LETTERS),
    "font_letters_held_out": Kind("letters", True, fonts=HELD_OUT_FONTS, chars=FONT_LETTERS),
    "font_symbols": Kind("symbols", False, fonts=TRAIN_FONTS[:1], chars=FONT_SYMBOLS),
    "font_symbols_held_out": Kind("symbols", True, fonts=HELD_OUT_FONTS[2:3], chars=FONT_SYMBOLS),
    **{name: Kind("scribbles", name in ("loops", "polyline"), f, spin=math.pi) for name, f in [
        ("scribble", scribble), ("zigzag", zigzag), ("hatching", hatching), ("fill", fill), ("bits", bits),
        ("loops", loops), ("polyline", polyline)]},
    **{name: Kind("partial strokes", name == "wave", f) for name, f in [
        ("dash", dash), ("dots", dots), ("bowl", bowl), ("equals", equals), ("corner", corner), ("wave", wave)]},
}
FAMILIES = tuple(dict.fromkeys(kind.family for kind in KINDS.values()))


def drawing(kind: str, rng: np.random.Generator, canvas: int = HELD_OUT_CANVAS) -> dict:
    """A pen kind's drawing as the page sends it."""
    return by_hand(KINDS[kind].strokes(rng), rng, canvas, KINDS[kind].spin)


def picture(kind: str, rng: np.random.Generator, canvas: int = HELD_OUT_CANVAS) -> Image.Image:
    """The picture the app would read: a pen kind drawn by reader.strokes.render_drawing, or a typed glyph."""
    spec = KINDS[kind]
    if spec.strokes is None:
        return _glyph_picture(spec.fonts, spec.chars, rng)
    return render_drawing(parse_drawing(drawing(kind, rng, canvas)))


def kinds_of(split: str) -> list[str]:
    """The kinds a split draws from, interleaved by family so that any prefix has every family."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
    names = [name for name, kind in KINDS.items() if split == "held_out" or not kind.held_out]
    by_family = [[n for n in names if KINDS[n].family == family] for family in FAMILIES]
    order = []
    for i in range(max(map(len, by_family))):
        order += [group[i % len(group)] for group in by_family]
    return order


def pool(split: str, count: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """count drawings of a split -> images (count, 28, 28) float32 through to_mnist, and each one's kind.

    Drawing i of a split has its own generator, seeded by (split, seed, i): the same call gives the same
    drawings, and the splits never share a drawing. "train" and "calibration" draw only the kinds that are
    not held out, on small canvases (cheap; the brush is the same fraction of the side); "held_out" draws
    every kind, on the page's 280 px canvas.
    """
    order = kinds_of(split)
    images, kinds = np.zeros((count, 28, 28), np.float32), []
    for i in range(count):
        rng = np.random.default_rng([SPLITS[split], seed, i])
        kind = order[i % len(order)]
        canvas = HELD_OUT_CANVAS if split == "held_out" else int(rng.integers(*TRAIN_CANVAS))
        digit = to_mnist(picture(kind, rng, canvas))
        if digit is not None:  # every kind draws ink; kept in case a future kind does not
            images[i] = digit
        kinds.append(kind)
    return images, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description="A contact sheet of the negatives: each kind, as the model reads it")
    parser.add_argument("--out", default="negatives.png")
    parser.add_argument("--split", default="held_out", choices=tuple(SPLITS))
    parser.add_argument("--per-kind", type=int, default=8)
    args = parser.parse_args()
    names = [n for n in KINDS if args.split == "held_out" or not KINDS[n].held_out]
    sheet = Image.new("L", (28 * args.per_kind, 28 * len(names)), 0)
    for row, name in enumerate(names):
        for col in range(args.per_kind):
            rng = np.random.default_rng([SPLITS[args.split], 99, row, col])
            digit = to_mnist(picture(name, rng, HELD_OUT_CANVAS))
            sheet.paste(Image.fromarray((digit * 255).astype(np.uint8)), (28 * col, 28 * row))
    sheet.resize((sheet.width * 3, sheet.height * 3), Image.Resampling.NEAREST).save(args.out)
    print(f"wrote {args.out}: {len(names)} kinds x {args.per_kind}: " + ", ".join(names))


if __name__ == "__main__":
    main()

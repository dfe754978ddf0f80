"""Pens and hands: how this project makes handwriting it never saw written, for training and measuring.

    from training.pens import by_hand, digit_strokes, drawn_at_random
    drawing = by_hand(strokes, rng, canvas=280)         # ideal strokes -> a hand's drawing, as the page sends it
    strokes = digit_strokes(mnist_digit)                # a real person's digit (28x28) -> its pen strokes
    picture = drawn_at_random(mnist_digit, rng)         # an MNIST digit as black canvas ink, any size and place

A hand (`by_hand`) rotates, slants, stretches and wobbles ideal strokes and puts them on a sketchpad as the
page's canvas sends them (training.negatives and training.styles draw with it). `digit_strokes` thins an
MNIST digit to a skeleton and traces it into polylines, so that a real writer's digit can be redrawn with
the canvas's brush (reader.strokes.render_drawing) at any size and place; `drawn_at_random` redraws one as
black ink on a white canvas.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

Strokes = list[np.ndarray]  # polylines, each (N, 2) of x, y in the drawing's own units (y down)
TRAIN_CANVAS = (112, 196)  # canvas sides for drawings made for training: cheap to draw, same brush fraction


def hand(strokes: Strokes, rng: np.random.Generator, spin: float = 0.0) -> Strokes:
    """A hand's version of the ideal strokes: rotated, slanted, stretched, wobbly; in a unit box."""
    angle, shear = rng.normal(0, 0.12) + rng.uniform(-spin, spin), rng.uniform(-0.25, 0.25)
    sx, sy = np.exp(rng.normal(0, 0.15, 2))
    c, s = math.cos(angle), math.sin(angle)
    matrix = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([sx, sy])
    strokes = [np.asarray(stroke, dtype=np.float64) @ matrix.T for stroke in strokes]
    points = np.concatenate(strokes)
    low, size = points.min(0), max(float((points.max(0) - points.min(0)).max()), 1e-6)
    out = []
    for stroke in strokes:
        stroke = (stroke - low) / size  # the longest side of the drawing is 1
        if len(stroke) > 1:  # wobble: a smooth random displacement along the stroke, 1-2% of the size
            stroke = resample(stroke, 0.03)
            phase, amplitude = rng.uniform(0, 2 * math.pi, 2), rng.uniform(0.005, 0.02)
            t = np.linspace(0, rng.uniform(2, 6), len(stroke))[:, None]
            stroke = stroke + amplitude * np.sin(2 * math.pi * t + phase)
        out.append(stroke)
    return out


def resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along the polyline (3% of the drawing: canvas.js keeps one per 2 px of pen travel,
    which draws the same ink with the round brush, at more cost)."""
    lengths = np.hypot(*np.diff(stroke, axis=0).T)
    total = lengths.sum()
    if total < step:
        return stroke
    at = np.concatenate([[0], np.cumsum(lengths)])
    t = np.linspace(0, total, int(total / step) + 1)
    return np.stack([np.interp(t, at, stroke[:, 0]), np.interp(t, at, stroke[:, 1])], axis=1)


def by_hand(strokes: Strokes, rng: np.random.Generator, canvas: int = 280, spin: float = 0.0) -> dict:
    """Ideal strokes -> a hand's drawing of them as the page sends it (canvas pixels, origin top-left): rotated,
    slanted, stretched, wobbly, and placed at a random size and place on a canvas x canvas sketchpad."""
    strokes = hand(strokes, rng, spin)
    extent = np.concatenate(strokes).max(0)  # (w, h) in the unit box, the longer one 1
    size = rng.uniform(0.45, 0.9) * canvas  # people draw big on the sketchpad, some less so
    margin = 0.05 * canvas
    room = np.maximum(canvas - 2 * margin - extent * size, 0)  # where the drawing's top-left corner may go
    left, top = margin + rng.uniform(0, 1, 2) * room
    return {"width": canvas, "height": canvas,
            "strokes": [np.round(stroke * size + [left, top], 1).tolist() for stroke in strokes]}


def render_drawn(digit: np.ndarray, canvas: int, size: int, left: int, top: int) -> Image.Image:
    """(28, 28) uint8 MNIST digit (ink = 255) -> RGBA canvas x canvas, black ink on opaque white."""
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)) >= 128
    page = np.full((canvas, canvas, 4), 255, dtype=np.uint8)
    page[top : top + size, left : left + size, :3][ink] = 0
    return Image.fromarray(page, mode="RGBA")


def drawn_at_random(digit: np.ndarray, rng: np.random.Generator, canvas: int = 800) -> Image.Image:
    """render_drawn at a random size, from a third of the canvas to nearly all of it, at a random place
    (drawn in this order from rng: size, left, top)."""
    size = int(rng.integers(canvas // 3, canvas - canvas // 40))
    left, top = int(rng.integers(0, canvas - size + 1)), int(rng.integers(0, canvas - size + 1))
    return render_drawn(digit, canvas, size, left, top)


# MNIST digits as pen strokes: thinned to a one-pixel skeleton, then traced into polylines, so that a real
# person's digit can be redrawn with the canvas's brush (strokes.render_drawing) at any size and place.
_NEIGHBOURS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]  # P2..P9, clockwise from north


def thin(ink: np.ndarray) -> np.ndarray:
    """(H, W) bool -> its skeleton, one pixel wide (Zhang and Suen 1984, both sub-iterations vectorised)."""
    image = np.pad(ink.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = [np.roll(image, (-dy, -dx), axis=(0, 1)) for dy, dx in _NEIGHBOURS]  # p[k][y, x] = P(k+2) of (y, x)
            count = np.sum(p, axis=0)
            transitions = np.sum([(~p[k]) & p[(k + 1) % 8] for k in range(8)], axis=0)
            if step == 0:
                edge = ~(p[0] & p[2] & p[4]) & ~(p[2] & p[4] & p[6])
            else:
                edge = ~(p[0] & p[2] & p[6]) & ~(p[0] & p[4] & p[6])
            remove = image & (count >= 2) & (count <= 6) & (transitions == 1) & edge
            if remove.any():
                image &= ~remove
                changed = True
        if not changed:
            return image[1:-1, 1:-1]


def trace(skeleton: np.ndarray) -> list[list[tuple[float, float]]]:
    """A skeleton -> polylines of (x, y) pixel centres: from each loose end first, then around what is left
    (loops); a branch that leaves a traced pixel starts at that pixel, so junctions stay joined."""
    remaining = {(int(y), int(x)) for y, x in zip(*np.nonzero(skeleton))}
    pixels = set(remaining)

    def neighbours(point):
        y, x = point
        near = [(y + dy, x + dx) for dy, dx in _NEIGHBOURS]
        return sorted((n for n in near if n in pixels), key=lambda n: abs(n[0] - y) + abs(n[1] - x))  # 4-near first

    strokes = []
    while remaining:
        ends = [p for p in remaining if len(neighbours(p)) == 1]
        start = min(ends) if ends else min(remaining)
        path = [start]
        joined = [n for n in neighbours(start) if n not in remaining]  # touches what is already traced
        if joined:
            path.insert(0, joined[0])
        remaining.discard(start)
        while True:
            ahead = [n for n in neighbours(path[-1]) if n in remaining]
            if not ahead:
                break
            path.append(ahead[0])
            remaining.discard(ahead[0])
        strokes.append([(x, y) for y, x in path])
    return strokes


def digit_strokes(digit: np.ndarray) -> list[list[tuple[float, float]]]:
    """(28, 28) uint8 MNIST digit (ink = 255) -> its strokes in the digit's pixel units ((0, 0) to (28, 28)):
    enlarged 3x, thresholded at half ink, thinned and traced. Strokes shorter than 2 px (specks) are dropped."""
    big = np.asarray(Image.fromarray(digit).resize((84, 84), Image.Resampling.BILINEAR)) >= 128
    strokes = [[((x + 0.5) / 3, (y + 0.5) / 3) for x, y in stroke] for stroke in trace(thin(big))]
    long = [s for s in strokes if len(s) > 1 and np.ptp(np.array(s), axis=0).max() >= 2]
    return long or strokes

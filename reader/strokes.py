"""Strokes from the live canvas -> the picture the model reads. The strokes are untrusted input.

    from reader.strokes import parse_drawing, render_drawing
    drawing = parse_drawing('{"width": 280, "height": 280, "strokes": [[[140, 40], [140, 240]]]}')
    picture = render_drawing(drawing)   # grayscale, black ink on white, the strokes as the person drew them
    # then model.to_mnist(picture) / model.predict(model, picture), like every other input

The page's canvas sends {"width": W, "height": H, "strokes": [[[x, y], ...], ...]} in canvas pixels, origin
top-left, as a JSON object or its text, plus "seq", the number of the page's action; API clients may send
the same (seq is optional). parse_drawing() checks everything and raises ValueError with a reason a person
can act on; its cost is bounded by the limits below, whatever arrives.

rasterize() is the one definition of which pixels are ink, written so that the browser's engine
(web/strokes.js, `rasterize`) computes exactly the same pixels: a pixel is ink when its centre lies within
the brush's radius of a segment of a stroke (a one-point stroke is a dot). That is the shape the page's
canvas paints with round caps and joins, without its anti-aliasing. Each pixel row of each segment is one
interval, computed in closed form with the same float64 operations on both sides (tests/test_engine.py
checks that the two agree). The raster is at most MAX_RASTER pixels on its longer side (a 2048-px canvas
is drawn at a quarter of its size: the model sees 20 px anyway), and the rows all segments cover together
are bounded (MAX_INK_ROWS), so one drawing costs at most ~20 ms to read whatever arrives (a digit: ~4 ms).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Brush diameter as a fraction of the canvas side: 24 px on the page's 280 px canvas, the thickness that
# comes out like MNIST's strokes (2-3 px) after to_mnist scales a digit drawn across the canvas to 20 px.
BRUSH_FRACTION = 24 / 280
MIN_SIDE, MAX_SIDE = 16, 2048  # canvas sides accepted; 2048 x 2048 grayscale is 4 MB to draw on
MAX_STROKES = 500  # a digit has 1-4 strokes; a long scribbling session a few dozen
MAX_POINTS = 10_000  # in all strokes; canvas.js keeps a point per 2 px of pen travel: a digit is 100-300
MAX_TEXT = 256 * 1024  # characters of JSON text (limits.MAX_JSON_BYTES, a request's body, is this); 10,000 points are ~170 KB
REACH = 1.0  # points may lie up to one canvas side outside the canvas (a pen dragged past the edge)
MAX_RASTER = 512  # longest side of the raster; = model.MAX_SIDE, so to_mnist never has to downscale it
# Rows of raster that all segments cover together (each segment: its height plus the brush): the work of
# rasterize() is proportional to it, ~0.2 us a row here. A digit on the page's canvas is ~3,000; a number of
# four on the page's 560x280 canvas 6,000-9,000; the most of 1,600 non-digit drawings (scribbles) 14,700; ten
# digits drawn 600 px tall on a square 2048-px canvas (whose brush is 4x the page's) ~40,000: refused, as are
# 10,000 points flung across it (2 million). 30,000 keeps the heaviest accepted drawing near 20 ms of handler
# time, so that 16 of them at once delay an honest pen-up by about half a second (bench/hostile.py row 15.4).
MAX_INK_ROWS = 30_000


@dataclass(frozen=True)
class Drawing:
    """A checked drawing: canvas size in pixels and strokes as (N, 2) float arrays of x, y."""

    width: int
    height: int
    strokes: tuple[np.ndarray, ...]
    seq: int | None = None  # the page numbers what it sends, so that an older drawing never wins
    pick: int | None = None  # which digit of a number the page's row view walks (None: the app chooses)

    @property
    def brush(self) -> float:
        """Brush diameter in canvas pixels."""
        return BRUSH_FRACTION * min(self.width, self.height)

    @property
    def scale(self) -> float:
        """Raster pixels per canvas pixel: 1, or less for a canvas wider or taller than MAX_RASTER."""
        return raster_scale(self.width, self.height)


def raster_scale(width: int, height: int) -> float:
    """Raster pixels per canvas pixel (web/strokes.js: rasterScale)."""
    longest = max(width, height)
    return 1.0 if longest <= MAX_RASTER else MAX_RASTER / longest


def _side(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{name}' must be a number of pixels, got {type(value).__name__}")
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"'{name}' must be a whole number of pixels, got {value!r}")
    if not MIN_SIDE <= value <= MAX_SIDE:
        raise ValueError(f"'{name}' must lie in {MIN_SIDE}..{MAX_SIDE} pixels, got {int(value)}")
    return int(value)


def _stroke(points: object, index: int, width: int, height: int) -> np.ndarray:
    """One stroke [[x, y], ...] -> (N, 2) float64; every point checked, nothing nested deeper is read."""
    if not isinstance(points, list) or not points:
        raise ValueError(f"stroke {index} must be a non-empty list of [x, y] points")
    for point in points:
        if not (isinstance(point, list) and len(point) == 2):
            raise ValueError(f"stroke {index}: each point must be a list [x, y] of two numbers, got {_show(point)}")
        for number in point:
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise ValueError(f"stroke {index}: coordinates must be numbers, got {_show(number)}")
    # Every entry is now an int or float; ints beyond float range raise OverflowError here.
    try:
        array = np.array(points, dtype=np.float64)  # (N, 2)
    except OverflowError:
        raise ValueError(f"stroke {index}: a coordinate is too large") from None
    if not np.isfinite(array).all():
        raise ValueError(f"stroke {index}: coordinates must be finite (no NaN or infinity)")
    low = -REACH * np.array([width, height])
    high = (1 + REACH) * np.array([width, height])
    outside = ((array < low) | (array > high)).any(axis=1)
    if outside.any():
        x, y = array[int(np.argmax(outside))]
        raise ValueError(f"stroke {index}: point ({x:g}, {y:g}) lies far outside the {width}x{height} canvas")
    return array


def _show(value: object) -> str:
    """What an unexpected value is, for an error message: its type, or the number (never text sent to us)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 24 else "a long number"
    return {str: "a string", bool: "true/false", type(None): "null", dict: "an object", list: "a list"}.get(
        type(value), type(value).__name__)


def checked_seq(seq: object) -> int | None:
    """The page's number for an action (a drawing, a gallery digit, an upload), or None; ValueError if not one."""
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53):
        raise ValueError(f"'seq' must be a whole number from 0, got {_show(seq)}")
    return seq


def parse_drawing(payload: object) -> Drawing:
    """A drawing as sent by the page or an API client (dict, or its JSON text) -> Drawing; ValueError if not one."""
    if isinstance(payload, (str, bytes)):
        if len(payload) > MAX_TEXT:
            raise ValueError(f"drawing is too large ({len(payload):,} characters of JSON; at most {MAX_TEXT:,})")
        try:
            payload = json.loads(payload)
        except RecursionError:
            raise ValueError("drawing is not valid JSON: nested too deeply") from None
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"drawing is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ValueError('expected a drawing {"width": W, "height": H, "strokes": [[[x, y], ...], ...]}, '
                         f"got {type(payload).__name__}")
    missing = [key for key in ("width", "height", "strokes") if key not in payload]
    if missing:
        raise ValueError(f"drawing is missing {', '.join(repr(k) for k in missing)}")
    width, height = _side(payload["width"], "width"), _side(payload["height"], "height")
    strokes = payload["strokes"]
    if not isinstance(strokes, list):
        raise ValueError(f"'strokes' must be a list of strokes, got {type(strokes).__name__}")
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"too many strokes ({len(strokes):,}); at most {MAX_STROKES}")
    total = sum(len(stroke) if isinstance(stroke, list) else 0 for stroke in strokes)
    if total > MAX_POINTS:
        raise ValueError(f"too many points ({total:,}); at most {MAX_POINTS:,} in all strokes")
    seq = checked_seq(payload.get("seq"))
    pick = payload.get("pick")
    if pick is not None and (isinstance(pick, bool) or not isinstance(pick, int) or not 0 <= pick < 1000):
        raise ValueError("'pick' must be the index of a digit, from 0")
    return Drawing(width, height, tuple(_stroke(s, i, width, height) for i, s in enumerate(strokes)), seq, pick)


def _kept(points: np.ndarray, step: float) -> np.ndarray:
    """A stroke in raster pixels without the points closer than step to the last point kept (the last point of
    the stroke always stays). The brush is 2 x radius wide and step is a quarter of the radius, so a chord replaces
    at most that much of the pen's path; a script's 1-px-dense path on a 2048-px canvas costs a twentieth."""
    steps = np.diff(points, axis=0)
    if len(points) < 3 or ((steps * steps).sum(axis=1) >= step * step).all():
        return points
    kept, (x, y) = [0], points[0]
    for index in range(1, len(points) - 1):
        dx, dy = points[index, 0] - x, points[index, 1] - y
        if dx * dx + dy * dy >= step * step:
            kept.append(index)
            x, y = points[index]
    kept.append(len(points) - 1)
    return points[kept]


def _radius(drawing: Drawing) -> float:
    """The brush's radius in raster pixels (web/strokes.js: the same expression)."""
    return drawing.brush * drawing.scale / 2


def _segments(drawing: Drawing) -> np.ndarray:
    """(S, 4) float64 segments [ax, ay, bx, by] in raster pixels; a one-point stroke is a segment of length 0."""
    scale, step = drawing.scale, max(1.0, _radius(drawing) / 4)
    parts = []
    for stroke in drawing.strokes:
        points = _kept(stroke * scale, step)  # (N, 2)
        if len(points) == 1:
            parts.append(np.concatenate([points, points], axis=1))
        else:
            parts.append(np.concatenate([points[:-1], points[1:]], axis=1))
    return np.concatenate(parts) if parts else np.zeros((0, 4))


def _rows(segments: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The first and last raster row each segment's brush reaches (the last not clipped to the raster)."""
    top = np.maximum(np.ceil(np.minimum(segments[:, 1], segments[:, 3]) - radius - 0.5), 0)
    bottom = np.floor(np.maximum(segments[:, 1], segments[:, 3]) + radius - 0.5)
    return top, bottom


def ink_rows(drawing: Drawing) -> int:
    """How many (segment, raster row) pairs rasterize() visits: the measure of its work, bounded by MAX_INK_ROWS."""
    top, bottom = _rows(_segments(drawing), _radius(drawing))
    return int(np.maximum(bottom - top + 1, 0).sum())


def rasterize(drawing: Drawing) -> np.ndarray:
    """Drawing -> (h, w) bool ink, w x h = the canvas times drawing.scale (rounded): pixel (row j, column i)
    is ink when its centre (i + 0.5, j + 0.5) lies within the brush's radius of a segment.

    For each segment and each row its brush reaches, the ink is one interval of x (the intersection of the
    row's centre line with a capsule, which is convex): the union of the two end discs and the band along
    the segment, in closed form. Raises ValueError past MAX_INK_ROWS.
    """
    scale = drawing.scale
    width, height = math.floor(drawing.width * scale + 0.5), math.floor(drawing.height * scale + 0.5)
    radius = _radius(drawing)
    segments = _segments(drawing)
    top, bottom = _rows(segments, radius)
    rows = int(np.maximum(bottom - top + 1, 0).sum())
    if rows > MAX_INK_ROWS:
        raise ValueError(f"too much ink to draw ({rows:,} rows of strokes; at most {MAX_INK_ROWS:,}): "
                         "fewer or shorter strokes, please")
    ax, ay, bx, by = segments.T  # (S,) each
    bottom = np.minimum(bottom, height - 1)
    count = np.maximum(bottom - top + 1, 0).astype(np.int64)  # rows each segment covers
    segment = np.repeat(np.arange(len(segments)), count)  # (R,): one entry per (segment, row)
    row = top[segment] + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    ax, ay, bx, by = ax[segment], ay[segment], bx[segment], by[segment]
    y = row + 0.5  # the row's centre line
    low, high = _interval(ax, ay, bx, by, y, radius)
    first = np.maximum(np.ceil(low - 0.5), 0)  # pixel i is ink when low <= i + 0.5 <= high
    last = np.minimum(np.floor(high - 0.5), width - 1)
    keep = first <= last
    row, first, last = row[keep].astype(np.int64), first[keep].astype(np.int64), last[keep].astype(np.int64)
    # Mark each interval's start and the pixel after its end, count along the row: ink where the count is > 0.
    stride = width + 1
    marks = np.bincount(row * stride + first, minlength=height * stride).astype(np.int32)
    marks -= np.bincount(row * stride + last + 1, minlength=height * stride).astype(np.int32)
    return (np.cumsum(marks.reshape(height, stride), axis=1)[:, :width] > 0)


def _interval(ax, ay, bx, by, y, r):
    """x-interval [low, high] where the line at height y meets the capsule of radius r around segment a-b
    (low > high: it does not). Arrays of equal shape; web/strokes.js `interval` is the same arithmetic."""
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = np.full(y.shape, np.inf), np.full(y.shape, -np.inf)
        for cx, cy in ((ax, ay), (bx, by)):  # the end discs
            dy = y - cy
            inside = dy * dy <= r * r
            half = np.sqrt(np.where(inside, r * r - dy * dy, 0.0))
            low = np.where(inside, np.minimum(low, cx - half), low)
            high = np.where(inside, np.maximum(high, cx + half), high)
        dx, dy = bx - ax, by - ay
        length = np.sqrt(dx * dx + dy * dy)
        # The band: points whose distance to the segment's line is <= r (|dx (y - ay) - dy (x - ax)| <= r L)
        # and whose projection falls on the segment (0 <= dx (x - ax) + dy (y - ay) <= L^2).
        across = dx * (y - ay)
        p0, p1 = (across - r * length) / dy, (across + r * length) / dy
        band_low = np.where(dy != 0, ax + np.minimum(p0, p1), -np.inf)
        band_high = np.where(dy != 0, ax + np.maximum(p0, p1), np.inf)
        flat = (dy == 0) & (np.abs(y - ay) > r)  # a horizontal segment's band misses rows farther than r
        along = dy * (y - ay)
        q0, q1 = (0.0 - along) / dx, (length * length - along) / dx
        band_low = np.where(dx != 0, np.maximum(band_low, ax + np.minimum(q0, q1)), band_low)
        band_high = np.where(dx != 0, np.minimum(band_high, ax + np.maximum(q0, q1)), band_high)
        upright = (dx == 0) & ((along < 0) | (along > length * length))  # a vertical one: rows beyond its ends
        band = (length > 0) & ~flat & ~upright & (band_low <= band_high)
        low = np.where(band, np.minimum(low, band_low), low)
        high = np.where(band, np.maximum(high, band_high), high)
    return low, high


def render_drawing(drawing: Drawing) -> Image.Image:
    """Drawing -> grayscale picture of rasterize()'s ink, black (0) on white (255), at drawing.scale of the canvas."""
    return Image.fromarray(np.where(rasterize(drawing), 0, 255).astype(np.uint8), mode="L")

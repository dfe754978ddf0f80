"""Strokes from the live canvas -> the picture the person saw. The strokes are untrusted input.

    from strokes import parse_drawing, render_drawing
    drawing = parse_drawing('{"width": 280, "height": 280, "strokes": [[[140, 40], [140, 240]]]}')
    picture = render_drawing(drawing)   # 280x280 grayscale, black ink on white, as the canvas showed it
    # then model.to_mnist(picture) / model.predict(model, picture), like every other input

The page's canvas (canvas.js) sends {"width": W, "height": H, "strokes": [[[x, y], ...], ...]} in canvas
pixels, origin top-left, as a JSON object or its text, plus "seq", the number of the send; API clients may
send the same (seq is optional). parse_drawing()
checks everything and raises ValueError with a reason a person can act on; its cost is bounded by the
limits below, whatever arrives. render_drawing() draws it with round caps and joins, the brush that
canvas.js uses (BRUSH_FRACTION of the canvas side), so the server reads the image the person saw.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Brush diameter as a fraction of the canvas side: 24 px on the page's 280 px canvas, the thickness that
# comes out like MNIST's strokes (2-3 px) after to_mnist scales a digit drawn across the canvas to 20 px.
BRUSH_FRACTION = 24 / 280
MIN_SIDE, MAX_SIDE = 16, 2048  # canvas sides accepted; 2048 x 2048 grayscale is 4 MB to draw on
MAX_STROKES = 500  # a digit has 1-4 strokes; a long scribbling session a few dozen
MAX_POINTS = 10_000  # in all strokes; canvas.js keeps a point per 2 px of pen travel: a digit is 100-300
MAX_TEXT = 256 * 1024  # characters of JSON text (= limits.MAX_JSON_BYTES); 10,000 points are ~140 KB
REACH = 1.0  # points may lie up to one canvas side outside the canvas (a pen dragged past the edge)


@dataclass(frozen=True)
class Drawing:
    """A checked drawing: canvas size in pixels and strokes as (N, 2) float arrays of x, y."""

    width: int
    height: int
    strokes: tuple[np.ndarray, ...]
    seq: int | None = None  # the page numbers what it sends, so that an older drawing never wins

    @property
    def brush(self) -> float:
        """Brush diameter in canvas pixels."""
        return BRUSH_FRACTION * min(self.width, self.height)


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
    seq = payload.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53):
        raise ValueError(f"'seq' must be a whole number from 0, got {_show(seq)}")
    return Drawing(width, height, tuple(_stroke(s, i, width, height) for i, s in enumerate(strokes)), seq)


def render_drawing(drawing: Drawing) -> Image.Image:
    """Drawing -> (H, W) grayscale picture, black ink (0) on white (255): the canvas as the person saw it.

    Each stroke is a polyline of the brush's width with a disc at every point, which gives the round
    caps and joins of the page's canvas (lineCap = lineJoin = "round"); a single point is a dot.
    """
    picture = Image.new("L", (drawing.width, drawing.height), 255)
    draw = ImageDraw.Draw(picture)
    brush = drawing.brush
    radius = brush / 2
    for stroke in drawing.strokes:
        points = [tuple(p) for p in stroke.tolist()]
        if len(points) > 1:
            draw.line(points, fill=0, width=max(1, round(brush)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return picture

"""One drawing or picture -> what the page shows of it, as numbers: the answer (the number, each digit's
verdict, the softmax of the digit being walked) and the reading of that digit (the model's 28x28 input, the
56 partial readings, the hidden states, the row importance, and where its rows lie on the canvas).

    from readings import read_drawing
    result = read_drawing(model, parse_drawing(sent))   # {"answer": {...}, "reading": {...}}, or None: no ink
    result["answer"]["number"], result["reading"]["top_down"]

This is the reference that web/engine.js (`readDrawing`, `readPicture`) follows; tests/test_engine.py runs
both in Chromium and compares them. Every value is plain JSON: the page's renderer (web/render.js) draws the
views and writes the captions from these numbers, whoever computed them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from model import BiLSTM, judge, read_rows, row_importance, to_mnist_digits
from reader.paper import Paper, clean, paper_digits
from strokes import Drawing, render_drawing


@dataclass(frozen=True)
class Canvas:
    """Where a picture was drawn: the canvas in pixels, the raster's scale (raster pixels per canvas pixel),
    how many points were sent, and the x of the last point (the digit under the pen is the one walked)."""

    width: int
    height: int
    scale: float
    points: int
    last_x: float

    @classmethod
    def of(cls, drawing: Drawing) -> Canvas:
        return cls(drawing.width, drawing.height, drawing.scale, sum(len(s) for s in drawing.strokes),
                   float(drawing.strokes[-1][-1][0]))


def digits_of(picture: Image.Image | np.ndarray) -> list[dict]:
    """model.to_mnist_digits: [{"digit": (28, 28), "placement", "box"}, ...] left to right (what a session keeps)."""
    return to_mnist_digits(picture)


def digits_of_upload(picture: Image.Image | np.ndarray) -> tuple[list[dict], Paper]:
    """An uploaded photo, scan or picture -> (its digits as digits_of gives them, the Paper: the cleaned ink and, when
    there is nothing to read, the sentence that says why). reader/paper.py; a clean drawing keeps to_mnist's ink."""
    paper = clean(picture)
    return paper_digits(paper), paper


def _numbers(array: np.ndarray, decimals: int) -> list:
    """float array -> nested lists rounded for JSON (5 decimals: 1e-5, far under what the page can show)."""
    return np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


@torch.inference_mode()
def _logits(model: BiLSTM, digit: np.ndarray) -> np.ndarray:
    return model(torch.from_numpy(digit)[None])[0].numpy()


def read_parts(model: BiLSTM, parts: list[dict], pick: int | None = None, canvas: Canvas | None = None) -> dict | None:
    """The digits of one picture (digits_of) -> {"answer", "reading"}, or None when there are none.

    pick: which digit of a number the reading walks (default: for a drawing, the one under the last point
    drawn, i.e. the one being drawn; else the first). canvas: for a drawing, so that boxes are in canvas
    pixels and bands in fractions of the canvas."""
    if not parts:
        return None
    boxes = boxes_of(parts, canvas)
    pick = chosen_digit(parts, pick, canvas)

    walked = read_rows(model, parts[pick]["digit"])
    verdicts = [judge(model, walked["logits"] if index == pick else _logits(model, part["digit"]))
                for index, part in enumerate(parts)]
    digits = [{"digit": str(v.digit), "confidence": round(v.confidence, 5), "probs": _numbers(v.probs, 5),
               "not_a_digit": v.not_a_digit, "box": box} for v, box in zip(verdicts, boxes)]
    chosen, digit = verdicts[pick], parts[pick]
    answer = {"digit": str(chosen.digit), "confidence": round(chosen.confidence, 5),
              "probs": _numbers(chosen.probs, 5), "not_a_digit": chosen.not_a_digit,
              "number": None if any(v.not_a_digit for v in verdicts) else "".join(str(v.digit) for v in verdicts),
              "digits": digits, "pick": pick}
    importance = row_importance(model, digit["digit"])
    reading = {
        "pick": pick,
        "digit": str(chosen.digit),
        "not_a_digit": chosen.not_a_digit,
        "points": None if canvas is None else canvas.points,
        "model_input": _numbers(digit["digit"], 4),  # (28, 28), ink = 1
        "top_down": _numbers(walked["top_down"], 5),  # (28, 10): softmax reading rows 1..t
        "bottom_up": _numbers(walked["bottom_up"], 5),  # (28, 10): softmax reading rows t..28
        "states": _numbers(walked["states"], 4),  # (28, 128): forward units | backward units, after row t
        "importance": {"answer": importance["answer"], "probability": round(importance["probability"], 5),
                       "drop": _numbers(importance["drop"], 5)},
        "bands": None if canvas is None else bands(digit["placement"], canvas),
        "tutorial": None,
    }
    return {"answer": answer, "reading": reading}


def boxes_of(parts: list[dict], canvas: Canvas | None) -> list[list[float]]:
    """Each digit's box [x0, y0, x1, y1], in canvas pixels for a drawing (else the picture's), to 0.01."""
    scale = canvas.scale if canvas is not None else 1.0
    return [[round(v / scale, 2) for v in part["box"]] for part in parts]


def chosen_digit(parts: list[dict], pick: int | None, canvas: Canvas | None) -> int:
    """The digit walked: pick if given; for a drawing, the digit whose columns hold the last point drawn (else
    the nearest: the one being drawn); else the first."""
    if pick is None and canvas is not None:
        pick = int(np.argmin([max(x0 - canvas.last_x, canvas.last_x - x1, 0.0) for x0, _, x1, _ in boxes_of(parts, canvas)]))
    return min(max(int(pick or 0), 0), len(parts) - 1)


def read_picture(model: BiLSTM, picture: Image.Image | np.ndarray, pick: int | None = None) -> dict | None:
    """An uploaded or sent picture -> {"answer", "reading"}; None when it has no ink."""
    return read_parts(model, digits_of(picture), pick)


def read_upload(model: BiLSTM, picture: Image.Image | np.ndarray, pick: int | None = None) -> dict | None:
    """An uploaded photo or scan -> {"answer", "reading"} through the paper path (digits_of_upload); None when it has
    no readable handwriting (digits_of_upload's Paper says why). read_picture stays the browser engine's twin."""
    return read_parts(model, digits_of_upload(picture)[0], pick)


def read_drawing(model: BiLSTM, drawing: Drawing, pick: int | None = None) -> dict | None:
    """Strokes -> read_parts of the picture they make (strokes.render_drawing); None for no ink."""
    if not drawing.strokes:
        return None
    return read_parts(model, digits_of(render_drawing(drawing)), pick, Canvas.of(drawing))


def bands(placement, canvas: Canvas) -> dict:
    """Which band of the canvas became each row of the 28x28, as fractions of the canvas: from to_mnist's own
    crop, scale and shift (model.Placement, in picture pixels) and the raster's scale, clipped to the canvas."""
    rows = np.clip(placement.input_rows() / canvas.scale / canvas.height, 0.0, 1.0)  # (28, 2)
    x0, x1 = np.array(placement.input_columns()) / canvas.scale / canvas.width
    return {"x": [round(max(0.0, x0), 4), round(min(1.0, x1), 4)], "rows": _numbers(rows, 4)}

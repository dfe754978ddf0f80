"""One drawing or picture -> what the page shows of it, as numbers: the answer (the number, each digit's
verdict, the softmax of the digit being walked) and the reading of that digit (the model's 28x28 input, the
56 partial readings, the hidden states, the row importance, and where its rows lie on the canvas).

    from reader.readings import read_drawing, read_picture
    result = read_drawing(model, parse_drawing(sent))   # {"answer": {...}, "reading": {...}}, or None: no ink
    result["answer"]["number"], result["reading"]["top_down"]
    read_picture(model, PIL.Image.open("2026.png"))["answer"]["number"]
    read_digit(model, PIL.Image.open("7.png"))         # one picture as one digit: model.Verdict, or None

This is the reference that web/readings.js follows; tests/test_engine.py runs both in Chromium and compares
them. Every value is plain JSON: the page's renderer (web/render.js) draws the views and writes the captions
from these numbers, whoever computed them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from model import BiLSTM, Verdict, judge, read_rows, row_importance
from reader.paper import Paper, clean, paper_ink
from reader.preprocess import to_mnist
from reader.segment import segment, split_digits
from reader.strokes import Drawing, render_drawing
from reader.views import kept_picture


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


@dataclass(frozen=True)
class Digits:
    """The digits of one drawing or picture, left to right, each {"digit": (28, 28), "placement", "box"}
    (to_mnist_digits), the canvas they were drawn on (None for a picture), and for an upload what the paper path
    kept of it (reader.paper.Paper; None otherwise): what a session keeps."""

    parts: tuple[dict, ...]
    canvas: Canvas | None = None
    paper: Paper | None = None


def digits_of_drawing(model: BiLSTM, drawing: Drawing) -> Digits:
    """Strokes -> the digits of the picture they make (strokes.render_drawing), on their canvas: split at empty
    columns, and merged or cut where the model reads them better (reader.segment: digits that touch)."""
    if not drawing.strokes:
        return Digits(())
    return Digits(tuple(split_digits(model, render_drawing(drawing), drawing=drawing)), Canvas.of(drawing))


def digits_of_upload(model: BiLSTM, picture: Image.Image | np.ndarray) -> Digits:
    """An uploaded photo, scan or picture -> its digits through the paper path (reader/paper.py: the writing found
    on the paper, ruling, shading and desk left out; a clean digital picture keeps to_mnist's ink map), then split,
    merged and cut as a drawing's. digits.paper holds what was kept and, when nothing is readable, why."""
    paper = clean(picture)
    parts = () if paper.problem else tuple(segment(model, paper_ink(paper), paper.factor))
    return Digits(parts, paper=paper)


def digits_of_picture(model: BiLSTM, picture: Image.Image | np.ndarray) -> Digits:
    """A sent or gallery picture -> its digits, as digits_of_drawing. ValueError for anything not an image."""
    return Digits(tuple(split_digits(model, picture)))


def _numbers(array: np.ndarray, decimals: int) -> list:
    """float array -> nested lists rounded for JSON (5 decimals: 1e-5, far under what the page can show)."""
    return np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


@torch.inference_mode()
def _logits(model: BiLSTM, digit: np.ndarray) -> np.ndarray:
    return model(torch.from_numpy(digit)[None])[0].numpy()


TUTORIAL_SENTENCE = ("The tutorial's classifier reads output[:, -1, :]: the forward half of that vector has read all "
                     "28 rows, the backward half only row 28, which is blank for most digits.")


def read_digits(model: BiLSTM, digits: Digits, pick: int | None = None, tutorial: BiLSTM | None = None) -> dict | None:
    """The digits of one drawing or picture -> {"answer", "reading"}, or None when there are none.

    pick: which digit of a number the reading walks (default: for a drawing, the one under the last point
    drawn, i.e. the one being drawn; else the first). For a drawing, boxes are in canvas pixels and bands in
    fractions of the canvas. tutorial: the tutorial's model (the page's compare toggle), which then reads the
    walked digit beside ours: its answer and its row view, with the sentence that says why it differs."""
    parts, canvas = digits.parts, digits.canvas
    if not parts:
        return None
    boxes = boxes_of(parts, canvas)
    pick = _picked(boxes, pick, canvas)

    walked = read_rows(model, parts[pick]["digit"])
    verdicts = [judge(model, walked["logits"] if index == pick else part.get("logits", _logits(model, part["digit"])))
                for index, part in enumerate(parts)]
    entries = [{"digit": str(v.digit), "confidence": round(v.confidence, 5), "probs": _numbers(v.probs, 5),
                "not_a_digit": v.not_a_digit, "box": box} for v, box in zip(verdicts, boxes)]
    chosen, digit = verdicts[pick], parts[pick]
    answer = {"digit": str(chosen.digit), "confidence": round(chosen.confidence, 5),
              "probs": _numbers(chosen.probs, 5), "not_a_digit": chosen.not_a_digit,
              "number": None if any(v.not_a_digit for v in verdicts) else "".join(str(v.digit) for v in verdicts),
              "digits": entries, "pick": pick}
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
        "kept": None,
    }
    if digits.paper is not None:  # an upload: the ink the paper path kept and the split read, as a picture
        factor = digits.paper.factor
        reading["kept"] = kept_picture(digits.paper.ink, [[v / factor for v in box] for box in boxes], pick)
    if tutorial is not None:
        theirs = read_rows(tutorial, digit["digit"])
        probs = theirs["top_down"][-1]  # the full image
        best = int(probs.argmax())
        answer["tutorial"] = {"digit": str(best), "confidence": round(float(probs[best]), 5), "probs": _numbers(probs, 5)}
        reading["tutorial"] = {"top_down": _numbers(theirs["top_down"], 5), "bottom_up": _numbers(theirs["bottom_up"], 5),
                               "sentence": TUTORIAL_SENTENCE}
    return {"answer": answer, "reading": reading}


def boxes_of(parts: list[dict], canvas: Canvas | None) -> list[list[float]]:
    """Each digit's box [x0, y0, x1, y1], in canvas pixels for a drawing (else the picture's), to 0.01."""
    scale = canvas.scale if canvas is not None else 1.0
    return [[round(v / scale, 2) for v in part["box"]] for part in parts]


def chosen_digit(parts: list[dict], pick: int | None, canvas: Canvas | None) -> int:
    """The digit walked: pick if given; for a drawing, the digit whose columns hold the last point drawn (else
    the nearest: the one being drawn); else the first."""
    return _picked(boxes_of(parts, canvas), pick, canvas)


def _picked(boxes: list[list[float]], pick: int | None, canvas: Canvas | None) -> int:
    if pick is None and canvas is not None:
        pick = int(np.argmin([max(x0 - canvas.last_x, canvas.last_x - x1, 0.0) for x0, _, x1, _ in boxes]))
    return min(max(int(pick or 0), 0), len(boxes) - 1)


def read_picture(model: BiLSTM, picture: Image.Image | np.ndarray, pick: int | None = None) -> dict | None:
    """An uploaded or sent picture -> {"answer", "reading"}; None when it has no ink."""
    return read_digits(model, digits_of_picture(model, picture), pick)


def read_upload(model: BiLSTM, picture: Image.Image | np.ndarray, pick: int | None = None) -> dict | None:
    """An uploaded photo or scan -> {"answer", "reading"} through the paper path (digits_of_upload), the reading with
    the picture of what was kept; None when it has no readable handwriting (digits_of_upload's paper says why)."""
    return read_digits(model, digits_of_upload(model, picture), pick)


def read_drawing(model: BiLSTM, drawing: Drawing, pick: int | None = None) -> dict | None:
    """Strokes -> {"answer", "reading"} of the picture they make; None for no ink."""
    return read_digits(model, digits_of_drawing(model, drawing), pick)


@torch.inference_mode()
def read_digit(model: BiLSTM, image: Image.Image | np.ndarray) -> Verdict | None:
    """One picture read as one digit (to_mnist: training's and the v1 API's path) -> the model's Verdict, or
    None when there is no ink."""
    digit = to_mnist(image)
    if digit is None:
        return None
    return judge(model, model(torch.from_numpy(digit)[None])[0])


@torch.inference_mode()
def predict(model: BiLSTM, image: Image.Image | np.ndarray) -> np.ndarray | None:
    """One picture read as one digit -> (10,) softmax probabilities over 0-9, or None when there is no ink."""
    verdict = read_digit(model, image)
    return None if verdict is None else verdict.probs


def bands(placement, canvas: Canvas) -> dict:
    """Which band of the canvas became each row of the 28x28, as fractions of the canvas: from to_mnist's own
    crop, scale and shift (model.Placement, in picture pixels) and the raster's scale, clipped to the canvas."""
    rows = np.clip(placement.input_rows() / canvas.scale / canvas.height, 0.0, 1.0)  # (28, 2)
    x0, x1 = np.array(placement.input_columns()) / canvas.scale / canvas.width
    return {"x": [round(max(0.0, x0), 4), round(min(1.0, x1), 4)], "rows": _numbers(rows, 4)}

"""Pictures and words from the model's own numbers: the labelled reading view, the hidden states, the GIF of the
row walk (the v1 API's pictures and the slides), and the captions and the sentence read aloud.

    from model import load_model, read_rows
    from reader.preprocess import to_mnist
    from reader.views import reading_image, row_caption
    digit = to_mnist(picture); reading = read_rows(model, digit)
    reading_image(digit, reading, row=12).save("row12.png")   # the labelled reading view, outlined at row 12

Pure functions, no Gradio, checked against direct model calls. The page draws its views in the browser
(web/render.js); its captions are these sentences word for word and its heatmaps these colours, checked by
tests/test_render.py.
Colours: viridis for probabilities (readable with the common colour-vision deficiencies), blue-white-red
for hidden-state values (blue and red stay apart for red-green deficiencies), orange marks.
"""

from __future__ import annotations

import base64
import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CELL = 12  # pixels per image row / heatmap cell in the labelled reading view (API and GIF)

# A few anchors of matplotlib's viridis (dark = 0, yellow = 1), for probabilities
_VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32)
MARK = (230, 90, 0)  # orange: settling marks and the current row


def viridis(values: np.ndarray) -> np.ndarray:
    """values in [0, 1] (...,) -> RGB uint8 (..., 3)."""
    position = np.clip(values, 0, 1) * (len(_VIRIDIS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_VIRIDIS) - 2)
    fraction = (position - low)[..., None]
    return (_VIRIDIS[low] * (1 - fraction) + _VIRIDIS[low + 1] * fraction).astype(np.uint8)


def diverging(values: np.ndarray) -> np.ndarray:
    """values in [-1, 1] (...,) -> RGB uint8 (..., 3): blue negative, white zero, red positive."""
    v = np.clip(values, -1, 1)[..., None]
    white, red, blue = np.array([255, 255, 255.0]), np.array([200, 30, 40.0]), np.array([30, 80, 200.0])
    return np.where(v >= 0, white + (red - white) * v, white + (blue - white) * -v).astype(np.uint8)


def model_input_image(digit: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (28, 28) uint8, exactly the model's input (the page enlarges it, crisp)."""
    return (digit * 255).round().astype(np.uint8)


def states_image(states: np.ndarray, row_height: int = 4) -> np.ndarray:
    """(28, 2*hidden) hidden states -> (row_height*28, 2*hidden + 1, 3) uint8 heatmap: forward | backward."""
    hidden = states.shape[1] // 2
    separator = np.full((28, 1, 3), 255, np.uint8)
    heatmap = np.concatenate([diverging(states[:, :hidden]), separator, diverging(states[:, hidden:])], axis=1)
    return heatmap.repeat(row_height, axis=0)


def settling_rows(reading: dict[str, np.ndarray]) -> tuple[int | None, int | None]:
    """1-based rows where each reading direction makes up its mind for good (web/render.js: settlingRows).

    Top-down: the first t such that reading rows 1..t' gives the final answer with more than half
    the probability for every t' >= t. Bottom-up: the last t such that rows t'..28 do for every t' <= t.
    (None, None) when even the whole image gives no digit more than half: neither direction ever settles.
    """
    final = reading["top_down"][-1].argmax()
    if reading["top_down"][-1][final] <= 0.5:
        return None, None
    sure_down = reading["top_down"][:, final] > 0.5  # (28,) bool
    sure_up = reading["bottom_up"][:, final] > 0.5
    unsure_down, unsure_up = np.nonzero(~sure_down)[0], np.nonzero(~sure_up)[0]
    first = int(unsure_down.max()) + 2 if unsure_down.size else 1
    last = int(unsure_up.min()) if unsure_up.size else 28
    return min(first, 28), max(last, 1)


def _belief(probs: np.ndarray) -> str:
    best = int(probs.argmax())
    if probs[best] < 0.5:
        return f"is not sure yet (best guess {best}, {100 * probs[best]:.0f}%)"
    return f"says {best} ({100 * probs[best]:.0f}%)"


def row_belief(reading: dict[str, np.ndarray], row: int) -> str:
    """What the two reading directions believe at row (1-based), in words."""
    down, up = reading["top_down"][row - 1], reading["bottom_up"][row - 1]
    return (f"Row {row}. Reading only rows 1-{row} (rows below blanked), the model {_belief(down)}. "
            f"Reading only rows {row}-28 (rows above blanked), it {_belief(up)}.")


def settling_sentence(reading: dict[str, np.ndarray]) -> str:
    """Where each direction makes up its mind, in words (the orange marks)."""
    settle_down, settle_up = settling_rows(reading)
    if settle_down is None:
        return "Neither direction makes up its mind: even all 28 rows give no digit more than half."
    final = int(reading["top_down"][-1].argmax())
    return f"Top-down it makes up its mind on {final} at row {settle_down}; bottom-up at row {settle_up} (orange marks)."


def row_caption(reading: dict[str, np.ndarray], row: int) -> str:
    """The caption of row (1-based): what both directions believe there, and where each settles."""
    return f"{row_belief(reading, row)} {settling_sentence(reading)}"


def spoken_summary(reading: dict, not_a_digit: bool = False) -> str:
    """One sentence for a screen reader: 'Reads 7, 97%; top-down sure from row 10, bottom-up from row 12.'"""
    probs = reading["top_down"][-1]
    best = int(probs.argmax())
    settle_down, settle_up = settling_rows(reading)
    said = f"Not a digit (best guess {best}, {100 * probs[best]:.0f}%)" if not_a_digit else \
        f"Reads {best}, {100 * probs[best]:.0f}%"
    if settle_down is None:
        return f"{said}; neither direction is ever sure."
    return f"{said}; top-down sure from row {settle_down}, bottom-up from row {settle_up}."


# ---------------------------------------------------------------------------------------------
# The labelled reading view as one picture: the /predict API's reading output and the GIF's frames.

_TOP, _LEFT, _GAP = 3 * CELL, 3 * CELL, CELL
_X_INPUT = _LEFT
_X_DOWN = _X_INPUT + 28 * CELL + _GAP
_X_UP = _X_DOWN + 10 * CELL + _GAP


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled font: nothing fetched


def _cells(rgb: np.ndarray, width: int) -> Image.Image:
    """(rows, cols, 3) uint8 -> image with each row CELL px tall and each column width px wide."""
    return Image.fromarray(rgb.repeat(CELL, axis=0).repeat(width, axis=1))


@functools.cache
def _reading_frame() -> Image.Image:
    """The reading view's titles, digit labels and row numbers: the same for every digit, drawn once."""
    canvas = Image.new("RGB", (_X_UP + 10 * CELL + CELL, _TOP + 28 * CELL + CELL), "white")
    draw, small, tiny = ImageDraw.Draw(canvas), font(13), font(10)
    draw.text((_X_INPUT, 4), "model input", fill="black", font=small)
    draw.text((_X_DOWN, 4), "rows 1..t", fill="black", font=small)
    draw.text((_X_UP, 4), "rows t..28", fill="black", font=small)
    for digit_class in range(10):
        for x0 in (_X_DOWN, _X_UP):
            draw.text((x0 + digit_class * CELL + 3, _TOP - 14), str(digit_class), fill="black", font=tiny)
    for r in range(0, 28, 3):  # row numbers down the left margin
        draw.text((4, _TOP + r * CELL), f"{r + 1:>2}", fill="gray", font=tiny)
    return canvas


def reading_image(digit: np.ndarray, reading: dict[str, np.ndarray], row: int) -> Image.Image:
    """The model's input beside the per-row softmax of both reading directions; row (1-based) outlined."""
    canvas = _reading_frame().copy()
    gray = (np.repeat(digit[:, :, None], 3, axis=2) * 255).astype(np.uint8)  # (28, 28, 3)
    canvas.paste(_cells(gray, CELL), (_X_INPUT, _TOP))
    canvas.paste(_cells(viridis(reading["top_down"]), CELL), (_X_DOWN, _TOP))  # (28, 10) probabilities
    canvas.paste(_cells(viridis(reading["bottom_up"]), CELL), (_X_UP, _TOP))
    draw = ImageDraw.Draw(canvas)
    settle_down, settle_up = settling_rows(reading)
    for x0, settle in ((_X_DOWN, settle_down), (_X_UP, settle_up)):  # a marker where each direction settles
        if settle is None:
            continue
        y = _TOP + (settle - 1) * CELL + CELL // 2
        draw.polygon([(x0 - 8, y - 4), (x0 - 2, y), (x0 - 8, y + 4)], fill=MARK)
    y = _TOP + (row - 1) * CELL
    draw.rectangle([_X_INPUT - 2, y - 1, _X_UP + 10 * CELL + 1, y + CELL], outline=MARK, width=2)
    return canvas


def _wrapped(text: str, width: int, face: ImageFont.FreeTypeFont) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if face.getlength(candidate) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


def row_walk_gif(digit: np.ndarray, reading: dict[str, np.ndarray], frame_ms: int = 450) -> bytes:
    """The row walk as an animated GIF for slides: one frame per row, the labelled reading view outlined
    at that row (as on the page) with the row's caption under it; loops. 90-111 KB for the test digits."""
    face = font(14)
    frames = []
    for row in range(1, 29):
        view = reading_image(digit, reading, row)
        lines = _wrapped(row_caption(reading, row), view.width - 16, face)
        frame = Image.new("RGB", (view.width, view.height + 8 + 18 * len(lines) + 8), "white")
        frame.paste(view, (0, 0))
        draw = ImageDraw.Draw(frame)
        for index, line in enumerate(lines):
            draw.text((8, view.height + 8 + 18 * index), line, fill="black", font=face)
        frames.append(frame)
    height = max(f.height for f in frames)  # captions wrap to different lengths: one size for all frames
    frames = [f if f.height == height else _padded(f, height) for f in frames]
    palette = frames[-1].quantize(colors=192, method=Image.Quantize.MEDIANCUT)  # one palette: no flicker
    quantized = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    buffer = io.BytesIO()
    quantized[0].save(buffer, format="GIF", save_all=True, append_images=quantized[1:], duration=frame_ms,
                      loop=0, optimize=True)
    return buffer.getvalue()


def _padded(frame: Image.Image, height: int) -> Image.Image:
    out = Image.new("RGB", (frame.width, height), "white")
    out.paste(frame, (0, 0))
    return out


KEPT_SIDE = 360  # the longer side of the picture of what the paper path kept, as the page shows it
PIECE = (30, 90, 200)  # blue: the other digits' boxes on it (the digit walked is MARK's orange)


def kept_picture(ink: np.ndarray, boxes: list[list[float]], pick: int) -> str:
    """What the paper path kept of a photo (ink (h, w) in [0, 1], ink = 1) as the page shows it, black ink on white
    with each digit's box (in the ink's pixels; the one walked orange, the others blue), at most KEPT_SIDE pixels a
    side -> a PNG as a data: URI (the page needs no file for it)."""
    h, w = ink.shape
    scale = min(1.0, KEPT_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    grey = Image.fromarray(np.round(255 * (1.0 - np.clip(ink, 0.0, 1.0))).astype(np.uint8), "L")
    image = grey.resize(size, Image.Resampling.BOX).convert("RGB")
    draw = ImageDraw.Draw(image)
    for index, (x0, y0, x1, y1) in enumerate(boxes):
        colour = MARK if index == pick else PIECE
        draw.rectangle([x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1], outline=colour, width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

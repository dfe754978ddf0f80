"""Draw a digit and watch a bidirectional LSTM read it, row by row (Gradio app).

    python demo.py                 # http://127.0.0.1:7860, on the committed weights
    python demo.py --port 8080     # another port (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT work too)
    python demo.py --share         # a temporary public link (needs a network)

Importing this module builds `demo` and loads the model, and launches nothing (tests and Hugging Face
Spaces use it that way). Every picture on the page is computed from the model's real input, outputs
and hidden states: see model.to_mnist, model.predict and model.read_rows.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry or version check at run time

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw, ImageFont

from model import load_model, read_rows, to_mnist

# Uploaded files are decoded by Gradio before our code sees them. Past 2 x this many pixels PIL
# refuses at open(), from the header, before decoding, so a 12000x12000 upload costs milliseconds.
Image.MAX_IMAGE_PIXELS = 12_500_000
CANVAS = 280  # sketchpad size in canvas pixels; with a 12 px brush radius strokes come out MNIST-thin
BRUSH_RADIUS = 12
CELL = 12  # screen pixels per image row / heatmap cell in the reading view
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

model = load_model()  # the only global state: loaded once, shared read-only by all requests


# ---------------------------------------------------------------------------------------------
# Pictures (pure functions of the model's numbers)

# A few anchors of matplotlib's viridis (dark = 0, yellow = 1), for probabilities
_VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32)


def _viridis(values: np.ndarray) -> np.ndarray:
    """values in [0, 1] (...,) -> RGB uint8 (..., 3)."""
    position = np.clip(values, 0, 1) * (len(_VIRIDIS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_VIRIDIS) - 2)
    fraction = (position - low)[..., None]
    return (_VIRIDIS[low] * (1 - fraction) + _VIRIDIS[low + 1] * fraction).astype(np.uint8)


def _diverging(values: np.ndarray) -> np.ndarray:
    """values in [-1, 1] (...,) -> RGB uint8 (..., 3): blue negative, white zero, red positive."""
    v = np.clip(values, -1, 1)[..., None]
    white, red, blue = np.array([255, 255, 255.0]), np.array([200, 30, 40.0]), np.array([30, 80, 200.0])
    return np.where(v >= 0, white + (red - white) * v, white + (blue - white) * -v).astype(np.uint8)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled font: nothing fetched


def _cells(rgb: np.ndarray, width: int) -> Image.Image:
    """(rows, cols, 3) uint8 -> image with each row CELL px tall and each column width px wide."""
    return Image.fromarray(rgb.repeat(CELL, axis=0).repeat(width, axis=1))


def model_input_image(digit: np.ndarray) -> np.ndarray:
    """(28, 28) in [0, 1] -> (280, 280) uint8, each model pixel a crisp 10x10 block."""
    return (digit * 255).round().astype(np.uint8).repeat(10, axis=0).repeat(10, axis=1)


def settling_rows(reading: dict[str, np.ndarray]) -> tuple[int, int]:
    """1-based rows where each reading direction makes up its mind for good.

    Top-down: the first t such that reading rows 1..t' gives the final answer with more than half
    the probability for every t' >= t. Bottom-up: the last t such that rows t'..28 do for every t' <= t.
    """
    final = reading["top_down"][-1].argmax()
    sure_down = reading["top_down"][:, final] > 0.5  # (28,) bool
    sure_up = reading["bottom_up"][:, final] > 0.5
    unsure_down, unsure_up = np.nonzero(~sure_down)[0], np.nonzero(~sure_up)[0]
    first = int(unsure_down.max()) + 2 if unsure_down.size else 1
    last = int(unsure_up.min()) if unsure_up.size else 28
    return min(first, 28), max(last, 1)


def reading_image(digit: np.ndarray, reading: dict[str, np.ndarray], row: int) -> Image.Image:
    """The model's input beside the per-row softmax of both reading directions; row (1-based) outlined."""
    gap, top, left = CELL, 3 * CELL, 3 * CELL
    panel_w = 10 * CELL
    width = left + 28 * CELL + 2 * (gap + panel_w) + CELL
    canvas = Image.new("RGB", (width, top + 28 * CELL + CELL), "white")
    gray = (np.repeat(digit[:, :, None], 3, axis=2) * 255).astype(np.uint8)
    x_input, x_down = left, left + 28 * CELL + gap
    x_up = x_down + panel_w + gap
    canvas.paste(_cells(gray, CELL), (x_input, top))
    canvas.paste(_cells(_viridis(reading["top_down"]), CELL), (x_down, top))
    canvas.paste(_cells(_viridis(reading["bottom_up"]), CELL), (x_up, top))
    draw, small, tiny = ImageDraw.Draw(canvas), _font(13), _font(10)
    draw.text((x_input, 4), "model input", fill="black", font=small)
    draw.text((x_down, 4), "rows 1..t", fill="black", font=small)
    draw.text((x_up, 4), "rows t..28", fill="black", font=small)
    for digit_class in range(10):
        for x0 in (x_down, x_up):
            draw.text((x0 + digit_class * CELL + 3, top - 14), str(digit_class), fill="black", font=tiny)
    for r in range(0, 28, 3):  # row numbers down the left margin
        draw.text((4, top + r * CELL), f"{r + 1:>2}", fill="gray", font=tiny)
    settle_down, settle_up = settling_rows(reading)
    for x0, settle in ((x_down, settle_down), (x_up, settle_up)):  # a marker where each direction settles
        y = top + (settle - 1) * CELL + CELL // 2
        draw.polygon([(x0 - 8, y - 4), (x0 - 2, y), (x0 - 8, y + 4)], fill=(230, 90, 0))
    y = top + (row - 1) * CELL
    draw.rectangle([x_input - 2, y - 1, x_up + panel_w + 1, y + CELL], outline=(255, 120, 0), width=2)
    return canvas


def states_image(states: np.ndarray) -> Image.Image:
    """(28, 2*hidden) hidden states -> heatmap, forward half | backward half, rows aligned with the input."""
    hidden = states.shape[1] // 2
    top, column = 3 * CELL, max(2, 256 // hidden)
    forward = _cells(_diverging(states[:, :hidden]), column)
    backward = _cells(_diverging(states[:, hidden:]), column)
    canvas = Image.new("RGB", (2 * forward.width + CELL, top + 28 * CELL + CELL), "white")
    canvas.paste(forward, (0, top))
    canvas.paste(backward, (forward.width + CELL, top))
    draw, small = ImageDraw.Draw(canvas), _font(13)
    draw.text((0, 4), f"forward, after rows 1..t ({hidden})", fill="black", font=small)
    draw.text((forward.width + CELL, 4), f"backward, after rows t..28 ({hidden})", fill="black", font=small)
    return canvas


# ---------------------------------------------------------------------------------------------
# Event handlers

EMPTY_BARS = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": [0.0] * 10})
PROMPT = "Draw a digit (0-9) in the box: the answer updates after every stroke."


def _belief(probs: np.ndarray) -> str:
    best = int(probs.argmax())
    if probs[best] < 0.5:
        return f"is not sure yet (best guess {best}, {100 * probs[best]:.0f}%)"
    return f"says **{best}** ({100 * probs[best]:.0f}%)"


def row_caption(reading: dict[str, np.ndarray], row: int) -> str:
    down, up = reading["top_down"][row - 1], reading["bottom_up"][row - 1]
    settle_down, settle_up = settling_rows(reading)
    final = int(reading["top_down"][-1].argmax())
    return (
        f"**Row {row}.** Reading only rows 1-{row} (rows below blanked), the model {_belief(down)}. "
        f"Reading only rows {row}-28 (rows above blanked), it {_belief(up)}.  \n"
        f"Top-down it makes up its mind on {final} at row {settle_down}; bottom-up at row {settle_up} "
        f"(orange marks)."
    )


def read_image(image) -> tuple:
    """One image (PIL, numpy or None) -> every output of the page, for the whole reading (row 28)."""
    try:
        digit = None if image is None else to_mnist(image)
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None
    if digit is None:
        return PROMPT, None, EMPTY_BARS, None, None, None, "", None, 28
    reading = read_rows(model, digit)
    probs = reading["top_down"][-1]  # the full image: identical to predict(model, image)
    label = {str(d): float(p) for d, p in enumerate(probs)}
    bars = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": probs.astype(float)})
    return ("", label, bars, model_input_image(digit), reading_image(digit, reading, 28),
            states_image(reading["states"]), row_caption(reading, 28), digit, 28)


def read_sketch(sketch: dict | None) -> tuple:
    """The sketchpad's value ({"background", "layers", "composite"} or None) -> every output."""
    if sketch is None:
        return read_image(None)
    if not isinstance(sketch, dict) or "composite" not in sketch:
        raise gr.Error("Could not read that input: expected the sketchpad's {'composite': image, ...}")
    return read_image(sketch["composite"])


def show_row(digit: np.ndarray | None, row: int) -> tuple:
    """Slider moved: redraw the reading view outlined at that row."""
    if digit is None:
        return None, PROMPT
    row = int(np.clip(row, 1, 28))
    reading = read_rows(model, digit)
    return reading_image(digit, reading, row), row_caption(reading, row)


def play(digit: np.ndarray | None, delay: float = 0.25):
    """Step through the 28 rows for an audience, a few per second."""
    if digit is None:
        yield 28, None, PROMPT
        return
    reading = read_rows(model, digit)
    for row in range(1, 29):
        yield row, reading_image(digit, reading, row), row_caption(reading, row)
        time.sleep(delay)


def blank_canvas() -> np.ndarray:
    """A white canvas: starting the sketchpad on an image puts the brush in hand (no tool to pick)."""
    return np.full((CANVAS, CANVAS, 3), 255, dtype=np.uint8)


def clear() -> tuple:
    return (blank_canvas(), None, *read_image(None))


# ---------------------------------------------------------------------------------------------
# Layout

CSS = """
#prediction .output-class, #prediction [data-testid=label-output-value] { font-size: 6rem !important; line-height: 1.1; }
#sketchpad button[aria-label="Color"], #sketchpad button[aria-label="Pan"], #sketchpad button[aria-label="Brush Size"],
#sketchpad button[aria-label="Zoom in"], #sketchpad button[aria-label="Zoom out"],
#sketchpad button[aria-label="Clear canvas"] { display: none !important; }
#model-input img, #row-reading img, #hidden-states img { image-rendering: pixelated; }
.caption { font-size: 0.95rem; color: #555; }
"""

with gr.Blocks(title="BiLSTM reads your digit", analytics_enabled=False) as demo:
    gr.Markdown("# Draw a digit. A bidirectional LSTM reads it row by row.")
    digit_state = gr.State(None)  # this session's preprocessed (28, 28) digit, for the row slider
    with gr.Row():
        with gr.Column(scale=3):
            sketchpad = gr.Sketchpad(
                value=blank_canvas(), type="pil", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                brush=gr.Brush(default_size=BRUSH_RADIUS, colors=["#000000"], default_color="#000000",
                               color_mode="fixed"),
                layers=False, transforms=(), label="Draw here (mouse or finger)", elem_id="sketchpad",
            )
            clear_button = gr.Button("Clear", elem_id="clear", variant="secondary")
            upload = gr.Image(type="pil", image_mode=None, sources=["upload", "clipboard"], height=180,
                              label="...or upload a photo or scan of one handwritten digit (dark ink on paper)",
                              elem_id="upload")
        with gr.Column(scale=2):
            status = gr.Markdown(PROMPT, elem_id="status")
            prediction = gr.Label(num_top_classes=1, label="The model reads", elem_id="prediction")
            bars = gr.BarPlot(EMPTY_BARS, x="digit", y="probability", sort="x", y_lim=[0, 1], height=220,
                              label="Softmax over all ten digits", elem_id="probabilities")
        with gr.Column(scale=2):
            model_input = gr.Image(label="What the model sees: 28x28, one row per LSTM step", format="png",
                                   interactive=False, height=280, elem_id="model-input")
            gr.Markdown("Your drawing cropped, scaled to 20 px, centred by mass: the way MNIST was made.",
                        elem_classes="caption")
    gr.Markdown("## How the sequence is read")
    gr.Markdown(
        "The LSTM reads the 28 rows as a sequence, forward (top to bottom) and backward (bottom to top). "
        "Middle: for each row t, the softmax when the model is re-run on rows 1..t only (rows below "
        "blanked). Right: the same on rows t..28 only (rows above blanked). All 56 partial readings are "
        "one batched forward pass of the real model. Bright = probable.", elem_classes="caption")
    with gr.Row():
        with gr.Column(scale=3):
            reading_view = gr.Image(format="png", interactive=False, show_label=False, elem_id="row-reading",
                                    buttons=["fullscreen"])
            with gr.Row():
                row_slider = gr.Slider(1, 28, value=28, step=1, label="Row t", elem_id="row-slider", scale=4)
                play_button = gr.Button("Play", elem_id="play", scale=1)
            caption = gr.Markdown(elem_id="row-caption")
        with gr.Column(scale=2):
            gr.Markdown("**The network's memory**: the hidden state of both directions after each row of "
                        "your digit, one column per hidden unit (red positive, blue negative).",
                        elem_classes="caption")
            hidden_view = gr.Image(format="png", interactive=False, show_label=False, elem_id="hidden-states",
                                   buttons=["fullscreen"])
    example_files = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
    outputs = [status, prediction, bars, model_input, reading_view, hidden_view, caption, digit_state, row_slider]
    gr.Examples(example_files, inputs=upload, outputs=outputs, fn=read_image, run_on_click=True,
                cache_examples=False, examples_per_page=len(example_files),
                label="Real MNIST test digits: click one to run it through the same pipeline")

    sketchpad.input(read_sketch, sketchpad, outputs, api_name="predict", trigger_mode="always_last",
                    show_progress="hidden")
    upload.upload(read_image, upload, outputs, api_name="predict_image", show_progress="hidden")
    clear_button.click(clear, None, [sketchpad, upload, *outputs], api_name=False, show_progress="hidden")
    row_slider.input(show_row, [digit_state, row_slider], [reading_view, caption], api_name=False,
                     show_progress="hidden", trigger_mode="always_last")
    play_button.click(play, digit_state, [row_slider, reading_view, caption], api_name=False,
                      show_progress="hidden")

demo.queue(default_concurrency_limit=2, max_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the digit-reading app.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to bind (0.0.0.0 exposes it to the network)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public *.gradio.live link")
    args = parser.parse_args()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
                max_file_size="10mb", ssr_mode=False, footer_links=["api"], show_error=False)


if __name__ == "__main__":
    main()

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
import functools
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

# One intra-op thread per request: the batches are tiny (56 x 28 steps), and concurrent requests
# already keep both cores busy; more threads only spin (measured with bench/load.py).
torch.set_num_threads(1)
model = load_model()  # the only global state: loaded once, shared read-only by all requests


# ---------------------------------------------------------------------------------------------
# Inputs whose decoding errors reach the user. Gradio decodes uploads in the component's
# preprocess(), before any handler runs, and reports a failure there only as a bare "Error". A
# gr.Error raised there reaches the page and API clients as it is, so the two inputs say what was
# wrong instead.


def _unreadable(error: Exception) -> gr.Error:
    if isinstance(error, Image.DecompressionBombError):
        reason = f"it is too large (at most {2 * Image.MAX_IMAGE_PIXELS:,} pixels)"
    elif isinstance(error, Image.UnidentifiedImageError):
        reason = "it is not an image file (PNG, JPEG, WebP, ...)"
    else:
        reason = "the file is corrupt or truncated"
    return gr.Error(f"Could not read that image: {reason}.")


def readable_errors(preprocess):
    """Wrap a component's preprocess() so that its decoding errors become a gr.Error for the user.

    Applied to the two input instances below (not by subclassing: Gradio's component metaclass
    would write a .pyi stub next to this file on every import).
    """
    @functools.wraps(preprocess)
    def wrapped(payload):
        try:
            return preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise _unreadable(error) from None

    return wrapped


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
    """(28, 28) in [0, 1] -> (28, 28) uint8, exactly the model's input (the page enlarges it, crisp)."""
    return (digit * 255).round().astype(np.uint8)


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


# Layout of the reading view, in pixels: row numbers | model input | rows 1..t | rows t..28
_TOP, _LEFT, _GAP = 3 * CELL, 3 * CELL, CELL
_X_INPUT = _LEFT
_X_DOWN = _X_INPUT + 28 * CELL + _GAP
_X_UP = _X_DOWN + 10 * CELL + _GAP


@functools.cache
def _reading_frame() -> Image.Image:
    """The reading view's titles, digit labels and row numbers: the same for every digit, drawn once."""
    canvas = Image.new("RGB", (_X_UP + 10 * CELL + CELL, _TOP + 28 * CELL + CELL), "white")
    draw, small, tiny = ImageDraw.Draw(canvas), _font(13), _font(10)
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
    canvas.paste(_cells(_viridis(reading["top_down"]), CELL), (_X_DOWN, _TOP))  # (28, 10) probabilities
    canvas.paste(_cells(_viridis(reading["bottom_up"]), CELL), (_X_UP, _TOP))
    draw = ImageDraw.Draw(canvas)
    settle_down, settle_up = settling_rows(reading)
    for x0, settle in ((_X_DOWN, settle_down), (_X_UP, settle_up)):  # a marker where each direction settles
        y = _TOP + (settle - 1) * CELL + CELL // 2
        draw.polygon([(x0 - 8, y - 4), (x0 - 2, y), (x0 - 8, y + 4)], fill=(230, 90, 0))
    y = _TOP + (row - 1) * CELL
    draw.rectangle([_X_INPUT - 2, y - 1, _X_UP + 10 * CELL + 1, y + CELL], outline=(255, 120, 0), width=2)
    return canvas


def states_image(states: np.ndarray) -> np.ndarray:
    """(28, 2*hidden) hidden states -> (4*28, 2*hidden + 1, 3) uint8 heatmap: forward | backward.

    One pixel per hidden unit, four per image row (the page enlarges it with crisp pixels), so
    encoding it costs next to nothing per stroke.
    """
    hidden = states.shape[1] // 2
    separator = np.full((28, 1, 3), 255, np.uint8)
    heatmap = np.concatenate([_diverging(states[:, :hidden]), separator, _diverging(states[:, hidden:])], axis=1)
    return heatmap.repeat(4, axis=0)


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
#model-input img, #hidden-states img { width: 100% !important; height: 100% !important; object-fit: contain; }
.caption { font-size: 0.95rem; color: #555; }
"""

# delete_cache: every 10 minutes, drop cached uploads and pictures older than 20 minutes (every
# stroke uploads the canvas and gets 3 pictures back; on a public Space the disk would fill).
with gr.Blocks(title="BiLSTM reads your digit", analytics_enabled=False, delete_cache=(600, 1200)) as demo:
    gr.Markdown("# Draw a digit. A bidirectional LSTM reads it row by row.")
    digit_state = gr.State(None)  # this session's preprocessed (28, 28) digit, for the row slider
    with gr.Row():
        with gr.Column(scale=3):
            sketchpad = gr.Sketchpad(
                value=blank_canvas(), type="pil", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                brush=gr.Brush(default_size=BRUSH_RADIUS, colors=["#000000"], default_color="#000000",
                               color_mode="fixed"),
                layers=False, transforms=(), format="png", label="Draw here (mouse or finger)", elem_id="sketchpad",
            )
            clear_button = gr.Button("Clear", elem_id="clear", variant="secondary")
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
            upload = gr.Image(type="pil", image_mode=None, sources=["upload", "clipboard"], height=180,
                              label="...or upload a photo or scan of one handwritten digit (dark ink on paper)",
                              elem_id="upload")
    sketchpad.preprocess = readable_errors(sketchpad.preprocess)
    upload.preprocess = readable_errors(upload.preprocess)
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
            gr.Markdown("**The network's memory**: the hidden state after each row (top to bottom, 28 "
                        "rows). Left: the forward direction's 64 units, having read rows 1..t; right: the "
                        "backward direction's 64, having read rows t..28. Red positive, blue negative.",
                        elem_classes="caption")
            hidden_view = gr.Image(format="png", interactive=False, show_label=False, elem_id="hidden-states",
                                   height=340, buttons=["fullscreen"])
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

# Queue: 2 events at a time (= cores; one torch thread each). bench/load.py measured the same
# throughput, 28-31 predictions/s, with 1, 2, 4 and 8 (Gradio's event loop is the limit), so more
# only adds memory. At most 64 waiting: past that a client is told the queue is full instead of
# waiting minutes (64 waiting is about 2 s at 30 per second).
demo.queue(default_concurrency_limit=2, max_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the digit-reading app.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to bind (0.0.0.0 exposes it to the network)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public *.gradio.live link")
    args = parser.parse_args()
    # run_history=False: Gradio would otherwise keep every drawing in the browser's storage and offer
    # to upload the runs to a Hugging Face bucket; ssr_mode=False: no Node server beside Python.
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
                max_file_size="10mb", ssr_mode=False, run_history=False, footer_links=["api"], show_error=False)


if __name__ == "__main__":
    main()

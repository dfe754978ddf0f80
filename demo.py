"""Draw a digit or a number and watch a bidirectional LSTM read it, row by row, as you draw (Gradio app).

    python demo.py                 # http://127.0.0.1:7860, on the committed weights
    python demo.py --port 8080     # another port (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT work too)
    python demo.py --share         # a temporary public link (needs a network)

Importing this module builds `demo` and loads the model, and changes nothing process-wide and launches
nothing (tests and Hugging Face Spaces use it that way); launch() applies the process settings and starts
the server. This file is the wiring: layout, handlers, launch. The page itself is in web/ (frontend.py hands
it over): while the pen moves, the browser reads the drawing itself (web/engine.js, the same numbers as
readings.py, tested in tests/test_engine.py) and sends nothing; when the pen lifts, the page sends the
drawing once and this server reads it again: its reading is the page's final answer, and the one behind the
APIs, the compare toggle and the GIF.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch
from gradio.components.image_editor import EditorData
from PIL import Image
from pydantic import field_validator

import frontend
import limits
import server_log
from model import DEFAULT_WEIGHTS, TUTORIAL_WEIGHTS, load_model, read_rows, sha256_of, to_mnist_placed
from readings import Canvas, chosen_digit, digits_of, digits_of_upload, read_parts
from strokes import checked_seq, parse_drawing, render_drawing
from views import model_input_image, reading_image, row_caption, row_walk_gif, states_image

MAX_UPLOAD_PIXELS = 25_000_000  # uploads larger than this are refused from their header, before decoding
# Decoding is the cost of an upload: PNG, WebP, ... decode in full (~17 ns a pixel here), so they are held to a
# phone screenshot's size (3 MP: ~50 ms); a JPEG decodes at 1/2-1/8 scale by its DCT (Pillow's draft).
MAX_DECODED_PIXELS = 3_000_000
MAX_LAYERS = 4  # the v1 image API reads only the composite; a Sketchpad sends one layer
# Sessions whose state the server keeps; the oldest are dropped past this. Gradio keeps with each session a
# copy of every component's config and the last value of every input and output: ~110 KB a session for a
# reading of the page's drawing, 1.7 MB for a drawing of 10,000 points sent as a JSON object (bench/hostile.py
# row 15.9). 1,000 covers a full lecture hall with room to spare and bounds that to 1.7 GB.
SESSIONS = 1_000

model = load_model()  # loaded once, shared read-only by all requests
tutorial_model = load_model(TUTORIAL_WEIGHTS)  # the tutorial's recipe, both bugs in, for the compare toggle
GALLERY = {path.name: path for path in frontend.examples()}  # the gallery's digits by file name
TUTORIAL_SENTENCE = ("The tutorial's classifier reads output[:, -1, :]: the forward half of that vector has read all "
                     "28 rows, the backward half only row 28, which is blank for most digits.")


# ---------------------------------------------------------------------------------------------
# Process settings and launch options: one place, used by main(), the tests and Spaces (`python demo.py`).


def apply_process_settings() -> None:
    """Settings that belong to the serving process, not to importing this module."""
    # One intra-op thread per request: the batches are tiny (56 x 28 steps) and two requests at a time
    # already keep both cores busy; more threads only spin (measured with bench/load.py).
    torch.set_num_threads(1)
    # Gradio decodes uploads before our code sees them. Past 2 x this many pixels PIL refuses at open(),
    # from the header, before decoding, so a 12000x12000 upload costs milliseconds.
    Image.MAX_IMAGE_PIXELS = MAX_UPLOAD_PIXELS // 2
    # One line, not a traceback, for an error that is the request's fault; every log entry within a budget.
    server_log.install()
    # Connections that send no request headers are closed after limits.HEADER_SECONDS.
    limits.bound_connections()


def launch(request_limits: limits.Settings | None = None, **options) -> None:
    """Start the server with the app's settings; options override launch()'s (host, port, quiet, ...).

    request_limits: per-address and per-session limits (default: limits.Settings.from_environment()).
    """
    apply_process_settings()
    settings = dict(
        css=CSS,
        ssr_mode=False,  # no Node server beside Python
        run_history=False,  # Gradio would keep every drawing in the browser's storage and offer to upload it
        footer_links=["api"],
        show_error=False,  # a failure shows our message, never a traceback
        max_file_size=limits.MAX_UPLOAD_BYTES,
        enable_monitoring=False,  # /monitoring would answer anyone and print its secret URL to the log
        state_session_capacity=SESSIONS,
        # bounded before Gradio parses anything; the work limits read demo's queue
        app_kwargs={"middleware": limits.middleware(demo, request_limits)},
    )
    settings.update(options)
    demo.launch(**settings)


# ---------------------------------------------------------------------------------------------
# Inputs whose decoding errors reach the user. Gradio decodes uploads in the component's
# preprocess(), before any handler runs, and reports a failure there only as a bare "Error". A
# gr.Error raised there reaches the page and API clients as it is, so the inputs say what was wrong.


def _unreadable(error: Exception) -> gr.Error:
    if isinstance(error, Image.DecompressionBombError):
        reason = f"it is too large (at most {MAX_UPLOAD_PIXELS:,} pixels)"
    elif isinstance(error, Image.UnidentifiedImageError):
        reason = "it is not an image file (PNG, JPEG, WebP, ...)"
    else:
        reason = "the file is corrupt or truncated"
    return gr.Error(f"Could not read that image: {reason}.")


def readable_errors(preprocess):
    """Wrap a component's preprocess() so that its decoding errors become a gr.Error for the user.

    Applied to input instances below (not by subclassing: Gradio's component metaclass would write a
    .pyi stub next to this file on every import).
    """
    @functools.wraps(preprocess)
    def wrapped(payload):
        try:
            return preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise _unreadable(error) from None

    return wrapped


class FewLayers(EditorData):
    """A sketchpad's value: "composite" is the picture read (dark ink on white or transparent, light ink on dark);
    "background" and at most 4 "layers" may be sent and are not read."""

    # Gradio validates a payload in its event loop entry by entry and logs each error, so one body of 50,000
    # nulls held every user for over a second: `layers` is refused past a few entries before any is validated.
    # The page's own canvas sends no layers at all.
    @field_validator("layers", mode="before")
    @classmethod
    def _few(cls, layers):
        if isinstance(layers, list) and len(layers) > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS} layers, got {len(layers):,}")
        return layers


def cached_png(picture: np.ndarray | Image.Image, cache_dir: str) -> str:
    """Write a picture into Gradio's cache as <cache>/<sha256 of its PNG>/image.png, atomically -> path.

    Gradio 6.31 writes output pictures to the same content-named path with a plain write_bytes, so two
    identical outputs at once truncate a file that is being served (clients: "peer closed connection
    without sending complete message body"). Here the bytes go to a temp file that is renamed into place,
    and an existing file is reused, so a reader always sees a whole file.
    """
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    folder = Path(cache_dir) / hashlib.sha256(data).hexdigest()
    path = folder / "image.png"
    if path.exists():
        os.utime(path)  # delete_cache ages files by ctime: keep a file that is handed out again
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=".image.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(staging, path)
    finally:
        Path(staging).unlink(missing_ok=True)
    return str(path)


def atomic_pictures(component: gr.Image) -> gr.Image:
    """Make an output gr.Image write its pictures with cached_png (wrapping postprocess, as above)."""
    postprocess = component.postprocess

    @functools.wraps(postprocess)
    def wrapped(value):
        if isinstance(value, (np.ndarray, Image.Image)):
            value = cached_png(value, component.GRADIO_CACHE)
        return postprocess(value)

    component.postprocess = wrapped
    return component


# ---------------------------------------------------------------------------------------------
# Readings: one drawing or picture -> the page's answer and reading (readings.py), for the newest action only.

PROMPT = "Draw a digit (0-9) in the box."  # the v1 /predict API's status: it reads one digit
DIGITS = [str(d) for d in range(10)]
EMPTY_BARS = pd.DataFrame({"digit": DIGITS, "probability": [0.0] * 10})


def placed_digit(picture: object) -> tuple[np.ndarray, object] | None:
    """to_mnist_placed for the v1 API: None for no picture or no ink; a gr.Error saying why for a non-image."""
    try:
        return None if picture is None else to_mnist_placed(picture)
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None


def open_upload(path: str | None) -> Image.Image | None:
    """An uploaded file -> a decoded picture, at bounded cost; a gr.Error that says why for anything else.

    The size comes from the header before any decoding: over MAX_UPLOAD_PIXELS is refused; a JPEG is decoded
    reduced by its DCT to 512-1024 px a side (Pillow's draft); other formats
    decode in full and are held to MAX_DECODED_PIXELS."""
    if path is None:
        return None
    try:
        image = Image.open(path)
        pixels = image.width * image.height
        if pixels > MAX_UPLOAD_PIXELS:
            raise Image.DecompressionBombError("too many pixels")
        if image.format == "JPEG":
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", (512, 512))  # 1/2-1/8: >= 512 a side
        elif pixels <= MAX_DECODED_PIXELS:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise _unreadable(error) from None
    if image.format != "JPEG" and pixels > MAX_DECODED_PIXELS:
        raise gr.Error(f"Could not read that image: a {image.format or 'non-JPEG'} picture of {image.width}x"
                       f"{image.height} is too large; at most {MAX_DECODED_PIXELS:,} pixels (a JPEG may have up "
                       f"to {MAX_UPLOAD_PIXELS:,}).")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise _unreadable(error) from None
    return image


class ReadingOrder:
    """Per session, the newest action wins; an older one changes nothing on the page.

    The page numbers its actions (a stroke, Undo, Clear, a gallery digit, picking a digit of a number: seq),
    and readings of one session can finish out of order (two run at a time, and the finished drawing has a
    lane of its own). A reading whose seq is older than one already started is dropped before any work;
    each reading also takes a ticket when it starts, and is shown only if no reading of the session started
    after it. Keeps [ticket, newest seq] for the SESSIONS most recent sessions (about 100 bytes each).
    """

    def __init__(self, capacity: int):
        self.capacity, self.lock, self.sessions = capacity, threading.Lock(), OrderedDict()

    def start(self, session: str, seq: int | None = None) -> int | None:
        """-> this reading's ticket, or None if it is of an older action than one already started."""
        with self.lock:
            entry = self.sessions.pop(session, None) or [0, -1]
            self.sessions[session] = entry  # most recent last
            while len(self.sessions) > self.capacity:
                self.sessions.popitem(last=False)
            if seq is not None:
                if seq < entry[1]:
                    return None
                entry[1] = seq
            entry[0] += 1
            return entry[0]

    def is_newest(self, session: str, ticket: int) -> bool:
        with self.lock:
            entry = self.sessions.get(session)
            return entry is None or entry[0] == ticket


order = ReadingOrder(SESSIONS)


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


def with_tutorial(result: dict, digit: np.ndarray) -> dict:
    """The compare toggle: the tutorial's model reads the same 28x28 beside ours (its answer and row view)."""
    theirs = read_rows(tutorial_model, digit)
    probs, best = theirs["top_down"][-1], int(theirs["top_down"][-1].argmax())
    answer = {**result["answer"], "tutorial": {"digit": str(best), "confidence": round(float(probs[best]), 5),
                                               "probs": np.round(probs.astype(float), 5).tolist()}}
    reading = {**result["reading"], "tutorial": {"top_down": np.round(theirs["top_down"].astype(float), 5).tolist(),
                                                 "bottom_up": np.round(theirs["bottom_up"].astype(float), 5).tolist(),
                                                 "sentence": TUTORIAL_SENTENCE}}
    return {"answer": answer, "reading": reading}


def outputs_for(source: dict | None, compare: bool) -> dict:
    """What the session last read, source = {"parts", "canvas", "pick", "seq"} (readings.digits_of) -> the
    page's outputs keyed by component: the answer and reading values (each carrying seq), and the state."""
    result = None if source is None else read_parts(model, source["parts"], source["pick"], source["canvas"])
    if result is None:
        return {answer: None, reading: None, digit_state: None}
    if compare:
        result = with_tutorial(result, source["parts"][result["answer"]["pick"]]["digit"])
    seq = source["seq"]
    return {answer: {**result["answer"], "seq": seq}, reading: {**result["reading"], "seq": seq},
            digit_state: {**source, "pick": result["answer"]["pick"]}}


def _newest(source: dict | None, compare: bool, request: gr.Request | None) -> dict:
    session = _session(request)
    ticket = order.start(session, source["seq"] if source else None)
    if ticket is None:
        return gr.skip()  # the page already has a newer action on its way
    outputs = outputs_for(source, bool(compare))
    return outputs if order.is_newest(session, ticket) else gr.skip()


def read_strokes(drawing: object, compare: bool = False, request: gr.Request = None) -> dict:
    """A drawing {"width", "height", "strokes", "seq"?, "pick"?} (or its JSON text) -> the page's outputs."""
    return _newest(source_of(drawing), compare, request)


def source_of(drawing: object) -> dict:
    """A drawing -> {"parts", "canvas", "pick", "seq"}: its digits (readings.digits_of the picture the strokes
    make) and where they were drawn; a gr.Error that says what is wrong with a drawing that is not one."""
    try:
        checked = parse_drawing(drawing)
        parts = digits_of(render_drawing(checked)) if checked.strokes else []
    except ValueError as error:
        raise gr.Error(f"Could not read that drawing: {error}") from None
    return {"parts": parts, "canvas": Canvas.of(checked) if parts else None, "pick": checked.pick,
            "seq": checked.seq}


def read_example(selection: object, compare: bool = False, request: gr.Request = None) -> dict:
    """A gallery digit {"example": file name, "seq"} -> the page's outputs."""
    try:
        chosen = json.loads(selection) if isinstance(selection, str) else selection
        path = GALLERY[chosen["example"]]
        seq = checked_seq(chosen.get("seq"))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise gr.Error("No such gallery digit.") from None
    with Image.open(path) as picture:
        parts = digits_of(picture)
    return _newest({"parts": parts, "canvas": None, "pick": None, "seq": seq}, compare, request)


def read_image(path: str | None, compare: bool = False, action: object = None, request: gr.Request = None) -> dict:
    """An uploaded photo or scan -> the page's outputs. action: the page's {"upload": true, "seq"} for this upload
    (set when the upload started, so that a drawing begun after it wins); None from the API."""
    picture = open_upload(path)
    try:
        parts, paper = ([], None) if picture is None else digits_of_upload(picture)  # reader/paper.py
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None
    if paper is not None and paper.problem:
        raise gr.Error(paper.problem)  # no readable handwriting: the sentence says why (blank, dark, small, faint)
    seq = None
    if action:
        chosen = json.loads(action) if isinstance(action, str) else action
        try:
            seq = checked_seq(chosen.get("seq")) if isinstance(chosen, dict) and chosen.get("upload") else None
        except ValueError:
            seq = None  # an upload is read all the same; it just cannot overtake anything
    return _newest({"parts": parts, "canvas": None, "pick": None, "seq": seq}, compare, request)


def read_picture_api(path: str | None, compare: bool = False, request: gr.Request = None) -> dict:
    """/predict_image: a photo or scan -> answer and reading."""
    return read_image(path, compare, None, request)


def compare_changed(source: dict | None, compare: bool, request: gr.Request = None) -> dict:
    """The compare toggle: the session's digits read again, with or without the tutorial's model beside ours."""
    if source is None:
        return {answer: None, reading: None}
    return _newest(source, compare, request)


def export_gif(source: dict | None) -> gr.File:
    """The page's GIF button: the row walk of the digit the session last read, as an animated GIF (one frame per
    row), shown (the file box is hidden until there is a file) and downloaded."""
    return gr.File(gif_path(source), visible=True)


def gif_path(source: dict | None) -> str:
    """The row walk of a source's digit as an animated GIF in Gradio's cache -> its path."""
    if not source or not source["parts"]:
        raise gr.Error("Draw a digit first: the GIF walks through its 28 rows.")
    return _gif_file(source["parts"][source["pick"] or 0]["digit"])


def gif_of_drawing(drawing: object) -> str:
    """/row_walk_gif for scripts: a drawing (as /predict_strokes takes it) -> the GIF of the digit it walks."""
    source = source_of(drawing)
    if source["parts"]:
        source["pick"] = chosen_digit(source["parts"], source["pick"], source["canvas"])
    return gif_path(source)


def _gif_file(digit: np.ndarray) -> str:
    data = row_walk_gif(digit, read_rows(model, digit))
    folder = Path(tempfile.mkdtemp(dir=demo.GRADIO_CACHE))
    path = folder / "row-walk.gif"
    path.write_bytes(data)
    return str(path)


def read_sketch_v1(sketch: dict | None) -> dict:
    """/predict, the first version's image API: {"background", "layers", "composite"} -> its 8 outputs.

    status, label, bars, the 28x28 model input, the labelled reading view (outlined at row 28), the hidden
    states, the caption of row 28 and the row; pictures as files. Kept as it was for scripts that use it.
    """
    if sketch is not None and (not isinstance(sketch, dict) or "composite" not in sketch):
        raise gr.Error("Could not read that input: expected the sketchpad's {'composite': image, ...}")
    placed = placed_digit(None if sketch is None else sketch["composite"])
    if placed is None:
        return {api_status: PROMPT, api_label: None, api_bars: EMPTY_BARS, api_model_input: None,
                api_reading: None, api_hidden: None, api_caption: "", api_row: 28}
    digit = placed[0]
    result = read_rows(model, digit)
    probs = result["top_down"][-1]
    return {
        api_status: "",
        api_label: {d: float(p) for d, p in zip(DIGITS, probs)},
        api_bars: pd.DataFrame({"digit": DIGITS, "probability": probs.astype(float)}),
        api_model_input: model_input_image(digit),
        api_reading: reading_image(digit, result, 28),
        api_hidden: states_image(result["states"]),
        api_caption: row_caption(result, 28).replace("Row 28.", "**Row 28.**", 1),
        api_row: 28,
    }


# ---------------------------------------------------------------------------------------------
# Layout: Gradio's rows and columns around the page's parts (web/*.html); each part attaches itself to the
# page's script (web/page.js) when it loads. The scripts, the model's weights (frontend.model_script: 264 KB)
# and the page's constants come in the drawing surface's <head>: inline, nothing fetched from anywhere.

SCRIPTS = "".join(f"<script>{text}</script>" for text in [
    frontend.config_script(), frontend.model_script(model, sha256_of(DEFAULT_WEIGHTS)),
    *(frontend.script(name) for name in (*frontend.SCRIPTS, "gradio.js"))])


def attach(part: str, events: tuple[str, ...] = ()) -> str:
    """js_on_load of a part: hand it to web/page.js (loaded by the sketchpad's head; wait for it if need be).
    events: the events page.js triggers on it (Gradio registers custom events it finds quoted here)."""
    return (f"const events = {json.dumps(list(events))};  // page.js triggers these\n"
            f"const go = () => BiLSTMPage.attach({json.dumps(part)}, element, {{props, trigger, watch}});\n"
            "if (window.BiLSTMPage) go(); else document.addEventListener('bilstm-ready', go, {once: true});")


CSS = frontend.stylesheet() + """
.gradio-container { max-width: 1400px !important; }
#upload .or, footer .show-api, footer a { color: #4b5563 !important; }  /* Gradio's greys fail 4.5:1 on white */
"""

# The shapes of the values, for the API page and gradio_client's view_api() (a gr.HTML alone says `str`).
NUMBER, TEXT, WHOLE, YES_NO = {"type": "number"}, {"type": "string"}, {"type": "integer"}, {"type": "boolean"}


def _list(item: dict, description: str = "") -> dict:
    return {"type": "array", "items": item, **({"description": description} if description else {})}


def _maybe(schema: dict, description: str) -> dict:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


def _described(schema: dict, description: str) -> dict:
    return {**schema, "description": description}


PROBS = _list(NUMBER, "softmax over the digits 0-9")
ROWS = _list(_list(NUMBER))
DIGIT = {"type": "object", "properties": {
    "digit": _described(TEXT, "best guess, '0'-'9'"), "confidence": NUMBER, "probs": PROBS,
    "not_a_digit": _described(YES_NO, "true when the model says this is not a digit"),
    "box": _list(NUMBER, "x0, y0, x1, y1 of its ink, canvas pixels")}}
ANSWER_SCHEMA = {"type": "object", "description": "what the model reads", "properties": {
    "digit": _described(TEXT, "the best guess for the digit walked (the only one, for a single digit)"),
    "confidence": NUMBER, "probs": PROBS, "not_a_digit": YES_NO,
    "number": _maybe(TEXT, "all digits left to right, or null when a part is not a digit"),
    "digits": _list(DIGIT, "every digit, left to right"), "pick": _described(WHOLE, "index of the digit walked"),
    "seq": _maybe(WHOLE, "the action this answers")}}
READING_SCHEMA = {"type": "object", "description": "how the digit walked is read, row by row", "properties": {
    "model_input": _described(ROWS, "28 x 28 in [0, 1], ink = 1: what the model reads"),
    "top_down": _described(ROWS, "28 x 10: softmax reading rows 1..t only"),
    "bottom_up": _described(ROWS, "28 x 10: softmax reading rows t..28 only"),
    "states": _described(ROWS, "28 x 128: hidden state after row t, forward units then backward"),
    "importance": {"type": "object", "properties": {"answer": WHOLE, "probability": NUMBER,
                                                    "drop": _list(NUMBER, "probability lost with row t blanked")}},
    "bands": _maybe({"type": "object", "properties": {"x": _list(NUMBER), "rows": ROWS}},
                    "where each row lies on the canvas, as fractions of it"),
    "pick": WHOLE, "digit": TEXT, "not_a_digit": YES_NO, "points": _maybe(WHOLE, "points of the drawing read"),
    "seq": _maybe(WHOLE, "the action this answers")}}
DRAWING_SCHEMA = {"type": "object", "description": "a drawing, or its JSON text", "properties": {
    "width": _described(WHOLE, "canvas pixels, 16-2048"), "height": _described(WHOLE, "canvas pixels, 16-2048"),
    "strokes": _described(_list(_list(_list(NUMBER))), "[[[x, y], ...], ...]: at most 500 strokes, 10,000 points"),
    "pick": _maybe(WHOLE, "which digit of a number to walk (default: the last one drawn)"),
    "seq": _maybe(WHOLE, "the page numbers its actions; an older one is not read after a newer one")}}


def described(component, schema: dict, name: str):
    """Name and type a gr.HTML by what it carries on the API page (it would say `value_9`, type str)."""
    component.label = name
    component.api_info = lambda: schema
    return component


with gr.Blocks(title="BiLSTM reads your digit", analytics_enabled=False, delete_cache=(600, 1200)) as demo:
    with gr.Row(equal_height=False):
        gr.Markdown("# A bidirectional LSTM reads your digit, row by row, as you draw", elem_id="title")
        gr.HTML(frontend.fragment("keys"), elem_id="keys", apply_default_css=False)
    digit_state = gr.State(None)  # what this session last read: {"parts", "canvas", "pick", "seq"}
    with gr.Row(equal_height=False, elem_id="main"):
        with gr.Column(scale=5, min_width=300):
            sketchpad = described(gr.HTML(None, html_template=frontend.fragment("sketchpad"), head=SCRIPTS,
                                          js_on_load=attach("sketchpad", ("lift",)), apply_default_css=False, elem_id="sketchpad",
                                          padding=False), DRAWING_SCHEMA, "drawing")
            gallery = gr.HTML(None, html_template=frontend.gallery_html(), js_on_load=attach("gallery", ("select",)),
                              apply_default_css=False, elem_id="gallery")
        with gr.Column(scale=2, min_width=200):
            answer = described(gr.HTML(None, html_template=frontend.fragment("answer"), js_on_load=attach("answer"),
                                       apply_default_css=False, elem_id="answer"), ANSWER_SCHEMA, "answer")
            compare = gr.Checkbox(False, label="Compare with the tutorial's model (its two bugs in)", elem_id="compare")
        with gr.Column(scale=5, min_width=320):
            reading = described(gr.HTML(None, html_template=frontend.fragment("reading"), js_on_load=attach("reading"),
                                        apply_default_css=False, elem_id="reading"), READING_SCHEMA, "reading")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            upload = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"], height=170,
                              label="...or upload a photo or scan of a handwritten digit or number (dark ink on paper)",
                              elem_id="upload")
        with gr.Column(scale=7):
            gr.Markdown("The model reads your drawing cropped, scaled to 20 px and centred by mass, the way MNIST was "
                        "made; digits side by side are read one by one. Each row of the 28x28 is one step of the LSTM, "
                        "read top to bottom and bottom to top; the heatmaps re-run the real model on rows 1..t and "
                        "t..28 (56 readings); bright = probable. The row-importance bars re-run it with one row "
                        "blanked at a time (28 readings). While you draw, your browser runs the model itself; when "
                        "the pen lifts, the server reads the drawing again and shows its reading.",
                        elem_classes="caption")
            with gr.Row():
                gif_button = gr.Button("Download the row walk as a GIF", elem_id="export-gif", variant="secondary")
                gif_file = gr.File(label="Row walk GIF (one frame per row)", elem_id="gif-file", height=60, visible=False)
    outputs = [answer, reading, digit_state]
    # The upload is opened (its header only) in preprocess(), and decoded, bounded, by read_image (open_upload).
    upload.preprocess = readable_errors(upload.preprocess)

    # The first version's image API, kept for scripts: /predict takes the Sketchpad's value.
    with gr.Group(visible=False):
        api_sketch = gr.Sketchpad(type="pil", image_mode="RGBA", label="sketch")
        api_status = gr.Markdown(label="status")
        api_label = gr.Label(num_top_classes=1, label="label")
        api_bars = gr.BarPlot(EMPTY_BARS, x="digit", y="probability", sort="x", y_lim=[0, 1], label="probabilities")
        api_model_input = atomic_pictures(gr.Image(format="png", label="model input"))
        api_reading = atomic_pictures(gr.Image(format="png", label="reading view"))
        api_hidden = atomic_pictures(gr.Image(format="png", label="hidden states"))
        api_caption = gr.Markdown(label="caption")
        api_row = gr.Number(precision=0, label="row")
        api_drawing = described(gr.HTML(None, visible=False), DRAWING_SCHEMA, "drawing")
        api_gif = gr.File(label="row walk GIF")
        api_image = gr.Image(type="filepath", image_mode=None, label="picture")
    api_sketch.preprocess = readable_errors(api_sketch.preprocess)
    api_sketch.data_model = FewLayers
    api_image.preprocess = readable_errors(api_image.preprocess)

    # The finished drawing (the pen lifted, Undo, Clear, another digit picked): one request per action, in a
    # lane of its own, two at a time (= cores), so that it never waits behind the gallery, uploads or GIFs.
    # always_last: while one is on its way, only the newest next one is sent.
    sketchpad.lift(read_strokes, [sketchpad, compare], outputs, api_name="predict_strokes",
                   api_description="Read a drawing: the number and its digits, and the row-by-row reading of one digit.",
                   trigger_mode="always_last", show_progress="hidden", concurrency_id="finished", concurrency_limit=2)
    gallery.select(read_example, [gallery, compare], outputs, api_visibility="private", trigger_mode="always_last",
                   show_progress="hidden")
    # An upload carries the page's number for it (set on the gallery part when the upload started).
    upload.upload(read_image, [upload, compare, gallery], outputs, api_visibility="private", show_progress="hidden")
    api_image.change(read_picture_api, [api_image, compare], outputs, api_name="predict_image",
                     api_description="Read a photo or scan of a handwritten digit or number (dark ink on light paper).")
    compare.change(compare_changed, [digit_state, compare], outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden")
    # The GIF: at most one being made at a time (about a fifth of a second of CPU each), then downloaded.
    gif_button.click(export_gif, digit_state, gif_file, api_visibility="private", concurrency_id="gif",
                     concurrency_limit=1).then(None, js="() => document.querySelector('#gif-file a')?.click()")
    api_drawing.change(gif_of_drawing, api_drawing, api_gif, api_name="row_walk_gif", concurrency_id="gif",
                       api_description="The row walk of a drawing's digit as an animated GIF (28 frames), for slides.",
                       concurrency_limit=1)
    api_sketch.input(read_sketch_v1, api_sketch, [api_status, api_label, api_bars, api_model_input, api_reading,
                                                  api_hidden, api_caption, api_row], api_name="predict",
                     api_description="The first version's API: read one digit from a sketchpad image; 8 outputs.")

# Queue: 2 events at a time (= cores; one torch thread each). At most 256 waiting: past that a client is
# told the queue is full instead of waiting (a reading is ~20 ms of the server's event loop, so 256 take ~5 s;
# a room of 128 people drawing at once peaks past 64 waiting). One address holds at most 16 of the places
# (limits.PER_ADDRESS_EVENTS). status_update_rate: with "auto" Gradio sends every waiting event its queue
# position each time any event finishes, n^2 messages for n people drawing; the page never shows positions
# (show_progress="hidden"), so once a minute is enough.
demo.queue(default_concurrency_limit=2, max_size=256, status_update_rate=60)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the digit-reading app.")
    parser.add_argument("--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT or 7860")
    parser.add_argument("--host", default=None,
                        help="address to bind; default $GRADIO_SERVER_NAME or 127.0.0.1 (0.0.0.0 exposes it)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public *.gradio.live link")
    parser.add_argument("--per-address-events", type=int, default=None,
                        help=f"events one client address may have waiting or running (default "
                             f"$DEMO_PER_ADDRESS_EVENTS or {limits.PER_ADDRESS_EVENTS}; 0: no limit); raise it "
                             "for an audience that reaches the app through one NAT")
    parser.add_argument("--per-address-rate", type=float, default=None,
                        help=f"events a second one client address may start (default $DEMO_PER_ADDRESS_RATE or "
                             f"{limits.PER_ADDRESS_RATE:g}; 0: no limit)")
    parser.add_argument("--forwarded-allow-ips", default=None,
                        help="addresses or networks of a proxy in front (uvicorn's $FORWARDED_ALLOW_IPS; default "
                             "127.0.0.1,::1, and private networks on a Hugging Face Space): from these, the client "
                             "is the last address in X-Forwarded-For that is not one of them, and the per-address "
                             "limits count that address")
    args = parser.parse_args()
    if args.forwarded_allow_ips is not None:
        os.environ["FORWARDED_ALLOW_IPS"] = args.forwarded_allow_ips  # read by uvicorn.Config, which Gradio makes
    elif os.environ.get("SPACE_ID") and "FORWARDED_ALLOW_IPS" not in os.environ:
        os.environ["FORWARDED_ALLOW_IPS"] = limits.PRIVATE_NETWORKS  # on a Space: its proxies, on private networks
    request_limits = limits.Settings.from_environment()
    if args.per_address_events is not None:
        request_limits = request_limits.with_events(args.per_address_events)
    if args.per_address_rate is not None:
        request_limits = request_limits.with_rate(args.per_address_rate)
    # launch() reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT itself when these are None
    launch(request_limits, server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()

"""Draw a digit and watch a bidirectional LSTM read it, row by row, while you draw (Gradio app).

    python demo.py                 # http://127.0.0.1:7860, on the committed weights
    python demo.py --port 8080     # another port (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT work too)
    python demo.py --share         # a temporary public link (needs a network)

Importing this module builds `demo` and loads the model, and changes nothing process-wide and launches
nothing (tests and Hugging Face Spaces use it that way); launch() applies the process settings and starts
the server. Every number on the page comes from the model's real input, outputs and hidden states: see
model.to_mnist, model.read_rows and views.py.

How a stroke becomes a reading: canvas.js draws the ink in the browser and sends the strokes as JSON (at
most every 100 ms while the pen moves, and at once when it lifts) to read_strokes(); strokes.py draws
them as the person saw them and to_mnist reads that picture like any other. The row walk (slider, Play,
keys) runs in the browser (reading.js) on the 28 rows sent with each reading, so it costs the server
nothing and can never show rows of an older digit.
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

import limits
import server_log
from model import TUTORIAL_WEIGHTS, load_model, read_rows, row_importance, to_mnist_placed
from strokes import Drawing, parse_drawing, render_drawing
from views import (
    belief_svg,
    importance_scale,
    importance_svg,
    model_input_image,
    png_data_uri,
    reading_image,
    row_belief,
    row_caption,
    row_walk_gif,
    settling_rows,
    settling_sentence,
    spoken_summary,
    states_image,
    viridis,
)

HERE = Path(__file__).resolve().parent
CANVAS = 280  # the page's canvas in canvas pixels (CSS scales it to the screen); strokes.py sizes the brush
EXAMPLES_DIR = HERE / "examples"
MAX_UPLOAD_PIXELS = 25_000_000  # uploads larger than this are refused from their header, before decoding
MAX_LAYERS = 4  # the v1 image API reads only the composite; a Sketchpad sends one layer
# Sessions whose state the server keeps; the oldest are dropped past this. Gradio keeps with each session a
# copy of every component's config and the last value of every input and output: ~110 KB a session for a
# reading of the page's drawing, 1.7 MB for a drawing of 10,000 points sent as a JSON object (bench/hostile.py
# row 15.9). 1,000 covers a full lecture hall with room to spare and bounds that to 1.7 GB.
SESSIONS = 1_000

model = load_model()  # loaded once, shared read-only by all requests
tutorial_model = load_model(TUTORIAL_WEIGHTS)  # the tutorial's recipe, both bugs in, for the compare toggle
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
    """The v1 API's input model: Gradio's EditorData, with `layers` refused past a few entries before any is
    validated. Gradio validates a payload in its event loop entry by entry and logs each error, so one body
    of 50,000 nulls held every user for over a second; the page's own canvas sends no layers at all."""

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
# Readings: one image -> everything the page shows (pure functions of the model's numbers).

PROMPT = "Draw a digit (0-9) in the box: the answer follows your pen."
EMPTY_DRAWING = json.dumps({"width": CANVAS, "height": CANVAS, "strokes": []})
DIGITS = [str(d) for d in range(10)]
EMPTY_BARS = pd.DataFrame({"digit": DIGITS, "probability": [0.0] * 10})


def _bands(placement, width: int, height: int) -> dict:
    """Which band of the canvas becomes each row of the 28x28, as fractions of the canvas: from to_mnist's
    own crop, scale and shift (model.Placement), clipped to the canvas."""
    rows = np.clip(placement.input_rows() / height, 0.0, 1.0)  # (28, 2)
    x0, x1 = placement.input_columns()
    return {"x": [round(max(0.0, x0 / width), 4), round(min(1.0, x1 / width), 4)],
            "rows": np.round(rows, 4).tolist()}


def reading_value(digit: np.ndarray, reading: dict[str, np.ndarray], bands: dict | None = None,
                  points: int | None = None, theirs: dict[str, np.ndarray] | None = None) -> dict:
    """The reading views' value (reading.js renders it): pictures at native size as data URIs, charts as
    SVG, the 28 rows' captions, where each direction settles, and for a drawing the canvas bands and its
    number of points (which drawing this reading is of; None when the input was not drawn). theirs: the
    tutorial's model's read_rows of the same digit, for its row view beside ours."""
    settle_down, settle_up = settling_rows(reading)
    importance = row_importance(model, digit)
    value = {
        "points": points,
        "model_input": png_data_uri(model_input_image(digit)),  # (28, 28): ink white, as MNIST
        "top_down": png_data_uri(viridis(reading["top_down"])),  # (28, 10)
        "bottom_up": png_data_uri(viridis(reading["bottom_up"])),
        "hidden": png_data_uri(states_image(reading["states"], row_height=1, levels=33)),  # (28, 129)
        "belief": belief_svg(reading),
        "importance": importance_svg(importance),
        "importance_scale": importance_scale(importance),
        "captions": [row_belief(reading, row) for row in range(1, 29)],
        "settling": settling_sentence(reading),
        "settle": [settle_down, settle_up],
        "spoken": spoken_summary(reading),
        "bands": bands,
        "tutorial": None,
    }
    if theirs is not None:
        value["tutorial"] = {"top_down": png_data_uri(viridis(theirs["top_down"])),
                             "bottom_up": png_data_uri(viridis(theirs["bottom_up"])), "sentence": TUTORIAL_SENTENCE}
    return value


def answer_value(probs: np.ndarray, tutorial_probs: np.ndarray | None = None) -> dict:
    """The answer's value: the top digit, its probability, all ten probabilities in 0-9 order, and with
    compare on, the tutorial's model's probabilities for the same digit."""
    best = int(probs.argmax())
    value = {"digit": str(best), "confidence": float(probs[best]), "probs": [round(float(p), 5) for p in probs]}
    if tutorial_probs is not None:
        theirs = int(tutorial_probs.argmax())
        value["tutorial"] = {"digit": str(theirs), "confidence": float(tutorial_probs[theirs]),
                             "probs": [round(float(p), 5) for p in tutorial_probs]}
    return value


def placed_digit(picture: object) -> tuple[np.ndarray, object] | None:
    """to_mnist_placed for the app: None for no picture or no ink; a gr.Error saying why for a non-image."""
    try:
        return None if picture is None else to_mnist_placed(picture)
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None


def outputs_for(picture: object, drawing: Drawing | None = None, compare: bool = False) -> dict:
    """One picture (drawn, uploaded or sent) -> the page's outputs, keyed by component.

    drawing: the strokes it was drawn from, if it came from the canvas (then the canvas stays as it is and
    the page can mark on it which band became row t); otherwise the canvas is cleared, since the page now
    reads something else. compare: the tutorial's model reads it too.
    """
    drawn = drawing is not None
    placed = placed_digit(picture)
    cleared = {} if drawn else {sketchpad: EMPTY_DRAWING}
    if placed is None:
        return {answer: None, reading: None, digit_state: None, **cleared}
    digit, placement = placed
    source = {"digit": digit, "bands": _bands(placement, drawing.width, drawing.height) if drawn else None,
              "points": sum(len(stroke) for stroke in drawing.strokes) if drawn else None}
    return {**outputs_for_digit(source, compare), **cleared}


def outputs_for_digit(source: dict, compare: bool) -> dict:
    """A preprocessed digit {"digit", "bands", "points"} -> answer, reading and the session's state."""
    digit = source["digit"]
    result = read_rows(model, digit)
    theirs = read_rows(tutorial_model, digit) if compare else None
    return {  # top_down[-1] is the full image: = predict(model, picture)
        answer: answer_value(result["top_down"][-1], None if theirs is None else theirs["top_down"][-1]),
        reading: reading_value(digit, result, source["bands"], source["points"], theirs),
        digit_state: source,
    }


def compare_changed(source: dict | None, compare: bool, request: gr.Request = None) -> dict:
    """The compare toggle: the same digit read again, with or without the tutorial's model beside ours."""
    if source is None:
        return {answer: None, reading: None}
    session = _session(request)
    ticket = order.start(session)
    outputs = outputs_for_digit(source, compare)
    return outputs if order.is_newest(session, ticket) else gr.skip()


def export_gif(source: dict | None) -> str:
    """The row walk of the current digit as an animated GIF (one frame per row) -> its path."""
    if source is None:
        raise gr.Error("Draw a digit first: the GIF walks through its 28 rows.")
    data = row_walk_gif(source["digit"], read_rows(model, source["digit"]))
    folder = Path(tempfile.mkdtemp(dir=demo.GRADIO_CACHE))
    path = folder / "row-walk.gif"
    path.write_bytes(data)
    return str(path)


class ReadingOrder:
    """Per session, the newest reading wins; an older one changes nothing on the page.

    Readings of one session can finish out of order: Gradio runs two events at a time, the finished drawing
    has a lane of its own, and a gallery click can overtake a stroke. Each reading takes a ticket when it
    starts; it is shown only if no reading of the session started after it. A drawing also carries the
    page's send number (seq): one older than a drawing already started is dropped before any work.
    Keeps [ticket, newest seq] for the SESSIONS most recent sessions (about 100 bytes each).
    """

    def __init__(self, capacity: int):
        self.capacity, self.lock, self.sessions = capacity, threading.Lock(), OrderedDict()

    def start(self, session: str, seq: int | None = None) -> int | None:
        """-> this reading's ticket, or None if it is an older drawing than one already started."""
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


def read_strokes(drawing: object, compare: bool = False, request: gr.Request = None) -> dict:
    """The canvas's strokes ({"width", "height", "strokes"}, or its JSON text) -> the page's outputs."""
    try:
        checked = parse_drawing(drawing)
    except ValueError as error:
        raise gr.Error(f"Could not read that drawing: {error}") from None
    session = _session(request)
    ticket = order.start(session, checked.seq)
    if ticket is None:
        return gr.skip()  # the page already has a newer drawing on its way
    outputs = outputs_for(render_drawing(checked), checked, bool(compare))
    return outputs if order.is_newest(session, ticket) else gr.skip()


def read_image(image: Image.Image | None, compare: bool = False, request: gr.Request = None) -> dict:
    """An uploaded photo or a gallery digit -> the page's outputs (and the canvas cleared)."""
    session = _session(request)
    ticket = order.start(session)
    outputs = outputs_for(image, compare=bool(compare))
    return outputs if order.is_newest(session, ticket) else gr.skip()


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
# Layout

CANVAS_JS = (HERE / "canvas.js").read_text()
READING_JS = (HERE / "reading.js").read_text()

CANVAS_HTML = f"""
<div class="pad">
  <div class="surface">
    <canvas width="{CANVAS}" height="{CANVAS}" aria-label="Drawing area: draw one digit"></canvas>
    <div class="band" hidden></div>
  </div>
  <div class="tools">
    <button type="button" id="undo" class="tool">Undo</button>
    <button type="button" id="clear" class="tool">Clear</button>
  </div>
</div>
"""

# The answer: the top digit as gr.Label shows it, and the softmax over all ten digits in 0-9 order; with
# compare on, the tutorial's model's answer and softmax beside ours.
ANSWER_HTML = """
<div class="answer ${value && value.tutorial ? 'comparing' : ''}">
  <p id="status">${value ? '' : '""" + PROMPT + """'}</p>
  <div class="pair">
    <div id="prediction">
      <span class="title">${value && value.tutorial ? 'Ours reads' : 'The model reads'}</span>
      <h2 data-testid="label-output-value">${value ? value.digit : ''}</h2>
      <span class="confidence">${value ? Math.round(100 * value.confidence) + '%' : ''}</span>
    </div>
    ${value && value.tutorial ? `<div id="tutorial-prediction">
      <span class="title">The tutorial's reads</span>
      <h2>${value.tutorial.digit}</h2>
      <span class="confidence">${Math.round(100 * value.tutorial.confidence)}%</span>
    </div>` : ''}
  </div>
  ${[['probabilities', 'Softmax over all ten digits', value ? value.probs : null, value ? value.digit : null],
     ...(value && value.tutorial ? [['tutorial-probabilities', "The tutorial's model's softmax",
                                     value.tutorial.probs, value.tutorial.digit]] : [])]
    .map(([id, title, probs, top]) => `<figure id="${id}" role="img"
      aria-label="${title}: ${probs ? probs.map((p, d) => d + ' ' + Math.round(100 * p) + '%').join(', ') : 'no reading'}">
      <figcaption>${title}</figcaption>
      <div class="bars">${(probs || Array(10).fill(0)).map((p, d) => `<div class="bar ${String(d) === top ? 'top' : ''}">
        <span class="fill" style="height:${100 * p}%"></span><span class="digit">${d}</span></div>`).join('')}</div>
    </figure>`).join('')}
</div>
"""

# The reading views. reading.js sets `row` (1..28) and `playing`; `value` comes from the server.
ROW_MARK = '<div class="row-mark" style="top:${(row - 1) / 28 * 100}%"></div>'
READING_HTML = """
<div class="reading ${value ? '' : 'empty'}" data-points="${value && value.points !== null ? value.points : ''}">
  <div class="views">
    <figure id="model-input">
      <figcaption>What the model sees: 28x28, one row per step</figcaption>
      <div class="pic square">
        ${value ? `<img alt="the 28x28 input" src="${value.model_input}">` : `<span class="placeholder">no ink yet</span>`}
        ROW_MARK
      </div>
    </figure>
    <figure id="row-reading">
      <figcaption>Softmax, rows 1..t | rows t..28</figcaption>
      <div class="heads"><span>${[0,1,2,3,4,5,6,7,8,9].join('</span><span>')}</span><b></b><span>${[0,1,2,3,4,5,6,7,8,9].join('</span><span>')}</span></div>
      <div class="pair">
        <div class="pic strip">
          ${value ? `<img alt="softmax reading rows 1 to t" src="${value.top_down}">` : ''}
          ${value ? `<i class="settle" style="top:${(value.settle[0] - 0.5) / 28 * 100}%"></i>` : ''}
          ROW_MARK
        </div>
        <div class="pic strip">
          ${value ? `<img alt="softmax reading rows t to 28" src="${value.bottom_up}">` : ''}
          ${value ? `<i class="settle" style="top:${(value.settle[1] - 0.5) / 28 * 100}%"></i>` : ''}
          ROW_MARK
        </div>
      </div>
    </figure>
    <figure id="belief-curves">
      <figcaption>p(answer) <b class="down">down</b> <b class="up">up</b></figcaption>
      <div class="heads"><span>0</span><span>1</span></div>
      <div class="pic chart">${value ? value.belief : ''} ROW_MARK</div>
    </figure>
    <figure id="row-importance">
      <figcaption>Blank one row: lost p</figcaption>
      <div class="heads"><span>0</span><span>${value ? value.importance_scale : ''}</span></div>
      <div class="pic chart">${value ? value.importance : ''} ROW_MARK</div>
    </figure>
  </div>
  <div class="walk">
    <label for="row-slider">Row <output>${row}</output></label>
    <input type="range" id="row-slider" min="1" max="28" step="1" value="${row}" ${value ? '' : 'disabled'}>
    <button type="button" id="play" ${value ? '' : 'disabled'}>${playing ? 'Pause' : 'Play'}</button>
  </div>
  <p id="row-caption">${value ? value.captions[row - 1] + ' ' + value.settling : ''}</p>
  <p class="spoken" aria-live="polite">${value ? value.spoken : ''}</p>
  ${value && value.tutorial ? `<div id="tutorial-reading">
    <p>${value.tutorial.sentence}</p>
    <figure><figcaption>The tutorial's model: softmax, rows 1..t | rows t..28</figcaption>
      <div class="pair">
        <div class="pic strip"><img alt="tutorial's softmax reading rows 1 to t" src="${value.tutorial.top_down}">ROW_MARK</div>
        <div class="pic strip"><img alt="tutorial's softmax reading rows t to 28" src="${value.tutorial.bottom_up}">ROW_MARK</div>
      </div>
    </figure>
  </div>` : ''}
  <figure id="hidden-states">
    <figcaption>The network's memory after each row: forward 64 units (rows 1..t) | backward 64 (rows t..28).
      Red positive, blue negative.</figcaption>
    <div class="pic wide">
      ${value ? `<img alt="hidden states, 28 rows by 128 units" src="${value.hidden}">` : ''}
      ROW_MARK
    </div>
  </figure>
</div>
""".replace("ROW_MARK", ROW_MARK)

KEYS_HINT = ("Keys: <kbd>Space</kbd> play/pause the rows, <kbd>&larr;</kbd> <kbd>&rarr;</kbd> one row, <kbd>Home</kbd> "
             "<kbd>End</kbd> rows 1/28, <kbd>C</kbd> clear, <kbd>U</kbd> or <kbd>Ctrl+Z</kbd> undo.")

CSS = """
.gradio-container { max-width: 1400px !important; }
#title h1 { margin: 0; font-size: 1.35rem; }
#keys { font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0; }
#keys kbd { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 0 4px; font-size: 0.8rem; }
#answer .answer { display: flex; flex-direction: column; gap: 8px; }
#answer #status { min-height: 1.4em; margin: 0; color: var(--body-text-color-subdued); }
#answer .pair { display: flex; gap: 8px; }
#answer #prediction, #answer #tutorial-prediction { flex: 1; border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: 6px 10px; text-align: center; }
#answer #tutorial-prediction { opacity: 0.85; }
#answer .title { display: block; text-align: left; font-size: 0.85rem; color: var(--body-text-color-subdued); }
#answer h2 { font-size: 5.5rem; line-height: 1.05; margin: 0; min-height: 1.05em; font-weight: 700; }
#answer .comparing h2 { font-size: 3.5rem; }
#answer .confidence { font-size: 1.2rem; font-weight: 600; }
#answer figure { margin: 0; }
#answer figcaption { font-size: 0.85rem; color: var(--body-text-color-subdued); margin-bottom: 4px; }
#answer .bars { display: grid; grid-template-columns: repeat(10, 1fr); gap: 4px; height: 150px; align-items: end; }
#answer .comparing .bars { height: 90px; }
#answer .bar { position: relative; height: 100%; display: flex; flex-direction: column; justify-content: flex-end;
  padding-bottom: 1.4em; border-bottom: 1px solid var(--border-color-primary); }
#answer .fill { display: block; background: rgb(59, 82, 139); border-radius: 3px 3px 0 0; min-height: 1px; }
#answer .top .fill { background: rgb(230, 90, 0); }
#answer .digit { position: absolute; bottom: 0; left: 0; right: 0; text-align: center; font-size: 0.85rem; }
#sketchpad .pad { display: flex; flex-direction: column; gap: 8px; align-items: center; }
#sketchpad .surface { position: relative; width: 100%; max-width: 420px; aspect-ratio: 1; }
#sketchpad canvas { width: 100%; height: 100%; display: block; touch-action: none; cursor: crosshair;
  border: 2px solid var(--border-color-primary); border-radius: 8px; background: white; }
#sketchpad .band { position: absolute; pointer-events: none; background: rgba(230, 90, 0, 0.18);
  border-top: 2px solid rgb(230, 90, 0); border-bottom: 2px solid rgb(230, 90, 0); }
#sketchpad .tools { display: flex; gap: 8px; width: 100%; max-width: 420px; }
#sketchpad .tool, #reading #play { flex: 1; padding: 8px 12px; border-radius: 8px; font-weight: 600;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); cursor: pointer; }
#reading #play { flex: 0 0 6em; }
#sketchpad .tool:focus-visible, #reading #play:focus-visible, #reading #row-slider:focus-visible,
#sketchpad canvas:focus-visible, #export-gif:focus-visible, #compare input:focus-visible {
  outline: 3px solid rgb(230, 90, 0) !important; outline-offset: 2px; }
#reading figure { margin: 0; }
#reading figcaption { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-bottom: 3px; line-height: 1.2; }
#reading figcaption .down { color: #3b528b; }
#reading figcaption .up { color: #e65a00; }
#reading .views { display: flex; gap: 12px; align-items: flex-end; }
#reading #model-input { flex: 28 1 0; }
#reading #row-reading { flex: 21 1 0; }
#reading #belief-curves { flex: 9 1 0; }
#reading #row-importance { flex: 7 1 0; }
#reading .pic { position: relative; width: 100%; background: #111; }
#reading .pic img { position: absolute; inset: 0; width: 100%; height: 100%; image-rendering: pixelated; }
#reading .square { aspect-ratio: 1; }
#reading .pair { display: flex; gap: 6%; }
#reading .strip { flex: 1; aspect-ratio: 10 / 28; }
#reading .chart { background: #fafafa; border: 1px solid #ddd; box-sizing: border-box; }
#reading #belief-curves .chart { aspect-ratio: 9 / 28; }
#reading #row-importance .chart { aspect-ratio: 7 / 28; }
#reading .chart svg { position: absolute; inset: 0; width: 100%; height: 100%; }
#reading .wide { aspect-ratio: 129 / 56; }
#reading .heads { display: grid; grid-template-columns: repeat(10, 1fr) 1.28fr repeat(10, 1fr); font-size: 0.7rem;
  text-align: center; }
#reading #belief-curves .heads, #reading #row-importance .heads { display: flex; justify-content: space-between; }
#reading .placeholder { position: absolute; inset: 0; display: grid; place-items: center; color: #aaa; }
#reading .row-mark { position: absolute; left: -3px; right: -3px; height: calc(100% / 28);
  outline: 2px solid rgb(230, 90, 0); pointer-events: none; }
#reading .empty .row-mark { display: none; }
#reading .settle { position: absolute; left: -10px; width: 0; height: 0; margin-top: -5px;
  border-top: 5px solid transparent; border-bottom: 5px solid transparent; border-left: 8px solid rgb(230, 90, 0); }
#reading .walk { display: flex; gap: 12px; align-items: center; margin-top: 8px; }
#reading .walk input { flex: 1; }
#reading .walk output { display: inline-block; min-width: 2ch; font-weight: 600; }
#reading #row-caption { min-height: 3.6em; font-size: 0.95rem; margin: 4px 0; }
#reading .spoken { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
#reading #tutorial-reading { border-top: 1px dashed var(--border-color-primary); padding-top: 6px; }
#reading #tutorial-reading p { margin: 0 0 4px; font-size: 0.9rem; }
#reading #tutorial-reading .pair { width: 22%; }
#reading #hidden-states { margin-top: 8px; }
.caption { font-size: 0.9rem; color: #555; }
"""

# delete_cache: every 10 minutes, drop cached uploads and pictures older than 20 minutes.
with gr.Blocks(title="BiLSTM reads your digit", analytics_enabled=False, delete_cache=(600, 1200)) as demo:
    with gr.Row(equal_height=False):
        gr.Markdown("# Draw a digit: a bidirectional LSTM reads it row by row, as you draw", elem_id="title")
        gr.HTML(KEYS_HINT, elem_id="keys", apply_default_css=False)
    digit_state = gr.State(None)  # this session's digit: {"digit": (28, 28), "bands": ..., "points": ...}
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=260):
            sketchpad = gr.HTML(EMPTY_DRAWING, html_template=CANVAS_HTML, js_on_load=CANVAS_JS,
                                apply_default_css=False, elem_id="sketchpad", padding=False)
        with gr.Column(scale=2, min_width=200):
            answer = gr.HTML(None, html_template=ANSWER_HTML, apply_default_css=False, elem_id="answer")
            compare = gr.Checkbox(False, label="Compare with the tutorial's model (its two bugs in)", elem_id="compare")
        with gr.Column(scale=5, min_width=320):
            reading = gr.HTML(None, html_template=READING_HTML, js_on_load=READING_JS, apply_default_css=False,
                              elem_id="reading", row=28, playing=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            upload = gr.Image(type="pil", image_mode=None, sources=["upload", "clipboard"], height=170,
                              label="...or upload a photo or scan of one handwritten digit (dark ink on paper)",
                              elem_id="upload")
        with gr.Column(scale=4):
            gr.Markdown("The model reads your drawing cropped, scaled to 20 px and centred by mass, the way "
                        "MNIST was made. Each row of the 28x28 is one step of the LSTM, read top to bottom and "
                        "bottom to top; the heatmaps re-run the real model on rows 1..t and t..28 (56 readings "
                        "in one batch); bright = probable. The row-importance bars re-run it with one row "
                        "blanked at a time (28 in one batch).", elem_classes="caption")
            with gr.Row():
                gif_button = gr.Button("Download the row walk as a GIF", elem_id="export-gif", variant="secondary")
                gif_file = gr.File(label="Row walk GIF (one frame per row)", elem_id="gif-file", height=60)
    # `upload` is never an output: Gradio keeps a plain copy of a component in the session once an event
    # updates it (gr.skip() too), and the copy would lose the readable-errors wrapper.
    upload.preprocess = readable_errors(upload.preprocess)
    example_digit = gr.Image(type="pil", image_mode=None, visible=False)  # the gallery's own input
    # Each event lists only what it changes: Gradio postprocesses every output (a thread hop, a copy into the
    # session's state), and an output left out of a returned dict would cost a new component each time.
    drawn_outputs = [answer, reading, digit_state]
    image_outputs = [answer, reading, digit_state, sketchpad]
    example_files = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
    examples = gr.Examples(example_files, inputs=example_digit, examples_per_page=len(example_files),
                           label="Real MNIST test digits: click one to run it through the same pipeline")
    examples.load_input_event.then(read_image, [example_digit, compare], image_outputs, api_name="read_example",
                                   show_progress="hidden")

    # The first version's image API, kept for scripts: /predict takes the Sketchpad's value.
    with gr.Group(visible=False):
        api_sketch = gr.Sketchpad(type="pil", image_mode="RGBA", label="API input")
        api_status = gr.Markdown()
        api_label = gr.Label(num_top_classes=1)
        api_bars = gr.BarPlot(EMPTY_BARS, x="digit", y="probability", sort="x", y_lim=[0, 1])
        api_model_input = atomic_pictures(gr.Image(format="png", label="model input"))
        api_reading = atomic_pictures(gr.Image(format="png", label="reading view"))
        api_hidden = atomic_pictures(gr.Image(format="png", label="hidden states"))
        api_caption = gr.Markdown()
        api_row = gr.Number(precision=0)
    api_sketch.preprocess = readable_errors(api_sketch.preprocess)
    api_sketch.data_model = FewLayers

    # Live: canvas.js fires `input` while the pen moves and `lift` with the finished drawing (neither fires
    # when the server sets the canvas). always_last: while a reading is on its way, further sends wait and
    # only the newest goes next. The finished drawing has its own concurrency group, so it never queues
    # behind the readings of other people's moving pens.
    sketchpad.lift(read_strokes, [sketchpad, compare], drawn_outputs, api_name="predict_strokes",
                   trigger_mode="always_last", show_progress="hidden", concurrency_id="finished", concurrency_limit=1)
    sketchpad.input(read_strokes, [sketchpad, compare], drawn_outputs, api_name="predict_strokes_live",
                    api_visibility="undocumented", trigger_mode="always_last", show_progress="hidden",
                    concurrency_id="moving", concurrency_limit=1)
    upload.upload(read_image, [upload, compare], image_outputs, api_name="predict_image", show_progress="hidden")
    compare.change(compare_changed, [digit_state, compare], [answer, reading, digit_state], api_name=False,
                   show_progress="hidden")
    # The GIF: at most one being made at a time (about a fifth of a second of CPU each), then downloaded.
    gif_button.click(export_gif, digit_state, gif_file, api_name="row_walk_gif", concurrency_id="gif",
                     concurrency_limit=1).then(None, js="() => document.querySelector('#gif-file a')?.click()")
    api_sketch.input(read_sketch_v1, api_sketch, [api_status, api_label, api_bars, api_model_input, api_reading,
                                                  api_hidden, api_caption, api_row], api_name="predict")

# Queue: 2 events at a time (= cores; one torch thread each). At most 64 waiting: past that a client is
# told the queue is full instead of waiting (64 readings take about 1 s here). status_update_rate: with
# "auto" Gradio sends every waiting event its queue position each time any event finishes, n^2 messages
# for n people drawing; the page never shows positions (show_progress="hidden"), so once a minute is enough.
demo.queue(default_concurrency_limit=2, max_size=64, status_update_rate=60)


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

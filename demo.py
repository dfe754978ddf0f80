"""Draw a digit or a number and watch a bidirectional LSTM read it, row by row, as you draw (Gradio app).

    python demo.py                 # http://127.0.0.1:7860, on the committed weights
    python demo.py --port 8080     # another port (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT work too)
    python demo.py --share         # a temporary public link (needs a network)

Importing this module builds `demo` and loads the model, and changes nothing process-wide and launches
nothing (tests and Hugging Face Spaces use it that way); launch() applies the process settings and starts
the server. This file is the wiring: layout, handlers, launch. The page itself is in web/ (frontend.py hands
it over): while the pen moves, the browser reads the drawing itself (the engine in web/, in a Web Worker: the
same numbers as reader/readings.py, tested in tests/test_engine.py) and sends nothing; when the pen lifts, the page sends the
drawing once and this server reads it again: its reading is the page's final answer, and the one behind the
APIs, the compare toggle and the GIF.
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image

import frontend
from model import DEFAULT_WEIGHTS, TUTORIAL_WEIGHTS, load_model, read_rows, sha256_of
from reader.preprocess import to_mnist_placed
from reader.readings import Digits, chosen_digit, digits_of_drawing, digits_of_picture, digits_of_upload, read_digits
from reader.strokes import checked_seq, parse_drawing
from reader.views import model_input_image, reading_image, row_caption, row_walk_gif, states_image
from server import connections, log
from server.api import ANSWER_SCHEMA, DRAWING_SCHEMA, READING_SCHEMA, described
from server.middleware import middleware
from server.order import ReadingOrder
from server.pictures import atomic_pictures
from server.settings import MAX_UPLOAD_BYTES, PER_ADDRESS_EVENTS, PER_ADDRESS_RATE, SESSIONS, Settings
from server.uploads import MAX_UPLOAD_PIXELS, FewLayers, open_upload, readable_errors

model = load_model()  # loaded once, shared read-only by all requests
tutorial_model = load_model(TUTORIAL_WEIGHTS)  # the tutorial's recipe, both bugs in, for the compare toggle
GALLERY = {path.name: path for path in frontend.examples()}  # the gallery's digits by file name

# ---------------------------------------------------------------------------------------------
# Process settings and launch options: one place, used by main(), the tests and Spaces (`python demo.py`).


def apply_process_settings(request_limits: Settings | None = None) -> None:
    """Settings that belong to the serving process, not to importing this module (request_limits: the ones
    connections take, default Settings.from_environment())."""
    # One intra-op thread per request: the batches are tiny (56 x 28 steps) and two requests at a time
    # already keep both cores busy; more threads only spin (measured with bench/load.py).
    torch.set_num_threads(1)
    # Pillow refuses past 2 x this many pixels at open(), from the header, before decoding (a 12000x12000 upload
    # costs milliseconds); server/uploads.py refuses past it, and bounds decoding by format below it.
    Image.MAX_IMAGE_PIXELS = MAX_UPLOAD_PIXELS
    # One line, not a traceback, for an error that is the request's fault; every log entry within a budget.
    log.install()
    # Connections: headers within server.settings.HEADER_SECONDS, a cap per peer and under the descriptor limit.
    connections.install(request_limits or Settings.from_environment())


def launch(request_limits: Settings | None = None, **options) -> None:
    """Start the server with the app's settings; options override launch()'s (host, port, quiet, ...).

    request_limits: the limits of server/ (default: Settings.from_environment()).
    """
    request_limits = request_limits or Settings.from_environment()
    apply_process_settings(request_limits)
    settings = dict(
        css=CSS,
        ssr_mode=False,  # no Node server beside Python
        run_history=False,  # Gradio would keep every drawing in the browser's storage and offer to upload it
        footer_links=["api"],
        show_error=False,  # a failure shows our message, never a traceback
        max_file_size=MAX_UPLOAD_BYTES,
        enable_monitoring=False,  # /monitoring would answer anyone and print its secret URL to the log
        state_session_capacity=SESSIONS,
        # the guards of server/ run before Gradio reads a byte; they read demo's queue and session store
        app_kwargs={"middleware": middleware(demo, request_limits)},
    )
    settings.update(options)
    demo.launch(**settings)


# ---------------------------------------------------------------------------------------------
# Handlers: pure functions of what arrives, returning the page's outputs by name ("answer", "reading",
# "state"); the layout below lists the components in PAGE_OUTPUTS' order. For the newest action only.

PROMPT = "Draw a digit (0-9) in the box."  # the v1 /predict API's status: it reads one digit
DIGITS = [str(d) for d in range(10)]
EMPTY_BARS = pd.DataFrame({"digit": DIGITS, "probability": [0.0] * 10})
PAGE_OUTPUTS = ("answer", "reading", "state")  # state: what the session last read {"digits", "pick", "seq"}
V1_OUTPUTS = ("status", "label", "bars", "model_input", "reading", "hidden", "caption", "row")


def placed_digit(picture: object) -> tuple[np.ndarray, object] | None:
    """to_mnist_placed for the v1 API: None for no picture or no ink; a gr.Error saying why for a non-image."""
    try:
        return None if picture is None else to_mnist_placed(picture)
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None


order = ReadingOrder(SESSIONS)


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


def page_outputs(state: dict | None, compare: bool) -> dict:
    """What the session reads now, state = {"digits": readings.Digits, "pick", "seq"} -> the page's outputs by
    name: the answer and reading values (each carrying seq), and the state to keep (with the digit walked)."""
    result = None if state is None else read_digits(model, state["digits"], state["pick"],
                                                      tutorial_model if compare else None)
    if result is None:
        return {"answer": None, "reading": None, "state": None}
    seq = state["seq"]
    return {"answer": {**result["answer"], "seq": seq}, "reading": {**result["reading"], "seq": seq},
            "state": {**state, "pick": result["answer"]["pick"]}}


def _newest(state: dict | None, compare: bool, request: gr.Request | None) -> dict:
    """page_outputs, unless a newer action of the session started before or during this reading (gr.skip())."""
    session = _session(request)
    ticket = order.start(session, state["seq"] if state else None)
    if ticket is None:
        return gr.skip()  # the page already has a newer action on its way
    outputs = page_outputs(state, bool(compare))
    return outputs if order.is_newest(session, ticket) else gr.skip()


def drawing_state(drawing: object) -> dict:
    """A drawing (as /predict_strokes takes it) -> the session's state {"digits", "pick", "seq"}; a gr.Error that
    says what is wrong with a drawing that is not one."""
    try:
        checked = parse_drawing(drawing)
    except ValueError as error:
        raise gr.Error(f"Could not read that drawing: {error}") from None
    return {"digits": digits_of_drawing(model, checked), "pick": checked.pick, "seq": checked.seq}


def read_strokes(drawing: object, compare: bool = False, request: gr.Request = None) -> dict:
    """A drawing {"width", "height", "strokes", "seq"?, "pick"?} (or its JSON text) -> the page's outputs."""
    state = drawing_state(drawing)
    return _newest(state, compare, request)


def read_example(selection: object, compare: bool = False, request: gr.Request = None) -> dict:
    """A gallery digit {"example": file name, "seq"} -> the page's outputs."""
    try:
        chosen = json.loads(selection) if isinstance(selection, str) else selection
        path = GALLERY[chosen["example"]]
        seq = checked_seq(chosen.get("seq"))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise gr.Error("No such gallery digit.") from None
    with Image.open(path) as picture:
        digits = digits_of_picture(model, picture)
    return _newest({"digits": digits, "pick": None, "seq": seq}, compare, request)


def read_image(path: str | None, compare: bool = False, action: object = None, request: gr.Request = None) -> dict:
    """An uploaded photo or scan -> the page's outputs. action: the page's {"upload": true, "seq"} for this upload
    (set when the upload started, so that a drawing begun after it wins); None from the API."""
    picture = open_upload(path)
    try:
        digits = Digits(()) if picture is None else digits_of_upload(model, picture)  # the paper path
    except ValueError as error:
        raise gr.Error(f"Could not read that image: {error}") from None
    if digits.paper is not None and digits.paper.problem:
        raise gr.Error(digits.paper.problem)  # no readable handwriting: the sentence says why (blank, dark, small, faint)
    seq = None
    if action:
        chosen = json.loads(action) if isinstance(action, str) else action
        try:
            seq = checked_seq(chosen.get("seq")) if isinstance(chosen, dict) and chosen.get("upload") else None
        except ValueError:
            seq = None  # an upload is read all the same; it just cannot overtake anything
    return _newest({"digits": digits, "pick": None, "seq": seq}, compare, request)


def read_picture_api(path: str | None, compare: bool = False, request: gr.Request = None) -> dict:
    """/predict_image: a photo or scan -> answer and reading."""
    return read_image(path, compare, None, request)


def compare_changed(state: dict | None, compare: bool, request: gr.Request = None) -> dict:
    """The compare toggle: the session's digits read again, with or without the tutorial's model beside ours."""
    if state is None:
        return {"answer": None, "reading": None, "state": None}
    return _newest(state, compare, request)


def export_gif(state: dict | None) -> gr.File:
    """The page's GIF button: the row walk of the digit the session last read, as an animated GIF (one frame per
    row), shown (the file box is hidden until there is a file) and downloaded."""
    return gr.File(gif_path(state), visible=True)


def gif_path(state: dict | None) -> str:
    """The row walk of a state's digit as an animated GIF in Gradio's cache -> its path."""
    if not state or not state["digits"].parts:
        raise gr.Error("Draw a digit first: the GIF walks through its 28 rows.")
    return _gif_file(state["digits"].parts[state["pick"] or 0]["digit"])


def gif_of_drawing(drawing: object) -> str:
    """/row_walk_gif for scripts: a drawing (as /predict_strokes takes it) -> the GIF of the digit it walks."""
    state = drawing_state(drawing)
    if state["digits"].parts:
        state["pick"] = chosen_digit(state["digits"].parts, state["pick"], state["digits"].canvas)
    return gif_path(state)


def _gif_file(digit: np.ndarray) -> str:
    data = row_walk_gif(digit, read_rows(model, digit))
    folder = Path(tempfile.mkdtemp(dir=demo.GRADIO_CACHE))
    path = folder / "row-walk.gif"
    path.write_bytes(data)
    return str(path)


def read_sketch_v1(sketch: dict | None) -> dict:
    """/predict, the first version's image API: {"background", "layers", "composite"} -> its 8 outputs by name
    (V1_OUTPUTS): status, label, bars, the 28x28 model input, the labelled reading view (outlined at row 28),
    the hidden states, the caption of row 28 and the row; pictures as files. Kept as it was for scripts."""
    if sketch is not None and (not isinstance(sketch, dict) or "composite" not in sketch):
        raise gr.Error("Could not read that input: expected the sketchpad's {'composite': image, ...}")
    placed = placed_digit(None if sketch is None else sketch["composite"])
    if placed is None:
        return {"status": PROMPT, "label": None, "bars": EMPTY_BARS, "model_input": None, "reading": None,
                "hidden": None, "caption": "", "row": 28}
    digit = placed[0]
    result = read_rows(model, digit)
    probs = result["top_down"][-1]
    return {
        "status": "",
        "label": {d: float(p) for d, p in zip(DIGITS, probs)},
        "bars": pd.DataFrame({"digit": DIGITS, "probability": probs.astype(float)}),
        "model_input": model_input_image(digit),
        "reading": reading_image(digit, result, 28),
        "hidden": states_image(result["states"]),
        "caption": row_caption(result, 28).replace("Row 28.", "**Row 28.**", 1),
        "row": 28,
    }


def for_page(handler):
    """A handler of the page's own events -> the same with the reading's rows packed (frontend.packed_reading):
    Gradio's front end would otherwise copy its ~5,000 numbers one by one, ~30 ms of a pen-up on the page. The
    API's events (/predict_strokes, /predict_image) send plain lists."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        outputs = handler(*args, **kwargs)
        return {**outputs, "reading": frontend.packed_reading(outputs["reading"])} if "reading" in outputs else outputs

    return wrapped


def in_order(handler, names: tuple[str, ...]):
    """A handler that returns its outputs by name -> one that returns them in the order the event lists them
    (names); gr.skip() passes through. functools.wraps keeps the signature, so Gradio still hands it the
    request."""
    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        outputs = handler(*args, **kwargs)
        return [outputs[name] for name in names] if set(outputs) >= set(names) else outputs

    return wrapped


# ---------------------------------------------------------------------------------------------
# Layout: Gradio's rows and columns around the page's parts (web/*.html); each part attaches itself to the
# page's script (web/page.js) when it loads. The scripts, the model's weights (frontend.model_script: 264 KB),
# the engine's text for its worker (frontend.worker_script) and the page's constants come in the drawing
# surface's <head>: inline, nothing fetched from anywhere.

HEAD = "".join(f"<script>{text}</script>" for text in [
    frontend.config_script(), frontend.model_script(model, sha256_of(DEFAULT_WEIGHTS)), frontend.worker_script(),
    *(frontend.script(name) for name in (*frontend.ENGINE_SCRIPTS, *frontend.PAGE_SCRIPTS, "gradio.js"))])


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

with gr.Blocks(title="BiLSTM reads your digit", analytics_enabled=False, delete_cache=(600, 1200)) as demo:
    with gr.Row(equal_height=False):
        gr.Markdown("# A bidirectional LSTM reads your digit, row by row, as you draw", elem_id="title")
        gr.HTML(frontend.fragment("keys"), elem_id="keys", apply_default_css=False)
    digit_state = gr.State(None)  # what this session last read: {"digits", "pick", "seq"} (page_outputs)
    with gr.Row(equal_height=False, elem_id="main"):
        with gr.Column(scale=5, min_width=300):
            sketchpad = described(gr.HTML(None, html_template=frontend.fragment("sketchpad"), head=HEAD,
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
    outputs = [answer, reading, digit_state]  # PAGE_OUTPUTS, in order
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
    api_sketch.preprocess = readable_errors(api_sketch.preprocess, full_decode=True)  # Gradio decodes it in full
    api_sketch.data_model = FewLayers
    api_image.preprocess = readable_errors(api_image.preprocess)

    # The finished drawing (the pen lifted, Undo, Clear, another digit picked): one request per action, in a
    # lane of its own, two at a time (= cores), so that it never waits behind the gallery, uploads or GIFs.
    # always_last: while one is on its way, only the newest next one is sent.
    # The page's own events send the reading packed (for_page); scripts get the same handlers through the API's.
    sketchpad.lift(in_order(for_page(read_strokes), PAGE_OUTPUTS), [sketchpad, compare], outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden", concurrency_id="finished", concurrency_limit=2)
    api_drawing.change(in_order(read_strokes, PAGE_OUTPUTS), [api_drawing, compare], outputs, api_name="predict_strokes",
                       api_description="Read a drawing: the number and its digits, and the row-by-row reading of one digit.",
                       concurrency_id="finished", concurrency_limit=2)
    gallery.select(in_order(for_page(read_example), PAGE_OUTPUTS), [gallery, compare], outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden")
    # An upload carries the page's number for it (set on the gallery part when the upload started).
    upload.upload(in_order(for_page(read_image), PAGE_OUTPUTS), [upload, compare, gallery], outputs, api_visibility="private",
                  show_progress="hidden")
    api_image.change(in_order(read_picture_api, PAGE_OUTPUTS), [api_image, compare], outputs, api_name="predict_image",
                     api_description="Read a photo or scan of a handwritten digit or number (dark ink on light paper).")
    compare.change(in_order(for_page(compare_changed), PAGE_OUTPUTS), [digit_state, compare], outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden")
    # The GIF: at most one being made at a time (about a fifth of a second of CPU each), then downloaded.
    gif_button.click(export_gif, digit_state, gif_file, api_visibility="private", concurrency_id="gif",
                     concurrency_limit=1).then(None, js="() => document.querySelector('#gif-file a')?.click()")
    api_drawing.change(gif_of_drawing, api_drawing, api_gif, api_name="row_walk_gif", concurrency_id="gif",
                       api_description="The row walk of a drawing's digit as an animated GIF (28 frames), for slides.",
                       concurrency_limit=1)
    api_sketch.input(in_order(read_sketch_v1, V1_OUTPUTS), api_sketch,
                     [api_status, api_label, api_bars, api_model_input, api_reading, api_hidden, api_caption, api_row], api_name="predict",
                     api_description="The first version's API: read one digit from a sketchpad image; 8 outputs.")

# Queue: 2 events at a time (= cores; one torch thread each). At most 256 waiting: past that a client is
# told the queue is full instead of waiting (a reading is ~20 ms of the server's event loop, so 256 take ~5 s;
# a room of 128 people drawing at once peaks past 64 waiting). One address holds at most 16 of the places
# (server.settings.PER_ADDRESS_EVENTS). status_update_rate: with "auto" Gradio sends every waiting event its queue
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
                             f"$DEMO_PER_ADDRESS_EVENTS or {PER_ADDRESS_EVENTS}; 0: no per-address limits); its "
                             "streams, sessions, loads and upload bytes scale with it; raise it for an audience "
                             "that reaches the app through one NAT")
    parser.add_argument("--per-address-rate", type=float, default=None,
                        help=f"events a second one client address may start (default $DEMO_PER_ADDRESS_RATE or "
                             f"{PER_ADDRESS_RATE:g}; 0: no limit)")
    parser.add_argument("--proxy-hops", type=int, default=None,
                        help="proxies in front that each append to X-Forwarded-For (default $DEMO_PROXY_HOPS, or 1 "
                             "on a Hugging Face Space, else 0: the header is ignored); the per-address limits count "
                             "the address the outermost one wrote")
    args = parser.parse_args()
    request_limits = Settings.from_environment()
    if args.proxy_hops is not None:
        request_limits = request_limits.with_proxy_hops(args.proxy_hops)
    if args.per_address_events is not None:
        request_limits = request_limits.with_events(args.per_address_events)
    if args.per_address_rate is not None:
        request_limits = request_limits.with_rate(args.per_address_rate)
    # launch() reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT itself when these are None
    launch(request_limits, server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()

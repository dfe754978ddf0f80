"""The page's front end, handed to the Gradio app (demo.py) and to the static build (build_static.py).

    from frontend import ENGINE_SCRIPTS, PAGE_SCRIPTS, model_script, worker_script
    model_script(load_model(), sha256)  # "window.BILSTM_MODEL = {...};": weights and constants for the engine
    worker_script()                     # "window.BILSTM_WORKER_SOURCE = "...";": the engine's text, for its worker
    packed_reading(reading)             # a reading as the Gradio page's own events send it (web/page.js unpacks it)

The page itself lives in web/: HTML fragments, the stylesheet and the scripts. The engine (ENGINE_SCRIPTS: the
reading, each file the twin of a Python one) runs in a Web Worker made from its own text, so the page's main
thread only takes the pen and paints (PAGE_SCRIPTS: render.js draws the views from numbers, canvas.js is the
drawing surface, reader.js talks to the worker, page.js ties them together). This module only reads them and
hands them on, with the numbers that must be the same in Python and in the browser, defined once here or in
the module that owns them (reader/strokes.py, reader/preprocess.py, model.py) and never copied into JavaScript by hand.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

import model as model_module
from model import BiLSTM
from reader import preprocess, segment, strokes

WEB = Path(__file__).resolve().parent / "web"


def engine_constants() -> dict:
    """What web/strokes.js, web/preprocess.js and web/segment.js need to compute exactly as reader/strokes.py,
    reader/preprocess.py and reader/segment.py do (each number defined once, there)."""
    return {"max_raster": strokes.MAX_RASTER, "brush_fraction": strokes.BRUSH_FRACTION,
            "max_ink_rows": strokes.MAX_INK_ROWS, "max_side": preprocess.MAX_SIDE,
            "ink_floor": preprocess.INK_FLOOR, "speck": preprocess.SPECK,
            "segment": {name.lower(): getattr(segment, name) for name in segment.RULE}}


def browser_model(model: BiLSTM, sha256: str) -> dict:
    """The model as web/lstm.js loads it: every tensor of the state_dict as little-endian float32 in one
    base64 string (198 KB of weights -> 264 KB of text), where each tensor starts, the normalisation, the
    "not a digit" rule, the preprocessing constants, and the sha256 of the checkpoint it came from."""
    if model.readout != "final_states" or model.layers != 1 or not model.normalize:
        raise ValueError("the browser engine reads one-layer BiLSTMs with the final-states readout only")
    tensors, chunks, offset = {}, [], 0
    for name, value in model.state_dict().items():
        array = value.detach().cpu().numpy().astype("<f4").ravel()
        tensors[name] = [offset, int(array.size)]
        chunks.append(array)
        offset += array.size
    data = np.concatenate(chunks).tobytes()
    return {"format": 1, "sha256": sha256, "hidden": model.hidden, "mean": model_module.MNIST_MEAN,
            "std": model_module.MNIST_STD, "not_a_digit": getattr(model, "not_a_digit", None),
            "constants": engine_constants(), "tensors": tensors, "data": base64.b64encode(data).decode("ascii")}


def model_script(model: BiLSTM, sha256: str) -> str:
    """browser_model() as a script that sets window.BILSTM_MODEL (a <script src> works from file:// too)."""
    return "window.BILSTM_MODEL = " + json.dumps(browser_model(model, sha256), separators=(",", ":")) + ";\n"


# ---------------------------------------------------------------------------------------------
# The page: fragments, scripts and styles from web/, and the constants the scripts need.

CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280  # canvas pixels (CSS scales it): 2:1, room for a number of a few digits
MIN_STEP = 2  # canvas pixels of pen travel between the points kept (a digit is 100-300 points)
# The engine, in the order it loads: the WebAssembly kernel, then each file the twin of a Python one
# (reader/strokes.py, reader/preprocess.py, model.py's network, reader/segment.py, reader/readings.py), then the
# worker's message loop. The worker runs
# their text (worker_source); the page loads them too, for a browser where no worker can start.
ENGINE_SCRIPTS = ("kernel.js", "strokes.js", "preprocess.js", "lstm.js", "segment.js", "readings.js", "worker.js")
PAGE_SCRIPTS = ("render.js", "canvas.js", "reader.js", "pacer.js", "page.js")  # after the engine, in this order
EXAMPLES = Path(__file__).resolve().parent / "examples"


def page_config() -> dict:
    """The constants web/canvas.js and web/page.js need, from where they are defined."""
    return {"canvas_width": CANVAS_WIDTH, "canvas_height": CANVAS_HEIGHT, "brush_fraction": strokes.BRUSH_FRACTION,
            "min_step": MIN_STEP, "max_points": strokes.MAX_POINTS, "max_strokes": strokes.MAX_STROKES}


def fragment(name: str) -> str:
    """web/<name>.html: a part of the page, static markup that the scripts fill in."""
    return (WEB / f"{name}.html").read_text()


def stylesheet() -> str:
    return (WEB / "app.css").read_text()


def script(name: str) -> str:
    return (WEB / name).read_text()


def examples() -> list[Path]:
    """The gallery: 20 real MNIST test digits (the first two of each class)."""
    return sorted(EXAMPLES.glob("*.png"))


def gallery_html() -> str:
    """The gallery as buttons with the digits inline (data URIs, 300 bytes each): no file to serve or fetch."""
    buttons = []
    for path in examples():
        digit, test = path.stem.split("_")  # digit7_test0000
        label = f"MNIST test digit {digit[-1]} (test image {int(test[4:])})"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        buttons.append(f'<button type="button" data-name="{path.name}" aria-label="{label}" title="{label}">'
                       f'<img alt="" src="data:image/png;base64,{data}"></button>')
    return ('<div class="gallery"><p>Real MNIST test digits: click one to read it the same way.</p>'
            f'<div class="items">{"".join(buttons)}</div></div>')


def config_script() -> str:
    return "window.BILSTM_PAGE = " + json.dumps(page_config()) + ";\n"


def worker_source() -> str:
    """The engine's worker: the text of ENGINE_SCRIPTS, one after another (web/reader.js makes a Blob of it)."""
    return "\n".join(script(name) for name in ENGINE_SCRIPTS)


def worker_script() -> str:
    """worker_source() as a script that sets window.BILSTM_WORKER_SOURCE: a page opened from disk can run a worker
    only from a Blob of text it already has ("</" escaped, so the text can sit inside a <script> element)."""
    return "window.BILSTM_WORKER_SOURCE = " + json.dumps(worker_source()).replace("</", "<\\/") + ";\n"


# A reading's rows of numbers, as the Gradio page's own events send them: each a {"float32": base64 of its
# little-endian float32 values, "width"}. Gradio's front end copies every number of an output value one at a time
# (Svelte's $state.snapshot calls structuredClone on each), ~30 ms of the page's main thread for a reading's
# ~5,000 numbers (docs/benchmarks.md); packed, they are a few strings. The API's events send the rows as lists.
PACKED_ROWS = ("model_input", "top_down", "bottom_up", "states")
PACKED_TUTORIAL_ROWS = ("top_down", "bottom_up")


def _packed(rows: list[list[float]]) -> dict:
    array = np.asarray(rows, dtype="<f4")
    return {"float32": base64.b64encode(array.tobytes()).decode("ascii"), "width": int(array.shape[1])}


def packed_reading(reading: dict | None) -> dict | None:
    """A reading (reader.readings.read_digits) -> the same with its rows of numbers packed (PACKED_ROWS, and the
    tutorial's PACKED_TUTORIAL_ROWS); web/page.js gives them back their rows as Float32Arrays."""
    if reading is None:
        return None
    packed = {**reading, **{name: _packed(reading[name]) for name in PACKED_ROWS if reading.get(name) is not None}}
    if reading.get("tutorial"):
        tutorial = reading["tutorial"]
        packed["tutorial"] = {**tutorial, **{name: _packed(tutorial[name]) for name in PACKED_TUTORIAL_ROWS}}
    return packed

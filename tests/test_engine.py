"""The browser's engine (web/engine.js) gives the reading Python gives, in Chromium (pytest + Playwright + Debian
Chromium; no server: the scripts are loaded into a blank page).

1,000 inputs: 500 MNIST test digits read as pictures, and 500 drawings of every kind (digits anywhere on square
and wide canvases, numbers of 2-4 digits, scribbles, a dot, a line, ink on the edges, a 2048-px canvas, a
16-px one). On every one: the same ink (the drawing's raster, pixel for pixel), the same digits found, the same
top digit and verdict, the 28x28 input within 1/255, probabilities, the 56 partial readings, the row importance
and the hidden states within 1e-4, the canvas bands within 1e-3. And 40 numbers whose digits touch or overlap
(training/numbers.py): the same pieces cut (reader/segment.py and web/segment.js). Python (readings.py) is the reference; a change
to either side alone fails here. Both the WebAssembly kernel (all 1,000) and the plain-JavaScript one (100 of them) are checked.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness import CHROMIUM, engine_page, varied_drawings
from readings import read_drawing, read_picture
from strokes import parse_drawing, rasterize

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)

CHUNK = 50  # inputs per round trip into the page (each reading is ~5,000 numbers)
# The engine's results come back as JSON text with 8 significant digits: far finer than the tolerances, and
# a quarter of the bytes of full doubles (the transfer, not the reading, was most of this test's time).
AS_TEXT = "results => JSON.stringify(results, (key, v) => typeof v === 'number' ? Number(v.toPrecision(8)) : v)"


def run(page, expression: str, argument) -> list:
    return json.loads(page.evaluate(f"argument => ({AS_TEXT})(({expression})(argument))", argument))



@pytest.fixture(scope="module", params=["webassembly", "javascript"])
def engine(browser, request):
    page = engine_page(browser.new_page(), use_kernel=request.param == "webassembly")
    assert page.evaluate("() => engine.kernel") == request.param
    yield page
    page.close()


def compare(ours: dict | None, theirs: dict | None, what: str) -> None:
    """Python's result (ours) against the engine's (theirs), with the tolerances above."""
    assert (ours is None) == (theirs is None), what
    if ours is None:
        return
    a, b = ours["answer"], theirs["answer"]
    assert len(a["digits"]) == len(b["digits"]), f"{what}: digits found"
    assert (a["digit"], a["not_a_digit"], a["number"], a["pick"]) == (b["digit"], b["not_a_digit"], b["number"], b["pick"]), what
    for x, y in zip(a["digits"], b["digits"]):
        assert (x["digit"], x["not_a_digit"]) == (y["digit"], y["not_a_digit"]), what
        np.testing.assert_allclose(x["probs"], y["probs"], atol=1e-4, err_msg=what)
        np.testing.assert_allclose(x["box"], y["box"], atol=0.02, err_msg=what)
    r, s = ours["reading"], theirs["reading"]
    assert r["points"] == s["points"] and r["importance"]["answer"] == s["importance"]["answer"], what
    np.testing.assert_allclose(r["model_input"], s["model_input"], atol=1 / 255, err_msg=what)
    for key in ("top_down", "bottom_up", "states"):
        np.testing.assert_allclose(r[key], s[key], atol=1e-4, err_msg=f"{what}: {key}")
    np.testing.assert_allclose(r["importance"]["drop"], s["importance"]["drop"], atol=1e-4, err_msg=what)
    assert (r["bands"] is None) == (s["bands"] is None), what
    if r["bands"] is not None:
        np.testing.assert_allclose(r["bands"]["rows"], s["bands"]["rows"], atol=1e-3, err_msg=what)
        np.testing.assert_allclose(r["bands"]["x"], s["bands"]["x"], atol=1e-3, err_msg=what)


def test_mnist_test_digits_read_the_same_in_the_browser(engine, model, mnist_test):
    images, _ = mnist_test
    count = 500 if engine.evaluate("() => engine.kernel") == "webassembly" else 50
    picked = np.random.default_rng(1).choice(len(images), count, replace=False)
    for start in range(0, count, CHUNK):
        chunk = [images[i] for i in picked[start : start + CHUNK]]
        theirs = run(engine, "pictures => pictures.map(p => engine.readPicture(Uint8Array.from(p), 28, 28, 1))",
                     [image.ravel().tolist() for image in chunk])
        for index, image, result in zip(picked[start:], chunk, theirs):
            compare(read_picture(model, image), result, f"MNIST test digit {index}")


def test_drawings_read_the_same_in_the_browser(engine, model):
    count = 500 if engine.evaluate("() => engine.kernel") == "webassembly" else 50
    drawings = varied_drawings(count, seed=2)
    for start in range(0, count, CHUNK):
        chunk = drawings[start : start + CHUNK]
        theirs = run(engine, "drawings => drawings.map(d => engine.readDrawing(d))", chunk)
        for index, (sent, result) in enumerate(zip(chunk, theirs), start):
            compare(read_drawing(model, parse_drawing(sent)), result, f"drawing {index}")


def test_numbers_whose_digits_touch_are_cut_the_same_in_the_browser(engine, model):
    """reader/segment.py and web/segment.js: the same pieces (boxes, 28x28 inputs), numbers and verdicts."""
    from training.numbers import numbers

    count = 20 if engine.evaluate("() => engine.kernel") == "webassembly" else 5
    drawings = [made.drawing for spacing in ("touching", "overlapping") for made in numbers("mnist_test", spacing, "canvas", count)]
    theirs = run(engine, "drawings => drawings.map(d => engine.readDrawing(d))", drawings)
    cut = 0
    for index, (sent, result) in enumerate(zip(drawings, theirs)):
        ours = read_drawing(model, parse_drawing(sent))
        compare(ours, result, f"number {index}")
        cut += len(ours["answer"]["digits"]) > 1
    assert cut >= len(drawings) // 2  # most of them were cut: the comparison covers the cutting


def test_the_raster_is_the_same_pixel_for_pixel(browser):
    engine = engine_page(browser.new_page())
    drawings = varied_drawings(300, seed=3)
    packed = engine.evaluate("""ds => ds.map(d => { const r = engine.rasterize(d), bytes = new Uint8Array(Math.ceil(r.ink.length / 8));
        r.ink.forEach((v, i) => { if (v) bytes[i >> 3] |= 128 >> (i & 7); });
        return [r.width, r.height, btoa(String.fromCharCode(...bytes))]; })""", drawings)  # 8 pixels a byte
    for index, (sent, (width, height, bits)) in enumerate(zip(drawings, packed)):
        ours = rasterize(parse_drawing(sent))
        theirs = np.unpackbits(np.frombuffer(base64.b64decode(bits), np.uint8))[: width * height].astype(bool)
        assert ours.shape == (height, width), index
        assert np.array_equal(ours.ravel(), theirs), f"drawing {index}: {int((ours.ravel() != theirs).sum())} pixels differ"


def test_picking_another_digit_of_a_number_reads_that_digit(engine, model):
    sent = next(d for d in varied_drawings(60, seed=4) if d["width"] == 840 and len(read_drawing(model, parse_drawing(d))["answer"]["digits"]) >= 3)
    for pick in (0, 1, 2):
        theirs = run(engine, "([d, pick]) => engine.readDrawing(d, pick)", [sent, pick])
        ours = read_drawing(model, parse_drawing(sent), pick)
        compare(ours, theirs, f"pick {pick}")
        assert ours["reading"]["pick"] == pick and ours["reading"]["digit"] == ours["answer"]["digits"][pick]["digit"]


def test_too_much_ink_is_refused_on_both_sides_with_the_same_reason(engine):
    scribble = {"width": 2048, "height": 2048, "strokes": [[[x, 1000 + 900 * (x % 2)] for x in range(0, 2048, 1)][:3000]]}
    with pytest.raises(ValueError, match="too much ink") as python_error:
        rasterize(parse_drawing(scribble))
    message = engine.evaluate("d => { try { engine.readDrawing(d); return ''; } catch (e) { return e.message; } }", scribble)
    assert message == str(python_error.value)

"""The browser's engine (web/strokes.js, preprocess.js, lstm.js, readings.js) gives the reading Python gives, in
Chromium (pytest + Playwright + Debian Chromium; no server: the scripts are loaded into a blank page), on the page's
thread and in the Web Worker the page runs it in (web/worker.js, made from frontend.worker_source()).

1,000 inputs: 500 MNIST test digits read as pictures, and 500 drawings of every kind (digits anywhere on square
and wide canvases, numbers of 2-4 digits, scribbles, a dot, a line, ink on the edges, a 2048-px canvas, a
16-px one). On every one: the same ink (the drawing's raster, pixel for pixel), the same digits found, the same
top digit and verdict, the 28x28 input within 1/255, probabilities, the 56 partial readings, the row importance
and the hidden states within 1e-4, the canvas bands within 1e-3; and 40 numbers whose digits touch or overlap
(training/numbers.py): the same pieces cut (reader/segment.py and web/segment.js). Python (reader/readings.py) is the
reference; a change to either side alone fails here. Both the WebAssembly kernel (all 1,000) and the plain-JavaScript
one (100 of them) are checked, and the worker (its answer first, then its row views, as the page asks for them) on 150
more. The page's side of the worker (web/reader.js: the newest drawing wins, views as time allows) is checked with a
stand-in worker whose replies the test releases one by one.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from frontend import ENGINE_SCRIPTS, worker_source
from harness import ROOT, engine_page, varied_drawings, worker_page
from reader.readings import read_drawing, read_picture
from reader.strokes import parse_drawing, rasterize

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


# ---------------------------------------------------------------------------------------------
# The worker: the same engine, in two steps


def test_the_worker_runs_the_engine_s_own_files():
    source = worker_source()
    for name in ENGINE_SCRIPTS:
        assert (ROOT / "web" / name).read_text() in source, name
    assert source.rstrip().endswith((ROOT / "web" / "worker.js").read_text().rstrip())  # the message loop last


@pytest.fixture(scope="module")
def worker(browser):
    page = worker_page(browser.new_page())
    yield page
    page.close()


def rows(value: dict) -> list:
    """web/worker.js's {packed: Float32Array, width} -> rows (as web/reader.js gives them back)."""
    packed = value["packed"]  # a Float32Array as JSON is {"0": v, "1": v, ...}; Playwright hands it over as a list
    flat = np.array(list(packed.values()) if isinstance(packed, dict) else packed, np.float64)
    return flat.reshape(-1, value["width"]).tolist()


def merged(replies: list[dict]) -> list[dict | None]:
    """[answer, views, answer, views, ...] -> readings.read_drawing's shape (None where there was no ink)."""
    results = []
    for first, views in zip(replies[::2], replies[1::2]):
        assert (first["kind"], views["kind"], views["id"]) == ("answer", "views", first["id"]), (first, views)
        if first["answer"] is None:
            assert views["views"] is None
            results.append(None)
        else:
            assert not {"top_down", "bottom_up", "states", "importance"} & set(first["reading"])  # the answer first
            reading = {**first["reading"], "model_input": rows(first["reading"]["model_input"]), **views["views"]}
            reading.update({key: rows(views["views"][key]) for key in ("top_down", "bottom_up", "states")})
            results.append({"answer": first["answer"], "reading": reading})
    return results


def test_the_worker_reads_drawings_and_pictures_as_python_does(worker, model, mnist_test):
    drawings = varied_drawings(100, seed=6) + [{"width": 280, "height": 280, "strokes": []}]
    for start in range(0, len(drawings), CHUNK):
        chunk = drawings[start : start + CHUNK]
        requests = [r for i, d in enumerate(chunk) for r in ({"kind": "answer", "id": i, "drawing": d, "pick": None},
                                                             {"kind": "views", "id": i})]
        theirs = merged(json.loads(worker.evaluate(f"rs => readInWorker(rs).then({AS_TEXT})", requests)))
        for index, (sent, result) in enumerate(zip(chunk, theirs), start):
            ours = read_drawing(model, parse_drawing(sent)) if sent["strokes"] else None
            compare(ours, result, f"drawing {index} in the worker")
    images, _ = mnist_test
    pictures, requests = [images[i] for i in range(0, 5000, 100)], []
    for i, image in enumerate(pictures):  # as the gallery sends a digit: its RGBA pixels
        rgba = np.repeat(image.reshape(-1, 1), 4, axis=1)
        rgba[:, 3] = 255
        requests += [{"kind": "answer", "id": i, "pick": None,
                      "picture": {"width": 28, "height": 28, "channels": 4, "pixels": rgba.ravel().tolist()}},
                     {"kind": "views", "id": i}]
    typed = "rs => rs.map(r => r.picture ? {...r, picture: {...r.picture, pixels: Uint8ClampedArray.from(r.picture.pixels)}} : r)"
    theirs = merged(json.loads(worker.evaluate(f"rs => readInWorker(({typed})(rs)).then({AS_TEXT})", requests)))
    for index, (image, result) in enumerate(zip(pictures, theirs)):
        compare(read_picture(model, image), result, f"MNIST test digit {index * 100} in the worker")


def test_the_worker_says_why_it_cannot_read_a_drawing_and_keeps_reading(worker):
    scribble = {"width": 2048, "height": 2048, "strokes": [[[x, 1000 + 900 * (x % 2)] for x in range(0, 2048, 1)][:3000]]}
    seven = {"width": 280, "height": 280, "strokes": [[[70, 56], [210, 56], [126, 238]]]}
    replies = worker.evaluate("rs => readInWorker(rs)", [
        {"kind": "answer", "id": 1, "drawing": scribble, "pick": None}, {"kind": "views", "id": 1},
        {"kind": "answer", "id": 2, "drawing": seven, "pick": None}, {"kind": "views", "id": 1}, {"kind": "views", "id": 2}])
    assert replies[0] == {"kind": "error", "id": 1, "message": replies[0]["message"]}
    assert replies[0]["message"].startswith("too much ink to draw")
    assert replies[1]["views"] is None  # no answer for 1: nothing to view
    assert replies[2]["answer"]["digit"] == "7"
    assert replies[3]["views"] is None and len(rows(replies[4]["views"]["top_down"])) == 28  # only the last answer's views


# The page's side: web/reader.js against a stand-in worker that answers only when the test says so (the requests
# are stand-ins too: a drawing would be packed for the worker).
READER = """() => {
  window.sent = []; window.got = []; let receive = null;
  window.reply = (message) => receive(message);
  window.reader = BiLSTMReader.start({backend: (r) => { receive = r; return {where: "test", post: (m) => sent.push(m), stop() {}}; }},
    {answer: (id) => got.push(["answer", id]), views: (id) => got.push(["views", id]), failed: (id, m) => got.push(["failed", id, m])});
  reply({kind: "ready", kernel: "test"});
  window.now = 0; performance.now = () => now;  // the reader's clock, moved by the test
}"""


@pytest.fixture
def reader(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><title>reader</title>")
    page.add_script_tag(content=(ROOT / "web" / "reader.js").read_text())
    page.evaluate(READER)
    yield page
    page.close()


def test_the_newest_drawing_wins_and_its_answer_comes_before_its_views(reader):
    sent = lambda: reader.evaluate("() => sent.map(m => [m.kind, m.id])")  # noqa: E731
    reader.evaluate("() => reader.read(1, {item: 'one'})")
    assert sent() == [["start", None], ["answer", 1]]
    reader.evaluate("() => { reader.read(2, {item: 'two'}); reader.read(3, () => ({item: 'three'})); }")
    assert sent()[-1] == ["answer", 1]  # one request in the worker at a time
    reader.evaluate("() => { now = 10; reply({kind: 'answer', id: 1, answer: {}, reading: {}}); }")
    # a newer drawing waits and the views shown are not VIEWS_EVERY_MS old (none shown yet counts as old): views of 1
    assert sent()[-1] == ["views", 1]
    reader.evaluate("() => { now = 40; reply({kind: 'views', id: 1, views: {}}); }")
    assert sent()[-1] == ["answer", 3] and reader.evaluate("() => sent.at(-1).item") == "three"  # 2 is never read
    reader.evaluate("() => { now = 50; reply({kind: 'answer', id: 3, answer: {}, reading: {}}); }")
    assert sent()[-1] == ["views", 3]  # nothing newer waits: the views at once
    reader.evaluate("() => { reader.read(4, {item: 'four'}); now = 60; reply({kind: 'views', id: 3, views: {}}); }")
    assert sent()[-1] == ["answer", 4]
    assert reader.evaluate("() => got") == [["answer", 1], ["views", 1], ["answer", 3], ["views", 3]]


def test_while_the_pen_moves_the_views_follow_every_views_every_ms(reader):
    every = reader.evaluate("() => BiLSTMReader.VIEWS_EVERY_MS")
    assert every == 100
    kinds = []
    reader.evaluate("() => { reader.read(1, {item: 1}); now = 5; reply({kind: 'answer', id: 1, answer: {}, reading: {}}); }")
    reader.evaluate("() => { now = 30; reply({kind: 'views', id: 1, views: {}}); }")  # views shown at t = 30
    for step in range(2, 60):  # a new drawing before every reply: the pen never rests; each reply takes 5 ms
        t = 30 + 5 * step
        reader.evaluate(f"() => {{ reader.read({step}, {{item: {step}}}); now = {t}; }}")
        kind, id_ = reader.evaluate("() => [sent.at(-1).kind, sent.at(-1).id]")  # the one in the worker
        reply = "{kind: 'answer', id: %d, answer: {}, reading: {}}" % id_ if kind == "answer" else "{kind: 'views', id: %d, views: {}}" % id_
        reader.evaluate(f"() => reply({reply})")
        kinds.append((t, kind))
    view_times = [t for t, kind in kinds if kind == "views"]
    # the first drawing of the loop found nothing newer waiting: its views at once; then every 100-110 ms
    assert view_times[0] == 45 and len(view_times) >= 3
    assert all(every <= b - a <= every + 10 for a, b in zip(view_times, view_times[1:]))
    assert sum(kind == "answer" for _, kind in kinds) >= 15 * len(view_times)  # the answers keep up in between
    assert reader.evaluate("() => got.filter(g => g[0] === 'views').every(([, id], i, all) => i === 0 || id > all[i - 1][1])")


def test_slow_views_wait_while_the_pen_moves_and_come_at_once_when_it_lifts(reader):
    assert reader.evaluate("() => BiLSTMReader.QUICK_MS") == 16
    last = lambda: reader.evaluate("() => [sent.at(-1).kind, sent.at(-1).id]")  # noqa: E731
    reader.evaluate("() => { reader.read(1, {item: 1}); now = 10; reply({kind: 'answer', id: 1, answer: {}, reading: {}, ms: 5}); }")
    assert last() == ["views", 1]  # none shown yet
    reader.evaluate("() => { now = 50; reply({kind: 'views', id: 1, views: {}, ms: 40}); }")  # views take 40 ms here
    reader.evaluate("() => { now = 60; reader.read(2, {item: 2}); now = 65; reply({kind: 'answer', id: 2, answer: {}, reading: {}, ms: 5}); }")
    assert last() == ["answer", 2]  # nothing newer waits, but the views would hold the next drawing 40 ms: not yet
    reader.evaluate("() => { now = 70; reader.read(3, {item: 3}, true); now = 75; reply({kind: 'answer', id: 3, answer: {}, reading: {}, ms: 5}); }")
    assert last() == ["views", 3]  # the pen lifted: the finished drawing's views at once
    reader.evaluate("() => { now = 80; reply({kind: 'views', id: 3, views: {}, ms: 40}); reader.read(4, {item: 4}); }")
    reader.evaluate("() => { now = 85; reply({kind: 'answer', id: 4, answer: {}, reading: {}, ms: 5}); }")
    assert last() == ["answer", 4]
    reader.evaluate("() => { now = 200; }")  # the pen rests: VIEWS_EVERY_MS after the last views, they come
    reader.wait_for_function("() => sent.at(-1).kind === 'views' && sent.at(-1).id === 4", timeout=2000)


def test_where_no_worker_may_start_the_page_reads_on_its_own_thread(browser):
    """A Content-Security-Policy that refuses workers: the reader runs the same handler on the page, and reads."""
    from frontend import model_script, worker_script
    from model import DEFAULT_WEIGHTS, load_model, sha256_of

    page = browser.new_page()
    page.set_content("""<!doctype html><meta http-equiv="Content-Security-Policy" content="worker-src 'none'"><title>no worker</title>""")
    page.add_script_tag(content=model_script(load_model(), sha256_of(DEFAULT_WEIGHTS)))
    page.add_script_tag(content=worker_script())
    for name in (*ENGINE_SCRIPTS, "reader.js"):
        page.add_script_tag(content=(ROOT / "web" / name).read_text())
    digit = page.evaluate("""() => new Promise((done) => {
        const reader = BiLSTMReader.start({model: BILSTM_MODEL, source: BILSTM_WORKER_SOURCE},
          {answer: (id, answer) => done([reader.where(), answer.digit]), views() {}, failed: (id, message) => done(message)});
        reader.read(1, {drawing: {width: 280, height: 280, strokes: [[[70, 56], [210, 56], [126, 238]]]}, pick: null}, true);
    })""")
    assert digit == ["page", "7"]
    page.close()


def test_a_failure_is_reported_and_the_next_drawing_is_read(reader):
    reader.evaluate("() => { reader.read(1, {item: 1}); reader.read(2, {item: 2}); reply({kind: 'error', id: 1, message: 'too much ink'}); }")
    assert reader.evaluate("() => [got, sent.at(-1).kind, sent.at(-1).id]") == [[["failed", 1, "too much ink"]], "answer", 2]

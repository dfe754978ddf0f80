"""The page's renderer (web/render.js) says and draws what the numbers say (pytest + Playwright + Debian Chromium,
no server): its captions are views.py's sentences word for word, its heatmap colours are views.viridis, and its
charts put each row's number where it belongs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from harness import DIGIT_STROKES, ROOT, pen_path
from model import read_rows
from reader.preprocess import to_mnist
from reader.strokes import parse_drawing, render_drawing
from reader.views import row_belief, settling_rows, settling_sentence, spoken_summary, viridis


@pytest.fixture(scope="module")
def render(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><title>render</title>")
    page.add_script_tag(content=(ROOT / "web" / "preprocess.js").read_text())  # render.js rounds with its roundHalfEven
    page.add_script_tag(content=(ROOT / "web" / "render.js").read_text())
    yield page
    page.close()


@pytest.fixture(scope="module")
def readings(model, mnist_test) -> list[dict]:
    """Readings of every kind: MNIST digits, drawn digits, a scribble, and one that never settles."""
    images, _ = mnist_test
    digits = [to_mnist(images[i]) for i in range(0, 2000, 50)]
    digits += [to_mnist(render_drawing(parse_drawing({"width": 280, "height": 280, "strokes": pen_path(strokes)})))
               for strokes in DIGIT_STROKES.values()]
    scribble = np.zeros((28, 28), np.float32)
    scribble[4:24:3, 3:25] = 1.0
    digits.append(scribble)
    result = [{key: value for key, value in read_rows(model, digit).items() if key in ("top_down", "bottom_up")}
              for digit in digits]
    uniform = np.full((28, 10), 0.1, np.float32)
    return result + [{"top_down": uniform, "bottom_up": uniform}]


def as_json(reading: dict) -> dict:
    return {key: np.asarray(value, np.float64).tolist() for key, value in reading.items()}


def test_captions_are_views_sentences_word_for_word(render, readings):
    sent = [as_json(r) for r in readings]
    said = render.evaluate("""rs => rs.map(r => ({rows: Array.from({length: 28}, (_, i) => BiLSTMRender.rowBelief(r, i + 1)),
        settling: BiLSTMRender.settlingSentence(r), spoken: [BiLSTMRender.spokenSummary(r, false), BiLSTMRender.spokenSummary(r, true)],
        settle: BiLSTMRender.settlingRows(r)}))""", sent)
    never = 0
    for reading, theirs in zip(readings, said):
        assert theirs["rows"] == [row_belief(reading, row) for row in range(1, 29)]
        assert theirs["settling"] == settling_sentence(reading)
        assert theirs["spoken"] == [spoken_summary(reading), spoken_summary(reading, not_a_digit=True)]
        assert tuple(theirs["settle"]) == settling_rows(reading)
        never += theirs["settle"] == [None, None]
    assert never >= 1  # the reading that never settles was among them


def test_heatmap_colours_are_views_viridis(render):
    values = np.linspace(0, 1, 1001).astype(np.float32)
    theirs = render.evaluate("vs => vs.map(v => BiLSTMRender.viridis(v))", values.astype(float).tolist())
    np.testing.assert_array_equal(np.array(theirs), viridis(values))


def test_charts_put_each_row_s_number_where_it_belongs(render, readings, model):
    reading = readings[3]
    final = int(np.asarray(reading["top_down"])[-1].argmax())
    svg = render.evaluate("r => BiLSTMRender.beliefSvg(r)", as_json(reading))
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 2
    for line, key in zip(lines, ("top_down", "bottom_up")):
        xs = [float(point.split(",")[0]) / 100 for point in line.split()]
        ys = [float(point.split(",")[1]) for point in line.split()]
        np.testing.assert_allclose(xs, np.asarray(reading[key])[:, final], atol=1e-3)  # row by row
        np.testing.assert_allclose(ys, (np.arange(28) + 0.5) * 10)  # down the 28 rows
    down, up = settling_rows(reading)
    assert f"row {down}" in svg and f"row {up}" in svg
    drop = np.array([0.0] * 28)
    drop[[3, 9, 20]] = [0.08, -0.02, 0.01]
    importance = {"answer": 7, "probability": 0.9, "drop": drop.tolist()}
    scale = render.evaluate("i => BiLSTMRender.importanceScale(i.drop)", importance)
    assert scale == 0.1  # the largest drop rounded up
    bars = re.findall(r'<rect x="0" y="([\d.]+)" width="([\d.]+)"[^>]*fill="([^"]+)"',
                      render.evaluate("i => BiLSTMRender.importanceSvg(i)", importance))
    assert {int(float(y) // 10): (float(width), colour) for y, width, colour in bars if float(width) > 0} == {
        3: (80.0, "#e65a00"), 9: (20.0, "#8a8a8a"), 20: (10.0, "#e65a00")}  # orange: lost; grey: blanking helps


def test_the_curves_and_marks_are_views_colours(render):
    from reader.views import _VIRIDIS, MARK

    colours = render.evaluate("() => [BiLSTMRender.BLUE, BiLSTMRender.ORANGE]")
    as_rgb = [tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for colour in colours]
    assert as_rgb == [tuple(int(v) for v in _VIRIDIS[1]), MARK]  # top-down: viridis's blue; bottom-up and marks: orange


def test_readings_are_painted_in_frames_that_keep_their_time(browser):
    """web/pacer.js: every frame while frames come on time; one more frame skipped between paints each time a frame
    came late since the last paint (at most 3), one fewer each time none did."""
    page = browser.new_page()
    page.set_content("<!doctype html><title>pacer</title>")
    page.add_script_tag(content=(ROOT / "web" / "pacer.js").read_text())
    assert page.evaluate("() => [BiLSTMPacer.LATE, BiLSTMPacer.MOST_SKIPPED]") == [1.25, 3]
    painted = page.evaluate("""() => {
        const pacer = BiLSTMPacer.create(), painted = [];
        let now = 0;
        const frames = (count, interval) => { for (let i = 0; i < count; i++) {
          now += interval;
          if (pacer.frame(now)) { pacer.painted(); painted.push(Math.round(now)); } } };
        frames(5, 16.7);      // on time: a paint in every frame
        frames(8, 33.4);      // every frame late: 1, 2, then 3 frames skipped between paints
        frames(20, 16.7);     // on time again: back to every frame
        return painted; }""")
    on_time = [round(16.7 * i) for i in range(1, 6)]
    assert painted[:5] == on_time
    end_late = 83.5 + 8 * 33.4
    late = [t for t in painted if 84 < t <= end_late + 0.5]
    assert len(late) == 3  # 8 late frames: painted in the 1st, 3rd (one skipped), 6th (two skipped)
    assert painted[-5:] == [round(end_late + 16.7 * i) for i in range(16, 21)]  # every frame again
    page.close()

"""reader/strokes.py: strokes are untrusted input; every malformed drawing gets a clear message or an empty
reading, with bounded work (pytest, CPU). Through the running app: tests/test_demo.py. Timings: bench/bad_input.py."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from conftest import BAD, drawing
from harness import DIGIT_STROKES, pen_path
from reader.strokes import BRUSH_FRACTION, MAX_POINTS, MAX_STROKES, parse_drawing, render_drawing


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_drawing_gets_a_clear_message_with_bounded_work(name):
    payload, message = BAD[name]
    tracemalloc.start()
    with pytest.raises(ValueError, match=message):
        parse_drawing(payload)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB"  # nothing proportional to what an attacker sends


def test_oversized_text_is_refused_before_parsing():
    text = json.dumps(drawing([[[1, 1]] * 40_000]))  # ~400 KB
    with pytest.raises(ValueError, match="too large"):
        parse_drawing(text)


def test_points_just_outside_the_canvas_are_drawn_clipped():
    """A pen dragged past the edge is normal; the part on the canvas is drawn."""
    picture = render_drawing(parse_drawing(drawing([[[140, 40], [140, 400]]])))
    ink = np.asarray(picture) < 128
    assert ink[279, 140] and ink[40, 140] and not ink[20, 140]


def test_a_dot_and_the_brush_are_what_the_canvas_shows():
    picture = np.asarray(render_drawing(parse_drawing(drawing([[[100, 100]]]))))
    ink_width = (picture[100] < 128).sum()
    assert abs(ink_width - BRUSH_FRACTION * 280) <= 2  # a single point is a dot the brush's width across
    assert picture[0, 0] == 255 and picture.dtype == np.uint8


def test_limits_allow_real_drawings():
    many = [pen_path(DIGIT_STROKES[d]) for d in "01247" * 4]
    strokes = [stroke for digit in many for stroke in digit]  # 20 digits drawn over each other
    assert len(strokes) <= MAX_STROKES and sum(map(len, strokes)) <= MAX_POINTS
    assert parse_drawing(drawing(strokes, width=600, height=400)).width == 600

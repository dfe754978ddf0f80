"""Strokes are untrusted input: every malformed drawing gets a clear message or an empty reading, with
bounded work, and the server reads the next good drawing right (pytest, CPU). Timings: bench/bad_input.py."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from gradio_client.exceptions import AppError

from conftest import drawing
from harness import DIGIT_STROKES, pen_path
from strokes import BRUSH_FRACTION, MAX_POINTS, MAX_STROKES, parse_drawing, render_drawing

ONE = pen_path(DIGIT_STROKES["1"])

BAD = {
    "not JSON": ("{'width': 280", "not valid JSON"),
    "a list": ("[1, 2, 3]", "expected a drawing"),
    "a number": (42, "expected a drawing"),
    "missing strokes": ({"width": 280, "height": 280}, "missing 'strokes'"),
    "strokes not a list": (drawing("abc"), "'strokes' must be a list"),
    "stroke not a list": (drawing([5]), "stroke 0 must be a non-empty list"),
    "empty stroke": (drawing([[]]), "stroke 0 must be a non-empty list"),
    "point of three": (drawing([[[1, 2, 3]]]), "each point must be a list"),
    "strings for numbers": (drawing([[["140", "40"]]]), "coordinates must be numbers, got a string"),
    "true for a number": (drawing([[[True, 4]]]), "coordinates must be numbers"),
    "NaN": ('{"width": 280, "height": 280, "strokes": [[[NaN, 4]]]}', "finite"),
    "infinity": ('{"width": 280, "height": 280, "strokes": [[[1e999, 4]]]}', "finite"),
    "far outside": (drawing([[[140, 40], [1e9, 40]]]), "far outside the 280x280 canvas"),
    "huge integer": (drawing([[[10**400, 4]]]), "too large"),
    "width a string": (drawing(ONE, width="280"), "'width' must be a number"),
    "absurd canvas": (drawing(ONE, width=10**9, height=10**9), "must lie in 16..2048"),
    "zero canvas": (drawing(ONE, width=0, height=0), "must lie in 16..2048"),
    "fractional canvas": (drawing(ONE, width=280.5), "whole number"),
    "too many points": (drawing([[[1, 1]] * (MAX_POINTS + 1)]), "too many points"),
    "hundreds of thousands of points": (drawing([[[1.5, 2.5]] * 300_000]), "too many points"),
    "thousands of strokes": (drawing([[[1, 1]]] * 5000), "too many strokes"),
    "deep nesting (text)": ('{"width": 280, "height": 280, "strokes": ' + "[" * 100_000 + "]" * 100_000 + "}",
                            "nested too deeply"),
    "deep nesting (object)": (drawing([[[[[[[1]]]], 2]]]), "coordinates must be numbers, got a list"),
    "bad seq": (drawing(ONE, seq="7"), "'seq' must be a whole number"),
    "bad pick": (drawing(ONE, pick=-1), "'pick' must be the index of a digit"),
    "pick as true": (drawing(ONE, pick=True), "'pick' must be the index of a digit"),
}


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


@pytest.mark.parametrize("name", ["not JSON", "strings for numbers", "NaN", "far outside", "absurd canvas",
                                  "thousands of strokes", "too many points", "deep nesting (object)"])
def test_the_app_answers_bad_drawings_and_keeps_reading(client, name):
    payload, message = BAD[name]
    if not isinstance(payload, str):
        payload = json.dumps(payload)  # as the page sends it (an object this big is refused sooner: below)
    with pytest.raises(AppError, match=f"Could not read that drawing: .*{message}") as error:
        client.predict(payload, api_name="/predict_strokes")
    assert "Traceback" not in str(error.value)
    answer, *_ = client.predict(drawing(ONE), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_the_app_refuses_a_body_far_larger_than_any_drawing(client):
    """Hundreds of thousands of points do not reach Gradio's parser: the request is refused by size."""
    huge = drawing([[[123.25, 234.75]] * 300_000])  # ~5 MB of JSON
    with pytest.raises(Exception, match="413|Too large"):
        client.predict(huge, api_name="/predict_strokes")
    answer, *_ = client.predict(drawing(ONE), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_a_drawing_of_many_values_sent_as_an_object_is_refused_before_gradio_copies_it(client):
    """Gradio copies a request's data value by value in its event loop (130 ms for 30,000 values): past
    limits.MAX_JSON_VALUES the request is refused unread, with what to do instead; as JSON text it is read."""
    many = drawing([[[100 + i % 50, 100 + i // 50 % 50] for i in range(3000)]])  # 3,000 points: ~9,000 values
    with pytest.raises(Exception, match="413"):
        client.predict(many, api_name="/predict_strokes")
    answer, _ = client.predict(json.dumps(many), api_name="/predict_strokes")
    assert answer is not None


def test_empty_canvas_is_not_a_digit(client):
    answer, reading, *_ = client.predict(drawing([]), api_name="/predict_strokes")
    assert answer is None and reading is None

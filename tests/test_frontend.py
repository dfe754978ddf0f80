"""frontend.py: what the page is handed. Here, the reading as the Gradio page's own events send it, its rows
packed as float32 (pytest, CPU; the page unpacking it is tests/test_browser.py's)."""

from __future__ import annotations

import base64

import numpy as np

import demo
from frontend import PACKED_ROWS, PACKED_TUTORIAL_ROWS, packed_reading
from harness import SEVEN, pen_path


def rows_of(packed: dict) -> np.ndarray:
    """What web/page.js does with a packed field: base64 -> little-endian float32 -> rows of `width`."""
    return np.frombuffer(base64.b64decode(packed["float32"]), dtype="<f4").reshape(-1, packed["width"])


def test_a_packed_reading_gives_back_every_row_to_float32():
    state = demo.drawing_state({"width": 280, "height": 280, "strokes": pen_path(SEVEN)})
    reading = demo.page_outputs(state, compare=True)["reading"]
    packed = packed_reading(reading)
    assert PACKED_ROWS == ("model_input", "top_down", "bottom_up", "states")
    for name, shape in zip(PACKED_ROWS, [(28, 28), (28, 10), (28, 10), (28, 128)]):
        assert rows_of(packed[name]).shape == shape
        np.testing.assert_array_equal(rows_of(packed[name]), np.asarray(reading[name], np.float32))
    for name in PACKED_TUTORIAL_ROWS:
        np.testing.assert_array_equal(rows_of(packed["tutorial"][name]), np.asarray(reading["tutorial"][name], np.float32))
    assert packed["tutorial"]["sentence"] == reading["tutorial"]["sentence"]
    unpacked_fields = {key: value for key, value in packed.items() if key not in PACKED_ROWS and key != "tutorial"}
    assert unpacked_fields == {key: value for key, value in reading.items() if key not in PACKED_ROWS and key != "tutorial"}
    assert packed_reading(None) is None


def test_the_page_s_events_send_the_reading_packed_and_the_api_s_as_lists():
    sent = {"width": 280, "height": 280, "strokes": pen_path(SEVEN)}  # no seq: nothing to overtake it
    for_page = demo.for_page(demo.read_strokes)(sent)
    for_scripts = demo.read_strokes(sent)
    assert isinstance(for_page["reading"]["states"]["float32"], str)
    assert isinstance(for_scripts["reading"]["states"], list) and len(for_scripts["reading"]["states"]) == 28
    assert for_page["answer"] == for_scripts["answer"]
    np.testing.assert_array_equal(rows_of(for_page["reading"]["states"]),
                                  np.asarray(for_scripts["reading"]["states"], np.float32))

"""training/numbers.py: numbers of unseen writers, separated, touching or overlapping, made the same each time
(pytest, CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from reader.preprocess import ink_map, split_columns
from reader.strokes import parse_drawing, render_drawing
from training.numbers import FORMS, HEIGHT, SOURCES, SPACINGS, WIDTH, numbers


def parts(made) -> int:
    picture = made.picture if made.form == "picture" else render_drawing(parse_drawing(made.drawing))
    return len(split_columns(ink_map(picture)[0]))


@pytest.mark.parametrize("source", SOURCES)
def test_the_same_call_makes_the_same_numbers_and_a_prefix_is_the_shorter_run(source):
    for form in FORMS:
        first, again, longer = (numbers(source, "touching", form, n) for n in (4, 4, 6))
        for a, b, c in zip(first, again, longer):
            assert a.label == b.label == c.label and 2 <= len(a.label) <= 4
            if form == "canvas":
                assert a.drawing == b.drawing == c.drawing
                assert (a.drawing["width"], a.drawing["height"]) == (WIDTH, HEIGHT)
            else:
                assert np.array_equal(np.asarray(a.picture), np.asarray(c.picture))
                assert a.picture.size == (WIDTH, HEIGHT) and a.picture.mode == "L"
    assert [m.label for m in numbers(source, "touching", "canvas", 4, seed=1)] != [m.label for m in first]


def test_separated_digits_leave_an_empty_column_and_touching_ones_none():
    for made in numbers("mnist_test", "separated", "canvas", 10):
        assert parts(made) == len(made.label)
    for spacing in ("touching", "overlapping"):
        for made in numbers("mnist_test", spacing, "canvas", 10):
            assert parts(made) == 1


def test_the_drawings_are_what_the_page_accepts_and_fit_the_canvas():
    for spacing in SPACINGS:
        for made in numbers("load_digits", spacing, "canvas", 5):
            drawing = parse_drawing(made.drawing)  # raises for anything the page would refuse
            points = np.concatenate(drawing.strokes)
            assert points[:, 0].min() >= 0 and points[:, 0].max() <= WIDTH
            assert points[:, 1].min() >= 0 and points[:, 1].max() <= HEIGHT


def test_unknown_spacing_or_form_is_refused():
    with pytest.raises(ValueError, match="spacing"):
        numbers("mnist_test", "glued", "canvas", 1)
    with pytest.raises(ValueError, match="source"):
        numbers("emnist", "touching", "canvas", 1)

"""training/pens.py: a real writer's digit traced into strokes reads as that digit (pytest, CPU)."""

from __future__ import annotations

import numpy as np

from reader.readings import read_digit
from reader.strokes import parse_drawing, render_drawing
from training.pens import digit_strokes, thin


def test_mnist_digits_become_strokes_that_read_the_same(model, mnist_test):
    images, labels = mnist_test
    right = 0
    for image, label in zip(images[:40], labels[:40]):
        strokes = digit_strokes(image)
        assert strokes and all(len(s) >= 2 for s in strokes)
        sent = {"width": 280, "height": 280,
                "strokes": [[[x * 10, y * 10] for x, y in s] for s in strokes]}  # 28 px -> 280
        right += read_digit(model, render_drawing(parse_drawing(sent))).digit == label
    assert right >= 38
    skeleton = thin(np.asarray(images[0]) >= 128)
    blocks = skeleton[:-1, :-1] & skeleton[1:, :-1] & skeleton[:-1, 1:] & skeleton[1:, 1:]
    assert skeleton.any() and not blocks.any()  # one pixel wide

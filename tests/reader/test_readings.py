"""reader/readings.py: drawings and pictures read through the one preprocessing path; what is and is not a
digit (pytest, CPU; against direct model calls). The browser's twin is checked in tests/test_engine.py."""

from __future__ import annotations

import numpy as np
import pytest

from harness import DIGIT_STROKES, pen_path
from reader.readings import predict, read_digit
from reader.strokes import parse_drawing, render_drawing


def test_predict_gives_a_distribution(model, mnist_test):
    images, labels = mnist_test
    probs = predict(model, images[0])
    assert probs.shape == (10,) and probs.dtype == np.float32
    assert abs(probs.sum() - 1) < 1e-5 and probs.argmax() == labels[0]
    assert predict(model, np.zeros((28, 28), np.uint8)) is None


SMILEY = [[(0.5 + 0.38 * np.cos(t), 0.5 + 0.38 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)],
          [(0.37, 0.4), (0.37, 0.42)], [(0.63, 0.4), (0.63, 0.42)],
          [(0.5 + 0.2 * np.cos(t), 0.55 + 0.15 * np.sin(t)) for t in np.linspace(0.15 * np.pi, 0.85 * np.pi, 12)]]


STAR = [[(0.5 + 0.4 * np.cos(a), 0.52 + 0.4 * np.sin(a)) for a in -np.pi / 2 + np.arange(6) * 4 * np.pi / 5]]


HOUSE = [[(0.25, 0.45), (0.75, 0.45), (0.75, 0.85), (0.25, 0.85), (0.25, 0.45)], [(0.2, 0.47), (0.5, 0.15), (0.8, 0.47)]]


HEART = [[(0.5 + 0.022 * 16 * np.sin(t) ** 3,
           0.5 - 0.022 * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)))
          for t in np.linspace(0, 2 * np.pi, 40)]]


LETTER_K = [[(0.3, 0.15), (0.3, 0.85)], [(0.7, 0.15), (0.3, 0.55)], [(0.42, 0.45), (0.72, 0.85)]]


LETTER_A = [[(0.25, 0.85), (0.5, 0.15), (0.75, 0.85)], [(0.35, 0.6), (0.65, 0.6)]]


NOT_DIGITS = {"smiley": SMILEY, "star": STAR, "house": HOUSE, "heart": HEART, "K": LETTER_K, "A": LETTER_A}


@pytest.mark.parametrize("name", sorted(NOT_DIGITS))
def test_unmistakable_non_digits_are_flagged(model, name):
    sent = {"width": 280, "height": 280, "strokes": pen_path(NOT_DIGITS[name])}
    verdict = read_digit(model, render_drawing(parse_drawing(sent)))
    assert verdict.not_a_digit, (name, verdict)


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_drawn_digits_are_not_flagged(model, digit):
    sent = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES[digit])}
    verdict = read_digit(model, render_drawing(parse_drawing(sent)))
    assert str(verdict.digit) == digit and not verdict.not_a_digit, verdict


def test_mnist_digits_are_rarely_flagged(model, mnist_test):
    images, labels = mnist_test
    verdicts = [read_digit(model, image) for image in images[:300]]
    assert sum(v.not_a_digit for v in verdicts) <= 3
    assert np.mean([v.digit == label for v, label in zip(verdicts, labels)]) >= 0.98

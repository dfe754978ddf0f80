"""training/negatives.py: drawings that are not digits, their splits and held-out parts (pytest, CPU)."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from reader.preprocess import to_mnist
from reader.strokes import parse_drawing, render_drawing
from training import negatives


def _hashes(images: np.ndarray) -> set[str]:
    return {hashlib.sha1(image.tobytes()).hexdigest() for image in images}


def test_pools_are_made_and_repeatable():
    images, kinds = negatives.pool("train", 50, seed=0)
    assert images.shape == (50, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1 and (images.reshape(50, -1).max(1) > 0.5).all()  # all have ink
    again, _ = negatives.pool("train", 50, seed=0)
    assert np.array_equal(images, again)
    assert not np.array_equal(images, negatives.pool("train", 50, seed=1)[0])  # the run's seed draws others
    assert {negatives.KINDS[k].family for k in kinds[: len(negatives.FAMILIES)]} == set(negatives.FAMILIES)


def test_every_family_has_a_held_out_part():
    for family in negatives.FAMILIES:
        kinds = [k for k in negatives.KINDS.values() if k.family == family]
        assert any(k.held_out for k in kinds) and not all(k.held_out for k in kinds), family
    trained = set(negatives.kinds_of("train"))
    assert trained == set(negatives.kinds_of("calibration"))
    assert not any(negatives.KINDS[k].held_out for k in trained)
    assert set(negatives.kinds_of("held_out")) == set(negatives.KINDS)  # held-out kinds and trained kinds, new seeds
    assert not set(negatives.TRAIN_FONTS) & set(negatives.HELD_OUT_FONTS)
    assert not set(negatives.TRAIN_PEN_LETTERS) & set(negatives.HELD_OUT_PEN_LETTERS)
    for font in negatives.TRAIN_FONTS + negatives.HELD_OUT_FONTS:
        assert (negatives.FONT_DIR / font).is_file(), font


def test_splits_share_no_drawing():
    train, _ = negatives.pool("train", 300)
    calibration, _ = negatives.pool("calibration", 300)
    held_out, _ = negatives.pool("held_out", 300)
    assert not _hashes(train) & _hashes(held_out)
    assert not _hashes(train) & _hashes(calibration)
    assert not _hashes(calibration) & _hashes(held_out)


def test_pen_negatives_take_the_pages_path():
    """A pool's drawing is a drawing the page could send, drawn by strokes.render_drawing, read by to_mnist."""
    images, kinds = negatives.pool("held_out", len(negatives.KINDS))
    for i, kind in enumerate(kinds):
        if negatives.KINDS[kind].strokes is None:
            continue
        rng = np.random.default_rng([negatives.SPLITS["held_out"], 0, i])
        sent = json.loads(json.dumps(negatives.drawing(kind, rng)))  # plain JSON, as the page sends it
        assert (sent["width"], sent["height"]) == (280, 280)
        np.testing.assert_array_equal(to_mnist(render_drawing(parse_drawing(sent))), images[i])

"""training/styles.py: digits in styles MNIST lacks (pytest, CPU)."""

from __future__ import annotations

from training import styles


def test_styled_digits_are_labelled_digits():
    images, labels = styles.pool(len(styles.STYLE_NAMES) * 2)
    assert images.shape == (len(labels), 28, 28) and set(labels) == set(styles.STYLES)
    assert (images.reshape(len(images), -1).max(1) > 0.5).all()

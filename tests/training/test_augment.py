"""training/augment.py: random distortions keep shape and range and differ each time (pytest, CPU)."""

from __future__ import annotations

from dataclasses import replace

import torch

from training.augment import augment
from training.recipe import RECIPES


def test_augmentation_keeps_shape_range_and_is_random():
    generator = torch.Generator().manual_seed(0)
    images = torch.zeros(64, 28, 28)
    images[:, 6:22, 12:16] = 1.0  # a bar
    first, second = augment(images, generator), augment(images, generator)
    assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
    assert not torch.equal(first, second)
    assert (first.sum((1, 2)) > 0.4 * images.sum((1, 2))).all()  # the digit stays in the picture
    everything = replace(RECIPES["ours"], elastic_fraction=1.0, coarse_fraction=1.0)
    third = augment(images, generator, everything)
    assert third.shape == images.shape and third.min() >= 0 and third.max() <= 1
    assert (third.sum((1, 2)) > 0.4 * images.sum((1, 2))).all()

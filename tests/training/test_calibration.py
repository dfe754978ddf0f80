"""training/calibration.py: the "not a digit" rule's measures (pytest, CPU)."""

from __future__ import annotations

import numpy as np

from model import SCORES
from training.calibration import auroc
from training.recipe import Recipe


def test_auroc():
    assert auroc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert auroc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 0.0
    assert auroc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5


def test_recipe_scores_are_the_models():
    assert Recipe().score in SCORES

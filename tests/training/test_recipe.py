"""training/recipe.py: the recipes are what produced the committed weights (pytest, CPU)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

import train
from harness import ROOT

ADDED_SWITCHES = {"elastic_fraction": 0.0, "styled": 0, "styled_per_32": 0, "coarse_fraction": 0.0, "plain_finish": 0,
                  "negatives": 0, "negatives_per_32": 0, "calibration_digits": 0, "calibration_negatives": 0,
                  "report_negatives": 0, "report_drawn": 0, "autocast": "float32"}


ADDED_TUNING = {"elastic_alpha", "elastic_sigma", "coarse_cells", "coarse_cells_up_to", "coarse_pen", "negative_weight",
                "flag_budget", "score"}


@pytest.mark.parametrize("name, weights", [("ours", "bilstm_mnist"), ("tutorial", "tutorial_bilstm")])
def test_recipes_are_what_produced_the_committed_weights(name, weights):
    """Every training constant is in the recipe, and the card records the recipe whole: changing any
    constant of a recipe makes this fail until the weights are retrained with it."""
    card = json.loads((ROOT / "weights" / f"{weights}.json").read_text())
    args = train.parse_args(["--recipe", name])
    recipe = asdict(train.recipe_of(args))
    added = recipe.keys() - card["recipe"].keys()
    assert added <= ADDED_SWITCHES.keys() | ADDED_TUNING
    if added:  # a card from before those fields: the features they add are off in its recipe
        assert {k: recipe[k] for k in ADDED_SWITCHES} == ADDED_SWITCHES
    assert card["recipe"] == {"name": name, **{k: v for k, v in recipe.items() if k not in added}}
    assert card["args"]["seed"] == args.seed and card["args"]["hidden"] == args.hidden
    assert card["args"]["train_limit"] == 0

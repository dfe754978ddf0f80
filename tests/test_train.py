"""train.py: a short run on a slice of real MNIST learns, and writes what it promises (pytest, CPU)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import train
from model import load_model, sha256_of
from training.mnist import load_mnist
from training.recipe import RECIPES


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny.pt"
    card = train.main(["--epochs", "2", "--train-limit", "4000", "--batch-size", "64", "--lr", "1e-2",
                       "--styled", "100", "--negatives", "300", "--report-negatives", "90", "--report-drawn", "100",
                       "--out", str(out)])
    return out, card


def test_short_training_run_learns(short_run):
    _, card = short_run
    assert card["test_accuracy"] > 0.80  # chance is 0.10; 2 epochs on 4,000 images
    assert card["epochs"][-1]["train_loss"] < card["epochs"][0]["train_loss"]


def test_run_writes_weights_card_and_pictures(short_run):
    out, card = short_run
    model = load_model(out)  # checks the card's sha256 too
    assert model.hidden == 64 and sum(p.numel() for p in model.parameters()) == card["parameters"] == 49_418
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["sha256"] == sha256_of(out)
    assert saved["command"].startswith("python train.py") and "--epochs 2" in saved["command"]
    assert {"python", "torch", "torchvision", "numpy"} <= set(saved["versions"])
    assert len(saved["epochs"]) == 2 and len(saved["confusion_matrix"]) == 10
    assert sum(map(sum, saved["confusion_matrix"])) == saved["test_images"] == 10_000
    for suffix in ("_curves.png", "_confusion.png"):
        with Image.open(out.with_name(out.stem + suffix)) as picture:
            assert picture.format == "PNG" and picture.width > 300
    assert not list(out.parent.glob(".*tmp*"))  # temp files renamed, none left


def test_run_calibrates_on_what_it_did_not_train_on(short_run):
    out, card = short_run
    recipe = RECIPES["ours"]
    rule = card["not_a_digit"]
    assert load_model(out).not_a_digit == {"score": rule["score"], "threshold": rule["threshold"]}
    assert rule["calibrated_on"]["digits"] == recipe.calibration_digits
    assert rule["calibrated_on"]["digits_flagged"] <= recipe.flag_budget
    assert rule["calibrated_on"]["digits_drawn_as_ink_flagged"] <= recipe.flag_budget
    assert rule["calibrated_on"]["negatives"] == recipe.calibration_negatives
    assert (rule["held_out"]["held_out_negatives"], rule["held_out"]["drawn_test"]) == (90, 100)
    assert card["recipe"]["negatives"] == 300 and card["recipe"]["styled"] == 100  # overrides recorded


def test_calibration_digits_are_never_trained_on(monkeypatch):
    """main() trains on the first 60,000 - calibration_digits images and calibrates on the rest."""
    seen = {}

    class Seen(Exception):
        pass

    def fake_epoch(model, images, labels, *args, **kwargs):
        seen["train"] = images
        raise Seen  # enough: only what training was given matters here

    monkeypatch.setattr(train, "train_epoch", fake_epoch)
    with pytest.raises(Seen):
        train.main(["--epochs", "1", "--styled", "0", "--negatives", "0", "--out", "/nonexistent/x.pt"])
    everything, _ = load_mnist(None, train=True, device=torch.device("cpu"))
    keep = len(everything) - RECIPES["ours"].calibration_digits
    assert torch.equal(seen["train"], everything[:keep])


def test_flags_override_the_recipe():
    flags = train.parse_args(["--data-dir", "d", "--epochs", "3", "--batch-size", "64", "--lr", "0.01",
                              "--hidden", "32", "--seed", "1", "--device", "cpu", "--out", "w.pt"])
    recipe = train.recipe_of(flags)
    assert (recipe.epochs, recipe.batch_size, recipe.lr, flags.hidden, flags.device) == (3, 64, 0.01, 32, "cpu")
    assert recipe.label_smoothing == RECIPES["ours"].label_smoothing

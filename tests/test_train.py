"""train.py: a short run on a slice of real MNIST learns, and writes what it promises (pytest, CPU)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
import torch
from PIL import Image

import train
from harness import ROOT
from model import load_model, sha256_of


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
    recipe = train.RECIPES["ours"]
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
    everything, _ = train.load_mnist(None, train=True, device=torch.device("cpu"))
    keep = len(everything) - train.RECIPES["ours"].calibration_digits
    assert torch.equal(seen["train"], everything[:keep])


def test_augmentation_keeps_shape_range_and_is_random():
    generator = torch.Generator().manual_seed(0)
    images = torch.zeros(64, 28, 28)
    images[:, 6:22, 12:16] = 1.0  # a bar
    first, second = train.augment(images, generator), train.augment(images, generator)
    assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
    assert not torch.equal(first, second)
    assert (first.sum((1, 2)) > 0.4 * images.sum((1, 2))).all()  # the digit stays in the picture
    everything = replace(train.RECIPES["ours"], elastic_fraction=1.0, coarse_fraction=1.0)
    third = train.augment(images, generator, everything)
    assert third.shape == images.shape and third.min() >= 0 and third.max() <= 1
    assert (third.sum((1, 2)) > 0.4 * images.sum((1, 2))).all()


def test_fast_mnist_reading_is_torchvisions():
    images, labels = train.load_mnist(None, train=False, device=torch.device("cpu"))
    dataset = train.mnist(train=False)
    assert torch.equal(images, dataset.data.float() / 255) and torch.equal(labels, dataset.targets)


# Recipe fields added after a card was written, and the value that turns each added feature off; the other
# added fields only tune those features. A card without them was trained with all of them off.
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


def test_flags_override_the_recipe():
    flags = train.parse_args(["--data-dir", "d", "--epochs", "3", "--batch-size", "64", "--lr", "0.01",
                              "--hidden", "32", "--seed", "1", "--device", "cpu", "--out", "w.pt"])
    recipe = train.recipe_of(flags)
    assert (recipe.epochs, recipe.batch_size, recipe.lr, flags.hidden, flags.device) == (3, 64, 0.01, 32, "cpu")
    assert recipe.label_smoothing == train.RECIPES["ours"].label_smoothing


def test_mnist_location_rule(tmp_path, monkeypatch):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    assert train.mnist_dir() == str(tmp_path)  # $MNIST_DATA_DIR first
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "empty"))
    assert train.mnist_dir() in (str(ROOT.parent / "shared" / "data"), str(ROOT / "data"), str(tmp_path / "empty"))
    monkeypatch.delenv("MNIST_DATA_DIR")
    expected = next((str(d) for d in (ROOT.parent / "shared" / "data", ROOT / "data") if (d / "MNIST" / "raw").is_dir()),
                    str(ROOT / "data"))
    assert train.mnist_dir() == expected  # else ../shared/data, else ./data (where it is downloaded)


def test_offline_and_absent_mnist_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(self, *args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: network unreachable")

    monkeypatch.setattr(tv_mnist.MNIST, "download", no_network)
    with pytest.raises(RuntimeError, match="Connect to the internet once.*MNIST_DATA_DIR"):
        train.mnist(str(tmp_path / "nowhere"))

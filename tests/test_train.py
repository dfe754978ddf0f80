"""train.py: a short run on a slice of real MNIST learns, and writes what it promises (pytest, CPU)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import train
from conftest import DATA_DIR, ROOT
from model import load_model, sha256_of


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny.pt"
    card = train.main(["--data-dir", str(DATA_DIR), "--epochs", "2", "--train-limit", "4000",
                       "--batch-size", "64", "--lr", "1e-2", "--out", str(out)])
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


def test_augmentation_keeps_shape_range_and_is_random():
    generator = torch.Generator().manual_seed(0)
    images = torch.zeros(64, 28, 28)
    images[:, 6:22, 12:16] = 1.0  # a bar
    first, second = train.augment(images, generator), train.augment(images, generator)
    assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
    assert not torch.equal(first, second)
    assert (first.sum((1, 2)) > 0.4 * images.sum((1, 2))).all()  # the digit stays in the picture


def test_defaults_are_what_produced_the_committed_weights():
    card = json.loads((ROOT / "weights" / "bilstm_mnist.json").read_text())
    defaults = vars(train.parse_args([]))
    for name in ("data_dir", "out"):  # where, not how
        defaults.pop(name), card["args"].pop(name)
    assert defaults == card["args"]
    flags = train.parse_args(["--data-dir", "d", "--epochs", "3", "--batch-size", "64", "--lr", "0.01",
                              "--hidden", "32", "--seed", "1", "--device", "cpu", "--out", "w.pt"])
    assert (flags.epochs, flags.batch_size, flags.hidden, flags.device) == (3, 64, 32, "cpu")

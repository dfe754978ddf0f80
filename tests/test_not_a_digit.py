"""'Not a digit': the negatives and their held-out parts, the verdict (model.judge), the rule in the checkpoint
and the card, and the committed weights on drawings that are and are not digits (pytest, CPU)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

import negatives
import styles
from harness import DIGIT_STROKES, digit_strokes, pen_path, thin
from model import DEFAULT_WEIGHTS, SCORES, TUTORIAL_WEIGHTS, BiLSTM, judge, load_model, read_digit, to_mnist
from strokes import parse_drawing, render_drawing
from train import Recipe, auroc, save_checkpoint


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


def test_styled_digits_are_labelled_digits():
    images, labels = styles.pool(len(styles.STYLE_NAMES) * 2)
    assert images.shape == (len(labels), 28, 28) and set(labels) == set(styles.STYLES)
    assert (images.reshape(len(images), -1).max(1) > 0.5).all()


def test_judge_agrees_with_direct_model_calls(model, mnist_test):
    images, _ = mnist_test
    rule = model.not_a_digit
    drawn, _ = negatives.pool("held_out", 10)
    x = torch.cat([torch.from_numpy(images[:10]).float() / 255, torch.from_numpy(drawn)])
    with torch.inference_mode():
        logits = model(x)
    probs = torch.softmax(logits, 1).numpy()
    scores = probs.max(1) if rule["score"] == "max_softmax" else torch.logsumexp(logits, 1).numpy()
    for row, p, s in zip(logits.numpy(), probs, scores):
        verdict = judge(model, row)
        assert verdict.probs.dtype == np.float32 and verdict.probs.shape == (10,)
        np.testing.assert_allclose(verdict.probs, p, atol=1e-6)
        assert verdict.digit == int(p.argmax()) and verdict.confidence == pytest.approx(float(p.max()), abs=1e-6)
        assert verdict.score == pytest.approx(float(s), abs=1e-5)
        assert verdict.not_a_digit == (verdict.score < rule["threshold"])
    with pytest.raises(ValueError, match="10 logits"):
        judge(model, np.zeros(9))


def test_no_rule_no_verdict():
    tutorial = load_model(TUTORIAL_WEIGHTS)
    assert tutorial.not_a_digit is None
    verdict = judge(tutorial, np.zeros(10, np.float32))  # uniform: as unlike a digit as it gets
    assert not verdict.not_a_digit and verdict.score == pytest.approx(0.1)
    assert not judge(BiLSTM(), np.zeros(10)).not_a_digit  # a fresh model has no rule either
    assert read_digit(tutorial, np.zeros((28, 28), np.uint8)) is None  # no ink


def test_rule_survives_save_and_load_and_bad_rules_are_named(tmp_path):
    path = tmp_path / "w.pt"
    save_checkpoint(BiLSTM(), path, {"score": "logsumexp", "threshold": np.float32(1.5)})
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["not_a_digit"] == {"score": "logsumexp", "threshold": 1.5}
    assert type(checkpoint["not_a_digit"]["threshold"]) is float
    assert load_model(path).not_a_digit == {"score": "logsumexp", "threshold": 1.5}
    state = BiLSTM().state_dict()
    for bad in ({"score": "energy", "threshold": 1.0}, {"score": "max_softmax", "threshold": "0.5"},
                {"score": "max_softmax", "threshold": float("nan")}, "max_softmax"):
        torch.save({"model_args": {"hidden": 64}, "state_dict": state, "not_a_digit": bad}, path)
        with pytest.raises(ValueError, match="w.pt.*not_a_digit"):
            load_model(path)


def test_committed_checkpoint_and_card_carry_the_rule():
    checkpoint = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    rule = checkpoint["not_a_digit"]
    assert rule["score"] in SCORES and type(rule["threshold"]) is float
    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    recorded = card["not_a_digit"]
    assert (recorded["score"], recorded["threshold"]) == (rule["score"], rule["threshold"])
    assert recorded["score"] == card["recipe"]["score"]
    calibrated = recorded["calibrated_on"]
    budget = card["recipe"]["flag_budget"]
    assert calibrated["digits"] == card["recipe"]["calibration_digits"]
    assert calibrated["digits_flagged"] <= budget and calibrated["digits_drawn_as_ink_flagged"] <= budget
    assert calibrated["negatives"] == card["recipe"]["calibration_negatives"] and 0 < calibrated["negatives_flagged"] <= 1
    held_out = recorded["held_out"]
    assert held_out["held_out_negatives"] == card["recipe"]["report_negatives"]
    assert held_out["drawn_test"] == card["recipe"]["report_drawn"]
    assert 0.5 < held_out["auroc"] <= 1 and set(held_out["by_family"]) == set(negatives.FAMILIES)
    # the card's MNIST test rate is true of the committed weights
    assert card["train_images"] == 60_000 - card["recipe"]["calibration_digits"]


def test_committed_card_flag_rate_on_mnist_test_is_true(model, mnist_test):
    images, _ = mnist_test
    with torch.inference_mode():
        logits = model(torch.from_numpy(images).float() / 255)
    flagged = np.mean([judge(model, row).not_a_digit for row in logits.numpy()])
    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert flagged == pytest.approx(card["not_a_digit"]["held_out"]["mnist_test_flagged"], abs=1e-4)
    assert flagged <= 0.01


# Drawings no one would call a digit, in [0, 1] of the canvas, drawn here by hand (not by negatives.py)
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


def test_auroc():
    assert auroc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert auroc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 0.0
    assert auroc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5


def test_recipe_scores_are_the_models():
    assert Recipe().score in SCORES

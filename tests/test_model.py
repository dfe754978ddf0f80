"""model.py: the network, its weights files, the committed weights, its readings of a 28x28 and the "not a digit"
verdict; the tutorial's model and its flaw (pytest, CPU)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from harness import DIGIT_STROKES, pen_path
from model import DEFAULT_WEIGHTS, SCORES, TUTORIAL_WEIGHTS, BiLSTM, judge, load_model, read_rows, row_importance
from reader.preprocess import to_mnist
from reader.readings import read_digit
from reader.strokes import parse_drawing, render_drawing
from train import save_checkpoint
from training import negatives


def test_seed_architecture_and_shapes():
    model = BiLSTM()
    assert sum(p.numel() for p in model.parameters()) == 49_418
    assert (model.lstm.input_size, model.lstm.hidden_size, model.lstm.num_layers) == (28, 64, 1)
    assert model.lstm.bidirectional and model.lstm.batch_first
    logits, states = model.read(torch.rand(5, 28, 28))
    assert logits.shape == (5, 10) and states.shape == (5, 28, 128)
    assert model(torch.rand(3, 28, 28)).shape == (3, 10)


def test_forward_returns_logits_not_probabilities():
    torch.manual_seed(0)
    logits = BiLSTM()(torch.rand(8, 28, 28))
    assert not torch.allclose(logits.sum(1), torch.ones(8))  # a softmax inside would sum to 1
    assert (logits < 0).any()


def _logit_change(model: BiLSTM, row: int) -> float:
    x = torch.rand(4, 28, 28, generator=torch.Generator().manual_seed(1))
    changed = x.clone()
    changed[:, row] = torch.rand(4, 28, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        return (model(x) - model(changed)).abs().max().item()


def test_both_directions_feed_the_classifier():
    torch.manual_seed(0)
    model = BiLSTM()
    with torch.no_grad():  # cut the forward half out of the classifier: only the backward state is read
        model.head.weight[:, :64] = 0
    # The backward direction ends at row 1, so its final state depends on the first row. (The
    # tutorial's output[:, -1, :] holds the backward state after reading only row 28.)
    assert _logit_change(model, row=0) > 1e-4
    torch.manual_seed(0)
    model = BiLSTM()
    with torch.no_grad():  # and the forward half alone depends on the last row
        model.head.weight[:, 64:] = 0
    assert _logit_change(model, row=27) > 1e-4


def test_normalization_happens_inside():
    """forward takes [0, 1] images; the LSTM sees them standardized with MNIST's mean and std."""
    model = BiLSTM()
    seen = {}
    model.lstm.register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    model(torch.zeros(1, 28, 28))
    assert torch.allclose(seen["x"], torch.full((1, 28, 28), -0.1307 / 0.3081))


def test_save_then_load_gives_identical_logits(tmp_path):
    torch.manual_seed(3)
    model = BiLSTM(hidden=32).eval()
    path = tmp_path / "w.pt"
    save_checkpoint(model, path)
    loaded = load_model(path)
    assert loaded.hidden == 32 and not loaded.training
    x = torch.rand(6, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert not list(tmp_path.glob(".*tmp*"))  # the temp file was renamed, not left behind


def test_missing_weights_name_the_file_and_say_how_to_train(tmp_path):
    path = tmp_path / "nothing.pt"
    with pytest.raises(FileNotFoundError, match="nothing.pt.*python train.py"):
        load_model(path)


def test_truncated_weights_are_refused(tmp_path):
    good = tmp_path / "good.pt"
    save_checkpoint(BiLSTM(), good)
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.pt"):
        load_model(bad)
    (tmp_path / "text.pt").write_text("not weights")
    with pytest.raises(ValueError, match="text.pt"):
        load_model(tmp_path / "text.pt")


class _RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {_RunsCode.marker}",))


def test_code_running_pickle_runs_nothing(tmp_path):
    _RunsCode.marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.pt"
    torch.save({"model_args": {"hidden": 64}, "state_dict": {}, "payload": _RunsCode()}, hostile)
    with pytest.raises(ValueError, match="hostile.pt"):
        load_model(hostile)
    assert not _RunsCode.marker.exists()


def test_mismatched_weights_are_refused(tmp_path):
    path = tmp_path / "mismatch.pt"
    checkpoint = {"model_args": {"hidden": 64, "layers": 1}, "state_dict": BiLSTM(hidden=32).state_dict()}
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match="mismatch.pt.*do not fit"):
        load_model(path)
    torch.save({"model_args": {"width": 3}, "state_dict": {}}, path)
    with pytest.raises(ValueError, match="mismatch.pt"):
        load_model(path)
    torch.save(torch.zeros(3), path)  # a plain tensor, not a checkpoint
    with pytest.raises(ValueError, match="mismatch.pt.*model_args"):
        load_model(path)


def test_metrics_card_sha256_is_checked(tmp_path):
    weights = tmp_path / "bilstm_mnist.pt"
    shutil.copy(DEFAULT_WEIGHTS, weights)
    shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), weights.with_suffix(".json"))
    load_model(weights)  # the committed pair agrees
    save_checkpoint(BiLSTM(), weights)  # replaced after training: the card no longer describes it
    with pytest.raises(ValueError, match="bilstm_mnist.pt.*sha256.*does not match"):
        load_model(weights)


def test_committed_card_describes_committed_weights():
    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert card["parameters"] == 49_418
    assert card["test_accuracy"] >= 0.994
    assert card["command"].startswith("python train.py")
    assert len(card["epochs"]) == card["recipe"]["epochs"]  # args hold only overrides (None: the recipe's)


def test_committed_weights_on_the_real_mnist_test_set(model, mnist_test):
    images, labels = mnist_test
    with torch.inference_mode():
        logits = model(torch.from_numpy(images).float() / 255)
    accuracy = (logits.argmax(1).numpy() == labels).mean()
    assert accuracy >= 0.99, accuracy
    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert accuracy == pytest.approx(card["test_accuracy"], abs=1e-4)  # the card's number is true


def test_row_reading_is_true_to_the_model(model, mnist_test):
    images, labels = mnist_test
    for index in range(5):
        digit = images[index].astype(np.float32) / 255
        reading = read_rows(model, digit)
        assert reading["top_down"].shape == (28, 10) and reading["bottom_up"].shape == (28, 10)
        assert reading["states"].shape == (28, 128)
        with torch.inference_mode():
            full = torch.softmax(model(torch.from_numpy(digit)[None]), 1)[0].numpy()
            prefix = digit.copy()
            prefix[10:] = 0
            after_ten = torch.softmax(model(torch.from_numpy(prefix)[None]), 1)[0].numpy()
            _, states = model.read(torch.from_numpy(digit)[None])
        np.testing.assert_allclose(reading["top_down"][27], full, atol=1e-5)
        np.testing.assert_allclose(reading["bottom_up"][0], full, atol=1e-5)
        np.testing.assert_allclose(reading["top_down"][9], after_ten, atol=1e-5)
        np.testing.assert_allclose(reading["states"], states[0].numpy(), atol=1e-5)
        # MNIST digits start with blank rows: having read only those, no digit is confident
        blank_rows = int(np.argmax(digit.sum(1) > 0))
        assert blank_rows >= 1
        assert reading["top_down"][:blank_rows].max() < 0.5


@pytest.fixture(scope="module")
def tutorial():
    return load_model(TUTORIAL_WEIGHTS)


def test_tutorial_weights_load_through_the_safe_loader_with_their_card(tutorial, mnist_test):
    card = json.loads(TUTORIAL_WEIGHTS.with_suffix(".json").read_text())  # load_model checked its sha256
    assert tutorial.readout == "last_output" and not tutorial.normalize
    assert card["recipe"]["name"] == "tutorial" and card["recipe"]["softmax_before_loss"]
    assert card["recipe"]["batch_size"] == 32 and card["recipe"]["optimizer"] == "adam" and len(card["epochs"]) == 30
    images, labels = mnist_test
    with torch.inference_mode():
        accuracy = (tutorial(torch.from_numpy(images).float() / 255).argmax(1).numpy() == labels).mean()
    assert accuracy == pytest.approx(card["test_accuracy"], abs=1e-4)  # the card's number is true


def test_tutorial_readout_has_read_only_row_28_backwards(tutorial, mnist_test):
    """The page's sentence, on the real weights: the backward half of output[:, -1, :] does not change
    when rows 1-27 change, and the forward half does."""
    images, _ = mnist_test
    x = torch.from_numpy(images[:8]).float() / 255
    changed = x.clone()
    changed[:, :27] = torch.rand(8, 27, 28, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        _, states = tutorial.read(x)
        _, states_changed = tutorial.read(changed)
    last, last_changed = states[:, -1], states_changed[:, -1]
    assert torch.equal(last[:, 64:], last_changed[:, 64:])  # backward half: row 28 only
    assert (last[:, :64] - last_changed[:, :64]).abs().max() > 1e-3  # forward half: every row


def drawn(digit: str) -> np.ndarray:
    """A digit drawn with the page's pen, as the model reads it."""
    return to_mnist(render_drawing(parse_drawing({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES[digit])})))


def test_row_importance_is_the_model_with_one_row_blanked(model):
    digit = drawn("7")
    importance = row_importance(model, digit)
    with torch.inference_mode():
        full = torch.softmax(model(torch.from_numpy(digit)[None]), 1)[0].numpy()
        answer = int(full.argmax())
        for row in (3, 9, 20):
            blanked = digit.copy()
            blanked[row] = 0
            p = torch.softmax(model(torch.from_numpy(blanked)[None]), 1)[0, answer].item()
            assert importance["drop"][row] == pytest.approx(full[answer] - p, abs=1e-5)
    assert importance["answer"] == answer and importance["probability"] == pytest.approx(full[answer], abs=1e-6)
    empty_rows = np.nonzero(digit.sum(1) == 0)[0]
    assert np.abs(importance["drop"][empty_rows]).max() < 0.05  # blanking a blank row changes little


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

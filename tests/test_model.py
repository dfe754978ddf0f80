"""The network, its weights files and the committed weights (pytest, CPU)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from model import DEFAULT_WEIGHTS, BiLSTM, load_model, predict, read_rows
from train import save_checkpoint


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


def test_predict_gives_a_distribution(model, mnist_test):
    images, labels = mnist_test
    probs = predict(model, images[0])
    assert probs.shape == (10,) and probs.dtype == np.float32
    assert abs(probs.sum() - 1) < 1e-5 and probs.argmax() == labels[0]
    assert predict(model, np.zeros((28, 28), np.uint8)) is None


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

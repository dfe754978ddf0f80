"""On stage: the tutorial's model beside ours, which rows matter, when each direction makes up its mind, the
GIF for slides, and colours that survive colour-vision deficiencies (pytest, CPU; against direct model calls).
Keyboard and layout are in test_browser.py."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from harness import DIGIT_STROKES, pen_path
from model import TUTORIAL_WEIGHTS, load_model, read_rows, row_importance, to_mnist
from strokes import parse_drawing, render_drawing
from views import row_walk_gif, viridis


@pytest.fixture(scope="module")
def tutorial():
    return load_model(TUTORIAL_WEIGHTS)


def drawn(digit: str) -> np.ndarray:
    return to_mnist(render_drawing(parse_drawing({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES[digit])})))


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


def test_compare_shows_the_tutorial_model_for_the_same_drawing(app, tutorial):
    sent = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["7"])}
    outputs = app.read_strokes(sent, True)
    theirs = outputs[app.answer]["tutorial"]
    digit = to_mnist(render_drawing(parse_drawing(sent)))
    with torch.inference_mode():
        expected = torch.softmax(tutorial(torch.from_numpy(digit)[None]), 1)[0].numpy()
    np.testing.assert_allclose(theirs["probs"], expected, atol=1e-5)
    assert "backward half only row 28" in outputs[app.reading]["tutorial"]["sentence"]
    np.testing.assert_allclose(outputs[app.reading]["tutorial"]["top_down"], read_rows(tutorial, digit)["top_down"], atol=1e-5)
    off = app.compare_changed(outputs[app.digit_state], False)  # toggled off: the same digit, ours alone
    assert "tutorial" not in off[app.answer] and off[app.reading]["tutorial"] is None
    assert off[app.answer]["probs"] == outputs[app.answer]["probs"]


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


def test_row_walk_gif_for_slides(model):
    digit = drawn("2")
    data = row_walk_gif(digit, read_rows(model, digit))
    assert len(data) < 200_000  # small enough for a slide deck
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 28 and gif.info.get("loop") == 0
        sizes = set()
        for frame in range(28):
            gif.seek(frame)
            sizes.add(gif.size)
        assert len(sizes) == 1


def test_gif_of_the_session_s_digit(app):
    """The page's GIF button: the digit the session read last (its state), 28 frames."""
    outputs = app.read_strokes({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["1"])})
    with Image.open(app.gif_path(outputs[app.digit_state])) as gif:
        assert gif.n_frames == 28
    with pytest.raises(Exception, match="Draw a digit first"):
        app.export_gif(None)


# Colour-vision deficiencies: Machado, Oliveira & Fernandes (2009) simulation matrices, severity 1.0, on
# linear RGB. The pairs the page relies on must stay apart for every common deficiency.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(rgb) -> np.ndarray:
    c = np.asarray(rgb, float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(rgb, matrix) -> np.ndarray:
    c = np.asarray(rgb, float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    simulated = np.clip(linear @ np.array(matrix).T, 0, 1)
    srgb = np.where(simulated <= 0.0031308, simulated * 12.92, 1.055 * simulated ** (1 / 2.4) - 0.055)
    return _lab(srgb * 255)


@pytest.mark.parametrize("deficiency", list(CVD))
def test_colours_survive_colour_vision_deficiencies(deficiency):
    matrix = CVD[deficiency]
    orange, blue, red_hidden, blue_hidden = (230, 90, 0), (59, 82, 139), (200, 30, 40), (30, 80, 200)
    low, high = viridis(np.array([0.0])).tolist()[0], viridis(np.array([1.0])).tolist()[0]
    pairs = {"top-down line vs bottom-up line": (blue, orange), "hidden state + vs -": (red_hidden, blue_hidden),
             "improbable vs probable": (low, high), "row mark vs improbable": (orange, low),
             "row mark vs probable": (orange, high)}
    for name, (a, b) in pairs.items():
        distance = np.linalg.norm(_seen(a, matrix) - _seen(b, matrix))
        assert distance > 20, f"{name}: Delta E {distance:.0f} under {deficiency}"
    # viridis stays monotonic in lightness for everyone: probable is always lighter
    values = viridis(np.linspace(0, 1, 11))
    lightness = [_seen(v, matrix)[0] for v in values]
    assert all(b > a for a, b in zip(lightness, lightness[1:]))

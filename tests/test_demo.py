"""The app's handlers and its API: what the page and the API return is the model's own reading
(pytest, CPU; gradio_client against demo.py launched in-process)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import drawing, sketch
from harness import DIGIT_STROKES, ROOT, pen_path, render_drawn
from model import predict, read_rows, to_mnist
from strokes import parse_drawing, render_drawing


def picture(data_uri: str) -> np.ndarray:
    assert data_uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))))


def test_importing_demo_changes_nothing_process_wide():
    check = ("import torch, PIL.Image as I; threads, pixels = torch.get_num_threads(), I.MAX_IMAGE_PIXELS; "
             "import demo; assert not demo.demo.is_running and demo.demo.local_url is None; "
             "assert (torch.get_num_threads(), I.MAX_IMAGE_PIXELS) == (threads, pixels); "
             "demo.apply_process_settings(); assert torch.get_num_threads() == 1; print('idle')")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "idle", result.stderr[-2000:]


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_drawn_strokes_are_read_through_the_one_preprocessing_path(app, model, digit):
    """The numbers on the page equal predict(model, the picture the strokes make), through to_mnist."""
    sent = drawing(pen_path(DIGIT_STROKES[digit]))
    outputs = app.read_strokes(json.dumps(sent))
    answer, reading = outputs[app.answer], outputs[app.reading]
    seen = render_drawing(parse_drawing(sent))  # what the person saw on the canvas
    expected = predict(model, seen)
    assert answer["digit"] == digit == str(int(expected.argmax()))
    np.testing.assert_allclose(answer["probs"], expected, atol=1e-5)
    np.testing.assert_array_equal(picture(reading["model_input"]), (to_mnist(seen) * 255).round().astype(np.uint8))
    np.testing.assert_array_equal(outputs[app.digit_state]["digit"], to_mnist(seen))
    assert reading["points"] == sum(len(stroke) for stroke in sent["strokes"])


def test_reading_views_come_from_the_model(app, model, mnist_test):
    images, _ = mnist_test
    outputs = app.read_image(images[6])
    digit = to_mnist(images[6])
    truth = read_rows(model, digit)
    reading = outputs[app.reading]
    np.testing.assert_array_equal(picture(reading["top_down"]), app.viridis(truth["top_down"]))
    np.testing.assert_array_equal(picture(reading["bottom_up"]), app.viridis(truth["bottom_up"]))
    hidden = picture(reading["hidden"])
    assert hidden.shape == (28, 129, 3) and (hidden[:, 64] == 255).all()  # 64 + 64 units, a white separator
    assert reading["captions"][11].startswith("Row 12.") and len(reading["captions"]) == 28
    assert reading["settle"] == list(app.settling_rows(truth))
    assert reading["bands"] is None and reading["points"] is None  # not drawn: nothing to mark on the canvas
    assert outputs[app.sketchpad] == app.EMPTY_DRAWING  # the canvas is cleared: the page reads the digit


@pytest.mark.parametrize("digit", ["1", "7"])
def test_bands_come_from_to_mnist_placement(app, digit):
    """Row t's band on the canvas is where to_mnist took row t from: the first and last rows of the 28x28
    with ink have, in their bands, the first and last rows of ink on the canvas."""
    sent = drawing(pen_path(DIGIT_STROKES[digit]))
    bands = app.read_strokes(sent)[app.reading]["bands"]
    seen = render_drawing(parse_drawing(sent))
    ink_rows = np.nonzero((np.asarray(seen) < 128).any(1))[0]
    digit_rows = np.nonzero(to_mnist(seen).max(1) > 0.5)[0]
    rows = np.array(bands["rows"]) * 280  # canvas pixels
    assert rows[digit_rows[0]][0] - 1 <= ink_rows[0] <= rows[digit_rows[0]][1] + 1
    assert rows[digit_rows[-1]][0] - 1 <= ink_rows[-1] <= rows[digit_rows[-1]][1] + 1
    assert np.all(np.diff(rows[:, 0]) >= 0) and rows[-1, 0] > rows[0, 0]  # down the canvas (clipped at its edges)
    x0, x1 = np.array(bands["x"]) * 280
    ink_cols = np.nonzero((np.asarray(seen) < 128).any(0))[0]
    assert x0 <= ink_cols[0] and ink_cols[-1] <= x1


def test_empty_drawing_and_undo_to_nothing_give_the_prompt(app):
    outputs = app.read_strokes(drawing([]))
    assert outputs[app.answer] is None and outputs[app.reading] is None and outputs[app.digit_state] is None


def test_v1_image_api_keeps_its_eight_outputs(client, model, mnist_test, tmp_path):
    images, labels = mnist_test
    for index in (0, 1, 2):
        page = render_drawn(images[index], canvas=800, size=620, left=90, top=100)
        page.save(tmp_path / f"{index}.png")
        status, label, bars, model_input, reading, hidden, caption, row = client.predict(
            sketch(tmp_path / f"{index}.png"), api_name="/predict")
        expected = predict(model, page)
        assert status == "" and label["label"] == str(labels[index])
        confidences = {c["label"]: c["confidence"] for c in label["confidences"]}
        assert confidences[str(labels[index])] == pytest.approx(float(expected.max()), abs=1e-5)
        assert [d for d, _ in bars["data"]] == [str(d) for d in range(10)]  # fixed 0-9 order
        assert [p for _, p in bars["data"]] == pytest.approx(expected.tolist(), abs=1e-5)
        np.testing.assert_array_equal(np.asarray(Image.open(model_input)), (to_mnist(page) * 255).round().astype(np.uint8))
        assert Image.open(hidden).size == (129, 4 * 28)
        assert Image.open(reading).height == 3 * 12 + 28 * 12 + 12
        assert row == 28 and caption.startswith("**Row 28.**")


def test_strokes_api_takes_an_object_or_its_json_text(client, model):
    sent = drawing(pen_path(DIGIT_STROKES["4"]))
    expected = predict(model, render_drawing(parse_drawing(sent)))
    for value in (sent, json.dumps(sent)):
        answer, reading, *_ = client.predict(value, api_name="/predict_strokes")
        assert answer["digit"] == "4"
        np.testing.assert_allclose(answer["probs"], expected, atol=1e-5)
        assert len(reading["captions"]) == 28


def test_upload_endpoint_reads_a_photo(client, mnist_test, tmp_path):
    from gradio_client import handle_file

    images, labels = mnist_test
    Image.fromarray(images[3]).save(tmp_path / "mnist.png")  # an MNIST digit as is: light on dark
    answer, *_ = client.predict(handle_file(str(tmp_path / "mnist.png")), api_name="/predict_image")
    assert answer["digit"] == str(labels[3])


def test_settling_rows_need_confidence(app):
    uniform = np.full((28, 10), 0.1, np.float32)
    sure = np.eye(10, dtype=np.float32)[7]
    top_down, bottom_up = uniform.copy(), uniform.copy()
    top_down[15:] = sure  # sure of 7 from row 16 on, reading down
    bottom_up[:9] = sure  # sure of 7 while reading rows t..28 for t <= 9
    assert app.settling_rows({"top_down": top_down, "bottom_up": bottom_up}) == (16, 9)


def test_captions_say_what_the_model_believes(app, model, mnist_test):
    images, _ = mnist_test
    digit = to_mnist(images[0])
    reading = read_rows(model, digit)
    with torch.inference_mode():
        first_ten = digit.copy()
        first_ten[10:] = 0
        probs = torch.softmax(model(torch.from_numpy(first_ten)[None]), 1)[0].numpy()
    caption = app.row_caption(reading, 10)
    best = int(probs.argmax())
    assert caption.startswith("Row 10. Reading only rows 1-10")
    assert (f"says {best} ({100 * probs[best]:.0f}%)" in caption) == (probs[best] >= 0.5)

"""The app through its API: gradio_client against demo.py launched in-process (pytest, CPU)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from bench.drawn_digits import render_drawn
from conftest import ROOT, sketch
from model import predict, to_mnist


def save(image: Image.Image, path) -> str:
    image.save(path)
    return str(path)


def test_importing_demo_launches_nothing():
    check = "import demo; assert not demo.demo.is_running and demo.demo.local_url is None; print('idle')"
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "idle", result.stderr[-2000:]


def test_drawn_mnist_digits_are_read(client, mnist_test, tmp_path, model):
    images, labels = mnist_test
    for index in (0, 1, 2, 3, 4):
        page = render_drawn(images[index], canvas=800, size=620, left=90, top=100)
        outputs = client.predict(sketch(save(page, tmp_path / f"{index}.png")), api_name="/predict")
        status, label, bars, model_input, reading, hidden, caption, row = outputs
        assert label["label"] == str(labels[index])
        assert status == ""
        confidences = {c["label"]: c["confidence"] for c in label["confidences"]}
        expected = predict(model, page)  # the page shows exactly what the Python API predicts
        assert confidences[str(labels[index])] == pytest.approx(float(expected.max()), abs=1e-5)
        assert [d for d, _ in bars["data"]] == [str(d) for d in range(10)]  # fixed 0-9 order
        assert [p for _, p in bars["data"]] == pytest.approx(expected.tolist(), abs=1e-5)
        seen = np.asarray(Image.open(model_input))  # exactly the model's 28x28 input
        np.testing.assert_array_equal(seen, (to_mnist(page) * 255).round().astype(np.uint8))
        assert Image.open(hidden).size == (129, 4 * 28)  # 64 + 64 units, 28 rows
        assert Image.open(reading).height == 3 * 12 + 28 * 12 + 12
        assert row == 28 and "Row 28" in caption


def test_bar_chart_is_the_softmax_in_fixed_order(app, mnist_test):
    images, labels = mnist_test
    outputs = app.read_image(images[5])
    bars = outputs[2]
    assert list(bars["digit"]) == [str(d) for d in range(10)]
    assert bars["probability"].sum() == pytest.approx(1.0, abs=1e-5)
    assert int(bars["probability"].to_numpy().argmax()) == labels[5]


def test_reading_views_come_from_the_model(app, mnist_test, model):
    images, _ = mnist_test
    outputs = app.read_image(images[6])
    hidden = outputs[5]
    assert hidden.shape == (4 * 28, 129, 3)  # 4 px per row, 1 px per unit, a white separator
    assert (hidden[:, 64] == 255).all()
    assert outputs[6].startswith("**Row 28.**")
    np.testing.assert_array_equal(outputs[7], to_mnist(images[6]))  # the session keeps what the model saw


def test_blank_canvas_gives_no_prediction(client, tmp_path):
    blank = Image.new("RGBA", (800, 800), "white")
    status, label, bars, model_input, reading, hidden, caption, row = client.predict(
        sketch(save(blank, tmp_path / "blank.png")), api_name="/predict")
    assert "Draw a digit" in status
    assert not label or label.get("label") is None
    assert [p for _, p in bars["data"]] == [0.0] * 10  # no bars
    assert model_input is None and reading is None and hidden is None


def test_sketch_without_composite_is_empty_and_server_keeps_serving(client, tmp_path, mnist_test):
    images, labels = mnist_test
    status, label, *_ = client.predict({"background": None, "layers": []}, api_name="/predict")
    assert "Draw a digit" in status and not label
    page = render_drawn(images[0], canvas=280, size=200, left=40, top=40)
    assert client.predict(sketch(save(page, tmp_path / "d.png")), api_name="/predict")[1]["label"] == str(labels[0])


def test_row_slider_and_play_show_true_rows(app, mnist_test):
    images, _ = mnist_test
    digit = images[0].astype(np.float32) / 255
    image, caption = app.show_row(digit, 12)
    assert caption.startswith("**Row 12.**") and image.height == 3 * app.CELL + 28 * app.CELL + app.CELL
    frames = list(app.play(digit, delay=0))
    assert [row for row, _, _ in frames] == list(range(1, 29))
    assert app.show_row(None, 5) == (None, app.PROMPT)


def test_settling_rows_need_confidence(app):
    uniform = np.full((28, 10), 0.1, np.float32)
    sure = np.eye(10, dtype=np.float32)[7]
    top_down, bottom_up = uniform.copy(), uniform.copy()
    top_down[15:] = sure  # sure of 7 from row 16 on, reading down
    bottom_up[:9] = sure  # sure of 7 while reading rows t..28 for t <= 9
    assert app.settling_rows({"top_down": top_down, "bottom_up": bottom_up}) == (16, 9)

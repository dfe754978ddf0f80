"""The app through its API: gradio_client against demo.py launched in-process (pytest, CPU)."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

from bench.drawn_digits import render_drawn
from model import predict


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app():
    import demo

    demo.demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo
    demo.demo.close()


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.demo.local_url, verbose=False)


def sketch(path) -> dict:
    """The sketchpad's value as an API client sends it."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}


def save(image: Image.Image, path) -> str:
    image.save(path)
    return str(path)


def test_importing_demo_launches_nothing(app):
    assert app.model is not None and not app.model.training
    assert app.demo.local_url  # launched by the fixture, not by the import


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
        values = {row_["digit"]: row_["probability"] for row_ in bars["value"]["data"]} if "data" in bars[
            "value"] else None
        assert values is None or len(values) == 10
        assert Image.open(model_input).size == (280, 280)
        assert Image.open(reading).height == Image.open(hidden).height  # rows aligned: 28 rows + margins
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
    digit = images[6].astype(np.float32) / 255
    outputs = app.read_image(images[6])
    hidden = outputs[5]
    assert hidden.height == 3 * app.CELL + 28 * app.CELL + app.CELL  # one band of CELL px per row
    assert outputs[6].startswith("**Row 28.**")
    np.testing.assert_allclose(outputs[7], digit, atol=1e-6)  # the session's digit = what the model saw


def test_blank_canvas_gives_no_prediction(client, tmp_path):
    blank = Image.new("RGBA", (800, 800), "white")
    status, label, bars, model_input, reading, hidden, caption, row = client.predict(
        sketch(save(blank, tmp_path / "blank.png")), api_name="/predict")
    assert "Draw a digit" in status
    assert not label or label.get("label") is None
    assert model_input is None and reading is None and hidden is None


def test_row_slider_and_play_show_true_rows(app, mnist_test):
    images, _ = mnist_test
    digit = images[0].astype(np.float32) / 255
    image, caption = app.show_row(digit, 12)
    assert caption.startswith("**Row 12.**")
    frames = list(app.play.__wrapped__(digit)) if hasattr(app.play, "__wrapped__") else None
    assert frames is None or len(frames) == 28
    assert app.show_row(None, 5) == (None, app.PROMPT)

"""The app's handlers and its API: what the page and the API return is the model's own reading, through the one
preprocessing path (pytest, CPU; gradio_client against demo.py launched in-process)."""

from __future__ import annotations

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
from views import row_caption, settling_rows


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
    sent = drawing(pen_path(DIGIT_STROKES[digit]), seq=3)
    outputs = app.read_strokes(json.dumps(sent))
    answer, reading = outputs[app.answer], outputs[app.reading]
    seen = render_drawing(parse_drawing(sent))  # the strokes' pixels (strokes.rasterize)
    expected = predict(model, seen)
    assert answer["digit"] == digit == str(int(expected.argmax())) and answer["number"] == digit
    np.testing.assert_allclose(answer["probs"], expected, atol=1e-5)
    np.testing.assert_allclose(reading["model_input"], to_mnist(seen), atol=1e-4)
    np.testing.assert_array_equal(outputs[app.digit_state]["parts"][0]["digit"], to_mnist(seen))
    assert reading["points"] == sum(len(stroke) for stroke in sent["strokes"])
    assert answer["seq"] == reading["seq"] == 3 and answer["not_a_digit"] is False


def test_reading_values_are_the_model_s_numbers(app, model, mnist_test, tmp_path):
    images, _ = mnist_test
    Image.fromarray(images[6]).save(tmp_path / "six.png")
    outputs = app.read_image(str(tmp_path / "six.png"))
    digit = to_mnist(images[6])
    truth = read_rows(model, digit)
    reading = outputs[app.reading]
    for key in ("top_down", "bottom_up", "states"):
        np.testing.assert_allclose(reading[key], truth[key], atol=1e-4)
    assert np.array(reading["states"]).shape == (28, 128) and np.array(reading["top_down"]).shape == (28, 10)
    assert reading["bands"] is None and reading["points"] is None  # not drawn: nothing to mark on the canvas
    assert outputs[app.answer]["seq"] is None  # an upload: the page matches it to its newest action itself


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


def number_drawing(digits: str, width: int = 840) -> dict:
    """The digits side by side, each drawn in a 200 px square, 40 px apart, on a width x 280 canvas."""
    strokes = []
    for index, digit in enumerate(digits):
        for stroke in pen_path(DIGIT_STROKES[digit], canvas=200):
            strokes.append([[x + 20 + 200 * index, y + 40] for x, y in stroke])
    return drawing(strokes, width=width)


def test_a_number_is_read_digit_by_digit(app, model):
    sent = number_drawing("740")
    answer, reading = (app.read_strokes(sent)[key] for key in (app.answer, app.reading))
    assert answer["number"] == "740" and [d["digit"] for d in answer["digits"]] == ["7", "4", "0"]
    assert answer["pick"] == 2 and reading["digit"] == "0"  # the digit drawn last is the one walked
    boxes = [d["box"] for d in answer["digits"]]
    assert all(a[2] < b[0] for a, b in zip(boxes, boxes[1:]))  # left to right, apart
    picked = app.read_strokes({**sent, "pick": 0})
    assert picked[app.answer]["pick"] == 0 and picked[app.reading]["digit"] == "7"
    assert picked[app.answer]["number"] == "740"


def test_each_digit_of_a_number_is_read_as_that_digit_alone(app, model):
    """A digit of a number reads exactly as the same strokes drawn alone (the split changes nothing else)."""
    sent = number_drawing("27")
    alone = drawing([stroke for stroke in sent["strokes"] if stroke[0][0] > 220], width=840)
    together = app.read_strokes(sent)[app.answer]["digits"][1]
    np.testing.assert_allclose(together["probs"], app.read_strokes(alone)[app.answer]["probs"], atol=1e-6)


def test_empty_drawing_and_undo_to_nothing_give_the_prompt(app):
    outputs = app.read_strokes(drawing([]))
    assert outputs[app.answer] is None and outputs[app.reading] is None and outputs[app.digit_state] is None


def test_gallery_digits_are_read_by_name_only(app, model):
    outputs = app.read_example(json.dumps({"example": "digit7_test0000.png", "seq": 5}))
    assert outputs[app.answer]["digit"] == "7" and outputs[app.answer]["seq"] == 5
    for bad in ({"example": "../weights/bilstm_mnist.pt"}, {"example": "nope.png"}, "not json", {"seq": 1}):
        with pytest.raises(Exception, match="No such gallery digit"):
            app.read_example(bad if isinstance(bad, str) else json.dumps(bad))


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
        answer, reading = client.predict(value, api_name="/predict_strokes")
        assert answer["digit"] == "4" and answer["number"] == "4" and answer["not_a_digit"] is False
        np.testing.assert_allclose(answer["probs"], expected, atol=1e-5)
        assert len(reading["top_down"]) == 28


def test_upload_endpoint_reads_a_photo_and_a_number(client, mnist_test, tmp_path):
    from gradio_client import handle_file

    images, labels = mnist_test
    Image.fromarray(images[3]).save(tmp_path / "mnist.png")  # an MNIST digit as is: light on dark
    answer, _ = client.predict(handle_file(str(tmp_path / "mnist.png")), api_name="/predict_image")
    assert answer["digit"] == str(labels[3])
    Image.fromarray(np.concatenate([images[0], images[1], images[2]], axis=1)).save(tmp_path / "three.png")
    answer, _ = client.predict(handle_file(str(tmp_path / "three.png")), api_name="/predict_image")
    assert answer["number"] == "".join(str(label) for label in labels[:3])


def test_uploads_are_decoded_at_bounded_cost(app, tmp_path):
    """A JPEG is decoded reduced (to about a megapixel); other formats past a screenshot's size are refused."""
    big = Image.new("L", (4000, 3000), 255)
    big.paste(0, (1500, 800, 2500, 2200))
    big.save(tmp_path / "big.jpg", quality=80)
    decoded = app.open_upload(str(tmp_path / "big.jpg"))
    assert decoded.width * decoded.height <= 1_100_000  # 4000x3000 decoded at 1/4: 1000x750
    big.save(tmp_path / "big.png")
    with pytest.raises(Exception, match="too large"):
        app.open_upload(str(tmp_path / "big.png"))
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(Exception, match="not an image file"):
        app.open_upload(str(tmp_path / "text.png"))


def test_the_api_page_names_and_types_what_it_returns(client):
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(info) == {"/predict_strokes", "/predict_image", "/row_walk_gif", "/predict"}  # nothing internal
    strokes = info["/predict_strokes"]
    assert [p["parameter_name"] for p in strokes["parameters"]] == ["drawing", "compare"]
    assert [r["label"] for r in strokes["returns"]] == ["answer", "reading"]
    assert all(r["python_type"]["type"].startswith("dict(") for r in strokes["returns"])
    assert "not_a_digit: bool" in strokes["returns"][0]["python_type"]["type"]
    assert "entry by entry" not in json.dumps(info)  # no internal comments on the API page


def test_gif_api_takes_a_drawing(client):
    path = client.predict(drawing(pen_path(DIGIT_STROKES["1"])), api_name="/row_walk_gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 28


def test_settling_rows_need_confidence():
    uniform = np.full((28, 10), 0.1, np.float32)
    sure = np.eye(10, dtype=np.float32)[7]
    top_down, bottom_up = uniform.copy(), uniform.copy()
    top_down[15:] = sure  # sure of 7 from row 16 on, reading down
    bottom_up[:9] = sure  # sure of 7 while reading rows t..28 for t <= 9
    assert settling_rows({"top_down": top_down, "bottom_up": bottom_up}) == (16, 9)
    assert settling_rows({"top_down": uniform, "bottom_up": uniform}) == (None, None)  # never sure: never settles


def test_captions_say_what_the_model_believes(model, mnist_test):
    images, _ = mnist_test
    digit = to_mnist(images[0])
    reading = read_rows(model, digit)
    with torch.inference_mode():
        first_ten = digit.copy()
        first_ten[10:] = 0
        probs = torch.softmax(model(torch.from_numpy(first_ten)[None]), 1)[0].numpy()
    caption = row_caption(reading, 10)
    best = int(probs.argmax())
    assert caption.startswith("Row 10. Reading only rows 1-10")
    assert (f"says {best} ({100 * probs[best]:.0f}%)" in caption) == (probs[best] >= 0.5)

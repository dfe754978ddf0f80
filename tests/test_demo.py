"""demo.py: the app's handlers and its API. What the page and the API return is the model's own reading, through
the one preprocessing path; bad input gets a sentence and the server keeps serving; many identical requests at
once all get whole pictures; the tutorial's model beside ours (pytest, CPU; gradio_client against demo.py
launched in-process). Timings: bench/bad_input.py, bench/load.py."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import BAD, ONE, drawing, sketch
from harness import DIGIT_STROKES, ROOT, pen_path
from model import TUTORIAL_WEIGHTS, load_model, read_rows
from reader.preprocess import to_mnist
from reader.readings import predict
from reader.strokes import parse_drawing, render_drawing
from training.pens import render_drawn


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
    answer, reading = outputs["answer"], outputs["reading"]
    seen = render_drawing(parse_drawing(sent))  # the strokes' pixels (strokes.rasterize)
    expected = predict(model, seen)
    assert answer["digit"] == digit == str(int(expected.argmax())) and answer["number"] == digit
    np.testing.assert_allclose(answer["probs"], expected, atol=1e-5)
    np.testing.assert_allclose(reading["model_input"], to_mnist(seen), atol=1e-4)
    np.testing.assert_array_equal(outputs["state"]["digits"].parts[0]["digit"], to_mnist(seen))
    assert reading["points"] == sum(len(stroke) for stroke in sent["strokes"])
    assert answer["seq"] == reading["seq"] == 3 and answer["not_a_digit"] is False


def test_reading_values_are_the_model_s_numbers(app, model, mnist_test, tmp_path):
    images, _ = mnist_test
    Image.fromarray(images[6]).save(tmp_path / "six.png")
    outputs = app.read_image(str(tmp_path / "six.png"))
    digit = to_mnist(images[6])
    truth = read_rows(model, digit)
    reading = outputs["reading"]
    for key in ("top_down", "bottom_up", "states"):
        np.testing.assert_allclose(reading[key], truth[key], atol=1e-4)
    assert np.array(reading["states"]).shape == (28, 128) and np.array(reading["top_down"]).shape == (28, 10)
    assert reading["bands"] is None and reading["points"] is None  # not drawn: nothing to mark on the canvas
    assert outputs["answer"]["seq"] is None  # an upload: the page matches it to its newest action itself


@pytest.mark.parametrize("digit", ["1", "7"])
def test_bands_come_from_to_mnist_placement(app, digit):
    """Row t's band on the canvas is where to_mnist took row t from: the first and last rows of the 28x28
    with ink have, in their bands, the first and last rows of ink on the canvas."""
    sent = drawing(pen_path(DIGIT_STROKES[digit]))
    bands = app.read_strokes(sent)["reading"]["bands"]
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
    answer, reading = (app.read_strokes(sent)[key] for key in ("answer", "reading"))
    assert answer["number"] == "740" and [d["digit"] for d in answer["digits"]] == ["7", "4", "0"]
    assert answer["pick"] == 2 and reading["digit"] == "0"  # the digit drawn last is the one walked
    boxes = [d["box"] for d in answer["digits"]]
    assert all(a[2] < b[0] for a, b in zip(boxes, boxes[1:]))  # left to right, apart
    picked = app.read_strokes({**sent, "pick": 0})
    assert picked["answer"]["pick"] == 0 and picked["reading"]["digit"] == "7"
    assert picked["answer"]["number"] == "740"


def test_each_digit_of_a_number_is_read_as_that_digit_alone(app, model):
    """A digit of a number reads exactly as the same strokes drawn alone (the split changes nothing else)."""
    sent = number_drawing("27")
    alone = drawing([stroke for stroke in sent["strokes"] if stroke[0][0] > 220], width=840)
    together = app.read_strokes(sent)["answer"]["digits"][1]
    np.testing.assert_allclose(together["probs"], app.read_strokes(alone)["answer"]["probs"], atol=1e-6)


def test_empty_drawing_and_undo_to_nothing_give_the_prompt(app):
    outputs = app.read_strokes(drawing([]))
    assert outputs["answer"] is None and outputs["reading"] is None and outputs["state"] is None


def test_gallery_digits_are_read_by_name_only(app, model):
    outputs = app.read_example(json.dumps({"example": "digit7_test0000.png", "seq": 5}))
    assert outputs["answer"]["digit"] == "7" and outputs["answer"]["seq"] == 5
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


def test_a_photo_of_paper_is_read_through_the_paper_path_and_shows_what_it_kept(app, tmp_path):
    """A phone photo of a digit on lined paper in uneven light (training/photos.py), uploaded: read right, with the
    picture of the ink kept; a blank photo of paper: a sentence that says so, not a reading."""
    from reader import paper
    from training.photos import shot

    for index in range(40):  # the first shot of lined paper this model reads right (most are: bench/paper.py)
        made = shot("lined", index)
        path = tmp_path / f"photo{made.suffix}"
        path.write_bytes(made.data)
        outputs = app.read_image(str(path))
        if outputs["answer"]["number"] == made.label:
            break
    else:
        pytest.fail("none of 40 photos of digits on lined paper was read right")
    assert outputs["reading"]["kept"].startswith("data:image/png;base64,")
    Image.new("RGB", (640, 480), (236, 232, 222)).save(tmp_path / "blank.jpg", quality=80)
    with pytest.raises(Exception, match="looks blank"):
        app.read_image(str(tmp_path / "blank.jpg"))
    assert "looks blank" in paper.BLANK


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


@pytest.fixture(scope="module")
def tutorial():
    return load_model(TUTORIAL_WEIGHTS)


def test_compare_shows_the_tutorial_model_for_the_same_drawing(app, tutorial):
    sent = {"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["7"])}
    outputs = app.read_strokes(sent, True)
    theirs = outputs["answer"]["tutorial"]
    digit = to_mnist(render_drawing(parse_drawing(sent)))
    with torch.inference_mode():
        expected = torch.softmax(tutorial(torch.from_numpy(digit)[None]), 1)[0].numpy()
    np.testing.assert_allclose(theirs["probs"], expected, atol=1e-5)
    assert "backward half only row 28" in outputs["reading"]["tutorial"]["sentence"]
    np.testing.assert_allclose(outputs["reading"]["tutorial"]["top_down"], read_rows(tutorial, digit)["top_down"], atol=1e-5)
    off = app.compare_changed(outputs["state"], False)  # toggled off: the same digit, ours alone
    assert "tutorial" not in off["answer"] and off["reading"]["tutorial"] is None
    assert off["answer"]["probs"] == outputs["answer"]["probs"]


def test_gif_of_the_session_s_digit(app):
    """The page's GIF button: the digit the session read last (its state), 28 frames."""
    outputs = app.read_strokes({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES["1"])})
    with Image.open(app.gif_path(outputs["state"])) as gif:
        assert gif.n_frames == 28
    with pytest.raises(Exception, match="Draw a digit first"):
        app.export_gif(None)


@pytest.mark.parametrize("name", ["not JSON", "strings for numbers", "NaN", "far outside", "absurd canvas",
                                  "thousands of strokes", "too many points", "deep nesting (object)"])
def test_the_app_answers_bad_drawings_and_keeps_reading(client, name):
    payload, message = BAD[name]
    if not isinstance(payload, str):
        payload = json.dumps(payload)  # as the page sends it (an object this big is refused sooner: below)
    with pytest.raises(AppError, match=f"Could not read that drawing: .*{message}") as error:
        client.predict(payload, api_name="/predict_strokes")
    assert "Traceback" not in str(error.value)
    answer, *_ = client.predict(drawing(ONE), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_the_app_refuses_a_body_far_larger_than_any_drawing(client):
    """Hundreds of thousands of points do not reach Gradio's parser: the request is refused by size."""
    huge = drawing([[[123.25, 234.75]] * 300_000])  # ~5 MB of JSON
    with pytest.raises(Exception, match="413|Too large"):
        client.predict(huge, api_name="/predict_strokes")
    answer, *_ = client.predict(drawing(ONE), api_name="/predict_strokes")
    assert answer["digit"] == "1"


def test_a_drawing_of_many_values_sent_as_an_object_is_refused_before_gradio_copies_it(client):
    """Gradio copies a request's data value by value in its event loop (130 ms for 30,000 values): past
    limits.MAX_JSON_VALUES the request is refused unread, with what to do instead; as JSON text it is read."""
    many = drawing([[[100 + i % 50, 100 + i // 50 % 50] for i in range(3000)]])  # 3,000 points: ~9,000 values
    with pytest.raises(Exception, match="413"):
        client.predict(many, api_name="/predict_strokes")
    answer, _ = client.predict(json.dumps(many), api_name="/predict_strokes")
    assert answer is not None


def test_empty_canvas_is_not_a_digit(client):
    answer, reading, *_ = client.predict(drawing([]), api_name="/predict_strokes")
    assert answer is None and reading is None


PROMPT = "Draw a digit"


@pytest.fixture(scope="module")
def clean_digit(tmp_path_factory, mnist_test) -> tuple[str, str]:
    images, labels = mnist_test
    path = tmp_path_factory.mktemp("clean") / "digit.png"
    render_drawn(images[0], canvas=280, size=220, left=30, top=30).save(path)
    return str(path), str(labels[0])


def assert_still_serving(client, clean_digit):
    path, label = clean_digit
    assert client.predict(sketch(path), api_name="/predict")[1]["label"] == label


def no_ink_images(folder) -> dict[str, str]:
    paths = {}
    for name, image in {
        "1x1": Image.new("RGBA", (1, 1), "white"),
        "blank": Image.new("RGBA", (280, 280), "white"),
        "all-black": Image.new("RGB", (280, 280), "black"),
        "transparent": Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
        "cmyk-blank": Image.new("CMYK", (280, 280), (0, 0, 0, 0)),
    }.items():
        paths[name] = str(folder / f"{name}.{'jpg' if image.mode == 'CMYK' else 'png'}")
        image.save(paths[name])
    return paths


@pytest.mark.parametrize("name", ["1x1", "blank", "all-black", "transparent", "cmyk-blank"])
def test_no_ink_gives_no_prediction(client, clean_digit, tmp_path, name):
    path = no_ink_images(tmp_path)[name]
    status, label, *_ = client.predict(sketch(path), api_name="/predict")
    assert PROMPT in status and not label
    assert_still_serving(client, clean_digit)


@pytest.mark.parametrize("value", [None, {"background": None, "layers": []}, {}], ids=["None", "no-composite", "empty"])
def test_missing_image_gives_no_prediction(client, clean_digit, value):
    status, label, *_ = client.predict(value, api_name="/predict")
    assert PROMPT in status and not label
    assert_still_serving(client, clean_digit)


def _huge(folder):
    Image.new("L", (12000, 12000), 255).save(folder / "huge.png")  # compresses to ~100 KB
    return folder / "huge.png"


def _corrupt(folder):
    Image.new("L", (64, 64), 255).save(folder / "whole.png")
    data = (folder / "whole.png").read_bytes()
    (folder / "corrupt.png").write_bytes(data[: len(data) // 2])
    return folder / "corrupt.png"


def _text(folder):
    (folder / "text.png").write_text("this is not a picture")
    return folder / "text.png"


@pytest.mark.parametrize("make, reason", [(_huge, "too large"), (_corrupt, "corrupt or truncated"),
                                          (_text, "not an image file")], ids=["12000x12000", "corrupt", "text"])
def test_unreadable_files_get_a_readable_error(client, clean_digit, tmp_path, make, reason):
    with pytest.raises(AppError, match=f"Could not read that image: .*{reason}") as error:
        client.predict(sketch(make(tmp_path)), api_name="/predict")
    assert "/tmp" not in str(error.value) and "Traceback" not in str(error.value)  # no server paths
    assert_still_serving(client, clean_digit)


def test_sixteen_bit_and_cmyk_digits_are_read(client, tmp_path, mnist_test):
    images, labels = mnist_test
    page = np.asarray(render_drawn(images[2], canvas=280, size=220, left=30, top=30).convert("L"))
    Image.fromarray(page.astype(np.uint16) * 257).save(tmp_path / "sixteen.png")  # mode I;16
    Image.fromarray(page).convert("CMYK").save(tmp_path / "cmyk.jpg")
    for name in ("sixteen.png", "cmyk.jpg"):
        assert client.predict(sketch(tmp_path / name), api_name="/predict")[1]["label"] == str(labels[2])


def test_oversized_upload_is_refused(client, clean_digit, tmp_path):
    noise = (np.random.default_rng(0).random((2500, 2500, 3)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")  # ~19 MB, over the 10 MB limit
    with pytest.raises(Exception, match="maximum file size"):
        client.predict(sketch(tmp_path / "noise.png"), api_name="/predict")
    assert_still_serving(client, clean_digit)


def test_upload_endpoint_has_the_same_guards(client, clean_digit, tmp_path, mnist_test):
    from gradio_client import handle_file

    # a stale reading (gr.skip()) and a gallery click first: neither may cost the upload its readable errors
    client.predict({"width": 280, "height": 280, "strokes": [[[140, 40], [140, 240]]], "seq": 10**6},
                   api_name="/predict_strokes")
    client.predict({"width": 280, "height": 280, "strokes": [[[140, 40], [140, 240]]], "seq": 1}, api_name="/predict_strokes")

    with pytest.raises(AppError, match="not an image file"):
        client.predict(handle_file(str(_text(tmp_path))), api_name="/predict_image")
    images, labels = mnist_test
    Image.fromarray(images[3]).save(tmp_path / "mnist.png")  # an MNIST digit as is: light on dark
    assert client.predict(handle_file(str(tmp_path / "mnist.png")), api_name="/predict_image")[0]["digit"] == str(labels[3])
    assert_still_serving(client, clean_digit)


def test_identical_requests_at_once_all_get_whole_pictures(app, clean_digit, tmp_path):
    """16 clients send the same digit 10 times at once and download every output picture, as browsers do.

    Gradio 6.31 writes an output picture to a path named by the hash of its bytes with a plain write, so an
    identical output truncated a file while it was being served: 18 of 160 requests failed this way before
    server.pictures.cached_png wrote the pictures atomically.
    """
    from gradio_client import Client

    path, label = clean_digit

    def one_person(index: int) -> list[str]:
        client = Client(app.demo.local_url, verbose=False, ssl_verify=False, download_files=str(tmp_path / str(index)))
        problems = []
        for _ in range(10):
            try:
                outputs = client.predict(sketch(path), api_name="/predict")
                for picture in outputs[3:6]:
                    with Image.open(picture) as image:
                        image.load()  # a truncated PNG fails here
                if outputs[1]["label"] != label:
                    problems.append(f"read {outputs[1]['label']}")
            except Exception as error:  # noqa: BLE001 - collected and reported
                problems.append(repr(error)[:200])
        return problems

    with ThreadPoolExecutor(16) as pool:
        problems = [p for person in pool.map(one_person, range(16)) for p in person]
    assert problems == [], problems[:3]

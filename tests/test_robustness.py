"""Bad images through the running app's image endpoints (/predict, the v1 API, and /predict_image, the
upload): a clear answer and the server keeps serving correct answers afterwards (gradio_client against
demo.py launched in-process). Many identical requests at once all get whole pictures.

The Python API's side of the same cases (to_mnist / predict raising ValueError) is in test_preprocess.py,
bad strokes in test_strokes.py; timings are in bench/bad_input.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import sketch
from harness import render_drawn

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
    demo.cached_png wrote the pictures atomically.
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

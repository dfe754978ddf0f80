"""Pictures people send: the formats phones, scanners and screenshots make (PNG, JPEG, WebP, GIF, BMP), each
decoded at a bounded cost, the rest refused with a sentence naming what is accepted; and an input that is not
what its component takes is the request's fault: a sentence and one line in the log, no traceback (pytest,
CPU; the decoding alone, gradio_client and raw joins against `python demo.py`)."""

from __future__ import annotations

import warnings

import gradio as gr
import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import sketch
from harness import api_index, log_lines
from server.uploads import ACCEPTED, FULL_DECODE_PIXELS, MAX_LAYERS, MAX_UPLOAD_PIXELS, check_full_decode, open_upload


def test_the_accepted_formats_and_their_caps():
    assert ACCEPTED == "PNG, JPEG, WebP, GIF or BMP" and MAX_UPLOAD_PIXELS == 25_000_000
    assert FULL_DECODE_PIXELS == {"PNG": 3_000_000, "GIF": 3_000_000, "BMP": 3_000_000, "WEBP": 1_500_000,
                                  "JPEG": 3_000_000, "MPO": 3_000_000}


CAPS = [("PNG", {}, (2000, 1500)), ("GIF", {}, (2000, 1500)), ("BMP", {}, (2000, 1500)),
        ("WEBP", {}, (1500, 1000)), ("JPEG", {"progressive": True}, (2000, 1500))]


@pytest.mark.parametrize("format, options, size", CAPS, ids=[c[0] + ("-progressive" if c[1] else "") for c in CAPS])
def test_each_format_decodes_in_full_up_to_its_cap(tmp_path, format, options, size):
    path = tmp_path / "at-cap"
    Image.new("RGB", size, "white").save(path, format=format, **options)
    assert open_upload(str(path)).size == size
    width, height = size
    Image.new("RGB", (width + 1, height), "white").save(path, format=format, **options)
    with pytest.raises(gr.Error, match=f"too large; at most {width * height:,} pixels"):
        open_upload(str(path))


def test_a_camera_s_jpeg_is_decoded_reduced_up_to_25_megapixels(tmp_path):
    second = Image.new("RGB", (64, 64), "white")  # an MPO: a phone's JPEG with a second picture
    for format, options in (("JPEG", {}), ("MPO", {"save_all": True, "append_images": [second]})):
        path = tmp_path / f"photo.{format}"
        Image.new("RGB", (5000, 5000), "white").save(path, format=format, quality=50, **options)
        decoded = open_upload(str(path))
        assert decoded.format == format and decoded.size == (625, 625)  # 1/8 of 5000: at least 512 a side
    Image.new("L", (5001, 5000), "white").save(tmp_path / "over.jpg", quality=50)
    with pytest.raises(gr.Error, match="too large"), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # Pillow's, once the app has launched
        open_upload(str(tmp_path / "over.jpg"))


REFUSED = [("JPEG2000", "image.jp2"), ("TIFF", "scan.tif"), ("ICO", "icon.ico"), ("TGA", "image.tga"),
           ("PPM", "image.ppm"), ("PCX", "image.pcx")]


@pytest.mark.parametrize("format, name", REFUSED, ids=[f for f, _ in REFUSED])
def test_other_formats_are_refused_with_a_sentence_naming_what_is_accepted(tmp_path, format, name):
    """JPEG 2000: a 3 MP noisy one once took 0.9 s to decode (a photo 0.03 s)."""
    Image.new("RGB", (64, 64), "white").save(tmp_path / name, format=format)
    for check in (open_upload, check_full_decode):
        with pytest.raises(gr.Error, match=f"not an image file this app reads \\({ACCEPTED}\\)"):
            check(str(tmp_path / name))


def test_the_v1_sketch_api_decoded_in_full_by_gradio_is_held_to_the_same_formats(client, tmp_path):
    from gradio_client.exceptions import AppError

    Image.new("RGB", (64, 64), "white").save(tmp_path / "sketch.jp2", format="JPEG2000")
    with pytest.raises(AppError, match="not an image file this app reads"):
        client.predict(sketch(tmp_path / "sketch.jp2"), api_name="/predict")
    Image.new("RGB", (1501, 1000), "white").save(tmp_path / "wide.webp")
    with pytest.raises(AppError, match="too large; at most 1,500,000 pixels"):
        client.predict(sketch(tmp_path / "wide.webp"), api_name="/predict")
    Image.new("L", (4000, 3000), "white").save(tmp_path / "photo.jpg")  # a phone's photo: Pillow's own limit
    status, label, *_ = client.predict(sketch(tmp_path / "photo.jpg"), api_name="/predict")
    assert not label  # no ink: the prompt


WRONG = [("predict_image", [{"path": 5, "meta": {"_type": "gradio.FileData"}}, False], "path",
          "Could not read that image", "path: Input should"),
         ("predict_image", ["hello", False], "path", "Could not read that image", "valid dictionary"),
         ("predict", [{"background": None, "layers": [None] * (MAX_LAYERS + 1), "composite": None}], "sketch",
          "Could not read that sketch", f"at most {MAX_LAYERS} layers, got 5"),
         ("predict", [{"background": None, "layers": [], "composite": "x"}], "sketch", "Could not read that sketch",
          "composite"),
         ("predict_image", [None], "compare", "This endpoint takes 2 input values (path, compare); got 1", "")]


@pytest.mark.parametrize("api_name, data, parameter, what, why", WRONG,
                         ids=["file-record", "string-for-image", "five-layers", "string-composite", "too-few"])
def test_a_wrongly_typed_input_is_refused_at_join_with_a_sentence_and_one_line(served, api_name, data, parameter,
                                                                               what, why):
    """Once a 500 with a 30-line traceback each (and "error": null for the sender); one every 10 s kept the
    traceback budget empty, so real faults went unlogged. Now a 422 before anything is queued, with the sentence
    and the "detail" gradio_client reads; one line in the log."""
    server, process = served
    before = len(log_lines(process))
    fn = api_index(server, api_name)
    joined = httpx.post(f"{server}/gradio_api/queue/join",
                        json={"data": data, "fn_index": fn, "session_hash": f"wrong-{api_name}-{why[:6]}"})
    assert joined.status_code == 422
    reply = joined.json()
    message = reply["error"]
    assert message.startswith(what) and why in message, message
    assert "/tmp" not in message and "Traceback" not in message
    assert reply["detail"] == [{"__type__": "validate", "is_valid": False, "message": message,
                                "parameter_name": parameter}]
    new = log_lines(process)[before:]
    assert len(new) == 1 and new[0].startswith("refused 422 POST /gradio_api/queue/join") and what in new[0], new


def test_a_script_sees_the_sentence_for_a_wrongly_typed_input(served):
    """gradio_client (Client.predict) and the API page's curl (POST /call/<name>) both get the sentence."""
    from gradio_client import Client
    from gradio_client.exceptions import ValidationError

    server, _ = served
    with pytest.raises(ValidationError, match=r"- path: Could not read that image \(a file record.*\): Input should be a valid dictionary"):
        Client(server, verbose=False).predict("hello", False, api_name="/predict_image")
    called = httpx.post(f"{server}/gradio_api/call/predict_image", json={"data": ["hello", False]})
    assert called.status_code == 422 and called.json()["error"].startswith("Could not read that image")


def test_right_inputs_pass_the_check_at_join(served, tmp_path):
    """The check refuses only what Gradio would: an image, a missing image, a sketch, as the page sends them."""
    from gradio_client import Client, handle_file

    server, _ = served
    one = Image.new("L", (280, 280), "white")
    ImageDraw.Draw(one).line([(140, 40), (140, 240)], fill="black", width=20)
    one.save(tmp_path / "one.png")
    client = Client(server, verbose=False)
    answer, _ = client.predict(handle_file(tmp_path / "one.png"), False, api_name="/predict_image")
    assert answer["digit"] == "1"
    assert client.predict(None, False, api_name="/predict_image") == (None, None)  # nothing uploaded: no answer
    status, label, *_ = client.predict(sketch(tmp_path / "one.png"), api_name="/predict")
    assert label["label"] == "1"


def test_a_noisy_png_within_its_cap_decodes_at_bounded_cost(tmp_path):
    """The worst a PNG at its cap can be (noise, nothing to compress) still decodes: bounded by its pixels."""
    noise = np.random.default_rng(0).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    assert open_upload(str(tmp_path / "noise.png")).size == (2000, 1500)

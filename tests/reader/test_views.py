"""reader/views.py: the pictures and sentences made from the model's numbers (the captions, the GIF for slides,
colours that survive colour-vision deficiencies) (pytest, CPU)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from harness import DIGIT_STROKES, pen_path
from model import read_rows
from reader.preprocess import to_mnist
from reader.strokes import parse_drawing, render_drawing
from reader.views import row_caption, row_walk_gif, settling_rows, viridis


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


def drawn(digit: str) -> np.ndarray:
    return to_mnist(render_drawing(parse_drawing({"width": 280, "height": 280, "strokes": pen_path(DIGIT_STROKES[digit])})))


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


def test_the_kept_picture_shows_the_ink_and_the_digits_boxes():
    """What the paper path kept, as the page shows it: at most KEPT_SIDE a side, black ink on white, the digit
    walked boxed in MARK's orange and the others in PIECE's blue, as a PNG data: URI."""
    import base64
    import io

    from PIL import Image

    from reader.views import KEPT_SIDE, MARK, PIECE, kept_picture

    assert KEPT_SIDE == 360
    ink = np.zeros((200, 720), np.float32)
    ink[50:150, 100:120] = 1.0  # a 1
    ink[50:150, 400:420] = 1.0  # another
    uri = kept_picture(ink, [[90, 40, 130, 160], [390, 40, 430, 160]], pick=1)
    assert uri.startswith("data:image/png;base64,")
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))
    assert picture.shape == (100, 360, 3)  # halved: the longer side 360
    assert tuple(picture[50, 55]) == (0, 0, 0) and tuple(picture[10, 10]) == (255, 255, 255)
    assert tuple(picture[30, 45]) == PIECE and tuple(picture[30, 195]) == MARK  # the boxes' left edges, halved

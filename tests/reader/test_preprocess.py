"""reader/preprocess.py, to_mnist: any image -> the 28x28 the model reads; bad input -> ValueError (pytest, CPU)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from reader.preprocess import to_mnist
from reader.readings import predict
from training.pens import render_drawn


def paste(digit: np.ndarray, background: str, size: int, left: int, top: int, canvas: int = 800) -> Image.Image:
    """An MNIST digit (ink = 255) enlarged with anti-aliasing onto a canvas of the given background."""
    ink = Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)
    if background == "white":  # dark ink on white paper
        page = Image.new("L", (canvas, canvas), 255)
        page.paste(Image.eval(ink, lambda v: 255 - v), (left, top))
    elif background == "black":  # light ink on black
        page = Image.new("L", (canvas, canvas), 0)
        page.paste(ink, (left, top))
    else:  # black ink on a transparent layer, as the sketchpad's layers and API clients send it
        page = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
        stroke = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        stroke.putalpha(ink)
        page.paste(stroke, (left, top))
    return page


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("background", ["white", "black", "transparent"])
@pytest.mark.parametrize("size, left, top", [(270, 265, 265), (780, 10, 10), (300, 20, 480)],
                         ids=["small-centred", "large", "off-centre"])
def test_pasted_mnist_digit_comes_back_close_to_the_original(mnist_test, model, background, size, left, top):
    images, labels = mnist_test
    similarities, right = [], 0
    for index in range(20):
        digit = to_mnist(paste(images[index], background, size, left, top))
        assert digit.shape == (28, 28) and digit.dtype == np.float32
        assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
        similarities.append(correlation(digit, images[index] / 255))
        right += predict(model, paste(images[index], background, size, left, top)).argmax() == labels[index]
    assert np.mean(similarities) > 0.9, similarities
    assert right >= 19


def test_mnist_digit_itself_is_a_fixed_point(mnist_test):
    images, _ = mnist_test
    similarities = [correlation(to_mnist(images[i]), images[i] / 255) for i in range(50)]
    assert np.mean(similarities) > 0.97


def test_digit_is_centred_by_mass_and_fits_20_pixels(mnist_test):
    images, _ = mnist_test
    page = render_drawn(images[7], canvas=800, size=500, left=290, top=10)
    digit = to_mnist(page)
    rows, cols = np.nonzero(digit > 0)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21
    ys, xs = np.indices(digit.shape)
    assert abs((ys * digit).sum() / digit.sum() - 14) <= 0.5
    assert abs((xs * digit).sum() / digit.sum() - 14) <= 0.5


def test_aspect_ratio_is_kept():
    page = np.full((400, 400), 255, np.uint8)
    page[50:350, 190:210] = 0  # a tall bar, a "1": 300 x 20
    digit = to_mnist(page)
    rows, cols = np.nonzero(digit > 0.5)
    assert rows.max() - rows.min() + 1 == 20
    assert cols.max() - cols.min() + 1 <= 3


@pytest.mark.parametrize("blank", [
    np.full((800, 800, 4), 255, np.uint8),  # the sketchpad's empty composite
    np.zeros((800, 800, 4), np.uint8),  # a fully transparent layer
    np.zeros((300, 300), np.uint8),  # all black
    np.full((280, 280, 3), 255, np.uint8),
    np.full((1, 1), 255, np.uint8),
    np.full((64, 64), 0.5, np.float32),  # flat grey
], ids=["white", "transparent", "black", "white-rgb", "1x1", "grey"])
def test_no_ink_gives_none(blank, model):
    assert to_mnist(blank) is None
    assert predict(model, blank) is None


def test_faint_paper_noise_is_not_a_digit():
    rng = np.random.default_rng(0)
    paper = (235 + rng.integers(-8, 8, size=(400, 400))).astype(np.uint8)
    assert to_mnist(paper) is None


def test_photo_of_ink_on_grey_unevenly_lit_paper(mnist_test, model):
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    right = 0
    for index in range(20):
        light = np.linspace(0.75, 0.9, 600)[None, :] * np.ones((600, 1))  # grey paper, a lighting gradient
        ink = np.asarray(Image.fromarray(images[index]).resize((420, 420), Image.Resampling.BILINEAR)) / 255
        photo = light.copy()
        photo[90:510, 100:520] *= 1 - 0.7 * ink  # pencil-grey strokes
        photo = np.clip(photo + rng.normal(0, 0.02, photo.shape), 0, 1)
        rgb = (np.repeat(photo[:, :, None], 3, axis=2) * 255).astype(np.uint8)
        right += predict(model, Image.fromarray(rgb)).argmax() == labels[index]
    assert right >= 18


@pytest.mark.parametrize("convert", [
    lambda a: Image.fromarray(a),  # L
    lambda a: Image.fromarray(a).convert("RGB"),
    lambda a: Image.fromarray(a).convert("CMYK"),
    lambda a: Image.fromarray(a).convert("P"),
    lambda a: Image.fromarray(a).convert("1"),
    lambda a: Image.fromarray(a.astype(np.uint16) * 257),  # 16-bit
    lambda a: a.astype(np.float64) / 255,
    lambda a: a.astype(np.int64),
    lambda a: a > 127,
    lambda a: np.stack([a, np.full_like(a, 255)], axis=2),  # LA as an array
    lambda a: a[:, :, None],
], ids=["L", "RGB", "CMYK", "P", "1", "uint16", "float", "int64", "bool", "2-channel", "1-channel"])
def test_modes_and_dtypes(mnist_test, model, convert):
    images, labels = mnist_test
    page = np.asarray(render_drawn(images[1], canvas=300, size=200, left=40, top=60).convert("L"))
    probs = predict(model, convert(page))  # dark ink on white, in every mode
    assert probs.argmax() == labels[1]


def test_light_ink_on_transparent_layer(mnist_test, model):
    images, labels = mnist_test
    layer = np.zeros((400, 400, 4), np.uint8)
    ink = np.asarray(Image.fromarray(images[2]).resize((300, 300), Image.Resampling.BILINEAR))
    layer[50:350, 50:350, :3] = 255
    layer[50:350, 50:350, 3] = ink  # white strokes, transparent elsewhere
    assert predict(model, layer).argmax() == labels[2]


def test_huge_image_is_downscaled_not_refused(mnist_test, model):
    images, labels = mnist_test
    small = np.asarray(render_drawn(images[3], canvas=1000, size=800, left=100, top=100))
    huge = small.repeat(12, axis=0).repeat(12, axis=1)  # 12000 x 12000 RGBA
    assert predict(model, huge).argmax() == labels[3]


def _corrupt_png() -> Image.Image:
    buffer = io.BytesIO()
    Image.new("L", (200, 200), 128).save(buffer, format="PNG")
    data = buffer.getvalue()
    return Image.open(io.BytesIO(data[: len(data) // 2]))  # header intact, pixel data cut


@pytest.mark.parametrize("bad, message", [
    (None, "expected a PIL image or a numpy array"),
    ({"background": None, "layers": []}, "expected a PIL image or a numpy array"),
    ("digit.png", "expected a PIL image or a numpy array"),
    (np.zeros((0, 0), np.uint8), "empty"),
    (np.zeros((28, 0, 3), np.uint8), "empty"),
    (np.zeros(784, np.uint8), "shape"),
    (np.zeros((28, 28, 5), np.uint8), "shape"),
    (np.zeros((2, 28, 28, 1), np.uint8), "shape"),
    (np.full((28, 28), np.nan, np.float32), "NaN"),
    (np.full((28, 28), 3.0), r"\[0, 1\]"),
    (np.full((28, 28), -0.5), r"\[0, 1\]"),
    (np.full((28, 28), 1000, np.int64), "0..255"),
    (np.zeros((28, 28), np.complex64), "dtype"),
    (np.zeros((28, 28), object), "dtype"),
    (Image.new("L", (0, 0)), "empty"),
], ids=["None", "dict", "str", "0x0", "28x0", "1-D", "5-channel", "4-D", "NaN", "above-1", "negative",
        "int64-range", "complex", "object", "PIL-0x0"])
def test_not_an_image_raises_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        to_mnist(bad)


def test_corrupt_png_raises_value_error():
    with pytest.raises(ValueError, match="corrupt"):
        to_mnist(_corrupt_png())


def test_a_speck_is_left_out_by_to_mnist_as_by_to_mnist_digits(mnist_test):
    """One rule for specks: a digit with a stray dot beside it is the same 28x28 for the v1 API and training
    (to_mnist) as for the page (to_mnist_digits), and the same as the digit alone."""
    from reader.preprocess import SPECK, to_mnist_digits

    images, _ = mnist_test
    page = np.zeros((280, 560), np.uint8)
    page[40:240, 40:240] = np.asarray(Image.fromarray(images[0]).resize((200, 200), Image.Resampling.BILINEAR))
    alone = to_mnist(page)
    rows = np.nonzero(page.any(axis=1))[0]
    side = int(SPECK * (rows[-1] - rows[0] + 1)) - 2  # just under a speck's size for this digit: left out
    page[100 : 100 + side, 400 : 400 + side] = 255
    (only,) = to_mnist_digits(page)
    np.testing.assert_array_equal(to_mnist(page), only["digit"])
    np.testing.assert_allclose(to_mnist(page), alone, atol=2e-3)  # (the ink map's contrast: the dot is darkest)
    page[100 : 100 + side + 6, 400 : 400 + side + 6] = 255  # past SPECK of the digit's height: a part of its own
    assert len(to_mnist_digits(page)) == 2 and np.abs(to_mnist(page) - alone).max() > 0.1

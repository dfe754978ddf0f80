"""training/photos.py: the phone photos and scans bench/paper.py reads. Deterministic, of the kinds and ranges it
says, by writers the model never trained on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

import training.photos as photos
from reader.readings import read_picture
from training.negatives import KINDS


def test_a_shot_is_the_same_every_time_and_others_differ():
    one = photos.shot("lined", 3)
    assert one.data == photos.shot("lined", 3).data
    assert one.data != photos.shot("lined", 4).data and one.data != photos.shot("lined", 3, seed=1).data


@pytest.mark.parametrize("condition", list(photos.CONDITIONS))
def test_every_condition_makes_a_file_of_its_kind(condition):
    writing, _ = photos.CONDITIONS[condition]
    for index in range(3):
        made = photos.shot(condition, index)
        picture = Image.open(io.BytesIO(made.data))
        assert picture.format == {".jpg": "JPEG", ".png": "PNG"}[made.suffix]
        if writing == "digit":
            assert made.label in "0123456789" and len(made.label) == 1
            assert made.source == photos.SOURCES[index % 3]
        elif writing == "number":
            assert made.label.isdigit() and 3 <= len(made.label) <= 4
        else:
            assert made.label == "" and KINDS[made.extra["kind"]].strokes is not None
        if made.look.scan or made.look.canvas:
            assert made.look.uneven == 0 and made.look.shadow == 0 and made.look.desk == 0
        else:
            assert made.suffix == ".jpg"


def test_looks_keep_to_their_ranges():
    """UNEVEN = 0.3, TILT_DEGREES = 6, JPEG_QUALITY = 60-85; blur to 1.5 px; shadows 0.25-0.55; one or two desk
    edges; EXIF tags 6 or 8 (a portrait stored sideways)."""
    looks = {condition: [make(np.random.default_rng(i)) for i in range(300)]
             for condition, (_, make) in photos.CONDITIONS.items()}
    photo_looks = [look for name in ("plain", "lined", "squared", "shadow", "desk", "exif", "number")
                   for look in looks[name]]
    uneven = [look.uneven for look in photo_looks]
    assert 0 <= min(uneven) < 0.02 and 0.28 < max(uneven) <= photos.UNEVEN == 0.3
    tilt = [look.tilt for look in photo_looks]
    assert -6 <= min(tilt) < -5.5 and 5.5 < max(tilt) <= 6 == photos.TILT_DEGREES
    assert {look.quality for look in photo_looks} == set(range(60, 86)) and photos.JPEG_QUALITY == (60, 85)
    assert all(0 <= look.blur <= 1.5 for look in photo_looks)
    assert all(0.25 <= look.shadow <= 0.55 for look in looks["shadow"])
    assert {look.desk for look in looks["desk"]} == {1, 2}
    assert {look.exif for look in looks["exif"]} == {6, 8}
    assert {look.paper for look in looks["plain"]} == {"plain"} and {look.paper for look in looks["lined"]} == {"lined"}
    assert all(look.scan and look.quality in (0, photos.SCAN_QUALITY) for look in looks["scan"])


@pytest.mark.parametrize("index", [0, 1])
def test_a_portrait_is_stored_sideways_with_its_exif_tag(index):
    made = photos.shot("exif", index)
    stored = Image.open(io.BytesIO(made.data))
    assert stored.getexif()[0x0112] == made.look.exif in (6, 8)
    assert stored.width > stored.height  # as the phone stored it
    shown = ImageOps.exif_transpose(stored)
    assert shown.height > shown.width  # as it was taken


@pytest.mark.parametrize("uneven", [0.0, 0.3])
def test_the_light_is_as_uneven_as_the_look_says(uneven):
    """(max - min) / max of the light over the frame: measured on a page with a dot of ink, blurred to 16 x 12."""
    rng = np.random.default_rng(0)
    look = photos.Look(uneven=uneven, quality=85)
    picture = photos.render([np.array([[0.0, 0.0], [0.0, 0.01]])], look, photos.PENS["ballpoint"], 0.02, rng,
                            (640, 480), 50)
    grey = np.asarray(picture.convert("L").resize((16, 12), Image.Resampling.BOX), np.float64)
    measured = (grey.max() - grey.min()) / grey.max()
    assert abs(measured - uneven) < 0.06


def test_the_writers_are_ones_the_model_never_trained_on(mnist_test):
    """load_digits' labels are scikit-learn's; the MNIST digits are the test file's (train.py trains on the other)."""
    from sklearn.datasets import load_digits

    targets = load_digits().target
    for index in (0, 7, 1796):
        assert photos.load_digits_strokes(index)[1] == str(targets[index])
    images, labels = photos._mnist_test()
    np.testing.assert_array_equal(images[:50], mnist_test[0][:50])
    assert photos.mnist_test_strokes(3)[1] == str(mnist_test[1][3])


def test_strokes_are_a_digit_high():
    rng = np.random.default_rng(0)
    for source in photos.SOURCES:
        for index in range(5):
            strokes, _ = photos.digit_writing(source, index, rng)
            points = np.concatenate(strokes)
            assert points.min(0) == pytest.approx([0, 0], abs=1e-9) and points[:, 1].max() == pytest.approx(1.0)


def test_a_number_s_digits_have_a_clear_gap_between_their_inks():
    """NUMBER_GAP = 0.15-0.45 of a digit's height between the pen's edges: the centre lines are a pen's width further."""
    rng = np.random.default_rng(0)
    for source in photos.SOURCES:
        for index in range(10):
            digits, label = photos.number_writing(source, index, rng, 4, pen_width=0.05)
            assert len(digits) == len(label) == 4
            extents = [(np.concatenate(d)[:, 0].min(), np.concatenate(d)[:, 0].max()) for d in digits]
            gaps = [b[0] - a[1] for a, b in zip(extents, extents[1:])]
            assert min(gaps) >= 0.15 + 0.05 - 1e-9 and max(gaps) <= 0.45 + 0.05


def test_our_pen_digits_are_read_right_as_canvas_ink(model):
    """Every form in PEN_DIGITS, drawn by a hand on the page's canvas, is the digit it stands for."""
    for label, forms in photos.PEN_DIGITS.items():
        for form in range(len(forms)):
            for seed in range(3):
                rng = np.random.default_rng([int(label), form, seed])
                ideal = forms[form](rng)
                drawn = photos.by_hand(ideal, rng, canvas=1000)
                strokes = photos._unit([np.array(s, dtype=np.float64) for s in drawn["strokes"]])
                picture = Image.open(io.BytesIO(photos.canvas_picture(strokes, rng)))
                assert read_picture(model, picture)["answer"]["number"] == label, (label, form, seed)

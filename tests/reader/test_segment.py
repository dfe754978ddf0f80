"""reader.segment: digits that touch cut, and parts that belong together merged, by how the model reads them;
single digits and non-digits left as they were; every number in its rules pinned (pytest, CPU)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reader.segment as segment
from harness import FOUR, ONE, SEVEN, TWO, ZERO, Counted
from model import judge
from reader.preprocess import ink_map, split_columns, to_mnist_digits
from reader.segment import split_digits, stroke_masks
from reader.strokes import parse_drawing, render_drawing
from training.numbers import numbers


def drawing(*shapes: tuple, width: int = 560, height: int = 280) -> dict:
    """(strokes in [0, 1] of a 280 px square, x offset in canvas px, x stretch) ... -> a drawing as the page sends."""
    strokes = []
    for shape, dx, stretch in shapes:
        strokes += [[[round(dx + x * 280 * stretch, 1), round(y * 280, 1)] for x, y in stroke] for stroke in shape]
    return {"width": width, "height": height, "strokes": strokes}


def read(model, sent: dict) -> tuple[int, list]:
    """-> (parts split at empty columns only, the verdicts on the parts with segmentation)."""
    picture = render_drawing(parse_drawing(sent))
    return len(to_mnist_digits(picture)), [judge(model, part["logits"]) for part in split_digits(model, picture)]


def number(verdicts: list) -> str | None:
    return None if any(v.not_a_digit for v in verdicts) else "".join(str(v.digit) for v in verdicts)


# ---------------------------------------------------------------------------------------------
# Behaviour on drawings made to show one thing each


def test_two_digits_touching_are_cut_and_read(model):
    parts, verdicts = read(model, drawing((SEVEN, 20, 1), (ZERO, 170, 1)))  # the 7's bar runs into the 0
    assert parts == 1
    assert number(verdicts) == "70"


def test_digits_overlapping_are_cut_and_read(model):
    parts, verdicts = read(model, drawing((FOUR, 20, 1), (ZERO, 140, 1)))  # the 4's bar reaches into the 0
    assert parts == 1
    assert number(verdicts) == "40"


def test_a_bridge_stroke_between_two_digits_is_cut(model):
    sent = drawing((ONE, 60, 1), (ZERO, 220, 1))
    sent["strokes"].append([[200, 150], [300, 150]])  # a tail from the 1 into the 0
    parts, verdicts = read(model, sent)
    assert parts == 1
    assert number(verdicts) == "10"


def read_drawn(model, sent: dict) -> tuple[str | None, str | None]:
    """-> (the number read from the picture alone, the number read with the drawing's strokes), as the page reads."""
    checked = parse_drawing(sent)
    picture = render_drawing(checked)
    alone = [judge(model, part["logits"]) for part in split_digits(model, picture)]
    drawn = [judge(model, part["logits"]) for part in split_digits(model, picture, drawing=checked)]
    return number(alone), number(drawn)


@pytest.mark.parametrize("shapes, expected", [(((SEVEN, 20, 1), (TWO, 90, 1)), "72"),
                                              (((ZERO, 20, 1), (ZERO, 110, 1)), "00")], ids=["72", "00"])
def test_digits_drawn_one_after_the_other_are_told_apart_by_their_strokes(model, shapes, expected):
    """Overlapping so far that no cut through the ink reads well (the picture alone is "not a digit"), the digits
    are told apart by the strokes that drew them: people write a number digit by digit."""
    alone, drawn = read_drawn(model, drawing(*shapes))
    assert alone is None and drawn == expected


def test_a_digit_drawn_in_two_strokes_is_not_split_by_them(model):
    arm, stem = [[(0.38, 0.15), (0.25, 0.6), (0.5, 0.6)]], [[(0.55, 0.3), (0.55, 0.85)]]
    assert read_drawn(model, drawing((arm, 20, 1), (stem, 20, 1))) == ("4", "4")


def test_stroke_masks_are_the_drawing_s_ink_stroke_by_stroke():
    checked = parse_drawing(drawing((SEVEN, 20, 1), (TWO, 90, 1)))
    masks = stroke_masks(checked)
    assert len(masks) == 2 and not np.array_equal(masks[0], masks[1])
    np.testing.assert_array_equal(masks[0] | masks[1], np.asarray(render_drawing(checked)) < 128)


def test_boxes_of_the_pieces_are_side_by_side_in_the_input_pixels(model):
    picture = render_drawing(parse_drawing(drawing((SEVEN, 20, 1), (ZERO, 170, 1))))
    (seven, zero) = split_digits(model, picture)
    assert seven["box"][0] < zero["box"][0] <= seven["box"][2] <= zero["box"][2]
    assert zero["placement"].crop_left >= seven["placement"].crop_left


@pytest.mark.parametrize("stretch", [1.6, 1.9])
def test_a_wide_zero_is_not_cut(model, stretch):
    parts, verdicts = read(model, drawing((ZERO, 0, stretch)))
    assert parts == 1 and number(verdicts) == "0"


def test_a_four_drawn_in_two_strokes_apart_is_merged(model):
    arm, stem = [[(0.38, 0.15), (0.25, 0.6), (0.5, 0.6)]], [[(0.64, 0.3), (0.64, 0.85)]]
    parts, verdicts = read(model, drawing((arm, 20, 1), (stem, 40, 1)))
    assert parts == 2
    assert number(verdicts) == "4"


@torch.inference_mode()
def test_scribbles_stay_not_a_digit(model):
    rng = np.random.default_rng(3)
    flagged = 0
    for _ in range(12):
        walk = np.round(np.cumsum(rng.normal(0, 25, (30, 2)), axis=0) + [280, 140], 1).tolist()
        picture = render_drawing(parse_drawing({"width": 560, "height": 280, "strokes": [walk]}))
        before = [judge(model, model(torch.from_numpy(p["digit"])[None])[0]) for p in to_mnist_digits(picture)]
        if number(before) is None:  # what the model already calls not a digit stays so
            flagged += 1
            assert number([judge(model, p["logits"]) for p in split_digits(model, picture)]) is None
    assert flagged >= 8


def test_numbers_with_a_clear_gap_are_read_as_before(model):
    for made in numbers("mnist_test", "separated", "canvas", 6):
        picture = render_drawing(parse_drawing(made.drawing))
        before, after = to_mnist_digits(picture), split_digits(model, picture)
        assert [p["box"] for p in before] == [p["box"] for p in after]
        assert all(np.array_equal(b["digit"], a["digit"]) for b, a in zip(before, after))


def test_mnist_test_digits_are_not_cut(model, mnist_test):
    images, labels = mnist_test
    for image in images[:100]:
        assert len(split_digits(model, image)) == 1


def test_pieces_of_a_cut_part_share_its_ink_exactly(model):
    picture = render_drawing(parse_drawing(drawing((FOUR, 20, 1), (ZERO, 140, 1))))
    ink, _ = ink_map(picture)
    (x0, x1), = split_columns(ink)
    top, bottom = segment._rows(ink[:, x0:x1])
    paths = segment.cuts(ink[top : bottom + 1, x0:x1] >= segment.CORE)
    assert paths
    pieces = segment._pieces(ink, x0, x1, top, paths, bottom - top + 1)
    by_nodes = {(a, b): piece for a, b, piece in pieces}
    last = len(paths) + 1
    for a, b in by_nodes:  # any piece and its complement along the same cuts add up to the part's ink
        if (0, a) in by_nodes and (b, last) in by_nodes:
            total = by_nodes[(0, a)] + by_nodes[(a, b)] + by_nodes[(b, last)]
            np.testing.assert_array_equal(total, ink[:, x0:x1])


def test_the_same_drawing_is_cut_the_same_way(model):
    picture = render_drawing(parse_drawing(drawing((SEVEN, 20, 1), (ZERO, 170, 1))))
    first, second = split_digits(model, picture), split_digits(model, picture)
    assert [p["box"] for p in first] == [p["box"] for p in second]
    assert all(np.array_equal(a["digit"], b["digit"]) for a, b in zip(first, second))


# ---------------------------------------------------------------------------------------------
# The numbers in the rules


def test_the_rules_numbers():
    assert (segment.MAX_RATIO, segment.FLAGGED_RATIO, segment.PIECE_RATIO, segment.MIN_HEIGHT) == (1.15, 1.0, 1.6, 0.4)
    assert (segment.MAX_CUTS, segment.MAX_READS, segment.THROUGH) == (8, 48, (2, 4, 6))
    assert (segment.PENALTY, segment.MIN_CONFIDENCE, segment.MERGE_GAP) == (0.0, 0.9, 0.25)
    assert segment.STROKE_CONFIDENCE == 0.7 and segment.MAX_CUT_AREA == 160_000
    assert (segment.CUT_COST, segment.STEP_COST, segment.CORE) == (64, 1, 0.5)


def ring(height: int, width: int, thickness: int = 9) -> np.ndarray:
    """A 0 as an ink map: an elliptical ring height x width, on a margin of 10 px."""
    y, x = np.mgrid[0:height, 0:width]
    cy, cx = (height - 1) / 2, (width - 1) / 2
    outer = ((y - cy) / (height / 2)) ** 2 + ((x - cx) / (width / 2)) ** 2 <= 1
    inner = ((y - cy) / (height / 2 - thickness)) ** 2 + ((x - cx) / (width / 2 - thickness)) ** 2 <= 1
    return np.pad((outer & ~inner).astype(np.float32), 10)


def test_only_parts_wider_than_max_ratio_are_tried(model):
    height = 100
    at_ratio, past_ratio = ring(height, int(segment.MAX_RATIO * height)), ring(height, int(segment.MAX_RATIO * height) + 2)
    for ink, tried in ((at_ratio, False), (past_ratio, True)):
        with Counted(model) as counted:
            parts = segment.segment(model, ink)
        assert not judge(model, parts[0]["logits"]).not_a_digit  # read as a 0 either way: only the width decides
        assert (counted.count > 1) == tried


def test_parts_read_as_not_a_digit_are_tried_only_past_flagged_ratio(model):
    ink = np.zeros((140, 400), np.float32)
    ink[20:120, 20:30] = ink[20:120, 50:60] = 1.0  # two bars joined top and bottom: a box, "not a digit"
    ink[20:30, 20:60] = ink[110:120, 20:60] = 1.0
    for width, tried in ((int(segment.FLAGGED_RATIO * 100), False), (int(segment.FLAGGED_RATIO * 100) + 2, True)):
        box = ink.copy()
        box[20:120, 20 + width - 10 : 20 + width] = 1.0
        box[20:30, 20 : 20 + width] = box[110:120, 20 : 20 + width] = 1.0
        box[:, 20 + width :] = 0.0
        with Counted(model) as counted:
            parts = segment.segment(model, box)
        assert tried or judge(model, parts[0]["logits"]).not_a_digit  # flagged: only the width decides
        assert (counted.count > 1) == tried, width


def test_pieces_are_no_lower_than_min_height_nor_wider_than_piece_ratio():
    ink = np.zeros((120, 200), np.float32)
    ink[10:110, 20:30] = 1.0  # a stroke 100 high
    ink[10 + 60 : 110, 60:70] = 1.0  # one 40 high: MIN_HEIGHT of 100 exactly
    ink[10 + 61 : 110, 100:110] = 1.0  # one 39 high: lower
    ink[50:60, 130:195] = 1.0  # a bar 10 high and 65 wide
    cut_at = [45, 85, 120]  # between the strokes
    paths = [np.full(120, c, np.int64) for c in cut_at]
    pieces = {(a, b) for a, b, _ in segment._pieces(ink, 0, 200, 0, paths, 100)}
    assert (1, 2) in pieces  # the 40 high one
    assert (2, 3) not in pieces  # the 39 high one
    assert (3, 4) not in pieces  # the bar: 6.5 times as wide as high, and low
    assert (0, 1) in pieces and (0, 2) in pieces


def test_piece_ratio_bounds_a_pieces_width():
    height = 50
    for width, kept in ((int(segment.PIECE_RATIO * height), True), (int(segment.PIECE_RATIO * height) + 1, False)):
        ink = np.zeros((height, width + 20), np.float32)
        ink[:, :width] = 1.0
        ink[:, width + 10 :] = 1.0  # a second part of the same height beyond a cut
        pieces = segment._pieces(ink, 0, width + 20, 0, [np.full(height, width + 5, np.int64)], height)
        assert ((0, 1) in {(a, b) for a, b, _ in pieces}) == kept


def test_a_cut_costs_cut_cost_per_row_of_core_crossed_and_step_cost_per_column():
    mask = np.zeros((30, 20), bool)
    mask[:, 2:6] = mask[:, 14:18] = True  # two strokes
    mask[10:13, 6:14] = True  # joined by a bridge 3 rows thick
    costs, _ = segment._paths(mask, 15)
    assert costs[10] == 3 * segment.CUT_COST  # straight down through the bridge
    paths = segment.cuts(mask)  # the bridge's two ends and its middle
    assert [int(p[15]) for p in paths] == [6, 10, 14]
    assert segment._path_costs(mask, paths) == [3 * segment.CUT_COST] * 3
    assert segment._path_costs(mask, [np.array([8] * 15 + [9] * 15)]) == [3 * segment.CUT_COST + segment.STEP_COST]


def test_a_scans_grey_rim_is_not_core():
    ink = np.zeros((40, 30), np.float32)
    ink[:, 5:12] = ink[:, 18:25] = 1.0
    ink[15:20, 12:18] = segment.CORE - 0.01  # a grey smudge joins them: not core, free to cut
    costs, _ = segment._paths(ink >= segment.CORE, 20)
    assert costs[15] == 0
    ink[15:20, 12:18] = segment.CORE  # as dark as the core: costs its rows
    costs, _ = segment._paths(ink >= segment.CORE, 20)
    assert costs[15] == 5 * segment.CUT_COST


def test_at_most_max_cuts_candidates_a_part():
    mask = np.zeros((40, 400), bool)
    mask[5:35:, :] = True
    for x in range(10, 400, 20):
        mask[5:35, x : x + 2] = False  # 20 valleys
        mask[20, x : x + 2] = True  # each crossed by one row
    assert len(segment.cuts(mask)) == segment.MAX_CUTS
    assert len(segment.cuts(mask, limit=3)) == 3


def test_extra_readings_a_drawing_are_at_most_max_reads(model):
    ink = np.zeros((120, 2000), np.float32)
    for x in range(10, 2000 - 300, 320):  # five parts, each three 0s touching
        for k in range(3):
            ink[10:110, x + 90 * k : x + 90 * k + 100] = np.maximum(ink[10:110, x + 90 * k : x + 90 * k + 100],
                                                                    ring(100, 100)[10:110, 10:110])
    parts = len(split_columns(ink))
    for budget in (segment.MAX_READS, 10):
        with Counted(model) as counted:
            segment.segment(model, ink, max_reads=budget)
        assert parts < counted.count <= parts + budget


def reading(log_p: float, not_a_digit: bool = False) -> dict:
    return {"log_p": log_p, "confidence": math.exp(log_p), "not_a_digit": not_a_digit, "logits": None}


def test_a_cut_must_read_penalty_better_than_the_whole():
    pieces = [(0, 1, None, None, reading(-0.01)), (1, 2, None, None, reading(-0.01))]
    assert segment._best_path(2, pieces, reading(-0.02 - segment.PENALTY + 0.001)) is None
    assert segment._best_path(2, pieces, reading(-0.02 - segment.PENALTY - 0.001)) is not None


def test_a_flagged_part_is_replaced_only_by_pieces_read_min_confidence_sure():
    flagged = reading(-2.0, not_a_digit=True)
    sure, unsure = math.log(segment.MIN_CONFIDENCE), math.log(segment.MIN_CONFIDENCE) - 0.001
    assert segment._best_path(2, [(0, 1, None, None, reading(sure)), (1, 2, None, None, reading(sure))], flagged)
    assert segment._best_path(2, [(0, 1, None, None, reading(sure)), (1, 2, None, None, reading(unsure))],
                              flagged) is None


def test_groups_of_strokes_replace_a_flagged_part_when_read_stroke_confidence_sure():
    flagged = reading(-2.0, not_a_digit=True)
    sure = math.log(segment.STROKE_CONFIDENCE)
    pieces = [(0, 1, None, None, reading(sure)), (1, 2, None, None, reading(sure))]
    assert segment._best_path(2, pieces, flagged, segment.STROKE_CONFIDENCE)
    assert segment._best_path(2, pieces, flagged) is None  # cuts through ink ask MIN_CONFIDENCE
    unsure = [(0, 1, None, None, reading(sure)), (1, 2, None, None, reading(sure - 0.001))]
    assert segment._best_path(2, unsure, flagged, segment.STROKE_CONFIDENCE) is None


def test_pieces_read_as_not_a_digit_are_no_path():
    pieces = [(0, 1, None, None, reading(-0.01)), (1, 2, None, None, reading(-0.01, not_a_digit=True))]
    assert segment._best_path(2, pieces, reading(-3.0)) is None


def test_viterbi_keeps_the_best_of_several_cuts():
    pieces = [(0, 1, None, None, reading(-0.01)), (1, 3, None, None, reading(-0.02)),
              (0, 2, None, None, reading(-0.5)), (2, 3, None, None, reading(-0.5)),
              (1, 2, None, None, reading(-0.01)), (2, 3, None, None, reading(-0.01))]
    chosen = segment._best_path(3, pieces, reading(-9.0))
    assert [(a, b) for a, b, *_ in chosen] == [(0, 1), (1, 3)]  # two pieces beat three at the same reading


def test_parts_merge_only_within_merge_gap(model):
    arm, stem = [[(0.38, 0.15), (0.25, 0.6), (0.5, 0.6)]], [[(0.64, 0.3), (0.64, 0.85)]]
    picture = render_drawing(parse_drawing(drawing((arm, 20, 1), (stem, 40, 1))))
    ink, _ = ink_map(picture)
    (a0, a1), (b0, b1) = split_columns(ink)
    taller = max(segment._height(ink[:, a0:a1]), segment._height(ink[:, b0:b1]))
    assert len(segment.segment(model, ink)) == 1
    moved = np.zeros_like(ink)  # the stem moved right to just past MERGE_GAP of the taller part's height
    gap = math.floor(segment.MERGE_GAP * taller) + 1
    moved[:, a0:a1] = ink[:, a0:a1]
    moved[:, a1 + gap : a1 + gap + b1 - b0] = ink[:, b0:b1]
    assert len(segment.segment(model, moved)) == 2
    moved[:] = 0.0
    moved[:, a0:a1] = ink[:, a0:a1]
    moved[:, a1 + gap - 1 : a1 + gap - 1 + b1 - b0] = ink[:, b0:b1]  # exactly MERGE_GAP: merged
    assert len(segment.segment(model, moved)) == 1


def test_no_ink_and_a_single_speck(model):
    assert segment.segment(model, np.zeros((50, 50), np.float32)) == []
    ink = np.zeros((50, 50), np.float32)
    ink[20, 20] = 1.0
    assert len(segment.segment(model, ink)) == 1


def test_to_mnist_digits_splits_at_empty_columns_only(model):
    picture = render_drawing(parse_drawing(drawing((SEVEN, 20, 1), (ZERO, 170, 1))))
    ink, _ = ink_map(picture)
    assert len(to_mnist_digits(picture)) == len(split_columns(ink)) == 1
    assert "logits" not in to_mnist_digits(picture)[0]


@torch.inference_mode()
def test_pieces_carry_the_logits_the_model_gives_their_digit(model):
    picture = render_drawing(parse_drawing(drawing((SEVEN, 20, 1), (ZERO, 170, 1))))
    for part in split_digits(model, picture):
        np.testing.assert_allclose(part["logits"], model(torch.from_numpy(part["digit"])[None])[0].numpy(), atol=1e-5)


def test_a_part_larger_than_max_cut_area_is_read_whole(model):
    """Bounded work: two digits touching, drawn large on a 2048-px canvas (a 512-px raster), are cut; the same
    part with a box of more than MAX_CUT_AREA pixels is read whole, at no cost beyond its one reading."""
    sent = drawing((SEVEN, 20, 1), (ZERO, 170, 1))
    picture = render_drawing(parse_drawing(sent))
    ink, _ = ink_map(picture)
    (x0, x1), = split_columns(ink)
    rows = np.nonzero(ink[:, x0:x1].any(axis=1))[0]
    area = (x1 - x0) * (rows[-1] - rows[0] + 1)
    assert area <= segment.MAX_CUT_AREA and len(segment.segment(model, ink)) == 2
    with Counted(model) as counted:
        assert len(segment.segment(model, ink, max_reads=segment.MAX_READS)) == 2
    assert counted.count > 1
    big = np.kron(ink, np.ones((2, 2), np.float32))  # the same ink at twice the size: four times the area
    assert (x1 - x0) * 2 * (rows[-1] - rows[0] + 1) * 2 > segment.MAX_CUT_AREA
    with Counted(model) as counted:
        assert len(segment.segment(model, big)) == 1
    assert counted.count == 1

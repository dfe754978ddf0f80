"""Digits that touch: segmentation by recognition, the Python reference (web/segment.js is its twin).

    from reader.segment import split_digits
    parts = split_digits(net, picture)   # [{"digit": (28, 28), "placement", "box", "logits"}, ...] left to right
    parts = split_digits(net, render_drawing(drawing), drawing=drawing)   # a drawing: its strokes help
    # the same on an ink map: segment(net, *reader.preprocess.ink_map(picture))

preprocess.split_columns splits a number where a column of ink is empty; digits that touch or overlap leave none,
and their part is read as one digit, most often "not a digit". Here, after LeCun, Bottou, Bengio and Haffner,
"Gradient-based learning applied to document recognition" (Proc. IEEE 1998), heuristic over-segmentation and
recognition, with the app's own 49,418-parameter BiLSTM as the recognizer:
  1. Parts: preprocess.split_columns, each read whole (preprocess.place and the BiLSTM, as the app always did).
  2. Merges: two neighbouring parts less than MERGE_GAP of the taller one's height apart, one of them read as
     "not a digit" (a 5 whose flag was lifted off), are read together; the whole replaces them if it is a
     digit read with at least MIN_CONFIDENCE.
  3. Which parts are cut: those wider than MAX_RATIO times their height, and those read as "not a digit" wider
     than FLAGGED_RATIO times their height; none whose box holds more than MAX_CUT_AREA pixels (bounded work).
  3b. Strokes (a drawing only): a part wider than a digit and drawn in several strokes is first read as runs of
     consecutive strokes (strokes a..b-1 together, every run but all of them: people write a number digit by
     digit, so two digits that overlap are still apart in the order they were drawn), each run a piece as in 5;
     the best path over the strokes as in 6, with a flagged part replaced by pieces each read at least
     STROKE_CONFIDENCE sure, left to right by the middle of their ink. Where no path of strokes wins, 4-6 follow.
  4. Cut candidates: paths from the part's top row to its bottom row, stepping at most one column a row, that
     cross as little of the strokes' core (ink >= CORE) as they can: each row where the path runs between two
     core pixels costs CUT_COST, each column it steps STEP_COST (integers). Two dynamic programmes, from the
     top and from the bottom, give for every column of a row the cheapest path through it; in each row of
     THROUGH, the valleys of that cost (a flat one at both ends and its middle) are candidates, at most
     MAX_CUTS a part, cheapest first, none along the part's own edges (a twentieth of its height). A clear
     valley between strokes costs nothing, a touch the rows of its contact, crossed strokes their thickness:
     the column projection's minima, the thinnest ink and the valley between strokes (as a drop-fall path
     finds it) in one rule, and a path bends round a stroke that leans into the other digit's columns.
  5. Pieces: all the ink between two cut paths (or a part's edge), at least MIN_HEIGHT of the part's height
     and at most PIECE_RATIO times as wide as high; each goes through preprocess.place and the BiLSTM like any
     digit, all of a drawing in one batch.
  6. The best path through the cut graph (Viterbi): the sum over its pieces of the log-probability of the
     digit read, minus PENALTY for every piece after the first; a piece the model calls "not a digit" is
     no edge. Reading the part whole is one such path: a cut wins only where it reads better. A part read
     as "not a digit" is replaced only by pieces each read with at least MIN_CONFIDENCE: a scribble stays
     flagged instead of becoming "111".
Bounded work: at most MAX_READS readings a drawing beyond its parts' (pieces, runs of strokes and merges; a part
whose runs of strokes would pass the budget is not read by strokes; parts are cut widest
first, and where the budget runs out the dearest cuts are dropped), in batches (the parts, each merge, the pieces).
Ties are broken by stated rules (cut candidates by cost, then row, then column; Viterbi keeps the first best),
geometry is integer on the ink map preprocess.ink_map gives (ink > 0 is a piece's ink, as preprocess.place reads it), and
scores are float64 sums of float32 log-softmax values: what a JavaScript twin needs to cut the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from model import BiLSTM, judge
from reader.preprocess import ink_map, place, split_columns
from reader.strokes import Drawing, rasterize

MAX_RATIO = 1.15  # a part wider than this times its height is tried for cuts (353 of MNIST test's 10,000 are)
FLAGGED_RATIO = 1.0  # a part read as "not a digit" is tried when wider than this times its height (a narrower
# one is a shape or a letter far more often than two digits: with all cut, 56 of 600 held-out non-digits became
# numbers; with this rule 15)
PIECE_RATIO = 1.6  # a piece wider than this times its height is not one digit: not read
MIN_HEIGHT = 0.4  # a piece lower than this fraction of its part's height is not a digit of the number: not read
MAX_CUTS = 8  # cut candidates a part, cheapest first
MAX_CUT_AREA = 160_000  # a part whose box holds more pixels is read whole: cutting it costs in proportion to its area,
# and a number across the page's canvas is at most 512 x 256 of raster (the phone's, 395 x 396); the heaviest drawing
# the limits accept, 512 x 512 of scribble, took 65 ms to read with its cuts, 18 ms without (bench/hostile.py)
MAX_READS = 48  # extra readings a drawing (pieces and merges); ~1 ms each in plain JavaScript
PENALTY = 0.0  # log units each piece after the first must win by (0: each piece already costs its own
# log-probability, about -0.04 for a clear digit; 0.1 lost a 1 into its neighbour in 4 of 100 touching numbers)
MIN_CONFIDENCE = 0.9  # a flagged part, or two parts merged, are replaced only by digits read at least this sure
STROKE_CONFIDENCE = 0.7  # ... or, for a part wider than a digit drawn in several strokes, by groups of its strokes
# read at least this sure: the person's own strokes are better evidence of where a digit ends than a cut through ink
# (100 touching canvas numbers: 78% exact, 0.9: 77%; overlapping 70%, 0.9: 66%; held-out pen non-digits flagged 91%
# either way; bench/touching.py)
MERGE_GAP = 0.25  # parts closer than this fraction of the taller one's height may be one digit
CUT_COST = 64  # a path crossing a stroke: per row whose boundary lies between two pixels of the stroke's core
CORE = 0.5  # a stroke's core, for the cut's cost: ink at least this dark (a scan's grey rim is cut for free)
STEP_COST = 1  # a path stepping one column sideways
THROUGH = (2, 4, 6)  # eighths of a part's height: the rows the cut paths are anchored in
RULE = ("MAX_RATIO", "FLAGGED_RATIO", "PIECE_RATIO", "MIN_HEIGHT", "MAX_CUTS", "MAX_CUT_AREA", "MAX_READS", "PENALTY",
        "MIN_CONFIDENCE", "STROKE_CONFIDENCE", "MERGE_GAP", "CUT_COST", "CORE", "STEP_COST", "THROUGH")  # sent to web/segment.js


def _paths(mask: np.ndarray, row: int, margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """mask (h, w) bool: a part's ink; row: 0..h-1 -> (costs (w + 1,), paths (w + 1, h)): for every boundary b of
    that row (b = 0..w: between pixel b - 1 and b), the cost of the cheapest path from the top row to the bottom
    row through it, and that path (its boundary column in each row). _sweeps, then _through."""
    return _through(_sweeps(mask, margin), row)


def _sweeps(mask: np.ndarray, margin: int) -> tuple[np.ndarray, ...]:
    """The two dynamic programmes over a part's ink -> (cut, down, down_step, up, up_step), each (h, w + 1): down[y, b]
    the cheapest cost from the top row to boundary b of row y, down_step the step taken into it (-1, 0, +1); up the
    same from the bottom row.

    A path's boundary in row y lies at column p[y] in 0..w and moves at most one column from row to row; it costs
    CUT_COST for each row where both pixels beside it are ink, STEP_COST for each column it steps, and a row's
    boundary within `margin` of the part's edges costs more than any cut through ink (a path that slips out along
    the edge cuts nothing off). Ties: straight on first, then the step to the left, then the one to the right."""
    h, w = mask.shape
    cut = _cut_costs(mask)
    cut[:, :margin] = cut[:, w + 1 - margin :] = CUT_COST * (h + 1)  # no path runs along the part's own edges
    big = np.iinfo(np.int64).max // 4

    def sweep(rows: range) -> tuple[np.ndarray, np.ndarray]:
        total, step = np.zeros((h, w + 1), np.int64), np.zeros((h, w + 1), np.int8)
        previous = None
        for y in rows:
            if previous is None:
                total[y] = cut[y]
            else:
                before = total[previous]
                left = np.concatenate([[big], before[:-1]]) + STEP_COST  # came from b - 1
                right = np.concatenate([before[1:], [big]]) + STEP_COST  # came from b + 1
                best, move = before.copy(), np.zeros(w + 1, np.int8)
                move[left < best], best = -1, np.minimum(best, left)
                take = right < best
                move[take], best = 1, np.where(take, right, best)
                total[y], step[y] = best + cut[y], move
            previous = y
        return total, step

    return (cut, *sweep(range(h)), *sweep(range(h - 1, -1, -1)))


def _through(sweeps: tuple[np.ndarray, ...], row: int) -> tuple[np.ndarray, np.ndarray]:
    """_sweeps and a row -> (costs (w + 1,), paths (w + 1, h)): the cheapest path through each boundary of the row."""
    cut, down, down_step, up, up_step = sweeps
    h, columns = cut.shape
    costs = down[row] + up[row] - cut[row]
    paths = np.zeros((columns, h), np.int64)  # every boundary of the row at once
    paths[:, row] = np.arange(columns)
    for y in range(row, 0, -1):  # back up to the top: the step that led into row y
        paths[:, y - 1] = paths[:, y] + down_step[y, paths[:, y]]
    for y in range(row, h - 1):  # down to the bottom, likewise from the bottom sweep
        paths[:, y + 1] = paths[:, y] + up_step[y, paths[:, y]]
    return costs, paths


def _cut_costs(mask: np.ndarray) -> np.ndarray:
    """(h, w + 1) int64: CUT_COST where a boundary lies between two inked pixels, else 0."""
    h, w = mask.shape
    inked = mask.astype(np.int64)
    cut = np.zeros((h, w + 1), np.int64)
    cut[:, 1:w] = CUT_COST * (inked[:, :-1] & inked[:, 1:])
    return cut


def _minima(costs: np.ndarray, margin: int) -> list[tuple[int, int]]:
    """-> [(cost, b)]: the valleys of costs (runs of equal costs lower than the runs on either side), each at its
    run's first boundary, its middle (rounded down) and its last (a flat bridge between two digits is cut best
    next to one of them), where that lies margin..w - margin."""
    w = len(costs) - 1
    runs, b = [], 0
    while b <= w:
        end = b
        while end + 1 <= w and costs[end + 1] == costs[b]:
            end += 1
        runs.append((int(costs[b]), b, end))
        b = end + 1
    found = []
    for (before, _, _), (cost, start, end), (after, _, _) in zip(runs, runs[1:], runs[2:]):
        if cost < before and cost < after:
            found += [(cost, b) for b in sorted({start, (start + end) // 2, end}) if margin <= b <= w - margin]
    return found


def cuts(mask: np.ndarray, limit: int = MAX_CUTS) -> list[np.ndarray]:
    """A part's ink (h, w) bool -> up to `limit` cut paths, each (h,) int: in row y, columns < path[y] lie left of
    the cut. Candidates: in each row of THROUGH, the valleys of the path cost along the row (_minima), paths kept
    a twentieth of the height off the part's edges (a 1 is about a tenth as wide as high); all of them cheapest
    first (ties: the row listed first, then the leftmost), one a row within an eighth of the height (the
    cheapest); a path that leaves ink in fewer than MIN_HEIGHT of the rows on one side, or splits the ink the same
    way as one already kept, is dropped. The kept paths are returned left to right (by their sum of columns, then
    column by column), each pushed right of its left neighbour where they would cross."""
    h, w = mask.shape
    radius, margin = max(2, h // 8), max(2, h // 20)
    candidates, paths, sweeps = [], {}, _sweeps(mask, margin)
    for k, eighths in enumerate(THROUGH):
        costs, paths[k] = _through(sweeps, min(h - 1, h * eighths // 8))
        candidates += [(cost, k, b) for cost, b in _minima(costs, margin)]
    candidates.sort()
    kept, splits, near = [], [], []
    columns = np.arange(w)
    for _, k, b in candidates:
        if len(kept) == limit:
            break
        if any(k == k_ and abs(b - b_) <= radius for k_, b_ in near):
            continue  # a cheaper valley of the same row lies within radius
        path = paths[k][b]
        left = mask & (columns[None, :] < path[:, None])
        low = min(left.any(axis=1).sum(), (mask & ~left).any(axis=1).sum()) < MIN_HEIGHT * h  # a sliver off a side
        if low or any(np.array_equal(left, s) for s in splits):
            continue
        kept.append(path.copy())
        splits.append(left)
        near.append((k, b))
    kept.sort(key=lambda p: (int(p.sum()), p.tolist()))
    for i in range(1, len(kept)):
        kept[i] = np.maximum(kept[i], kept[i - 1])
    return kept


def _piece(ink: np.ndarray, x0: int, x1: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The ink map's columns x0..x1 with only the pixels between two cut paths (in part columns, per row) kept."""
    columns = np.arange(x1 - x0)[None, :]
    return np.where((columns >= left[:, None]) & (columns < right[:, None]), ink[:, x0:x1], 0.0).astype(np.float32)


def _extent(piece: np.ndarray) -> tuple[int, int, int, int] | None:
    """-> (top, bottom, left, right) of a piece's ink (inclusive), None when it has none."""
    inked = piece > 0.0
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inked[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _digit_sized(piece: np.ndarray, height: int) -> bool:
    """Whether a piece may be one digit of its part (of ink `height` rows): some ink, at least MIN_HEIGHT of the
    part's height, at most PIECE_RATIO times as wide as high."""
    extent = _extent(piece)
    if extent is None:
        return False
    top, bottom, left, right = extent
    return bottom - top + 1 >= MIN_HEIGHT * height and right - left + 1 <= PIECE_RATIO * (bottom - top + 1)


@torch.inference_mode()
def _read(model: BiLSTM, digits: list[np.ndarray]) -> list[dict]:
    """28x28 digits -> per digit {"logits" (10,), "log_p": log-probability of the digit read (float64),
    "confidence", "not_a_digit"}, in one batch."""
    if not digits:
        return []
    logits = model(torch.from_numpy(np.stack(digits)))  # (N, 10)
    log_p = torch.log_softmax(logits, dim=1).amax(dim=1).numpy().astype(np.float64)
    readings = []
    for row, value in zip(logits.numpy(), log_p):
        verdict = judge(model, row)
        readings.append({"logits": row, "log_p": float(value), "confidence": verdict.confidence,
                         "not_a_digit": verdict.not_a_digit})
    return readings


def split_digits(model: BiLSTM, picture: Image.Image | np.ndarray, max_reads: int = MAX_READS,
                 drawing: Drawing | None = None) -> list[dict]:
    """Any picture -> its digits left to right, [{"digit", "placement", "box", "logits"}, ...] (the app's path: the
    ink map of reader.preprocess, then segment). drawing: the strokes the picture was drawn from (render_drawing),
    whose groups are tried first. ValueError for anything that is not an image."""
    return segment(model, *ink_map(picture), max_reads=max_reads, drawing=drawing)


def stroke_masks(drawing: Drawing) -> list[np.ndarray]:
    """Each stroke of a drawing rasterized alone, (h, w) bool in the drawing's raster: their union is its ink."""
    return [rasterize(replace(drawing, strokes=(stroke,))) for stroke in drawing.strokes]


def _stroke_pieces(ink: np.ndarray, masks: list[np.ndarray], x0: int, x1: int, height: int) -> list[tuple]:
    """A part's strokes (masks, in drawing order) -> [(a, b, piece ink (H, x1 - x0))]: strokes a..b-1 together,
    for every a < b but all of them (the whole part), each at least MIN_HEIGHT of the part's height and at most
    PIECE_RATIO times as wide as high (as the pieces between cuts: a dot or a dash is no digit of a number)."""
    pieces = []
    for a in range(len(masks)):
        union = np.zeros((ink.shape[0], x1 - x0), bool)
        for b in range(a + 1, len(masks) + 1):
            union |= masks[b - 1][:, x0:x1]
            if (a, b) == (0, len(masks)):
                continue
            piece = np.where(union, ink[:, x0:x1], 0.0).astype(np.float32)
            if _digit_sized(piece, height):
                pieces.append((a, b, piece))
    return pieces


def segment(model: BiLSTM, ink: np.ndarray, factor: int = 1, max_reads: int = MAX_READS,
            drawing: Drawing | None = None) -> list[dict]:
    """An ink map (preprocess.ink_map) -> its digits left to right, [{"digit", "placement", "box", "logits"}, ...]:
    split at empty columns, merged and cut where the model reads the result better (see the module's doc).
    drawing: the strokes the ink was rasterized from (ink is then their raster: factor 1), if any."""
    wholes = []  # per part: (x0, x1, placed)
    for x0, x1 in split_columns(ink):
        placed = place(ink[:, x0:x1], factor, left=x0)
        if placed is not None:
            wholes.append((x0, x1, placed))
    readings = _read(model, [placed[0] for _, _, placed in wholes])
    budget = max_reads

    # Merges: neighbours close together, one of them not a digit, read together.
    parts = []  # (x0, x1, placed, reading)
    index = 0
    while index < len(wholes):
        x0, x1, placed = wholes[index]
        if index + 1 < len(wholes) and budget > 0 and (readings[index]["not_a_digit"]
                                                        or readings[index + 1]["not_a_digit"]):
            nx0, nx1, _ = wholes[index + 1]
            if nx0 - x1 <= MERGE_GAP * max(_height(ink[:, x0:x1]), _height(ink[:, nx0:nx1])):
                merged = ink[:, x0:nx1].copy()
                merged[:, x1 - x0 : nx0 - x0] = 0.0  # a speck between the two is not theirs
                both = place(merged, factor, left=x0)
                budget -= 1
                reading = _read(model, [both[0]])[0]
                if not reading["not_a_digit"] and reading["confidence"] >= MIN_CONFIDENCE:
                    parts.append((x0, nx1, both, reading))
                    index += 2
                    continue
        parts.append((x0, x1, placed, readings[index]))
        index += 1

    # Strokes, then cuts: parts wider than a digit, or not a digit and as wide as high, widest first while the
    # budget lasts. A drawn part of several strokes is first read as groups of consecutive strokes (people write a
    # number digit by digit), then cut through ink.
    grouped = {}  # part index -> (number of strokes, pieces [(a, b, piece ink, placed)])
    tried = {}  # part index -> (number of cut paths, pieces [(a, b, piece ink, placed)])
    masks = None
    for i in sorted(range(len(parts)), key=lambda i: (parts[i][0] - parts[i][1], i)):
        x0, x1, placed, reading = parts[i]
        top, bottom = _rows(ink[:, x0:x1])
        height = bottom - top + 1
        wide = x1 - x0 > (FLAGGED_RATIO if reading["not_a_digit"] else MAX_RATIO) * height
        wide = wide and (x1 - x0) * height <= MAX_CUT_AREA
        if drawing is not None and len(drawing.strokes) >= 2 and budget > 0 and wide:  # one stroke: no groups
            masks = stroke_masks(drawing) if masks is None else masks
            mine = [mask for mask in masks if mask.shape == ink.shape and mask[:, x0:x1].any()]
            groups = len(mine) * (len(mine) + 1) // 2 - 1  # every run of consecutive strokes but all of them
            if len(mine) >= 2 and groups <= budget:
                budget -= groups
                found = [(a, b, piece, place(piece, factor, left=x0)) for a, b, piece in _stroke_pieces(ink, mine, x0, x1, height)]
                grouped[i] = (len(mine), [piece for piece in found if piece[3] is not None])
        if budget <= 0 or not wide:
            continue
        mask = ink[top : bottom + 1, x0:x1] >= CORE
        paths = cuts(mask)
        pieces = _pieces(ink, x0, x1, top, paths, height)
        while len(pieces) > budget:  # the dearest cut goes where the budget runs out (ties: the rightmost)
            costs = _path_costs(mask, paths)
            paths.pop(len(costs) - 1 - int(np.argmax(costs[::-1])))
            pieces = _pieces(ink, x0, x1, top, paths, height)
        placed_pieces = [(a, b, piece, place(piece, factor, left=x0)) for a, b, piece in pieces]
        if pieces:
            budget -= len(pieces)
            tried[i] = (len(paths), [piece for piece in placed_pieces if piece[3] is not None])

    group_readings = iter(_read(model, [placed[0] for i in sorted(grouped) for _, _, _, placed in grouped[i][1]]))
    piece_readings = iter(_read(model, [placed[0] for i in sorted(tried) for _, _, _, placed in tried[i][1]]))
    result = []
    for i, (x0, x1, placed, reading) in enumerate(parts):
        chosen = None
        if i in grouped:
            count, pieces = grouped[i]
            chosen = _best_path(count, [(*piece, next(group_readings)) for piece in pieces], reading, STROKE_CONFIDENCE)
            if chosen is not None:  # side by side, left to right by the middle of their ink (digits that overlap)
                chosen.sort(key=lambda piece: (sum(_extent(piece[2])[2:]), piece[0]))
        if i in tried:
            count, pieces = tried[i]
            scored = [(*piece, next(piece_readings)) for piece in pieces]
            chosen = chosen if chosen is not None else _best_path(count + 1, scored, reading)
        if chosen is None:  # the part as it is: its columns, its ink's rows
            top, bottom = _rows(ink[:, x0:x1])
            result.append({"digit": placed[0], "placement": placed[1], "logits": reading["logits"],
                           "box": [x0 * factor, top * factor, x1 * factor, (bottom + 1) * factor]})
            continue
        for _, _, piece_ink, piece_placed, piece_reading in chosen:
            top, bottom, left, right = _extent(piece_ink)
            box = [(x0 + left) * factor, top * factor, (x0 + right + 1) * factor, (bottom + 1) * factor]
            result.append({"digit": piece_placed[0], "placement": piece_placed[1], "logits": piece_reading["logits"],
                           "box": box})
    return result


def _rows(piece: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero((piece > 0.0).any(axis=1))[0]
    return int(rows[0]), int(rows[-1])


def _height(piece: np.ndarray) -> int:
    top, bottom = _rows(piece)
    return bottom - top + 1


def _path_costs(mask: np.ndarray, paths: list[np.ndarray]) -> list[int]:
    """What each cut path costs (the sum _paths minimises)."""
    cut = _cut_costs(mask)
    return [int(cut[np.arange(len(p)), p].sum() + STEP_COST * np.abs(np.diff(p)).sum()) for p in paths]


def _pieces(ink: np.ndarray, x0: int, x1: int, top: int, paths: list[np.ndarray], height: int) -> list[tuple]:
    """The candidate pieces of a part between its cut paths: [(a, b, piece ink (H, x1 - x0))], a < b nodes (0: the
    part's left edge, len(paths) + 1: its right edge; the whole part, (0, last), left out), each at least
    MIN_HEIGHT of the part's height and at most PIECE_RATIO times as wide as high."""
    full = ink.shape[0]
    edges = [np.zeros(full, np.int64)]  # node 0: the part's left edge
    for path in paths:  # in ink-map rows: above and below the part's rows, no ink, any boundary will do
        line = np.zeros(full, np.int64)
        line[top : top + len(path)] = path
        edges.append(line)
    edges.append(np.full(full, x1 - x0, np.int64))
    last = len(edges) - 1
    pieces = []
    for a in range(last):
        for b in range(a + 1, last + 1):
            if (a, b) == (0, last):
                continue
            piece = _piece(ink, x0, x1, edges[a], edges[b])
            if _digit_sized(piece, height):
                pieces.append((a, b, piece))
    return pieces


def _best_path(last: int, scored: list[tuple], whole: dict, confidence: float = MIN_CONFIDENCE) -> list[tuple] | None:
    """Viterbi over the cut graph: nodes 0..last, edges the pieces (a, b, ..., reading) and the whole part
    (0, last). -> the pieces of the best path when it is not the whole part; None when the whole part wins.

    A path scores the sum of its pieces' log-probabilities, minus PENALTY per piece after the first; pieces read as
    "not a digit" are no edges. A flagged whole part is no edge either, and then every piece must be read with
    at least `confidence`. Ties: the first best found (fewer pieces, the leftmost cut)."""
    edges = {}
    for a, b, piece_ink, placed, reading in scored:
        if reading["not_a_digit"] or (whole["not_a_digit"] and reading["confidence"] < confidence):
            continue
        edges.setdefault(b, []).append((a, reading["log_p"] - PENALTY, (a, b, piece_ink, placed, reading)))
    best = [-math.inf] * (last + 1)
    back: list[tuple | None] = [None] * (last + 1)
    best[0] = PENALTY  # the first piece is free: every edge subtracts PENALTY
    for b in range(1, last + 1):
        for a, score, piece in edges.get(b, []):
            if best[a] + score > best[b]:
                best[b], back[b] = best[a] + score, piece
    if best[last] == -math.inf:
        return None
    if not whole["not_a_digit"] and whole["log_p"] >= best[last]:
        return None
    chosen, node = [], last
    while node > 0:
        piece = back[node]
        chosen.append(piece)
        node = piece[0]
    return chosen[::-1]

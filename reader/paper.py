"""A photo or scan of handwriting -> the ink the model should read: the paper path of every uploaded picture.

    from reader.paper import clean, paper_ink
    paper = clean(PIL.Image.open("photo.jpg"))   # Paper: .ink (h, w) in [0, 1], ink = 1; .problem (a sentence or None)
    ink = paper_ink(paper)                       # what the app reads (reader.readings.digits_of_upload: then segment)

Clean digital pictures (a PNG of black strokes on white, a transparent PNG, MNIST's own white-on-black digits, a
screenshot) have a flat background: they keep to_mnist's ink map, unchanged (preprocess.ink_map). A photo or scan has
none: paper lit unevenly, ruled, shaded, a desk at the edge, JPEG's noise. For those, at a working size of at most
WORK_SIDE pixels a side (an integer box reduction, as preprocess.ink_map's), numpy and Pillow only:
  1. orientation from EXIF (a phone stores a portrait sideways, with a tag);
  2. the grey that ink darkens: the mean of luma and of max(R, G, B), so that pale coloured ruling is fainter than
     ink (blue ink stays dark in luma; a pale blue line is nearly white in max(R, G, B));
  3. polarity: dark ink on light paper, or light on dark (chalk on a board): which way thin marks stand out (the
     black and white top-hats);
  4. the paper's light: a grey closing (max then min filter) wider than the strokes, on the picture reduced
     BACKGROUND_REDUCE times, divided out: the paper becomes 1 whatever the light, a soft shadow's too;
  5. the page told from a desk or the frame: parts touching the frame's border that are far darker than the paper,
     of another colour, or darker behind a sharp edge, with a margin, hold no ink;
  6. ink chosen adaptively, not by one global floor: Sauvola's local threshold on the flattened picture, at least
     MIN_CONTRAST and INK_SHARE of the darkest strokes' contrast, and fainter stretches joined to such ink
     (hysteresis: a pencil's line);
  7. small rotations straightened: the angle (to +-MAX_TILT degrees) that lines up ruling, grid or the page's edge;
     or, for a number on plain paper, its baseline;
  8. ruling and grid lines removed: long (RULE_COVER of the page), thin, straight, pale lines, found in the
     darkness itself; only their own pixels go, so strokes that cross them or run along them keep their ink;
  9. specks and marks along the frame's border or the page's edge left out.
paper_ink makes thin strokes as wide as MNIST's (STROKE); the app then splits, cuts and places the ink as it does a
drawing's (reader.segment). When there is nothing to read, Paper.problem says why (blank, too dark, too
small, too faint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from reader.preprocess import SPECK, _to_pil, digits_of_ink, ink_map, split_columns

WORK_SIDE = 512  # the working picture's longer side, at most (a digit photographed is 100-300 px tall in it)
DIGITAL_SHARE = 0.5  # a picture where at least this share of pixels has one value is digital: to_mnist's path
BACKGROUND_REDUCE = 4  # polarity, the paper's light and the desk are told on the picture reduced this much (cells)

# 3. polarity: marks narrower than POLARITY_SIZE cells standing out by POLARITY_FLOOR tell, one side POLARITY_RATIO
# times the other's and POLARITY_EVIDENCE of the picture at least; but a picture whose SURFACE-th percentile is
# lighter than LIGHT_SURFACE is paper, and one darker than DARK_SURFACE a board unless all its marks are dark (of 670
# photos and scans of paper and 67 of chalk made by training/photos.py: paper 0.54 and up, boards 0.24 and down;
# all 737 on the right side, against 3 wrong by the marks alone)
SURFACE = 75
LIGHT_SURFACE = 0.5
DARK_SURFACE = 0.3
POLARITY_SIZE = 3
POLARITY_FLOOR = 0.08
POLARITY_RATIO = 3
POLARITY_EVIDENCE = 0.002
# 4. the paper's light: under a closing CLOSING_WIDE of the working side wide first (a marker's strokes on a digit
# filling the frame are 0.1 of it), which tells the strokes' width; then CLOSING_STROKES times that, CLOSING at least
CLOSING_WIDE = 0.25
CLOSING_STROKES = 3
CLOSING = 0.06
# 5. the desk
DESK_CLOSING = 3  # cells: told on the picture closed this wide (thin strokes gone, a strip of desk kept): ...
DESK_LEVEL = 0.3  # ... a part touching the frame's border darker than this share of the paper is not the page ...
DESK_CHROMA = 0.05  # ... nor one whose colour (r, b chromaticity) is this far from the paper's ...
DESK_DIM = 0.75  # ... nor one darker than this share of the paper with a sharp edge: the light rises ...
DESK_STEP = 0.5  # ... this share of the way to the paper's within a cell across its rim
DESK_MARGIN = 2  # cells along the desk are its edge
# 6. ink
MIN_CONTRAST = 0.18  # ink takes away at least this share of the paper's light (pale ruling takes 5-15%) ...
INK_SHARE = 0.4  # ... and at least this share of what the darkest strokes take away, the darkness at the ...
STRONGEST = 99.95  # ... percentile (a thin 1 is 0.1% of the picture; at the 99.7th, pale grid lines set the floor)
SAUVOLA_WINDOW = 1 / 8  # Sauvola's window, as a fraction of the working side ...
SAUVOLA_STROKES = 5  # ... and at least this many strokes wide (inside a wide marker stroke, the mean is the ink's)
SAUVOLA_K = 0.2  # Sauvola's k; R = 0.5 for a picture in [0, 1]
SURE = 2  # darker than this many times the floor is ink, whatever the neighbourhood
WEAK = 0.5  # hysteresis: pixels past this share of the floor are ink where they touch ink past the floor
# 7. tilt
MAX_TILT = 8.0  # degrees: a page turned more than this in the frame is not straightened
TILT_STEP = 0.5  # degrees between the angles tried, on the pixels darker than ...
TILT_FLOOR = 0.08  # ... this (pale ruling too)
TEXT_WIDE = 1.5  # writing this many times as wide as tall is a number: its baseline is made level
# 8. ruling
RULE_WINDOW = 0.08  # darkness averaged along a row over this share of the width ...
RULE_GAP = 3  # ... against the same RULE_GAP pixels above and below: a thin line stands out ...
RULE_CONTRAST = 0.04  # ... by this much
RULE_COVER = 0.6  # such pixels, joined, reaching across this share of the page's width are a ruling line ...
RULE_PALE = 0.7  # ... when paler than this share of the darkest ink's darkness (printed ruling is pale) ...
RULE_FULL = 0.9  # ... or, as dark as the ink, reaching across this share
RULE_INK = 0.5  # a line's pixel goes if no darker than this share of the way from the line's core to the ink ...
RULE_INK_GAP = 0.15  # ... when the ink is this much darker than the lines; else if the ink across it is at most ...
RULE_THICKNESS = 1.5  # ... this many times the line's thickness (a stroke crossing it is longer)
# 9. what is kept (and preprocess.SPECK: parts smaller than that share of the tallest, both ways, are specks)
EDGE = 5  # pixels: a band along the frame's border and the page's edge ...
EDGE_SHARE = 1 / 3  # ... where a mark with this share of its ink is the edge's, not writing
MIN_HEIGHT = 10  # writing less tall than this, in working pixels (8 in the 28x28 would be 3 px), is too small
DARK_PAPER = 0.12  # a picture with nothing lighter than this (in [0, 1]; the 99.9th percentile, reduced) is too dark
# for the model
STROKE = 0.1  # strokes thinner than this share of a digit's height are thickened to it (MNIST's: 2-3 px in 20)

BLANK = "No handwriting found: the picture looks blank. Write the digit in dark ink, large, and photograph it close."
TOO_DARK = "The picture is too dark to find the ink in it: take it again in more light."
TOO_FAINT = ("The ink is too faint to tell from the paper: write in darker ink (a felt pen is best) or take the photo "
             "in more light.")
TOO_SMALL = ("The writing is too small in this picture ({height} pixels tall): come closer, so that the digits fill "
             "about a third of the frame.")


@dataclass(frozen=True)
class Paper:
    """What the paper path kept of one picture.

    ink: (h, w) float32 in [0, 1], ink = 1, of the picture reduced by `factor` (an integer, as preprocess.ink_map's),
    upright (EXIF applied); problem: why there is nothing to read, or None; digital: the picture took to_mnist's
    ink map (a clean drawing or screenshot), not the photo path; tilt: degrees the picture was turned back."""

    ink: np.ndarray
    factor: int
    problem: str | None = None
    digital: bool = False
    tilt: float = 0.0

    def picture(self) -> Image.Image:
        """The cleaned ink as the page may show it: black on white, grayscale."""
        return Image.fromarray((255 - np.round(self.ink * 255)).astype(np.uint8), "L")


# ---------------------------------------------------------------------------------------------
# Small filters on float32 pictures, numpy only.


def _slide(array: np.ndarray, size: int, axis: int, reduce) -> np.ndarray:
    """Max or min (reduce: np.max or np.min) over a window of `size` (odd) along an axis, the edges padded with the
    edge value. A bool array takes a running count instead (any / all in the window): linear whatever the size."""
    if size <= 1:
        return array
    pad = [(0, 0)] * array.ndim
    pad[axis] = (size // 2, size // 2)
    padded = np.pad(array, pad, mode="edge")
    if array.dtype == np.bool_:
        counts = np.cumsum(padded, axis=axis, dtype=np.int32)
        counts = np.concatenate([np.zeros_like(np.take(counts, [0], axis=axis)), counts], axis=axis)
        inside = np.take(counts, np.arange(size, counts.shape[axis]), axis=axis) - \
            np.take(counts, np.arange(0, counts.shape[axis] - size), axis=axis)
        return inside > 0 if reduce is np.max else inside == size
    return reduce(np.lib.stride_tricks.sliding_window_view(padded, size, axis=axis), axis=-1)


def _max(array: np.ndarray, size: int) -> np.ndarray:
    """Max over a size x size window (a dilation, for a bool mask)."""
    return _slide(_slide(array, size, 0, np.max), size, 1, np.max)


def _min(array: np.ndarray, size: int) -> np.ndarray:
    """Min over a size x size window (an erosion, for a bool mask)."""
    return _slide(_slide(array, size, 0, np.min), size, 1, np.min)


def _box_mean(array: np.ndarray, size: int) -> np.ndarray:
    """Mean over a size x size window (odd), the edges padded with the edge value: running sums, one axis at a time."""
    r = size // 2
    out = np.asarray(array, dtype=np.float32)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r + 1, r)
        sums = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis, dtype=np.float64)
        ahead = sums[size:] if axis == 0 else sums[:, size:]
        behind = sums[:-size] if axis == 0 else sums[:, :-size]
        out = ((ahead - behind) / size).astype(np.float32)
    return out


def _resized(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float picture resized (bilinear) to size = (w, h)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), "F").resize(
        size, Image.Resampling.BILINEAR))


def _reduced(array: np.ndarray, factor: int) -> np.ndarray:
    """Box mean over factor x factor blocks (the last partial block kept)."""
    h, w = array.shape[:2]
    padded = np.pad(array, [(0, -h % factor), (0, -w % factor)] + [(0, 0)] * (array.ndim - 2), mode="edge")
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor,
                          *array.shape[2:]).mean(axis=(1, 3))


def run_ids(mask: np.ndarray, axis: int = 1) -> np.ndarray:
    """(h, w) bool -> (h, w) int64: each run of True along the axis numbered from 1 (0 where False)."""
    m = mask if axis == 1 else mask.T
    flat = np.concatenate([np.zeros((m.shape[0], 1), bool), m], axis=1).ravel()
    starts = flat & ~np.concatenate([[False], flat[:-1]])
    ids = (np.cumsum(starts) * flat).reshape(m.shape[0], m.shape[1] + 1)[:, 1:]
    return ids if axis == 1 else ids.T


def runs(mask: np.ndarray, axis: int = 1) -> np.ndarray:
    """(h, w) bool -> (h, w) int32: at each True pixel, the length of the run of True it lies in along the axis."""
    ids = run_ids(mask, axis)
    lengths = np.bincount(ids.ravel())
    lengths[0] = 0
    return lengths[ids].astype(np.int32)


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected parts (8-connected) of a bool mask -> (labels (h, w) int32, 0 = none; count). Runs of each row
    are joined to the runs they touch in the next row, then the joins are closed by label propagation."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), bool)
    padded[:, 1:-1] = mask
    edges = np.diff(padded.astype(np.int8), axis=1)
    row_s, start = np.nonzero(edges == 1)  # run [start, end) in mask columns
    row_e, end = np.nonzero(edges == -1)
    n = len(start)
    if n == 0:
        return np.zeros((h, w), np.int32), 0
    stride = w + 2
    start_key, end_key = row_s * stride + start, row_e * stride + end  # sorted (row-major)
    # runs of the next row that touch run i (8-connected): start <= end_i and end >= start_i
    first = np.searchsorted(end_key, (row_s + 1) * stride + start, side="right")
    last = np.searchsorted(start_key, (row_s + 1) * stride + end, side="right")
    counts = np.maximum(last - first, 0)
    a = np.repeat(np.arange(n), counts)
    b = np.repeat(first, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    parent = np.arange(n)
    while a.size:
        low = np.minimum(parent[a], parent[b])
        changed = (parent[a] != low) | (parent[b] != low)
        np.minimum.at(parent, a, low)
        np.minimum.at(parent, b, low)
        parent = parent[parent]
        if not changed.any():
            break
    roots, ids = np.unique(parent, return_inverse=True)
    labels = np.zeros((h, w), np.int32)
    run_ids = np.repeat(ids + 1, end - start)
    rows = np.repeat(row_s, end - start)
    cols = np.repeat(start, end - start) + (np.arange((end - start).sum()) - np.repeat(np.cumsum(end - start) - (end - start), end - start))
    labels[rows, cols] = run_ids
    return labels, len(roots)


# ---------------------------------------------------------------------------------------------
# The steps


def _working(picture: Image.Image) -> tuple[np.ndarray, int]:
    """A PIL picture -> (the grey ink darkens (h, w) float32 in [0, 1] at the working size, RGB (h, w, 3), factor)."""
    factor = max(1, math.ceil(max(picture.size) / WORK_SIDE))
    if picture.mode.startswith("I") or picture.mode == "F":
        values = np.asarray(picture, dtype=np.float32)
        values = values / (65535.0 if picture.mode.startswith("I;16") or values.max() > 255 else 255.0)
        rgb = np.repeat(np.clip(values, 0, 1)[..., None], 3, axis=2)
        return _reduced(rgb, factor).astype(np.float32), factor
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    if factor > 1:
        picture = picture.convert("RGBA" if has_alpha else "RGB").reduce(factor)
    rgba = np.asarray(picture.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
    if has_alpha:  # on white, or on black under light strokes (as _ink_map does)
        alpha = rgba[..., 3:]
        opaque = alpha[..., 0] > 0.5
        level = float(rgba[..., :3][opaque].mean()) if opaque.any() else 0.0
        rgba = rgba[..., :3] * alpha + (1.0 - alpha) * (1.0 if level < 0.5 else 0.0)
    return rgba[..., :3], factor


def grey_of(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) -> (h, w): the mean of luma (ITU-R 601) and max(R, G, B): pale colours (ruling) come out light,
    dark ink of any colour dark."""
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return (0.5 * (luma + rgb.max(axis=2))).astype(np.float32)


def light_on_dark(small: np.ndarray) -> bool:
    """Is the writing lighter than what it is written on (chalk on a board, white ink on black)? On the picture
    reduced BACKGROUND_REDUCE times (small: (h, w, 3), or its grey (h, w)). Dark marks narrower than POLARITY_SIZE cells are what a
    closing fills in (black top-hat), light ones what an opening takes away (white top-hat); a step (a desk's edge, a
    shadow's) is neither. A side with POLARITY_RATIO times the other's pixels standing out by POLARITY_FLOOR, and at
    least POLARITY_EVIDENCE of the picture, is the ink's, unless what most of the picture is says otherwise: where
    its SURFACE-th percentile is lighter than LIGHT_SURFACE it is paper and the writing dark (the paper between a
    marker's strokes, wider than the window, stands out as light marks); darker than DARK_SURFACE, a board and the
    writing light, unless there are only dark marks (a dim photo of paper). Else, without such marks, the writing is
    light below the middle of the two."""
    grey = grey_of(small) if small.ndim == 3 else small
    surface = float(np.percentile(grey, SURFACE))
    if surface >= LIGHT_SURFACE:
        return False
    dark = int(((_min(_max(grey, POLARITY_SIZE), POLARITY_SIZE) - grey) > POLARITY_FLOOR).sum())
    light = int(((grey - _max(_min(grey, POLARITY_SIZE), POLARITY_SIZE)) > POLARITY_FLOOR).sum())
    enough = POLARITY_EVIDENCE * grey.size
    if surface < DARK_SURFACE:
        return not (dark >= enough and light < enough)
    if max(light, dark) >= enough and max(light, dark) >= POLARITY_RATIO * min(light, dark):
        return light > dark
    return surface < (LIGHT_SURFACE + DARK_SURFACE) / 2


def background_of(small: np.ndarray, closing: int) -> np.ndarray:
    """The paper's light under dark ink: a grey closing (max then min filter, `closing` working pixels wide: ink
    narrower than that goes) of the picture reduced BACKGROUND_REDUCE times (small: (h, w), or (h, w, 3) channel by
    channel)."""
    size = max(3, 2 * (closing // (2 * BACKGROUND_REDUCE)) + 1)
    if small.ndim == 3:
        return np.stack([_min(_max(small[..., c], size), size) for c in range(3)], axis=2)
    return _min(_max(small, size), size)


def _touching_border(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """-> (labels of the mask's parts, a bool per label (index 0 unused) for the parts touching the frame's border,
    count)."""
    labels, count = label(mask)
    touching = np.zeros(count + 1, bool)
    touching[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    touching[0] = False
    return labels, touching, count


def desk_of(small: np.ndarray, paper_light: np.ndarray | None, paper: float) -> np.ndarray:
    """The picture reduced BACKGROUND_REDUCE times (h, w, 3) and the paper's light under it (background_of) ->
    (h, w) bool: what is not the page, and DESK_MARGIN cells around it (the page's edge). Parts touching the frame's
    border that are, on the picture closed only DESK_CLOSING cells wide (thin strokes gone; a wider closing fills a
    narrow strip of desk with the page), darker than DESK_LEVEL of the paper or of another colour (r, b shares of
    r + g + b further than DESK_CHROMA from the paper's); or, under the paper's light (no strokes, a marker's
    neither; paper_light None: not this test), darker than DESK_DIM of it with a sharp edge: across their rim, the
    light rises DESK_STEP of the way from theirs to the paper's within a cell (a desk's edge does; a shadow's, soft,
    does not)."""
    background = background_of(small, DESK_CLOSING * BACKGROUND_REDUCE)
    grey = grey_of(background)
    chroma = background / np.maximum(background.sum(axis=2, keepdims=True), 1e-3)
    lit = grey >= 0.8 * paper
    reference = np.median(chroma[lit], axis=0) if lit.any() else np.full(3, 1 / 3)
    far = np.abs(chroma - reference)[..., [0, 2]].max(axis=2) > DESK_CHROMA
    labels, touching, _ = _touching_border((grey < DESK_LEVEL * paper) | far)
    desk = touching[labels]
    if paper_light is None:
        return _max(desk, 2 * DESK_MARGIN + 1)
    grey = paper_light
    dim = grey < DESK_DIM * paper
    labels, touching, count = _touching_border(dim)
    if touching.any():
        rim = dim & ~_min(dim, 3)
        rim[[0, -1], :], rim[:, [0, -1]] = False, False  # the frame's border is no edge
        rise = _max(grey, 3) - grey  # within a cell
        steps = np.bincount(labels[rim], rise[rim], count + 1) / np.maximum(np.bincount(labels[rim], minlength=count + 1), 1)
        level = np.bincount(labels[dim], grey[dim], count + 1) / np.maximum(np.bincount(labels[dim], minlength=count + 1), 1)
        desk |= (touching & (steps >= DESK_STEP * (paper - level)))[labels]
    return _max(desk, 2 * DESK_MARGIN + 1)


def edge_of(desk: np.ndarray) -> np.ndarray:
    """(h, w) bool: within EDGE pixels of the desk (the page's edge) or of the frame's border."""
    edge = _max(desk, 2 * EDGE + 1)
    edge[:EDGE], edge[-EDGE:], edge[:, :EDGE], edge[:, -EDGE:] = True, True, True, True
    return edge


def sauvola(flat: np.ndarray, window: int, k: float = SAUVOLA_K) -> np.ndarray:
    """Sauvola and Pietikainen's threshold T = m * (1 + k * (s / R - 1)), m and s the local mean and standard
    deviation over a window x window box, R = 0.5 (the largest s in [0, 1]) -> T (h, w)."""
    mean = _box_mean(flat, window)
    square = _box_mean(flat * flat, window)
    std = np.sqrt(np.maximum(square - mean * mean, 0.0))
    return mean * (1 + k * (std / 0.5 - 1))


def tilt_of(mask: np.ndarray) -> float:
    """The angle (degrees, within MAX_TILT) that lines up the longest straight lines of the ink (ruling, grid, the
    page's edge) with the rows or columns, as the angle to turn the picture by (PIL's sense) to straighten it; 0 when
    nothing is line-like enough (the fullest line of the best projection, 3 px thick, reaches across less than
    RULE_COVER of the picture) or the best angle is the range's edge (turned further, or no line at all)."""
    ys, xs = np.nonzero(mask)
    if ys.size < 50:
        return 0.0
    pick = np.linspace(0, ys.size - 1, min(ys.size, 40_000)).astype(np.int64)  # enough to find the angle
    h, w = mask.shape

    def projection(a: float, rows: bool, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (bin of each pixel across the lines, its position along them) for the picture turned by -a."""
        if rows:  # ruling
            return np.round(ys * math.cos(a) - xs * math.sin(a)).astype(np.int64), xs * math.cos(a) + ys * math.sin(a)
        return np.round(xs * math.cos(a) + ys * math.sin(a)).astype(np.int64), ys * math.cos(a) - xs * math.sin(a)

    best, best_rows, best_score = 0.0, True, -1.0
    for angle in np.arange(-MAX_TILT, MAX_TILT + 1e-6, TILT_STEP):
        for rows in (True, False):  # rows (ruling), then columns (grid, margin)
            bins, _ = projection(math.radians(angle), rows, ys[pick], xs[pick])
            score = float((np.bincount(bins - bins.min()).astype(np.float64) ** 2).sum())
            if score > best_score:
                best, best_rows, best_score = float(angle), rows, score
    if abs(best) >= MAX_TILT:
        return 0.0
    bins, along = projection(math.radians(best), best_rows, ys, xs)
    counts = np.convolve(np.bincount(bins - bins.min()), np.ones(3), mode="same")  # a line 2-3 px thick
    on = np.abs(bins - bins.min() - int(np.argmax(counts))) <= 1
    positions = np.unique(np.round(along[on]))
    gaps = np.diff(positions)
    reach = (positions.size + gaps[(gaps > 1) & (gaps <= 8)].sum()) / (w if best_rows else h)  # dotted lines too
    return best if reach >= RULE_COVER else 0.0


def rules_of(darkness: np.ndarray, mask: np.ndarray, page_width: float, strongest: float) -> np.ndarray:
    """The ink of ruling lines along the rows of a (straightened) picture -> (h, w) bool, to take out of the mask.

    A line is long, thin and straight: along a row, its darkness averaged over RULE_WINDOW of the width stands
    RULE_CONTRAST above the same average RULE_GAP rows above and below (a stroke crossing it darkens those too; a
    thick bar or a shadow's edge is dark on one side or both). Such pixels, joined along rows over gaps of up to
    6 RULE_GAP (or lying in a band of rows +-RULE_GAP), make a ruling line where they reach across RULE_COVER of
    the page's width (a digit's bar does not), and are paler than RULE_PALE of the darkest ink (`strongest`) or
    reach across RULE_FULL of it. Of the mask's pixels on such a line (its runs across the line, within the line's
    thickness of it): when the ink away from the lines (its 90th percentile) is RULE_INK_GAP darker than the lines'
    cores, those no darker than RULE_INK of the way from the lines to it go (a stroke crossing a line, or written along it, is darker and
    stays); else those whose run across the line is at most RULE_THICKNESS times the line's (a crossing's is longer).
    """
    h, w = darkness.shape
    window = 2 * (round(RULE_WINDOW * w) // 2) + 1
    total = np.concatenate([np.zeros((h, 1), np.float32), np.cumsum(darkness, axis=1, dtype=np.float32)], axis=1)
    x = np.arange(w)
    x0, x1 = np.clip(x - window // 2, 0, w), np.clip(x + window // 2 + 1, 0, w)
    along = (total[:, x1] - total[:, x0]) / (x1 - x0)
    g = RULE_GAP
    above = np.pad(along, ((g, 0), (0, 0)), mode="edge")[:-g]
    below = np.pad(along, ((0, g), (0, 0)), mode="edge")[g:]
    candidate = along - np.maximum(above, below) > RULE_CONTRAST
    if not candidate.any():
        return np.zeros_like(mask)
    joined = _slide(_slide(candidate, 6 * g + 1, 1, np.max), 6 * g + 1, 1, np.min)  # gaps closed along rows
    labels, count = label(joined)
    cols = np.nonzero(labels)[1]
    ids = labels[labels > 0]
    left, right = np.full(count + 1, w), np.full(count + 1, -1)
    np.minimum.at(left, ids, cols)
    np.maximum.at(right, ids, cols)
    extent = right - left + 1
    # how dark a piece is at its core: the darkest pixel of each of its runs across (its rims are paler), averaged
    across_ids = run_ids(candidate, axis=0)
    core = np.zeros(across_ids.max() + 1, np.float32)
    np.maximum.at(core, across_ids[candidate], darkness[candidate])
    cores = core[across_ids[candidate]]  # at each candidate pixel, its run's core
    shade = np.bincount(labels[candidate], cores, count + 1) / np.maximum(np.bincount(labels[candidate], minlength=count + 1), 1)
    # printed ruling is paler than the ink; a line as dark as the darkest ink must cross the whole page (RULE_FULL)
    # to be ruling: a long stroke of a big digit may reach across RULE_COVER of it
    pale = shade < RULE_PALE * strongest
    lines = np.nonzero((extent >= RULE_COVER * page_width) & (pale | (extent >= RULE_FULL * page_width)))[0]
    # or, a pale line broken where it is faintest: pieces in a band of rows (+-RULE_GAP) that together reach as far
    spread = _slide(candidate, 2 * g + 1, 0, np.max)
    rows = np.nonzero(candidate)[0]
    band_shade = np.bincount(rows, cores, h) / np.maximum(np.bincount(rows, minlength=h), 1)
    band = (spread.sum(axis=1) >= RULE_COVER * page_width) & (band_shade < RULE_PALE * strongest)  # (h,)
    line = (np.isin(labels, lines[lines > 0]) | band[:, None]) & candidate
    if not line.any():
        return np.zeros_like(mask)
    # the printed lines themselves: how thick (their runs across) and how dark (the darkest of each run: the core)
    line_ids = run_ids(line, axis=0)
    line_runs = np.bincount(line_ids.ravel())[1:]
    core = np.zeros(line_runs.size + 1, np.float32)
    np.maximum.at(core, line_ids[line], darkness[line])
    thickness, level = float(np.median(line_runs)), float(np.median(core[1:]))
    # the mask's runs of ink across a line that hold a pixel of it, within the line's band (its anti-aliased rims)
    reach = max(2, round(thickness))
    zone = _slide(line, 2 * reach + 1, 0, np.max)
    ids = run_ids(mask, axis=0)
    lengths = np.bincount(ids.ravel())
    lengths[0] = 0
    touched = np.bincount(ids[line & mask], minlength=lengths.size) > 0
    touched[0] = False
    on_line = touched[ids] & zone
    off = mask & ~zone  # the ink away from the lines: how dark the writing is (a desk's rim may be darker still)
    ink = float(np.percentile(darkness[off], 90)) if off.sum() >= 20 else strongest
    if ink > level + RULE_INK_GAP:  # the ink is darker than the lines: what is as pale as a line goes
        return on_line & (darkness <= level + RULE_INK * (ink - level))
    return on_line & (lengths[ids] <= max(3.0, RULE_THICKNESS * thickness))  # a crossing's run is longer


def clean(image: Image.Image | np.ndarray) -> Paper:
    """Any picture (PIL image of any mode with EXIF, or an array) -> Paper: the ink to read and what was found."""
    picture = _to_pil(image)
    try:
        picture = ImageOps.exif_transpose(picture)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        pass
    rgb, factor = _working(picture)
    grey = grey_of(rgb)
    values = np.round(grey * 255).astype(np.int64).ravel()
    if np.bincount(values).max() >= DIGITAL_SHARE * values.size:  # a flat background: drawn, not photographed
        ink, factor = ink_map(picture)
        return Paper(ink, factor, None if ink.any() else BLANK, digital=True)

    h, w = grey.shape
    side = max(h, w)
    small = _reduced(rgb, BACKGROUND_REDUCE)
    small_grey = grey_of(small)
    if float(np.percentile(small_grey, 99.9)) < DARK_PAPER:  # neither paper nor chalk: nothing is lit
        return Paper(np.zeros_like(grey), factor, TOO_DARK)
    if light_on_dark(small_grey):
        grey, small, small_grey = 1.0 - grey, 1.0 - small, 1.0 - small_grey
    # the paper's light: first under a closing wide enough for a marker's strokes, which tells the strokes' width;
    # then, for thinner strokes, under one CLOSING_STROKES times as wide (closer to a shadow's edge), CLOSING at least
    # (measured away from a desk told by its darkness or colour, and its edge: a desk is no stroke)
    paper_light = background_of(small_grey, round(CLOSING_WIDE * side))
    paper = float(np.percentile(paper_light, 95))
    darkness = 1 - grey / np.maximum(_resized(paper_light, (w, h)), 1e-3)
    darkness[edge_of(_resized(desk_of(small, None, paper).astype(np.float32), (w, h)) > 0)] = 0.0
    strokes = stroke_width(darkness > max(MIN_CONTRAST, 0.5 * float(np.percentile(darkness, STRONGEST))))
    closing = max(round(CLOSING * side), round(CLOSING_STROKES * strokes))
    if closing < round(CLOSING_WIDE * side):
        paper_light = background_of(small_grey, closing)
    desk = _resized(desk_of(small, paper_light, paper).astype(np.float32), (w, h)) > 0
    edge = edge_of(desk)
    background = np.maximum(_resized(_box_mean(paper_light, 3), (w, h)), 1e-3)  # smoothed a cell
    flat = np.clip(grey / background, 0.0, 1.0)
    flat[desk] = 1.0
    darkness = 1.0 - flat
    strongest = float(np.percentile(darkness[~edge], STRONGEST)) if (~edge).any() else 0.0
    floor = max(MIN_CONTRAST, INK_SHARE * strongest)
    window = 2 * (round(max(SAUVOLA_WINDOW * side, SAUVOLA_STROKES * strokes)) // 2) + 1
    mask = ((flat < sauvola(flat, window)) | (darkness > SURE * floor)) & (darkness > floor)
    if not mask.any():
        return Paper(np.zeros_like(grey), factor, TOO_FAINT if strongest > 0.06 else BLANK)

    # the angle from ruling (faint lines too) and the page's edges
    outline = desk & ~_min(desk, 3)
    tilt = tilt_of(((darkness > TILT_FLOOR) & ~desk) | outline)
    if tilt:
        flat = np.asarray(Image.fromarray(flat, "F").rotate(tilt, Image.Resampling.BILINEAR, fillcolor=1.0))
        desk = np.asarray(Image.fromarray(desk).rotate(tilt, Image.Resampling.NEAREST, fillcolor=1))
        darkness = 1.0 - flat
    threshold = sauvola(flat, window)
    strong = ((flat < threshold) | (darkness > SURE * floor)) & (darkness > floor)
    weak, _ = label((flat < threshold + WEAK * floor) & (darkness > WEAK * floor))
    mask = np.isin(weak, np.unique(weak[strong]))  # a faint stretch of a pencil stroke stays joined to the rest
    page_width = float((~desk).sum(axis=1).max())
    page_height = float((~desk).sum(axis=0).max())
    mask &= ~(rules_of(darkness, mask, page_width, strongest) | rules_of(darkness.T, mask.T, page_height, strongest).T)

    labels, count = label(mask)
    if count == 0:
        return Paper(np.zeros_like(grey), factor, BLANK, tilt=tilt)
    rows, cols = np.nonzero(labels)
    ids = labels[rows, cols]
    top, bottom = np.full(count + 1, h), np.zeros(count + 1, np.int64)
    left, right = np.full(count + 1, w), np.zeros(count + 1, np.int64)
    np.minimum.at(top, ids, rows)
    np.maximum.at(bottom, ids, rows)
    np.minimum.at(left, ids, cols)
    np.maximum.at(right, ids, cols)
    heights, widths = (bottom - top + 1)[1:], (right - left + 1)[1:]
    # marks along the frame's or the page's edge (a third of their ink or more within EDGE pixels) are not writing,
    # unless there is nothing else
    if tilt:
        edge = edge_of(desk)  # the page turned back: its edge, and the frame's border turned with it
    keep = np.bincount(labels[edge], minlength=count + 1)[1:] < EDGE_SHARE * np.bincount(ids, minlength=count + 1)[1:]
    if not keep.any():
        keep[:] = True
    size = np.maximum(heights, widths)
    keep &= size >= SPECK * size[keep].max()
    ink = np.isin(labels, np.nonzero(keep)[0] + 1)
    found = np.nonzero(ink.any(axis=1))[0]
    if found[-1] - found[0] + 1 < MIN_HEIGHT:
        return Paper(np.zeros(ink.shape, np.float32), factor,
                     TOO_SMALL.format(height=(found[-1] - found[0] + 1) * factor), tilt=tilt)
    if tilt == 0.0:  # no ruling, no page's edge: a number's own baseline tells how the paper was turned
        tilt = text_tilt(ink)
        if tilt:
            ink = np.asarray(Image.fromarray(ink).rotate(tilt, Image.Resampling.NEAREST, expand=True))
    return Paper(ink.astype(np.float32), factor, None, tilt=tilt)


def text_tilt(ink: np.ndarray) -> float:
    """The angle (degrees, within MAX_TILT, in steps of TILT_STEP) that makes a row of digits level: the one whose
    projection on the rows is most peaked (the sum of the squared counts); 0 for writing less than TEXT_WIDE times
    as wide as it is tall (one digit: its own slant is the writer's, and the model has learnt it), or when the best
    angle is the range's edge."""
    ys, xs = np.nonzero(ink)
    if ys.size == 0 or np.ptp(xs) + 1 < TEXT_WIDE * (np.ptp(ys) + 1):
        return 0.0
    best, best_score = 0.0, -1.0
    for angle in np.arange(-MAX_TILT, MAX_TILT + 1e-6, TILT_STEP):
        a = math.radians(angle)
        position = np.round(ys * math.cos(a) - xs * math.sin(a)).astype(np.int64)
        counts = np.bincount(position - position.min()).astype(np.float64)
        score = float((counts ** 2).sum())
        if score > best_score + 1e-9:
            best, best_score = float(angle), score
    return 0.0 if abs(best) >= MAX_TILT else best  # the range's edge: no baseline found within it


def stroke_width(mask: np.ndarray) -> float:
    """The mean width of the strokes of an ink mask, in pixels: twice its area over its outline (a stroke of width w
    and length L has area w L and an outline of about 2 L), the outline counted as ink pixels with a 4-neighbour
    that is not ink."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = int((mask & ~inner).sum())
    return 2.0 * float(mask.sum()) / max(outline, 1)


def thickened(mask: np.ndarray, height: int) -> np.ndarray:
    """Thin strokes (ballpoint, pencil) made as wide as STROKE of the writing's height (a square pen), so that the
    28x28 has strokes as wide as MNIST's, and a pencil line's small gaps close; wider strokes stay as they are."""
    missing = STROKE * height - stroke_width(mask)
    radius = int(round(missing / 2))
    if radius < 1:
        return mask.astype(np.float32)
    return _max(mask, 2 * radius + 1).astype(np.float32)


def paper_ink(paper: Paper) -> np.ndarray:
    """A Paper -> the ink map to read ((h, w) float32, ink = 1, of the picture reduced paper.factor times): a
    photo's strokes made as wide as MNIST's for the tallest digit (thickened); a digital picture's ink as it is."""
    ink = paper.ink
    if paper.problem is not None or paper.digital:
        return ink
    columns = split_columns(ink)
    tallest = max(int(np.ptp(np.nonzero(ink[:, x0:x1].any(axis=1))[0])) + 1 for x0, x1 in columns) if columns else 0
    return thickened(ink > 0, tallest)


def paper_digits(paper: Paper) -> list[dict]:
    """A Paper -> one entry per digit, left to right, split at empty columns only as preprocess.to_mnist_digits does:
    {"digit": (28, 28), "placement": Placement, "box": [x0, y0, x1, y1]}; [] when there is nothing to read. Boxes
    are in the upright picture's pixels (factor times the cleaned ink's). The app reads paper_ink through
    reader.segment instead (digits that touch)."""
    return [] if paper.problem is not None else digits_of_ink(paper_ink(paper), paper.factor)

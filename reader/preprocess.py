"""Any drawn, uploaded or API-sent image -> the 28x28 the model reads, made the way MNIST itself was made.

    from reader.preprocess import to_mnist, to_mnist_digits
    digit = to_mnist(PIL.Image.open("digit.png"))        # (28, 28) float32 in [0, 1], ink = 1; None: no ink
    parts = to_mnist_digits(PIL.Image.open("2026.png"))  # one {"digit", "placement", "box"} per digit, left to right

The steps: an ink map (dark ink on white or transparent, light on dark; the polarity decided by the border),
crop to the ink, the longest side scaled to 20 px keeping the aspect ratio (Lanczos, as Pillow computes it for
"F" images), pasted into 28x28 with the centre of mass at (14, 14). Digits side by side are split where a
column of the ink map is empty. web/preprocess.js is the browser's twin of this file (tests/test_engine.py
checks they agree); model.py's forward() takes what to_mnist returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

MAX_SIDE = 512  # larger inputs are box-downscaled first (the digit ends up 20 px anyway): bounded time
INK_FLOOR = 0.1  # after stretching paper -> 0 and darkest ink -> 1, anything below this is paper
MAX_PIXELS = 200_000_000  # refuse anything bigger outright (12000 x 12000 = 144M is accepted)


def _to_pil(image: object) -> Image.Image:
    """Validate a PIL image or numpy array and return a PIL image of a mode we handle."""
    if isinstance(image, Image.Image):
        if image.width * image.height == 0:
            raise ValueError(f"empty image ({image.width}x{image.height})")
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"image too large ({image.width}x{image.height}); at most {MAX_PIXELS:,} pixels")
        try:
            image.load()
        except Exception as error:  # PIL raises OSError, SyntaxError, ... on corrupt data
            raise ValueError(f"corrupt or unreadable image: {error}") from None
        return image
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a PIL image or a numpy array, got {type(image).__name__}")
    array = image
    if array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        channels = array.shape[2]
    elif array.ndim == 2:
        channels = 0
    else:
        raise ValueError(
            f"expected an image array of shape (H, W) or (H, W, C) with C in 1..4, got shape {array.shape}"
        )
    if array.shape[0] * array.shape[1] == 0:
        raise ValueError(f"empty image array of shape {array.shape}")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ValueError(f"image too large (shape {array.shape}); at most {MAX_PIXELS:,} pixels")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("image contains NaN or infinite values")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(f"float image values must lie in [0, 1], got {low:.3g}..{high:.3g}")
    elif np.issubdtype(array.dtype, np.integer) and array.dtype not in (np.uint8, np.uint16):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(f"integer image values must lie in 0..255 (or use uint16), got {low}..{high}")
    elif array.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"unsupported array dtype {array.dtype}")
    # Bound the cost: subsample huge arrays (a view) before any per-pixel conversion.
    step = math.ceil(max(array.shape[:2]) / (4 * MAX_SIDE))
    if step > 1:
        array = array[::step, ::step]
    if np.issubdtype(array.dtype, np.floating):
        array = np.rint(array * 255.0).astype(np.uint8)
    elif array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = array.astype(np.uint8)
    if channels == 1:
        array = array[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(array), mode={0: "L", 1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels])


def _ink_map(image: Image.Image) -> np.ndarray:
    """PIL image of any mode and bounded size -> (H, W) float32 ink map in [0, 1] (ink = 1)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        scale = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        gray, alpha = np.clip(values / scale, 0, 1), None
    else:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        rgba = np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
        # ITU-R 601 luma, as PIL's convert("L")
        gray = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114  # (H, W)
        alpha = rgba[..., 3] if has_alpha else None
    if alpha is not None and alpha.min() < 1.0:
        # Composite on a paper colour that contrasts with the strokes: white under dark ink (the
        # canvas's layers), black under light ink. Never treat transparent as black by accident.
        opaque = alpha > 0.5
        stroke_level = float(gray[opaque].mean()) if opaque.any() else 0.0
        paper = 1.0 if stroke_level < 0.5 else 0.0
        gray = alpha * gray + (1.0 - alpha) * paper
    # Decide the polarity by the background, estimated from the border of the image.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    ink = gray if background < 0.5 else 1.0 - gray
    paper_level = 1.0 - background if background >= 0.5 else background  # ink value of the paper
    # Contrast-stretch from paper to the darkest ink so photos of ink on grey paper look like the
    # canvas's pure black on white.
    strongest = float(ink.max())
    if strongest - paper_level < 0.2:
        return np.zeros_like(ink)  # no stroke stands out from the paper
    ink = (ink - paper_level) / (strongest - paper_level)
    # Paper texture and noise stay below a small fraction of the stroke contrast: a soft floor
    # removes it while keeping the anti-aliased edges of real strokes.
    ink = (ink - INK_FLOOR) / (1.0 - INK_FLOOR)
    return np.clip(ink, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Placement:
    """Where to_mnist put the input's pixels in the 28x28: input (x, y) -> 28x28 column/row

        row = top + (y / reduce - crop_top) * scale_y      col = left + (x / reduce - crop_left) * scale_x

    reduce: the box-downscale factor applied first (1 for inputs up to MAX_SIDE); crop_*: the ink's
    bounding box in the reduced picture; scale_*: its resize to 20 px on the longest side; top/left: the
    integer shift that put the centre of mass at (14, 14).
    """

    reduce: int
    crop_top: int
    crop_left: int
    scale_y: float
    scale_x: float
    top: int
    left: int

    def input_rows(self) -> np.ndarray:
        """(28, 2) float: the band [y0, y1) of the input picture that becomes each row of the 28x28."""
        edges = np.arange(29, dtype=np.float64)  # row r covers [r, r + 1) in the 28x28
        y = self.reduce * (self.crop_top + (edges - self.top) / self.scale_y)
        return np.stack([y[:-1], y[1:]], axis=1)

    def input_columns(self) -> tuple[float, float]:
        """[x0, x1) of the input picture that the 28 columns cover."""
        x0 = self.reduce * (self.crop_left + (0 - self.left) / self.scale_x)
        x1 = self.reduce * (self.crop_left + (28 - self.left) / self.scale_x)
        return float(x0), float(x1)


def to_mnist(image: Image.Image | np.ndarray) -> np.ndarray | None:
    """Any drawn, uploaded or API-sent image -> (28, 28) float32 in [0, 1], ink = 1; None if no ink.

    Follows MNIST's own recipe: ink map (dark on white or transparent, light on dark, photos of ink
    on paper; polarity decided by the background), crop to the ink, scale the longest side to 20 px
    keeping the aspect ratio with anti-aliasing, pad to 28x28, move the centre of mass to the centre.
    Specks are left out by the rule to_mnist_digits uses (SPECK), so that a digit with a stray dot is the
    same 28x28 whichever of the two reads it. Raises ValueError for anything that is not an image.
    """
    placed = to_mnist_placed(image)
    return None if placed is None else placed[0]


def to_mnist_placed(image: Image.Image | np.ndarray) -> tuple[np.ndarray, Placement] | None:
    """to_mnist, and where it put the input's pixels (for showing which band of a drawing is row t)."""
    ink, factor = ink_map(image)
    return place(without_specks(ink), factor)


def without_specks(ink: np.ndarray) -> np.ndarray:
    """An ink map with the columns of its specks (split_columns' rule) made paper; the same array if it has none."""
    kept = split_columns(ink)
    inked = (ink > 0.0).any(axis=0)
    keep = np.zeros(ink.shape[1], bool)
    for x0, x1 in kept:
        keep[x0:x1] = True
    if not (inked & ~keep).any():
        return ink
    return np.where(keep[None, :], ink, 0.0).astype(ink.dtype)


def ink_map(image: Image.Image | np.ndarray) -> tuple[np.ndarray, int]:
    """Any image -> (ink (h, w) float32 in [0, 1], ink = 1; the box-downscale factor applied first, >= 1).

    Inputs over MAX_SIDE are box-downscaled by an integer factor first, so the cost is bounded."""
    pil = _to_pil(image)
    if pil.mode in ("1", "P", "CMYK", "YCbCr", "LAB", "HSV", "PA", "La", "RGBa", "RGBX"):
        pil = pil.convert("RGBA" if pil.mode in ("P", "PA", "La", "RGBa") else "RGB")
    elif pil.mode not in ("L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        raise ValueError(f"unsupported image mode {pil.mode}")
    factor = 1
    if max(pil.size) > MAX_SIDE:
        factor = math.ceil(max(pil.size) / MAX_SIDE)
        pil = pil.reduce(factor) if not pil.mode.startswith("I;16") else pil.resize(
            (max(1, pil.width // factor), max(1, pil.height // factor)), Image.Resampling.NEAREST
        )
    return _ink_map(pil), factor


def place(ink: np.ndarray, factor: int = 1, left: int = 0) -> tuple[np.ndarray, Placement] | None:
    """An ink map (h, w) -> the (28, 28) digit and its Placement, or None if there is no ink. MNIST's recipe:
    crop to the ink, scale the longest side to 20 px keeping the aspect ratio (Lanczos), centre of mass to
    (14, 14) by an integer shift. left: where ink's column 0 lies in the whole ink map (for one digit of a
    number). web/preprocess.js `place` is the same computation, checked against this one by tests/test_engine.py."""
    inked = ink > 0.0
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inked[rows[0] : rows[-1] + 1].any(axis=0))
    crop_top, crop_left = int(rows[0]), int(cols[0])
    ink = ink[crop_top : rows[-1] + 1, crop_left : cols[-1] + 1]  # crop to the ink
    height, width = ink.shape
    scale = 20.0 / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (W, H)
    box = np.asarray(Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F").resize(
        new_size, Image.Resampling.LANCZOS))
    box = np.clip(box, 0.0, None)
    if box.max() <= 0.0:
        return None
    box = box / box.max()  # thin strokes lose contrast when shrunk; MNIST strokes reach full ink

    # Paste into 28x28 so that the centre of mass lands on pixel (14, 14), where MNIST's digits
    # have theirs (measured: mean (13.98, 14.01) over the test set); an integer shift, as MNIST.
    # Sums in float64, so that the browser's engine (float64 throughout) finds the same shift.
    weights = box.astype(np.float64)
    total = weights.sum()
    com_y = (weights.sum(axis=1) * np.arange(box.shape[0])).sum() / total
    com_x = (weights.sum(axis=0) * np.arange(box.shape[1])).sum() / total
    top, left_shift = round(14.0 - com_y), round(14.0 - com_x)
    digit = np.zeros((28, 28), dtype=np.float32)
    src_top, src_left = max(0, -top), max(0, -left_shift)
    dst_top, dst_left = max(0, top), max(0, left_shift)
    h = min(box.shape[0] - src_top, 28 - dst_top)
    w = min(box.shape[1] - src_left, 28 - dst_left)
    digit[dst_top : dst_top + h, dst_left : dst_left + w] = box[src_top : src_top + h, src_left : src_left + w]
    placement = Placement(reduce=factor, crop_top=crop_top, crop_left=left + crop_left, scale_y=new_size[1] / height,
                          scale_x=new_size[0] / width, top=int(top), left=int(left_shift))
    return digit, placement


# ---------------------------------------------------------------------------------------------
# Numbers: several digits side by side, split where a column of the ink map is empty.

SPECK = 0.35  # a part whose ink is smaller than this fraction of the tallest part's height, both ways, is a speck


def split_columns(ink: np.ndarray) -> list[tuple[int, int]]:
    """Ink map (h, w) -> [(x0, x1), ...], the column ranges of the digits, left to right.

    Digits are told apart by an empty column between them: strokes that overlap horizontally belong to one
    digit (a 5's flag, a 4's two strokes, a 7's bar), whatever their order. Digits that touch or overlap
    are read as one. Specks (a stray dot) are left out. web/preprocess.js `splitColumns` is the same."""
    inked = (ink > 0.0).any(axis=0)  # (w,)
    edges = np.diff(np.concatenate([[0], inked.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    if starts.size == 0:
        return []
    rows = [np.nonzero((ink[:, x0:x1] > 0.0).any(axis=1))[0] for x0, x1 in zip(starts, ends)]
    heights = [int(r[-1] - r[0] + 1) for r in rows]
    tallest = max(heights)
    return [(int(x0), int(x1)) for x0, x1, height in zip(starts, ends, heights)
            if max(height, x1 - x0) >= SPECK * tallest]


def to_mnist_digits(image: Image.Image | np.ndarray) -> list[dict]:
    """Any image -> one entry per digit, left to right: {"digit": (28, 28), "placement": Placement,
    "box": [x0, y0, x1, y1] of its ink in the input's pixels}; [] when there is no ink. Split at empty columns
    only (reader.segment also merges and cuts, with the model). Ink with no empty column but for specks is a list
    of one, the same digit to_mnist returns (both leave specks out); to_mnist (training, calibration, read_digit,
    the v1 API) reads ink with a gap in it as one picture."""
    return digits_of_ink(*ink_map(image))


def digits_of_ink(ink: np.ndarray, factor: int = 1) -> list[dict]:
    """An ink map (ink_map, or the paper path's reader.paper.paper_ink) -> to_mnist_digits' entries, split at empty
    columns only; boxes in the input's pixels (factor times the ink map's)."""
    parts = []
    for x0, x1 in split_columns(ink):
        placed = place(ink[:, x0:x1], factor, left=x0)
        if placed is None:
            continue
        rows = np.nonzero((ink[:, x0:x1] > 0.0).any(axis=1))[0]
        box = [x0 * factor, int(rows[0]) * factor, x1 * factor, (int(rows[-1]) + 1) * factor]
        parts.append({"digit": placed[0], "placement": placed[1], "box": box})
    return parts

"""The bidirectional LSTM that reads a handwritten digit row by row, and everything needed to feed it.

One place for the network, its input contract, MNIST-style preprocessing of any drawn or uploaded
image, loading weights and prediction; train.py, demo.py, the tests and the benchmarks all use it.

    from model import load_model, predict
    model = load_model()                       # weights/bilstm_mnist.pt, CPU, eval mode
    probs = predict(model, PIL.Image.open("digit.png"))   # (10,) softmax, or None if there is no ink

Input contract: `forward` takes (N, 28, 28) floats in [0, 1], MNIST convention (ink = 1,
background = 0), one image row per LSTM timestep; it normalizes inside and returns logits.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the MNIST training set in [0, 1]
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "bilstm_mnist.pt"
TUTORIAL_WEIGHTS = DEFAULT_WEIGHTS.with_name("tutorial_bilstm.pt")  # the tutorial's recipe, both bugs in
MAX_SIDE = 512  # larger inputs are box-downscaled first (the digit ends up 20 px anyway): bounded time
INK_FLOOR = 0.1  # after stretching paper -> 0 and darkest ink -> 1, anything below this is paper
MAX_PIXELS = 200_000_000  # refuse anything bigger outright (12000 x 12000 = 144M is accepted)


READOUTS = ("final_states", "last_output")


class BiLSTM(nn.Module):
    """LSTM(28 -> hidden, bidirectional) over the 28 rows, then Linear(2*hidden -> 10) on the final states.

    readout="last_output" is the tutorial's classifier on output[:, -1, :] (weights/tutorial_bilstm.pt),
    kept to show its flaw: that vector's backward half has read only row 28.
    """

    def __init__(self, hidden: int = 64, layers: int = 1, readout: str = "final_states", normalize: bool = True):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.hidden, self.layers, self.readout, self.normalize = hidden, layers, readout, normalize
        self.lstm = nn.LSTM(28, hidden, layers, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 10)

    def read(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, 28, 28) in [0, 1] -> logits (N, 10), states (N, 28, 2*hidden).

        states[:, t] is the top layer's hidden state after row t: forward half has read rows 1..t,
        backward half rows t..28.
        """
        # normalize=False only for the tutorial's model, which fed [0, 1] pixels as they were
        states, (h_n, _) = self.lstm((x - MNIST_MEAN) / MNIST_STD if self.normalize else x)
        if self.readout == "last_output":
            return self.head(states[:, -1]), states  # the tutorial's: backward half after row 28 only
        # h_n: (2*layers, N, hidden); the last two are the top layer's forward (after row 28) and
        # backward (after row 1) directions. Both have read the whole image, unlike states[:, -1],
        # whose backward half has seen only the last row.
        final = torch.cat([h_n[-2], h_n[-1]], dim=1)  # (N, 2*hidden)
        return self.head(final), states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 28, 28) in [0, 1] -> logits (N, 10)."""
        return self.read(x)[0]


# ---------------------------------------------------------------------------------------------
# Preprocessing: any image -> the 28x28 the model reads, made the way MNIST itself was made.


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
    Raises ValueError for anything that is not an image.
    """
    placed = to_mnist_placed(image)
    return None if placed is None else placed[0]


def to_mnist_placed(image: Image.Image | np.ndarray) -> tuple[np.ndarray, Placement] | None:
    """to_mnist, and where it put the input's pixels (for showing which band of a drawing is row t)."""
    ink, factor = ink_map(image)
    return place(ink, factor)


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
    number). web/engine.js `place` is the same computation, checked against this one by tests/test_engine.py."""
    rows, cols = np.nonzero(ink > 0.0)
    if rows.size == 0:
        return None
    crop_top, crop_left = int(rows.min()), int(cols.min())
    ink = ink[crop_top : rows.max() + 1, crop_left : cols.max() + 1]  # crop to the ink
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
    are read as one. Specks (a stray dot) are left out. web/engine.js `splitColumns` is the same."""
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


def to_mnist_digits(image: Image.Image | np.ndarray, model: BiLSTM | None = None) -> list[dict]:
    """Any image -> one entry per digit, left to right: {"digit": (28, 28), "placement": Placement,
    "box": [x0, y0, x1, y1] of its ink in the input's pixels}; [] when there is no ink. Ink with no empty
    column and no speck is a list of one, the same digit to_mnist returns; to_mnist (training, calibration,
    read_digit, the v1 API) keeps a speck and reads ink with a gap in it as one picture. With a model, digits
    that touch are cut and parts that belong together merged where the model reads them better
    (reader.segment; each entry then carries its "logits" too)."""
    ink, factor = ink_map(image)
    if model is not None:
        from reader.segment import segment  # imports this module: imported when first used

        return segment(model, ink, factor)
    parts = []
    for x0, x1 in split_columns(ink):
        placed = place(ink[:, x0:x1], factor, left=x0)
        if placed is None:
            continue
        rows = np.nonzero((ink[:, x0:x1] > 0.0).any(axis=1))[0]
        box = [x0 * factor, int(rows[0]) * factor, x1 * factor, (int(rows[-1]) + 1) * factor]
        parts.append({"digit": placed[0], "placement": placed[1], "box": box})
    return parts


# ---------------------------------------------------------------------------------------------
# Weights: a checkpoint is {"model_args": {...plain types}, "state_dict": {...}}, and a metrics
# card with the file's sha256 lies next to it (same name, .json).


def sha256_of(path: str | os.PathLike) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def load_model(path: str | os.PathLike | None = None) -> BiLSTM:
    """Load a checkpoint written by train.py -> BiLSTM on the CPU in eval mode.

    Uses torch.load(weights_only=True), so a pickle that would run code is refused, not run.
    Missing, truncated, hostile or mismatched files raise an error that names the file; if the
    metrics card next to it records a different sha256, that is an error too.
    """
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    recipe = {TUTORIAL_WEIGHTS.name: " --recipe tutorial", "quick_bilstm.pt": " --recipe quick"}.get(path.name, "")
    how_to_train = f"train one with `python train.py{recipe} --out {path}`"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file not found; {how_to_train}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"{path}: not a loadable checkpoint (truncated, corrupt or not a plain weights file: "
            f"{first_line}); {how_to_train}"
        ) from None
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict)
            and isinstance(checkpoint.get("model_args"), dict)):
        raise ValueError(f"{path}: expected a dict with 'model_args' and 'state_dict' as written by train.py")
    try:
        model = BiLSTM(**checkpoint["model_args"])
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, RuntimeError) as error:
        raise ValueError(f"{path}: weights do not fit BiLSTM({checkpoint['model_args']}): {error}") from None
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    model.not_a_digit = _checked_not_a_digit(checkpoint.get("not_a_digit"), path)  # None: no verdict (the tutorial's)
    card = path.with_suffix(".json")
    if card.is_file():
        try:
            recorded = json.loads(card.read_text()).get("sha256")
        except (json.JSONDecodeError, AttributeError):
            raise ValueError(f"{card}: metrics card is not valid JSON") from None
        actual = sha256_of(path)
        if recorded is not None and recorded != actual:
            raise ValueError(
                f"{path}: sha256 {actual[:12]}... does not match {recorded[:12]}... recorded in {card}; "
                f"the weights were changed after training. Restore them or {how_to_train}"
            )
    return model.eval()


# ---------------------------------------------------------------------------------------------
# Prediction


@torch.inference_mode()
def predict(model: BiLSTM, image: Image.Image | np.ndarray) -> np.ndarray | None:
    """Image -> (10,) softmax probabilities over the digits 0-9, or None when there is no ink."""
    digit = to_mnist(image)
    if digit is None:
        return None
    logits = model(torch.from_numpy(digit)[None])  # (1, 10)
    return F.softmax(logits, dim=1)[0].numpy()


@torch.inference_mode()
def read_rows(model: BiLSTM, digit: np.ndarray) -> dict[str, np.ndarray]:
    """How the model reads one preprocessed (28, 28) digit, row by row, in one batched forward pass.

    Returns
      top_down  (28, 10): softmax after reading rows 1..t only (rows below blanked), t = 1..28
      bottom_up (28, 10): softmax after reading rows t..28 only (rows above blanked), t = 1..28
      states    (28, 2*hidden): hidden state of both directions after each row of the full image
      logits    (10,): the full image's logits (for the "not a digit" score)
    top_down[27] and bottom_up[0] are the full image, i.e. the prediction itself.
    """
    x = torch.from_numpy(np.asarray(digit, dtype=np.float32))  # (28, 28)
    keep = torch.ones(28, 28).tril()  # keep[t, r] = 1 if row r <= t: row t of the mask keeps rows 0..t
    prefixes = x[None] * keep[:, :, None]  # (28, 28, 28): prefix t keeps rows 0..t, blanks the rest
    suffixes = x[None] * keep.T[:, :, None]  # (28, 28, 28): suffix t keeps rows t..27
    logits, states = model.read(torch.cat([prefixes, suffixes]))  # (56, 10), (56, 28, 2*hidden)
    probs = F.softmax(logits, dim=1).numpy()
    return {"top_down": probs[:28], "bottom_up": probs[28:], "states": states[27].numpy(), "logits": logits[27].numpy()}


@torch.inference_mode()
def row_importance(model: BiLSTM, digit: np.ndarray) -> dict[str, np.ndarray | int]:
    """How much each row matters to the answer: the digit re-read 28 times, each time with one row blanked
    (one batch of 28), and the drop in the probability of the full reading's answer.

    Returns answer (the digit read from the whole image), probability (its softmax there), and drop (28,):
    probability - softmax[answer] with row t blanked (negative when blanking a row makes it surer).
    """
    x = torch.from_numpy(np.asarray(digit, dtype=np.float32))  # (28, 28)
    keep = 1.0 - torch.eye(28)  # keep[t, r] = 0 only for r == t: copy t blanks row t
    batch = torch.cat([x[None], x[None] * keep[:, :, None]])  # (29, 28, 28): the whole image, then 28 blanked
    probs = F.softmax(model(batch), dim=1).numpy()
    answer = int(probs[0].argmax())
    return {"answer": answer, "probability": float(probs[0, answer]), "drop": probs[0, answer] - probs[1:, answer]}


# ---------------------------------------------------------------------------------------------
# "Not a digit": the verdict on one reading. A checkpoint trained with negatives carries
# "not_a_digit": {"score": one of SCORES, "threshold": float}; the drawing is not a digit iff the
# score of the full reading's 10 logits is below the threshold. Both scores are a line in any
# language, so the browser can give the same verdict from the same logits.

SCORES = ("max_softmax", "logsumexp")  # max of softmax(logits); logsumexp(logits) (minus the "energy")


def not_a_digit_score(logits: torch.Tensor, score: str) -> torch.Tensor:
    """logits (..., 10) -> (...): how much the reading looks like a digit; low = unlike any digit."""
    if score == "max_softmax":
        return logits.float().softmax(-1).amax(-1)
    if score == "logsumexp":
        return logits.float().logsumexp(-1)
    raise ValueError(f"score must be one of {SCORES}, got {score!r}")


@dataclass(frozen=True)
class Verdict:
    """What the model says about one drawing: the best guess, its probabilities, and whether it is a digit at all."""

    probs: np.ndarray  # (10,) float32 softmax of the logits
    digit: int  # argmax: the best guess, even when not_a_digit
    confidence: float  # probs[digit]
    score: float  # the checkpoint's score of the logits (max_softmax when it has no threshold)
    not_a_digit: bool  # score < threshold; always False for a checkpoint without one


def judge(model: BiLSTM, logits: np.ndarray | torch.Tensor) -> Verdict:
    """The verdict on one full reading: (10,) logits of model(digit) -> Verdict, with model.not_a_digit's rule."""
    values = torch.as_tensor(np.asarray(logits, dtype=np.float32)).reshape(-1)
    if values.shape != (10,):
        raise ValueError(f"expected the 10 logits of one reading, got shape {tuple(np.shape(logits))}")
    rule = getattr(model, "not_a_digit", None)
    probs = values.softmax(0).numpy()
    digit = int(probs.argmax())
    score = float(not_a_digit_score(values, rule["score"] if rule else "max_softmax"))
    return Verdict(probs=probs, digit=digit, confidence=float(probs[digit]), score=score,
                   not_a_digit=bool(rule is not None and score < rule["threshold"]))


@torch.inference_mode()
def read_digit(model: BiLSTM, image: Image.Image | np.ndarray) -> Verdict | None:
    """Image -> the model's Verdict on it through to_mnist, or None when there is no ink."""
    digit = to_mnist(image)
    if digit is None:
        return None
    return judge(model, model(torch.from_numpy(digit)[None])[0])


def _checked_not_a_digit(value: object, path: Path) -> dict | None:
    """A checkpoint's "not_a_digit" entry -> {"score": str, "threshold": float}, None if absent; else a named error."""
    if value is None:
        return None
    if not (isinstance(value, dict) and value.get("score") in SCORES and isinstance(value.get("threshold"), float)
            and math.isfinite(value["threshold"])):
        raise ValueError(f'{path}: "not_a_digit" must be {{"score": one of {SCORES}, "threshold": a finite float}}, '
                         f"got {value!r:.200}")
    return {"score": value["score"], "threshold": value["threshold"]}

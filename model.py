"""The bidirectional LSTM that reads a handwritten digit row by row: the network, its weights, and its readings.

    from model import load_model, read_rows
    model = load_model()                   # weights/bilstm_mnist.pt, CPU, eval mode, with its "not a digit" rule
    model(torch.zeros(1, 28, 28))          # (1, 10) logits
    read_rows(model, digit)                # the 56 partial readings and hidden states of one (28, 28) digit

Input contract: `forward` takes (N, 28, 28) floats in [0, 1], MNIST convention (ink = 1, background = 0),
one image row per LSTM timestep; it normalizes inside and returns logits. reader/preprocess.py makes that
28x28 from any picture; reader/readings.py turns drawings and pictures into what the page shows. web/lstm.js
is the browser's twin of the readings here (tests/test_engine.py).
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

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the MNIST training set in [0, 1]
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "bilstm_mnist.pt"
TUTORIAL_WEIGHTS = DEFAULT_WEIGHTS.with_name("tutorial_bilstm.pt")  # the tutorial's recipe, both bugs in


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
# Readings of preprocessed (28, 28) digits


@torch.inference_mode()
def logits_of(model: BiLSTM, images: torch.Tensor | np.ndarray, batch_size: int = 2000) -> torch.Tensor:
    """(N, 28, 28) images in [0, 1] (a tensor anywhere, or an array) -> (N, 10) float32 logits on the model's
    device, in eval mode, batch_size at a time."""
    model.eval()
    images = torch.as_tensor(images, dtype=torch.float32)
    device = next(model.parameters()).device
    if not len(images):
        return torch.zeros(0, 10, device=device)
    return torch.cat([model(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)])


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


def _checked_not_a_digit(value: object, path: Path) -> dict | None:
    """A checkpoint's "not_a_digit" entry -> {"score": str, "threshold": float}, None if absent; else a named error."""
    if value is None:
        return None
    if not (isinstance(value, dict) and value.get("score") in SCORES and isinstance(value.get("threshold"), float)
            and math.isfinite(value["threshold"])):
        raise ValueError(f'{path}: "not_a_digit" must be {{"score": one of {SCORES}, "threshold": a finite float}}, '
                         f"got {value!r:.200}")
    return {"score": value["score"], "threshold": value["threshold"]}

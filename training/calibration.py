"""The "not a digit" rule: its threshold, set on data kept out of training, and its rates on held-out data.

    from training.calibration import calibrate, not_a_digit_report
    rule = calibrate(model, calibration_digits, recipe, seed)   # {"score", "threshold", "calibrated_on": {...}}

The threshold is on a score of the full reading's 10 logits (model.not_a_digit_score): a drawing is not a
digit iff its score is below it. It is the largest threshold that flags at most recipe.flag_budget of the
calibration digits, both as MNIST gives them and redrawn as canvas ink; train.py writes it into the
checkpoint, and the rates into the card.
"""

from __future__ import annotations

import numpy as np
import torch

from model import BiLSTM, logits_of, not_a_digit_score
from reader.preprocess import to_mnist
from training import negatives
from training.pens import drawn_at_random
from training.recipe import Recipe


def scores_of(model: BiLSTM, images: torch.Tensor | np.ndarray, score: str) -> np.ndarray:
    """(N, 28, 28) images in [0, 1] -> (N,) float64 not_a_digit_score of the model's logits (float32, eval mode)."""
    return not_a_digit_score(logits_of(model, images).cpu(), score).double().numpy()


def drawn(digits: np.ndarray, seed: int, canvas: int) -> np.ndarray:
    """(N, 28, 28) uint8 MNIST digits -> (N, 28, 28) float32: each redrawn as black canvas ink at a random size
    and place (training.pens.drawn_at_random, rng seeded by seed) and read back through to_mnist."""
    rng = np.random.default_rng(seed)
    return np.stack([to_mnist(drawn_at_random(digit, rng, canvas)) for digit in digits]) if len(digits) \
        else np.zeros((0, 28, 28), np.float32)


def flagged(scores: np.ndarray, threshold: float) -> float:
    """The share of scores the rule flags (score < threshold)."""
    return float((scores < threshold).mean()) if len(scores) else float("nan")


def auroc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """P(a digit scores higher than a non-digit), ties counted half: the area under the ROC curve."""
    other = np.sort(other_scores)
    below = np.searchsorted(other, digit_scores, side="left")
    ties = np.searchsorted(other, digit_scores, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(digit_scores) * len(other)))


def calibrate(model: BiLSTM, digits: np.ndarray, recipe: Recipe, seed: int) -> dict:
    """Set the threshold on data kept out of training: the calibration digits (uint8, as MNIST gives them and
    redrawn as canvas ink) may be flagged at most recipe.flag_budget each; report the rates it was set at."""
    as_given = scores_of(model, digits / 255.0, recipe.score)
    as_ink = scores_of(model, drawn(digits, seed, canvas=280), recipe.score)
    others = scores_of(model, negatives.pool("calibration", recipe.calibration_negatives, seed)[0], recipe.score)
    # The largest threshold that flags at most flag_budget of either: flagged iff score < threshold.
    threshold = float(min(np.quantile(as_given, recipe.flag_budget, method="lower"),
                          np.quantile(as_ink, recipe.flag_budget, method="lower")))
    return {"score": recipe.score, "threshold": threshold,
            "calibrated_on": {"digits": len(digits), "digits_flagged": flagged(as_given, threshold),
                              "digits_drawn_as_ink_flagged": flagged(as_ink, threshold),
                              "negatives": len(others), "negatives_flagged": flagged(others, threshold),
                              "what": f"the last {len(digits)} MNIST training images (kept out of training), as "
                                      "given and redrawn on a 280 px canvas; negatives.pool('calibration')"}}


def not_a_digit_report(model: BiLSTM, rule: dict, test_digits: np.ndarray, test_labels: np.ndarray,
                       held_out_negatives: int, drawn_digits: int, seed: int = 0) -> dict:
    """The rule on what neither training nor calibration saw: MNIST test (as given, and the first drawn_digits
    redrawn on an 800 px canvas as bench/drawn_digits does), and negatives.pool("held_out")."""
    threshold = rule["threshold"]
    digits = scores_of(model, test_digits / 255.0, rule["score"])
    report = {"mnist_test": len(digits), "mnist_test_flagged": flagged(digits, threshold)}
    if drawn_digits:
        ink = drawn(test_digits[:drawn_digits], seed, canvas=800)
        ink_logits = logits_of(model, ink).cpu()  # one pass: the scores and what it reads
        ink_scores = not_a_digit_score(ink_logits, rule["score"]).double().numpy()
        read = ink_logits.argmax(1).numpy()
        report.update(drawn_test=len(ink), drawn_test_flagged=flagged(ink_scores, threshold),
                      drawn_test_accuracy=float((read == test_labels[:drawn_digits]).mean()))
    if held_out_negatives:
        images, kinds = negatives.pool("held_out", held_out_negatives, seed)
        others = scores_of(model, images, rule["score"])
        never = np.array([negatives.KINDS[k].held_out for k in kinds])
        report.update(held_out_negatives=len(others), held_out_negatives_flagged=flagged(others, threshold),
                      of_kinds_never_trained=int(never.sum()),
                      of_kinds_never_trained_flagged=flagged(others[never], threshold),
                      by_family={family: round(flagged(others[[negatives.KINDS[k].family == family for k in kinds]],
                                                       threshold), 5) for family in negatives.FAMILIES},
                      auroc=auroc(digits, others))
    return {key: round(value, 5) if isinstance(value, float) else value for key, value in report.items()}

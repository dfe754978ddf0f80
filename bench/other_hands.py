"""Digits of writers MNIST never saw: scikit-learn's load_digits, drawn as canvas ink and read like any drawing.

    python -m bench.other_hands                       # the committed weights
    python -m bench.other_hands --weights /tmp/q.pt   # another checkpoint

load_digits is the test part of UCI's optdigits: 1,797 digits by other writers (43 people, none of MNIST's),
8x8 counts of ink in 4x4 blocks of a 32x32 black-and-white bitmap. Each is enlarged to 160x160 (bicubic,
back towards the smooth bitmap) and thresholded at half ink: black strokes on white, as a canvas shows a
drawing. Then to_mnist and the model, as the app reads a drawing. A proxy to measure with, never trained on
(train.py does not read it). Prints the accuracy on it, its errors by digit, and the accuracy on MNIST test.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from model import DEFAULT_WEIGHTS, load_model
from reader.preprocess import to_mnist
from training.mnist import load_mnist

SIDE = 160  # enlarged to this many pixels a side: a digit on the page's 280 px canvas is about this big


def load_digits_pictures() -> tuple[list[Image.Image], np.ndarray]:
    """-> 1,797 pictures (SIDE x SIDE, black ink on white, no grey) and their labels (1797,)."""
    from sklearn.datasets import load_digits  # scikit-learn ships the data: nothing is downloaded

    data = load_digits()
    pictures = []
    for image in data.images:  # (8, 8) floats 0..16: ink counts
        grey = Image.fromarray((image / 16 * 255).astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
        ink = np.asarray(grey) >= 128
        pictures.append(Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)))
    return pictures, data.target.astype(np.int64)


def load_digits_inputs() -> tuple[np.ndarray, np.ndarray]:
    """-> the model's inputs for load_digits (1797, 28, 28) float32 through to_mnist, and the labels."""
    pictures, labels = load_digits_pictures()
    return np.stack([to_mnist(picture) for picture in pictures]), labels


@torch.inference_mode()
def accuracy(model, images: np.ndarray | torch.Tensor, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """-> (share read right, predictions)."""
    predictions = model(torch.as_tensor(images, dtype=torch.float32)).argmax(1).numpy()
    return float((predictions == labels).mean()), predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--data-dir", default=None, help="MNIST root; default: training.mnist's rule")
    args = parser.parse_args()
    model = load_model(args.weights)
    images, labels = load_digits_inputs()
    share, predictions = accuracy(model, images, labels)
    wrong = np.bincount(labels[predictions != labels], minlength=10)
    test_x, test_y = load_mnist(args.data_dir, train=False, device=torch.device("cpu"))
    test_share, _ = accuracy(model, test_x, test_y.numpy())
    print(f"weights {args.weights}")
    print(f"  load_digits (1,797 digits of other writers, drawn as {SIDE} px canvas ink): {100 * share:.2f}% right "
          f"({int(wrong.sum())} wrong)")
    print("  wrong by digit: " + ", ".join(f"{d}: {n}" for d, n in enumerate(wrong)))
    print(f"  MNIST test: {100 * test_share:.2f}% right")


if __name__ == "__main__":
    main()

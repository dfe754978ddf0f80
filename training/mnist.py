"""MNIST, located and read the same way by training, the tests and the benchmarks.

    from training.mnist import load_mnist, mnist
    images, labels = load_mnist(None, train=False, device=torch.device("cpu"))   # (10000, 28, 28) in [0, 1]
    mnist(train=False).data                                                      # torchvision's dataset

Where: $MNIST_DATA_DIR, else ../shared/data beside this checkout, else ./data; where it is nowhere,
torchvision downloads it to ./data (11 MB). Offline and absent: one sentence that says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent  # the checkout


def mnist_dir() -> str:
    """Where MNIST lives, one rule for training, tests and benchmarks: $MNIST_DATA_DIR, else ../shared/data
    beside this checkout, else ./data; the first that holds MNIST/raw, else where to download it to
    ($MNIST_DATA_DIR if set, else ./data)."""
    candidates = [os.environ.get("MNIST_DATA_DIR"), ROOT.parent / "shared" / "data", ROOT / "data"]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "MNIST" / "raw").is_dir():
            return str(candidate)
    return str(os.environ.get("MNIST_DATA_DIR") or ROOT / "data")


def mnist(data_dir: str | None = None, train: bool = False):
    """torchvision's MNIST (the only reader of it here): read in place, or downloaded to data_dir if absent.

    Offline and absent: a RuntimeError that says what to do, instead of torchvision's list of failed mirrors.
    """
    from torchvision.datasets import MNIST

    data_dir = data_dir or mnist_dir()
    try:
        return MNIST(data_dir, train=train, download=True)
    except RuntimeError as error:
        raise RuntimeError(
            f"MNIST is not in $MNIST_DATA_DIR, ../shared/data or ./data, and downloading it to {data_dir} failed "
            f"({str(error).strip().splitlines()[-1][:200]}). Connect to the internet once (torchvision downloads "
            "11 MB), or set MNIST_DATA_DIR to a folder that holds MNIST/raw."
        ) from None


def load_mnist(data_dir: str | None, train: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """-> images (N, 28, 28) float32 in [0, 1] and labels (N,) int64, on device.

    Where torchvision has already unpacked MNIST (MNIST/raw/*-ubyte), the files are read here directly: the
    IDX format is a header and the bytes, and importing torchvision costs more than a second of a quick run.
    """
    raw = Path(data_dir or mnist_dir()) / "MNIST" / "raw"
    prefix = "train" if train else "t10k"
    images_file, labels_file = raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"
    if images_file.is_file() and labels_file.is_file():
        images = np.fromfile(images_file, dtype=np.uint8, offset=16).reshape(-1, 28, 28)  # header: 4 big-endian int32
        labels = np.fromfile(labels_file, dtype=np.uint8, offset=8).astype(np.int64)  # header: 2 big-endian int32
        if len(images) != len(labels):
            raise RuntimeError(f"{raw}: {len(images)} images but {len(labels)} labels; delete it to download again")
        data, targets = torch.from_numpy(images), torch.from_numpy(labels)
    else:
        dataset = mnist(data_dir, train=train)
        data, targets = dataset.data, dataset.targets
    return data.to(device, torch.float32) / 255.0, targets.to(device)

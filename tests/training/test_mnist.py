"""training/mnist.py: where MNIST is found, how it is read, and what an offline machine is told (pytest, CPU)."""

from __future__ import annotations

import pytest
import torch

from harness import ROOT
from training.mnist import load_mnist, mnist, mnist_dir


def test_fast_mnist_reading_is_torchvisions():
    images, labels = load_mnist(None, train=False, device=torch.device("cpu"))
    dataset = mnist(train=False)
    assert torch.equal(images, dataset.data.float() / 255) and torch.equal(labels, dataset.targets)


def test_mnist_location_rule(tmp_path, monkeypatch):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    assert mnist_dir() == str(tmp_path)  # $MNIST_DATA_DIR first
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "empty"))
    assert mnist_dir() in (str(ROOT.parent / "shared" / "data"), str(ROOT / "data"), str(tmp_path / "empty"))
    monkeypatch.delenv("MNIST_DATA_DIR")
    expected = next((str(d) for d in (ROOT.parent / "shared" / "data", ROOT / "data") if (d / "MNIST" / "raw").is_dir()),
                    str(ROOT / "data"))
    assert mnist_dir() == expected  # else ../shared/data, else ./data (where it is downloaded)


def test_offline_and_absent_mnist_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(self, *args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: network unreachable")

    monkeypatch.setattr(tv_mnist.MNIST, "download", no_network)
    with pytest.raises(RuntimeError, match="Connect to the internet once.*MNIST_DATA_DIR"):
        mnist(str(tmp_path / "nowhere"))

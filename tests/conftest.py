"""Shared fixtures: the project root on sys.path, real MNIST test data from ../shared/data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The official MNIST files: $MNIST_DATA_DIR, else ../shared/data (CI and every checkout here have
# it beside the project), else ./data, where `python train.py` has torchvision download it.
DATA_DIR = Path(os.environ.get("MNIST_DATA_DIR") or next(
    (d for d in (ROOT.parent / "shared" / "data", ROOT / "data") if (d / "MNIST" / "raw").is_dir()),
    ROOT.parent / "shared" / "data"))


def read_idx(path: Path) -> np.ndarray:
    """Read an uncompressed IDX file (MNIST's format) into a uint8 array."""
    raw = path.read_bytes()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape).copy()


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST test set: images (10000, 28, 28) uint8 (ink = 255), labels (10000,)."""
    raw = DATA_DIR / "MNIST" / "raw"
    if not raw.is_dir():
        pytest.fail(f"MNIST not found in {raw}: run `python train.py` once (it downloads MNIST to ./data) "
                    "or set MNIST_DATA_DIR to a folder holding MNIST/raw")
    return read_idx(raw / "t10k-images-idx3-ubyte"), read_idx(raw / "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="session")
def model():
    from model import load_model

    return load_model()


@pytest.fixture(scope="session")
def app():
    """demo.py imported and launched in this process on a free port (importing it launches nothing)."""
    import demo

    from bench.harness import free_port

    demo.demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                     max_file_size="10mb")
    yield demo
    demo.demo.close()


@pytest.fixture(scope="session")
def client(app):
    from gradio_client import Client

    return Client(app.demo.local_url, verbose=False)


def sketch(path) -> dict:
    """The sketchpad's value as an API client sends it."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}

"""Shared fixtures: real MNIST test data (torchvision, located by train.mnist_dir), the model, and the app
launched in this process the way main() launches it (demo.launch applies the same process settings)."""

from __future__ import annotations

import numpy as np
import pytest

from harness import free_port


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST test set: images (10000, 28, 28) uint8 (ink = 255), labels (10000,).

    Read in place from $MNIST_DATA_DIR, ../shared/data or ./data, else downloaded to ./data by torchvision.
    """
    from train import mnist

    test = mnist(train=False)
    return test.data.numpy(), test.targets.numpy()


@pytest.fixture(scope="session")
def model():
    from model import load_model

    return load_model()


@pytest.fixture(scope="session")
def app():
    """demo.py imported and launched in this process on a free port (importing it launches nothing)."""
    import demo

    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo
    demo.demo.close()


@pytest.fixture(scope="session")
def client(app):
    from gradio_client import Client

    return Client(app.demo.local_url, verbose=False, ssl_verify=False)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium under Playwright, one for the whole run (the browser tests skip where it is
    missing, and fail in CI, which installs it)."""
    from playwright.sync_api import sync_playwright

    from harness import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sketch(path) -> dict:
    """The v1 image API's input, the Sketchpad's value, as an API client sends it."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}


def drawing(strokes, width: int = 280, height: int = 280, **extra) -> dict:
    """A canvas drawing as the page sends it."""
    return {"width": width, "height": height, "strokes": strokes, **extra}

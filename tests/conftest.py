"""Shared fixtures: real MNIST test data (torchvision, located by training.mnist), the model, and the app
launched in this process the way main() launches it (demo.launch applies the same process settings)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from harness import DIGIT_STROKES, free_port, pen_path
from reader.strokes import MAX_POINTS


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST test set: images (10000, 28, 28) uint8 (ink = 255), labels (10000,).

    Read in place from $MNIST_DATA_DIR, ../shared/data or ./data, else downloaded to ./data by torchvision.
    """
    from training.mnist import mnist

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


def pytest_collection_modifyitems(items):
    """Every test that drives Chromium (it asks for the `browser` fixture) carries the `browser` marker, so that
    `pytest -m "not browser"` runs the rest."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium under Playwright, one for the whole run. Where /usr/bin/chromium is missing the
    browser tests skip, except in CI (which installs it: .ci/run), where they fail."""
    from playwright.sync_api import sync_playwright

    from harness import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium", pytrace=False)
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
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


# A one drawn on the page's canvas, and drawings that are not drawings: (what is sent, what the answer says).
ONE = pen_path(DIGIT_STROKES["1"])


BAD = {
    "not JSON": ("{'width': 280", "not valid JSON"),
    "a list": ("[1, 2, 3]", "expected a drawing"),
    "a number": (42, "expected a drawing"),
    "missing strokes": ({"width": 280, "height": 280}, "missing 'strokes'"),
    "strokes not a list": (drawing("abc"), "'strokes' must be a list"),
    "stroke not a list": (drawing([5]), "stroke 0 must be a non-empty list"),
    "empty stroke": (drawing([[]]), "stroke 0 must be a non-empty list"),
    "point of three": (drawing([[[1, 2, 3]]]), "each point must be a list"),
    "strings for numbers": (drawing([[["140", "40"]]]), "coordinates must be numbers, got a string"),
    "true for a number": (drawing([[[True, 4]]]), "coordinates must be numbers"),
    "NaN": ('{"width": 280, "height": 280, "strokes": [[[NaN, 4]]]}', "finite"),
    "infinity": ('{"width": 280, "height": 280, "strokes": [[[1e999, 4]]]}', "finite"),
    "far outside": (drawing([[[140, 40], [1e9, 40]]]), "far outside the 280x280 canvas"),
    "huge integer": (drawing([[[10**400, 4]]]), "too large"),
    "width a string": (drawing(ONE, width="280"), "'width' must be a number"),
    "absurd canvas": (drawing(ONE, width=10**9, height=10**9), "must lie in 16..2048"),
    "zero canvas": (drawing(ONE, width=0, height=0), "must lie in 16..2048"),
    "fractional canvas": (drawing(ONE, width=280.5), "whole number"),
    "too many points": (drawing([[[1, 1]] * (MAX_POINTS + 1)]), "too many points"),
    "hundreds of thousands of points": (drawing([[[1.5, 2.5]] * 300_000]), "too many points"),
    "thousands of strokes": (drawing([[[1, 1]]] * 5000), "too many strokes"),
    "deep nesting (text)": ('{"width": 280, "height": 280, "strokes": ' + "[" * 100_000 + "]" * 100_000 + "}",
                            "nested too deeply"),
    "deep nesting (object)": (drawing([[[[[[[1]]]], 2]]]), "coordinates must be numbers, got a list"),
    "bad seq": (drawing(ONE, seq="7"), "'seq' must be a whole number"),
    "bad pick": (drawing(ONE, pick=-1), "'pick' must be the index of a digit"),
    "pick as true": (drawing(ONE, pick=True), "'pick' must be the index of a digit"),
}

"""How fast bad input is answered: images through the Python API and the app's /predict, and untrusted
strokes through the app's /predict_strokes (the server's memory printed after the worst of them).

    python -m bench.bad_input

Each case prints what came back (a digit, "no ink", or the error message) and how long it took.
The behaviour itself is asserted in tests/reader/test_preprocess.py, tests/reader/test_strokes.py, tests/test_demo.py.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from harness import DIGIT_STROKES, pen_path, start_server
from model import load_model
from reader.readings import predict


def stroke_cases() -> dict[str, object]:
    one = pen_path(DIGIT_STROKES["1"])

    def drawing(strokes, **extra):
        return {"width": 280, "height": 280, "strokes": strokes, **extra}

    return {
        "a good 1": drawing(one), "empty canvas": drawing([]), "not JSON": "{'width': 280",
        "strings for numbers": drawing([[["140", "40"]]]), "NaN": '{"width": 280, "height": 280, "strokes": [[[NaN, 1]]]}',
        "far outside the canvas": drawing([[[140, 40], [1e9, 40]]]), "absurd canvas": drawing(one, width=10**9, height=10**9),
        "10,001 points": drawing([[[1, 1]] * 10_001]), "5,000 strokes": drawing([[[1, 1]]] * 5000),
        "300,000 points (5 MB)": drawing([[[123.25, 234.75]] * 300_000]),
        "deep nesting (text)": '{"width": 280, "height": 280, "strokes": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "a good 1 again": drawing(one),
    }


def python_cases() -> dict[str, object]:
    huge = np.full((12000, 12000, 4), 255, np.uint8)
    huge[3000:9000, 5500:6500, :3] = 0  # a big "1"
    return {
        "None": None, "dict without composite": {"layers": []}, "0x0 array": np.zeros((0, 0), np.uint8),
        "1x1 white": np.full((1, 1), 255, np.uint8), "blank 800x800": np.full((800, 800, 4), 255, np.uint8),
        "all-black 800x800": np.zeros((800, 800, 3), np.uint8), "transparent 800x800": np.zeros((800, 800, 4), np.uint8),
        "12000x12000 RGBA (a 1)": huge, "NaN floats": np.full((28, 28), np.nan, np.float32),
        "floats up to 3.0": np.full((28, 28), 3.0), "1-D array": np.zeros(784, np.uint8),
        "5-channel array": np.zeros((28, 28, 5), np.uint8), "int64 up to 1000": np.full((28, 28), 1000, np.int64),
    }


def describe(probs) -> str:
    return "no ink -> None" if probs is None else f"digit {int(np.argmax(probs))}"


def main() -> None:
    model = load_model()
    print("Python API, reader.readings.predict(model, x):")
    for name, value in python_cases().items():
        start = time.perf_counter()
        try:
            answer = describe(predict(model, value))
        except ValueError as error:
            answer = f"ValueError: {error}"
        print(f"  {name:26s} {1000 * (time.perf_counter() - start):7.1f} ms  {answer}")

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as folder, start_server() as (url, process, _):
        folder = Path(folder)
        Image.new("L", (12000, 12000), 255).save(folder / "huge.png")
        Image.new("RGBA", (1, 1), "white").save(folder / "1x1.png")
        Image.new("RGB", (280, 280), "black").save(folder / "black.png")
        Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(folder / "transparent.png")
        Image.new("CMYK", (280, 280), (0, 0, 0, 0)).save(folder / "cmyk.jpg")
        sixteen = np.full((280, 280), 65535, np.uint16)
        sixteen[40:240, 130:150] = 0
        Image.fromarray(sixteen).save(folder / "sixteen.png")
        whole = (folder / "sixteen.png").read_bytes()
        (folder / "corrupt.png").write_bytes(whole[: len(whole) // 2])
        (folder / "text.png").write_text("not a picture")
        client = Client(url, verbose=False, download_files=False)
        print(f"app /predict ({url}):")
        cases = {"None": None, "dict without composite": {"background": None, "layers": []}}
        cases.update({name: {"background": None, "layers": [], "composite": handle_file(str(folder / name))}
                      for name in ["1x1.png", "black.png", "transparent.png", "cmyk.jpg", "sixteen.png",
                                   "huge.png", "corrupt.png", "text.png"]})
        for name, value in cases.items():
            start = time.perf_counter()
            try:
                outputs = client.predict(value, api_name="/predict")
                answer = f"digit {outputs[1]['label']}" if outputs[1] else f"no prediction: {outputs[0]!r}"
            except Exception as error:  # noqa: BLE001 - reported
                answer = f"{type(error).__name__}: {error}"
            print(f"  {name:26s} {1000 * (time.perf_counter() - start):7.1f} ms  {answer}")

        print(f"app /predict_strokes ({url}):")
        for name, value in stroke_cases().items():
            start = time.perf_counter()
            try:
                outputs = client.predict(value, api_name="/predict_strokes")
                answer = f"digit {outputs[0]['digit']}" if outputs[0] else "empty reading (no ink)"
            except Exception as error:  # noqa: BLE001 - reported
                answer = f"{type(error).__name__}: {str(error)[:110]}"
            print(f"  {name:26s} {1000 * (time.perf_counter() - start):7.1f} ms  {answer}")
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        print(f"  server RSS after all of them: {rss / 1024:.0f} MB")


if __name__ == "__main__":
    main()


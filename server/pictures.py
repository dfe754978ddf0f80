"""Output pictures written into Gradio's cache whole: many people sending the same drawing at once all get them.

    from server.pictures import atomic_pictures
    image = atomic_pictures(gr.Image(format="png"))   # an output whose pictures are written atomically

Gradio 6.31 writes an output picture to a path named by its content with a plain write_bytes, so two identical
outputs at once truncate a file that is being served (clients: "peer closed connection without sending complete
message body"; tests/test_demo.py sends 16 x 10 identical requests and downloads every picture).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image


def cached_png(picture: np.ndarray | Image.Image, cache_dir: str) -> str:
    """Write a picture into Gradio's cache as <cache>/<sha256 of its PNG>/image.png, atomically -> path.

    Gradio 6.31 writes output pictures to the same content-named path with a plain write_bytes, so two
    identical outputs at once truncate a file that is being served (clients: "peer closed connection
    without sending complete message body"). Here the bytes go to a temp file that is renamed into place,
    and an existing file is reused, so a reader always sees a whole file.
    """
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    folder = Path(cache_dir) / hashlib.sha256(data).hexdigest()
    path = folder / "image.png"
    if path.exists():
        os.utime(path)  # delete_cache ages files by ctime: keep a file that is handed out again
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=".image.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(staging, path)
    finally:
        Path(staging).unlink(missing_ok=True)
    return str(path)


def atomic_pictures(component: gr.Image) -> gr.Image:
    """Make an output gr.Image write its pictures with cached_png (wrapping postprocess, as above)."""
    postprocess = component.postprocess

    @functools.wraps(postprocess)
    def wrapped(value):
        if isinstance(value, (np.ndarray, Image.Image)):
            value = cached_png(value, component.GRADIO_CACHE)
        return postprocess(value)

    component.postprocess = wrapped
    return component

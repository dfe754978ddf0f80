"""Pictures people send (an upload, the image API, the v1 sketch API): the formats phones, scanners and
screenshots make, each decoded at a bounded cost, and a sentence that says why for anything else.

    picture = open_upload(path)        # read_image's one way in: a PIL image, or a gr.Error that says why
    component.preprocess = readable_errors(component.preprocess)    # Gradio's own decoding, bounded the same way
    wrong_input(components, names, data)   # the middleware's check at join: a 422 with a sentence, or None

Accepted: PNG (screenshots), JPEG and MPO (cameras and phones; MPO is a phone's JPEG with a second picture),
WebP, GIF and BMP. The size comes from the header before any decoding: past MAX_UPLOAD_PIXELS nothing is
decoded. A baseline JPEG is decoded reduced by its DCT (Pillow's draft: 1/2-1/8, at least 512 px a side), so
its cost follows its bytes (at most one upload's 10 MB: ~0.2 s at worst here, a phone's 12 MP photo ~0.03 s);
everything else decodes in full, held to FULL_DECODE_PIXELS of its format: the most pixels it decodes in about
0.1 s here at worst (noise; python -m bench.hostile --rows costly_formats measures each). Refused, with the
list of what is accepted: JPEG 2000 (a 3 MP noisy one took 0.9-2.9 s to decode), TIFF (a dozen compressions
through libtiff; scanners also save PNG or JPEG), and every other format Pillow knows.
"""

from __future__ import annotations

import functools

import gradio as gr
from gradio.components.image_editor import EditorData
from PIL import Image
from pydantic import ValidationError, field_validator

MAX_UPLOAD_PIXELS = 25_000_000  # larger than this is refused from the header, before decoding
# Decoded in full (every format but a baseline JPEG): the most pixels each decodes in ~0.1 s at worst here.
FULL_DECODE_PIXELS = {
    "PNG": 3_000_000,  # a phone screenshot; noise at 3 MP: ~60 ms
    "GIF": 3_000_000,  # ~20 ms at 3 MP
    "BMP": 3_000_000,  # ~6 ms at 3 MP (uncompressed)
    "WEBP": 1_500_000,  # lossy WebP decodes ~4x slower than PNG: ~100 ms at 1.5 MP, ~240 ms at 3 MP
    "JPEG": 3_000_000,  # progressive (web images, not cameras): 2-3x a baseline JPEG's cost per byte
    "MPO": 3_000_000,
}
REDUCED = frozenset({"JPEG", "MPO"})  # baseline ones are decoded at 1/2-1/8 scale, up to MAX_UPLOAD_PIXELS
ACCEPTED = "PNG, JPEG, WebP, GIF or BMP"
MAX_LAYERS = 4  # the v1 image API reads only the composite; a Sketchpad sends one layer


def _unreadable(error: Exception) -> gr.Error:
    if isinstance(error, Image.DecompressionBombError):
        reason = f"it is too large (at most {MAX_UPLOAD_PIXELS:,} pixels)"
    elif isinstance(error, Image.UnidentifiedImageError):
        reason = f"it is not an image file this app reads ({ACCEPTED})"
    else:
        reason = "the file is corrupt or truncated"
    return gr.Error(f"Could not read that image: {reason}.")


def _opened(path: str) -> Image.Image:
    """Open (the header only) as one of the accepted formats; a gr.Error that says why if it is not one."""
    try:
        image = Image.open(path, formats=[name for name in FULL_DECODE_PIXELS if name != "MPO"])  # JPEG opens MPO
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise Image.DecompressionBombError("too many pixels")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise _unreadable(error) from None
    return image


def _reduced(image: Image.Image) -> bool:
    return image.format in REDUCED and not image.info.get("progressive")


def _too_large(image: Image.Image, limit: int) -> gr.Error:
    kind = f"progressive {image.format}" if image.format in REDUCED else image.format
    return gr.Error(f"Could not read that image: a {kind} picture of {image.width}x{image.height} is too large; at "
                    f"most {limit:,} pixels (a baseline JPEG, as cameras and phones make, may have up to "
                    f"{MAX_UPLOAD_PIXELS:,}).")


def open_upload(path: str | None) -> Image.Image | None:
    """An uploaded file -> a decoded picture, at bounded cost; a gr.Error that says why for anything else."""
    if path is None:
        return None
    image = _opened(path)
    pixels = image.width * image.height
    try:
        if _reduced(image):
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", (512, 512))  # 1/2-1/8: >= 512 a side
        elif pixels > FULL_DECODE_PIXELS[image.format]:
            raise _too_large(image, FULL_DECODE_PIXELS[image.format])
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, gr.Error):
            raise
        raise _unreadable(error) from None
    return image


def check_full_decode(path: str) -> None:
    """A picture Gradio will decode in full itself (the v1 sketch API): an accepted format within its cap, a
    baseline JPEG within MAX_UPLOAD_PIXELS // 2 (no reduced decoding there: Pillow's own limit, as before);
    a gr.Error that says why, else."""
    with _opened(path) as image:
        limit = MAX_UPLOAD_PIXELS // 2 if _reduced(image) else FULL_DECODE_PIXELS[image.format]
        if image.width * image.height > limit:
            raise _too_large(image, limit)


def readable_errors(preprocess, full_decode: bool = False):
    """Wrap a component's preprocess() so that its decoding errors become a gr.Error for the user; full_decode:
    check every picture of the payload (FileData, or a sketch's background, layers and composite) with
    check_full_decode first, since the component decodes them in full.

    Applied to input instances (not by subclassing: Gradio's component metaclass would write a .pyi stub next
    to the module on every import). Gradio decodes uploads in preprocess(), before any handler runs, and reports
    a failure there only as a bare "Error"; a gr.Error raised there reaches the page and API clients as it is.
    """
    @functools.wraps(preprocess)
    def wrapped(payload):
        try:
            if full_decode and payload is not None:
                for picture in _pictures_of(payload):
                    check_full_decode(picture)
            return preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            if isinstance(error, gr.Error):
                raise
            raise _unreadable(error) from None

    return wrapped


def _pictures_of(payload) -> list[str]:
    files = [payload.background, *(payload.layers or []), payload.composite] if isinstance(payload, EditorData) \
        else [payload]
    return [file.path for file in files if getattr(file, "path", None)]


class FewLayers(EditorData):
    """A sketchpad's value: "composite" is the picture read (dark ink on white or transparent, light ink on dark);
    "background" and at most 4 "layers" may be sent and are not read."""

    # Gradio validates a payload in its event loop entry by entry and logs each error, so one body of 50,000
    # nulls held every user for over a second: `layers` is refused past a few entries before any is validated.
    # The page's own canvas sends no layers at all.
    @field_validator("layers", mode="before")
    @classmethod
    def _few(cls, layers):
        if isinstance(layers, list) and len(layers) > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS} layers, got {len(layers):,}")
        return layers


# What a payload that fails its component's data model is, in the sentence the sender gets.
_WHAT = {"ImageData": "image (a file record: {\"path\": ..., \"meta\": {\"_type\": \"gradio.FileData\"}})",
         "FileData": "file (a file record: {\"path\": ..., \"meta\": {\"_type\": \"gradio.FileData\"}})",
         "FewLayers": "sketch ({\"background\", \"layers\", \"composite\"}, each a file record or null)"}


def unreadable_payload(error: ValidationError) -> str:
    """A payload its component's data model refused -> the sentence its sender gets (no value is echoed)."""
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"Could not read that {_WHAT.get(error.title, 'input')}: {where + ': ' if where else ''}{first['msg']}."


def wrong_input(components: list, names: list[str], data: object) -> tuple[str, list[dict]] | None:
    """An event's input values checked against its components as Gradio checks them before any handler runs
    (too few values; each value against its component's data model, pydantic, no file is read) -> None if they
    pass, else the sentence and a 422 "detail" in the form gradio_client reads from POST /queue/join (it raises
    ValidationError "1 parameter(s) failed validation: - path: Could not read that image: ..."). The middleware
    checks every join and call with it, so a wrongly typed input is refused there, never queued: once it was a
    500 with a 30-line traceback from inside Gradio's queue."""
    if not isinstance(data, list):
        return None  # not a list: FastAPI's own 422 for the body
    if len(data) < len(components):
        problem = names[len(data)], f"This endpoint takes {len(components)} input values ({', '.join(names)}); got {len(data)}."
    else:
        problem = None
        for component, name, value in zip(components, names, data):
            model = getattr(component, "data_model", None)
            if model is not None and value is not None:
                try:
                    model.model_validate(value, context={"validate_meta": True})
                except ValidationError as error:
                    problem = name, unreadable_payload(error)
                    break
    if problem is None:
        return None
    name, sentence = problem
    return sentence, [{"__type__": "validate", "is_valid": False, "message": sentence, "parameter_name": name}]

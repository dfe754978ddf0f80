"""The shapes of the values the app's API takes and returns, for the API page and gradio_client's view_api().

    from server.api import described, ANSWER_SCHEMA
    described(gr.HTML(...), ANSWER_SCHEMA, "answer")   # the API page names it "answer" and types it (not `str`)

A gr.HTML carries any value, so on its own the API page says `value_9` and type `str`; these JSON schemas say
what /predict_strokes and /predict_image really take and return (reader/readings.py makes those values).
"""

from __future__ import annotations

NUMBER, TEXT, WHOLE, YES_NO = {"type": "number"}, {"type": "string"}, {"type": "integer"}, {"type": "boolean"}


def _list(item: dict, description: str = "") -> dict:
    return {"type": "array", "items": item, **({"description": description} if description else {})}


def _maybe(schema: dict, description: str) -> dict:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


def _described(schema: dict, description: str) -> dict:
    return {**schema, "description": description}


PROBS = _list(NUMBER, "softmax over the digits 0-9")
ROWS = _list(_list(NUMBER))
DIGIT = {"type": "object", "properties": {
    "digit": _described(TEXT, "best guess, '0'-'9'"), "confidence": NUMBER, "probs": PROBS,
    "not_a_digit": _described(YES_NO, "true when the model says this is not a digit"),
    "box": _list(NUMBER, "x0, y0, x1, y1 of its ink, canvas pixels")}}
ANSWER_SCHEMA = {"type": "object", "description": "what the model reads", "properties": {
    "digit": _described(TEXT, "the best guess for the digit walked (the only one, for a single digit)"),
    "confidence": NUMBER, "probs": PROBS, "not_a_digit": YES_NO,
    "number": _maybe(TEXT, "all digits left to right, or null when a part is not a digit"),
    "digits": _list(DIGIT, "every digit, left to right"), "pick": _described(WHOLE, "index of the digit walked"),
    "seq": _maybe(WHOLE, "the action this answers")}}
READING_SCHEMA = {"type": "object", "description": "how the digit walked is read, row by row", "properties": {
    "model_input": _described(ROWS, "28 x 28 in [0, 1], ink = 1: what the model reads"),
    "top_down": _described(ROWS, "28 x 10: softmax reading rows 1..t only"),
    "bottom_up": _described(ROWS, "28 x 10: softmax reading rows t..28 only"),
    "states": _described(ROWS, "28 x 128: hidden state after row t, forward units then backward"),
    "importance": {"type": "object", "properties": {"answer": WHOLE, "probability": NUMBER,
                                                    "drop": _list(NUMBER, "probability lost with row t blanked")}},
    "bands": _maybe({"type": "object", "properties": {"x": _list(NUMBER), "rows": ROWS}},
                    "where each row lies on the canvas, as fractions of it"),
    "pick": WHOLE, "digit": TEXT, "not_a_digit": YES_NO, "points": _maybe(WHOLE, "points of the drawing read"),
    "kept": _maybe(TEXT, "a photo or scan: what the paper path kept of it, with each digit's box, as a PNG data: URI"),
    "seq": _maybe(WHOLE, "the action this answers")}}
DRAWING_SCHEMA = {"type": "object", "description": "a drawing, or its JSON text", "properties": {
    "width": _described(WHOLE, "canvas pixels, 16-2048"), "height": _described(WHOLE, "canvas pixels, 16-2048"),
    "strokes": _described(_list(_list(_list(NUMBER))), "[[[x, y], ...], ...]: at most 500 strokes, 10,000 points"),
    "pick": _maybe(WHOLE, "which digit of a number to walk (default: the last one drawn)"),
    "seq": _maybe(WHOLE, "the page numbers its actions; an older one is not read after a newer one")}}


def described(component, schema: dict, name: str):
    """Name and type a gr.HTML by what it carries on the API page (it would say `value_9`, type str)."""
    component.label = name
    component.api_info = lambda: schema
    return component

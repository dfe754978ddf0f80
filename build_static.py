"""Build the page as static files: the model runs in the browser, no Python behind it, no request anywhere else.

    python build_static.py site                 # writes site/: index.html, the scripts, the weights, README.md
    python -m http.server -d site 8000          # then open http://127.0.0.1:8000 (or open site/index.html)

Any static file server serves it: `python -m http.server`, a free static Hugging Face Space (site/README.md is its
card: push the folder's files to a Space created with the "Static" SDK), a USB stick for a talk. The page is the
Gradio app's page (web/: the same canvas, answer, softmax, row views, row walk, keys, Undo/Clear, gallery), read
by the browser's engine in a Web Worker with the committed weights; the photo upload, the compare toggle and the
GIF need the Gradio app.

The page carries its own Content-Security-Policy (CSP below, a <meta> element: a USB stick has no server to send
headers): scripts and styles from the site's own files only, nothing inline, no request anywhere.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import frontend
from model import DEFAULT_WEIGHTS, load_model, sha256_of

CARD = """---
title: BiLSTM Reads Your Digit (in your browser)
emoji: ✍️
colorFrom: indigo
colorTo: yellow
sdk: static
app_file: index.html
pinned: false
license: mit
short_description: Draw a digit; a BiLSTM reads it row by row in your browser
---

# A bidirectional LSTM reads your digit, row by row, in your browser

Draw a digit, or a number of a few digits side by side: the 49,418-parameter BiLSTM runs in the page itself
(JavaScript and a 1 KB WebAssembly kernel, in a Web Worker) and reads the drawing as the pen moves. Nothing
you draw leaves your browser. Built with `python build_static.py DIR` from the weights with sha256 {sha256}.
"""


# What the static page may do, and why each part is needed:
#   script-src 'self'        the page's scripts are files beside index.html (no inline script, no eval); the weights
#                            too (model.js): a page opened from disk cannot fetch a JSON file, but it can load a script
#   'wasm-unsafe-eval'       compiling the 1 KB WebAssembly kernel (web/kernel.js), on the page and in the worker
#   worker-src blob:         the engine's worker is made from a Blob of its text (worker-source.js), the one way a
#                            worker starts on a page opened from disk (the worker inherits this policy)
#   style-src 'self'         app.css and index.css (the scripts set styles through the DOM, which CSP allows)
#   img-src data:            the gallery's digits are inline PNGs
#   default-src 'none'       everything else refused: no fetch, no XHR, no WebSocket, no font, no frame
#   base-uri, form-action    no <base> and no form may send the page's links or data elsewhere
CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src blob:; style-src 'self'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def build(out: Path) -> list[Path]:
    """Write the static site into out (created; files already there with the same names are replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    model = load_model()
    sha256 = sha256_of(DEFAULT_WEIGHTS)
    files = {"model.js": frontend.model_script(model, sha256), "config.js": frontend.config_script(),
             "worker-source.js": frontend.worker_script(), "README.md": CARD.format(sha256=sha256)}
    page = frontend.fragment("index")
    page = page.replace("<!-- csp -->", f'<meta http-equiv="Content-Security-Policy" content="{CSP}">')
    for part in ("keys", "sketchpad", "answer", "reading"):
        page = page.replace(f"<!-- {part} -->", frontend.fragment(part))
    page = page.replace("<!-- gallery -->", frontend.gallery_html())
    scripts = ["config.js", "model.js", "worker-source.js", *frontend.ENGINE_SCRIPTS, *frontend.PAGE_SCRIPTS, "index.js"]
    page = page.replace("<!-- scripts -->", "\n".join(f'<script src="{name}"></script>' for name in scripts))
    files["index.html"] = page
    written = []
    for name, text in files.items():
        (out / name).write_text(text)
        written.append(out / name)
    for name in (*frontend.ENGINE_SCRIPTS, *frontend.PAGE_SCRIPTS, "index.js", "app.css", "index.css"):
        shutil.copyfile(frontend.WEB / name, out / name)
        written.append(out / name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write (created if absent)")
    args = parser.parse_args()
    written = build(args.out)
    size = sum(path.stat().st_size for path in written)
    print(f"wrote {len(written)} files, {size / 1024:.0f} KB, to {args.out}: python -m http.server -d {args.out}")


if __name__ == "__main__":
    main()

// The static page's start (build_static.py): each part of the page attaches itself to web/page.js, as the
// Gradio app's components do from their js_on_load. A file, not an inline script: the static page's
// Content-Security-Policy runs scripts from the site's own files only.
(function () {
  "use strict";
  for (const part of ["sketchpad", "answer", "reading", "gallery"]) BiLSTMPage.attach(part, document.getElementById(part));
  document.getElementById("weights").textContent = `Weights: sha256 ${window.BILSTM_MODEL.sha256.slice(0, 12)}…`;
})();

// What the page needs from Gradio's own components, in the Gradio app only (demo.py loads it; the static build
// has none of them). The upload box's button is named "Drop an image file here to upload" while it shows "Drop
// Image Here - or - Click to Upload": a screen reader says one thing and voice control must hear another
// (WCAG 2.5.3, found by axe-core). Its accessible name is set to what it shows, whenever Gradio redraws it.
(function () {
  "use strict";

  function name(root) {
    for (const button of root.querySelectorAll("button.upload-container")) {
      const shown = button.textContent.replace(/\s+/g, " ").trim();
      if (shown && button.getAttribute("aria-label") !== shown) button.setAttribute("aria-label", shown);
    }
  }

  let tries = 0;
  const find = setInterval(() => {  // the upload box mounts after the page's own parts
    const upload = document.getElementById("upload");
    if (upload) {
      name(upload);
      new MutationObserver(() => name(upload)).observe(upload, {childList: true, subtree: true});
    }
    if (upload || ++tries > 40) clearInterval(find);
  }, 250);
})();

// The row walk of demo.py's reading views (a gr.HTML component, elem_id "reading"): run by Gradio as
// js_on_load, with `element`, `props` (props.value: the reading from the server; props.row: 1..28 and
// props.playing, which the template shows) and `watch`.
//
// The server sends the 28 rows' pictures and captions with every reading, so the slider, Play and the
// presenter keys (Space play/pause, Left/Right one row, Home/End rows 1/28) only move props.row here:
// no request, nothing for the server to hold, and a new reading simply replaces what is walked.
// Every change of row is announced as "bilstm-row" {row, bands, active} so that the canvas can mark
// the band of the drawing that became that row. A stroke starting ("bilstm-drawing") or a new reading
// stops Play.

const STEP_MS = 350;  // Play: about three rows a second, slow enough to read the caption
let timer = null;

function announce(active) {
  const bands = props.value ? props.value.bands : null;
  document.dispatchEvent(new CustomEvent("bilstm-row", {detail: {row: props.row, bands, active}}));
}

function show(row) {
  props.row = Math.min(28, Math.max(1, Math.round(row)));
  announce(true);
}

function stop() {
  clearInterval(timer);
  timer = null;
  props.playing = false;
}

function play() {
  if (!props.value) return;
  if (props.row >= 28) show(1);
  props.playing = true;
  timer = setInterval(() => {
    if (props.row >= 28) stop();
    else show(props.row + 1);
  }, STEP_MS);
}

function toggle() {
  if (timer !== null) stop();
  else play();
}

element.addEventListener("input", (event) => {
  if (event.target.id !== "row-slider") return;
  stop();
  show(Number(event.target.value));
});

element.addEventListener("click", (event) => {
  if (event.target.closest("#play")) toggle();
});

document.addEventListener("keydown", (event) => {  // presenter keys; never while typing in a field
  const target = event.target;
  if (event.defaultPrevented || event.altKey || event.metaKey || event.ctrlKey || !props.value) return;
  if (target.closest && target.closest("input:not([type=range]), textarea, select, [contenteditable=''], [contenteditable=true]")) return;
  const keys = {" ": () => toggle(), ArrowLeft: () => show(props.row - 1), ArrowRight: () => show(props.row + 1),
                Home: () => show(1), End: () => show(28)};
  if (!(event.key in keys)) return;
  if (event.key === " " && target.closest && target.closest("button")) return;  // Space on a button clicks it
  event.preventDefault();
  if (event.key !== " ") stop();
  keys[event.key]();
});

document.addEventListener("bilstm-drawing", stop);

watch("value", () => {  // a new reading: back to the whole image, walk stopped
  stop();
  props.row = 28;
  announce(false);
});

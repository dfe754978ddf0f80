// The drawing surface of demo.py (a gr.HTML component, elem_id "sketchpad"): run by Gradio as js_on_load,
// with `element` (the component), `props` (props.value: the drawing as JSON text) and `trigger`.
//
// Pointer events (mouse, touch and pen alike) become strokes in canvas pixels, [[x, y], ...], drawn here at
// once with the brush the server uses (strokes.BRUSH_FRACTION of the canvas side, round caps and joins).
// The drawing is sent as {"width", "height", "strokes", "seq"} to demo.read_strokes: as "input" at most
// every SEND_MS while the pen moves (Gradio's always_last keeps one in flight and sends only the newest
// after it), and as "lift" at once when the pen lifts, in a lane of its own so that the finished drawing
// never waits behind other people's readings; seq numbers the sends so that the server drops an older
// drawing that would finish after a newer one. Undo drops the last stroke, Clear all of them; keys U /
// Ctrl+Z and C too.
// When the server sets the value (a gallery digit was read instead), the canvas shows that drawing.
// It tells the page when a stroke starts ("bilstm-drawing") and follows the row walk ("bilstm-row"):
// while the walk is active it marks the band of the canvas that became row t (bands computed by the
// server from to_mnist's crop, scale and shift).

const SEND_MS = 100;  // 10 readings a second at most while drawing; each costs the server ~10 ms
const MIN_STEP = 2;  // canvas pixels of pen travel between kept points (keeps payloads small)
const BRUSH_FRACTION = 24 / 280;  // = strokes.BRUSH_FRACTION

const canvas = element.querySelector("canvas");
const band = element.querySelector(".band");
const ctx = canvas.getContext("2d");
const brush = BRUSH_FRACTION * Math.min(canvas.width, canvas.height);
let strokes = [];
let pen = null;  // {id, stroke} while a pointer is down
let lastSent = 0;
let pending = null;
let seq = 0;

function paint() {
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = ctx.fillStyle = "black";
  ctx.lineWidth = brush;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const stroke of strokes) {
    ctx.beginPath();
    ctx.moveTo(stroke[0][0], stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
    if (stroke.length === 1) ctx.arc(stroke[0][0], stroke[0][1], brush / 2, 0, 2 * Math.PI), ctx.fill();
    else ctx.stroke();
  }
}

function send(finished = false) {
  clearTimeout(pending);
  pending = null;
  lastSent = performance.now();
  seq += 1;
  props.value = JSON.stringify({width: canvas.width, height: canvas.height, strokes, seq});
  canvas.dataset.points = strokes.reduce((n, stroke) => n + stroke.length, 0);  // what was sent (for tests)
  trigger(finished ? "lift" : "input");
}

function sendSoon() {  // throttled: now if SEND_MS have passed, else once when they have
  const wait = SEND_MS - (performance.now() - lastSent);
  if (wait <= 0) send();
  else if (pending === null) pending = setTimeout(send, wait);
}

function point(event) {  // page coordinates -> canvas pixels, kept on the canvas, 0.1 px
  const box = canvas.getBoundingClientRect();
  const x = Math.min(Math.max((event.clientX - box.left) * canvas.width / box.width, 0), canvas.width);
  const y = Math.min(Math.max((event.clientY - box.top) * canvas.height / box.height, 0), canvas.height);
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}

canvas.addEventListener("pointerdown", (event) => {
  if (pen !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  pen = {id: event.pointerId, stroke: [point(event)]};
  strokes.push(pen.stroke);
  band.hidden = true;
  document.dispatchEvent(new CustomEvent("bilstm-drawing"));
  paint();
  sendSoon();
});

canvas.addEventListener("pointermove", (event) => {
  if (pen === null || event.pointerId !== pen.id) return;
  const [x, y] = point(event);
  const [px, py] = pen.stroke[pen.stroke.length - 1];
  if (Math.hypot(x - px, y - py) < MIN_STEP) return;
  pen.stroke.push([x, y]);
  ctx.beginPath();
  ctx.moveTo(px, py);
  ctx.lineTo(x, y);
  ctx.stroke();
  sendSoon();
});

function lift(event) {
  if (pen === null || event.pointerId !== pen.id) return;
  pen = null;
  send(true);  // the finished drawing, at once
}
canvas.addEventListener("pointerup", lift);
canvas.addEventListener("pointercancel", lift);

function undo() {
  if (pen !== null || strokes.length === 0) return;
  strokes.pop();
  paint();
  send(true);
}

function clear() {
  if (pen !== null) return;
  strokes = [];
  paint();
  send(true);
}

element.querySelector("#undo").addEventListener("click", undo);
element.querySelector("#clear").addEventListener("click", clear);

document.addEventListener("keydown", (event) => {  // presenter keys; never while typing in a field
  const target = event.target;
  if (event.defaultPrevented || event.altKey || event.metaKey) return;
  if (target.closest && target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]")) return;
  const key = event.key.toLowerCase();
  if (key === "z" && event.ctrlKey) { event.preventDefault(); undo(); }
  else if (event.ctrlKey) return;
  else if (key === "u") { event.preventDefault(); undo(); }
  else if (key === "c") { event.preventDefault(); clear(); }
});

watch("value", () => {  // the server set the drawing (a gallery digit or upload is read instead)
  try {
    strokes = JSON.parse(props.value).strokes || [];
  } catch {
    strokes = [];
  }
  pen = null;
  paint();
});

document.addEventListener("bilstm-row", (event) => {  // mark the band of the canvas that becomes row t
  const {row, bands, active} = event.detail;
  if (!active || !bands || strokes.length === 0) { band.hidden = true; return; }
  const [y0, y1] = bands.rows[row - 1];
  band.style.left = `${100 * bands.x[0]}%`;
  band.style.width = `${100 * (bands.x[1] - bands.x[0])}%`;
  band.style.top = `${100 * y0}%`;
  band.style.height = `${100 * Math.max(y1 - y0, 0.004)}%`;
  band.hidden = false;
});

paint();

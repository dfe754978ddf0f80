// The drawing surface (#sketchpad): pointer events (mouse, touch and pen alike) become strokes in canvas
// pixels, [[x, y], ...], painted at once with the brush the reading uses (strokes.BRUSH_FRACTION of the shorter
// side, round caps and joins; the screen shows it anti-aliased, the model reads strokes.rasterize's pixels).
// A finger drawing on it does not scroll the page (touch-action: none). Every point the browser merged into one
// pointermove while the page was busy is kept (getCoalescedEvents): a late frame does not cut the stroke's corners.
// The canvas takes the shape the stylesheet gives the drawing area (2:1 on a desktop: 560 x 280; about square
// on a phone: about 396 x 396), with config's number of pixels; it changes shape only while it is empty.
//
//   const pad = BiLSTMCanvas.create(element, config, {changed(lifted), started()});
//   pad.drawing()            // {width, height, strokes}
//   pad.undo(), pad.clear(), pad.penDown(), pad.points()
//   pad.lastPointAt()        // when the newest point was drawn (event time, performance.now()'s clock)
//   pad.showBand(bands, row) // mark the band of the canvas that became row t (null: none)
//   pad.showDigits(digits, pick)  // the boxes of the digits of a number, the walked one outlined
(function (global) {
  "use strict";

  function create(element, config, hooks) {
    const canvas = element.querySelector("canvas"), band = element.querySelector(".band");
    const surface = element.querySelector(".surface"), boxes = element.querySelector(".boxes");
    const context = canvas.getContext("2d");
    canvas.width = config.canvas_width;
    canvas.height = config.canvas_height;
    let brush = config.brush_fraction * Math.min(canvas.width, canvas.height);
    let strokes = [], pen = null, points = 0, lastPointAt = 0;  // pen: {id, stroke, box} while a pointer is down

    function style() {
      context.strokeStyle = context.fillStyle = "black";
      context.lineWidth = brush;
      context.lineCap = context.lineJoin = "round";
    }

    function paint() {
      context.fillStyle = "white";
      context.fillRect(0, 0, canvas.width, canvas.height);
      style();
      for (const stroke of strokes) {
        context.beginPath();
        context.moveTo(stroke[0][0], stroke[0][1]);
        for (const [x, y] of stroke.slice(1)) context.lineTo(x, y);
        if (stroke.length === 1) { context.arc(stroke[0][0], stroke[0][1], brush / 2, 0, 2 * Math.PI); context.fill(); }
        else context.stroke();
      }
    }

    // An empty canvas takes the drawing area's shape (a phone turned, the layout settled) with as many pixels as
    // config's (560 x 280): the reading's work grows with the raster's pixels, the same on every screen.
    function fit() {
      const box = surface.getBoundingClientRect();
      if (pen !== null || strokes.length || !box.width || !box.height) return;
      const shape = box.height / box.width, area = config.canvas_width * config.canvas_height;
      const clamp = (v) => Math.min(Math.max(Math.round(v), 16), 2048);
      const width = clamp(Math.sqrt(area / shape)), height = clamp(width * shape);
      if (width === canvas.width && height === canvas.height) return;
      canvas.width = width;
      canvas.height = height;
      brush = config.brush_fraction * Math.min(canvas.width, canvas.height);
      paint();
    }

    function point(event, box) {  // page coordinates -> canvas pixels, kept on the canvas, to 0.1 px
      const x = Math.min(Math.max((event.clientX - box.left) * canvas.width / box.width, 0), canvas.width);
      const y = Math.min(Math.max((event.clientY - box.top) * canvas.height / box.height, 0), canvas.height);
      return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (pen !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
      if (points >= config.max_points || strokes.length >= config.max_strokes) return;  // the server's limits
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      const box = canvas.getBoundingClientRect();  // the page does not scroll under a pen (touch-action: none)
      pen = {id: event.pointerId, stroke: [point(event, box)], box};
      strokes.push(pen.stroke);
      points += 1;
      lastPointAt = event.timeStamp;
      hooks.started();
      paint();
      hooks.changed(false);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (pen === null || event.pointerId !== pen.id) return;
      const merged = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      const stroke = pen.stroke, before = stroke.length;
      for (const each of merged.length ? merged : [event]) {
        if (points >= config.max_points) break;
        const [x, y] = point(each, pen.box), [px, py] = stroke[stroke.length - 1];
        if (Math.hypot(x - px, y - py) < config.min_step) continue;  // one point per min_step px of pen travel
        stroke.push([x, y]);
        points += 1;
        lastPointAt = each.timeStamp;
      }
      if (stroke.length === before) return;
      context.beginPath();  // only the new part of the stroke
      context.moveTo(stroke[before - 1][0], stroke[before - 1][1]);
      for (let i = before; i < stroke.length; i++) context.lineTo(stroke[i][0], stroke[i][1]);
      context.stroke();
      hooks.changed(false);
    });

    function lift(event) {
      if (pen === null || event.pointerId !== pen.id) return;
      pen = null;
      hooks.changed(true);
    }
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);

    function undo() {
      if (pen !== null || strokes.length === 0) return false;
      points -= strokes.pop().length;
      paint();
      fit();
      return true;
    }

    function clear() {  // never under a pen that is down
      if (pen !== null || strokes.length === 0) return false;
      strokes = [];
      points = 0;
      paint();
      fit();
      return true;
    }

    function showBand(bands, row) {
      if (!bands || row === null || strokes.length === 0) { if (!band.hidden) band.hidden = true; return; }
      const [y0, y1] = bands.rows[row - 1];
      Object.assign(band.style, {left: `${100 * bands.x[0]}%`, width: `${100 * (bands.x[1] - bands.x[0])}%`,
                                 top: `${100 * y0}%`, height: `${100 * Math.max(y1 - y0, 0.004)}%`});
      band.hidden = false;
    }

    function showDigits(digits, pick) {  // boxes in canvas pixels -> outlines over the canvas
      const several = digits && digits.length > 1 && strokes.length > 0;
      if (!several && !boxes.firstChild) return;  // a single digit: nothing to outline, nothing to change
      boxes.replaceChildren(...(several ? digits.map((digit, i) => {
        const outline = document.createElement("div");
        outline.className = "digit-box" + (i === pick ? " picked" : "") + (digit.not_a_digit ? " stranger" : "");
        const [x0, y0, x1, y1] = digit.box;
        Object.assign(outline.style, {left: `${100 * x0 / canvas.width}%`, top: `${100 * y0 / canvas.height}%`,
                                      width: `${100 * (x1 - x0) / canvas.width}%`, height: `${100 * (y1 - y0) / canvas.height}%`});
        outline.dataset.label = digit.not_a_digit ? "?" : digit.digit;
        return outline;
      }) : []));
    }

    paint();
    fit();
    if (global.ResizeObserver) new ResizeObserver(fit).observe(surface);
    return {
      drawing: () => ({width: canvas.width, height: canvas.height, strokes: strokes.map((stroke) => stroke.slice())}),
      points: () => points,
      lastPointAt: () => lastPointAt,
      penDown: () => pen !== null,
      undo, clear, showBand, showDigits,
    };
  }

  global.BiLSTMCanvas = {create};
})(typeof window !== "undefined" ? window : globalThis);

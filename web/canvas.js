// The drawing surface (#sketchpad): pointer events (mouse, touch and pen alike) become strokes in canvas
// pixels, [[x, y], ...], painted at once with the brush the reading uses (strokes.BRUSH_FRACTION of the shorter
// side, round caps and joins; the screen shows it anti-aliased, the model reads strokes.rasterize's pixels).
// A finger drawing on it does not scroll the page (touch-action: none).
//
//   const pad = BiLSTMCanvas.create(element, config, {changed(lifted), started()});
//   pad.drawing()            // {width, height, strokes}
//   pad.undo(), pad.clear(), pad.penDown()
//   pad.showBand(bands, row) // mark the band of the canvas that became row t (null: none)
//   pad.showDigits(digits, pick)  // the boxes of the digits of a number, the walked one outlined
(function (global) {
  "use strict";

  function create(element, config, hooks) {
    const canvas = element.querySelector("canvas"), band = element.querySelector(".band");
    const boxes = element.querySelector(".boxes"), context = canvas.getContext("2d");
    canvas.width = config.canvas_width;
    canvas.height = config.canvas_height;
    const brush = config.brush_fraction * Math.min(canvas.width, canvas.height);
    let strokes = [], pen = null, points = 0;  // pen: {id, stroke} while a pointer is down

    function paint() {
      context.fillStyle = "white";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.strokeStyle = context.fillStyle = "black";
      context.lineWidth = brush;
      context.lineCap = context.lineJoin = "round";
      for (const stroke of strokes) {
        context.beginPath();
        context.moveTo(stroke[0][0], stroke[0][1]);
        for (const [x, y] of stroke.slice(1)) context.lineTo(x, y);
        if (stroke.length === 1) { context.arc(stroke[0][0], stroke[0][1], brush / 2, 0, 2 * Math.PI); context.fill(); }
        else context.stroke();
      }
    }

    function point(event) {  // page coordinates -> canvas pixels, kept on the canvas, to 0.1 px
      const box = canvas.getBoundingClientRect();
      const x = Math.min(Math.max((event.clientX - box.left) * canvas.width / box.width, 0), canvas.width);
      const y = Math.min(Math.max((event.clientY - box.top) * canvas.height / box.height, 0), canvas.height);
      return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (pen !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
      if (points >= config.max_points || strokes.length >= config.max_strokes) return;  // the server's limits
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      pen = {id: event.pointerId, stroke: [point(event)]};
      strokes.push(pen.stroke);
      points += 1;
      hooks.started();
      paint();
      hooks.changed(false);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (pen === null || event.pointerId !== pen.id || points >= config.max_points) return;
      const [x, y] = point(event), [px, py] = pen.stroke[pen.stroke.length - 1];
      if (Math.hypot(x - px, y - py) < config.min_step) return;  // one point per min_step px of pen travel
      pen.stroke.push([x, y]);
      points += 1;
      context.beginPath();
      context.moveTo(px, py);
      context.lineTo(x, y);
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
      return true;
    }

    function clear() {  // never under a pen that is down
      if (pen !== null || strokes.length === 0) return false;
      strokes = [];
      points = 0;
      paint();
      return true;
    }

    function showBand(bands, row) {
      if (!bands || row === null || strokes.length === 0) { band.hidden = true; return; }
      const [y0, y1] = bands.rows[row - 1];
      Object.assign(band.style, {left: `${100 * bands.x[0]}%`, width: `${100 * (bands.x[1] - bands.x[0])}%`,
                                 top: `${100 * y0}%`, height: `${100 * Math.max(y1 - y0, 0.004)}%`});
      band.hidden = false;
    }

    function showDigits(digits, pick) {  // boxes in canvas pixels -> outlines over the canvas
      const several = digits && digits.length > 1 && strokes.length > 0;
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
    return {
      drawing: () => ({width: canvas.width, height: canvas.height, strokes: strokes.map((stroke) => stroke.slice())}),
      points: () => points,
      penDown: () => pen !== null,
      undo, clear, showBand, showDigits,
    };
  }

  global.BiLSTMCanvas = {create};
})(typeof window !== "undefined" ? window : globalThis);

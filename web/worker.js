// The engine's side of the page's Web Worker: requests in, readings out, so that the page's main thread only
// takes the pen, draws ink and paints finished readings (web/reader.js is the page's side). The worker is made
// from a Blob of the engine's scripts with this one last (frontend.worker_source()): a Blob URL works from a
// web server and from disk (file://), where `new Worker("worker.js")` is refused. Where no worker can start,
// web/reader.js runs this same handler on the page.
//
//   {kind: "start", model, useKernel, stretch}   -> {kind: "ready", kernel}
//   {kind: "answer", id, drawing, pick, settled} -> {kind: "answer", id, answer, reading, ms}  (reading: no row views)
//        drawing: {width, height, strokes}, or as web/reader.js sends it: {width, height, points, lengths}
//        settled: the pen is up (a lift, Undo, Clear): digits that touch are cut (web/segment.js, up to its
//        MAX_READS readings); while the pen moves the digits are split at empty columns only (MOVING_READS), so that
//        a frame's answer costs one pass a digit
//   {kind: "answer", id, picture: {pixels, width, height, channels}, pick}   (a gallery digit's pixels)
//   {kind: "views", id}                          -> {kind: "views", id, views, ms}  (views of answer `id`, if it was the last)
//   anything that throws                         -> {kind: "error", id, message}
//
// The drawing comes as one Float64Array of points, and the 28x28 and the row views go back as Float32Arrays,
// handed over rather than copied (thousands of small lists cost the page's main thread time to receive);
// web/reader.js gives them back their rows.
//
// ms: the time the worker spent. stretch (default 1; bench/phone.py only): each reply waits until the worker's
// time times stretch has passed, to emulate a slower phone CPU (DevTools' CPU throttling slows a page's main
// thread, not its workers as much).
(function (global) {
  "use strict";

  function packed(rows) {  // [[...], ...] -> {packed: Float32Array of every row, width}
    const width = rows[0].length, flat = new Float32Array(rows.length * width);
    rows.forEach((row, r) => flat.set(row, r * width));
    return {packed: flat, width};
  }

  function unpackDrawing(packed) {  // web/reader.js's {width, height, points, lengths} -> {width, height, strokes}
    const strokes = [];
    let at = 0;
    for (const length of packed.lengths) {
      const stroke = [];
      for (let i = 0; i < length; i++, at += 2) stroke.push([packed.points[at], packed.points[at + 1]]);
      strokes.push(stroke);
    }
    return {width: packed.width, height: packed.height, strokes};
  }

  const MOVING_READS = 0;  // readings the cuts may spend while the pen moves: none (each is ~1 ms, ~4 ms on a phone)

  function handler(post) {
    let engine = null, stretch = 1, last = {id: null, digit: null};  // last: the walked digit of the last answer

    // Each reply leaves after the work's time times `stretch`: an emulated slower CPU (bench/phone.py) that waits
    // without spinning, as a phone's worker does its work on a core of its own.
    function timed(work) {
      const started = performance.now(), result = work(), spent = performance.now() - started;
      return {result, ms: spent * stretch, delay: spent * (stretch - 1)};
    }
    const reply = (delay, message, transfer) => (delay > 0 ? setTimeout(() => post(message, transfer), delay) : post(message, transfer));

    return function handle(request) {
      try {
        if (request.kind === "start") {
          engine = global.BiLSTMEngine.create(request.model, request.useKernel !== false);
          stretch = Math.max(1, Number(request.stretch) || 1);
          post({kind: "ready", kernel: engine.kernel});
        } else if (request.kind === "answer") {
          const drawing = request.drawing && request.drawing.points ? unpackDrawing(request.drawing) : request.drawing;
          const reads = request.settled === false ? MOVING_READS : undefined;  // undefined: the rule's MAX_READS
          const {result, ms, delay} = timed(() => (drawing ? engine.answerDrawing(drawing, request.pick, reads)
            : engine.answerPicture(request.picture.pixels, request.picture.width, request.picture.height,
                                   request.picture.channels, request.pick, reads)));
          last = {id: request.id, digit: result ? result.digit : null};
          const reading = result ? {...result.reading, model_input: packed(result.reading.model_input)} : null;
          reply(delay, {kind: "answer", id: request.id, answer: result ? result.answer : null, reading, ms},
                reading ? [reading.model_input.packed.buffer] : []);
        } else if (request.kind === "views") {
          const digit = last.id === request.id ? last.digit : null;
          const {result, ms, delay} = timed(() => (digit ? engine.rowViews(digit) : null));
          const views = result ? {...result, top_down: packed(result.top_down), bottom_up: packed(result.bottom_up),
                                  states: packed(result.states)} : null;
          reply(delay, {kind: "views", id: request.id, views, ms},
                views ? ["top_down", "bottom_up", "states"].map((key) => views[key].packed.buffer) : []);
        }
      } catch (error) {
        post({kind: "error", id: request.id, message: error.message});
      }
    };
  }

  global.BiLSTMWorker = {handler};
  if (typeof WorkerGlobalScope !== "undefined" && global instanceof WorkerGlobalScope) {  // inside the worker
    const handle = handler((message, transfer) => global.postMessage(message, transfer));
    global.onmessage = (event) => handle(event.data);
  }
})(typeof window !== "undefined" ? window : globalThis);

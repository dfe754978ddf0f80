// The page's side of the engine's Web Worker (web/worker.js): it hands the worker the newest drawing and gets
// readings back, so that the main thread never waits for a reading. The newest drawing wins: one request is in
// the worker at a time, and while it runs only the newest of the drawings that came meanwhile is kept to be
// read next (the ones between are never read). Each drawing's answer comes first (one pass of the network);
// its row views (85 readings, most of the worker's time) follow
//   - at once for a settled drawing (the pen lifted, Undo, Clear, a gallery digit),
//   - when the views shown are VIEWS_EVERY_MS old,
//   - or when nothing newer waits and the views take less than a frame (QUICK_MS) to read.
// So on a desktop every drawing gets its views; on a slow phone, while the pen moves, the answer keeps up with the
// pen and the views follow about ten times a second.
//
//   const reader = BiLSTMReader.start({model, source, stretch}, {answer(id, answer, reading, ms),
//                                                                 views(id, views, ms), failed(id, message)});
//   reader.read(id, {drawing, pick}, settled)  or  reader.read(id, {picture: {pixels, width, height, channels}, pick}, true)
//   reader.where()   // "worker", or "page" where no worker could start (the same handler, on the main thread)
//
// request may also be a function that returns it: it is called when the request is sent, so that a drawing is
// copied once for the worker, not once per pointer event. options.backend (tests only): (receive) -> {where,
// post(message), stop()} in place of the worker.
//
// ids grow with every drawing; a reply for an id older than one already answered is the caller's to ignore.
(function (global) {
  "use strict";

  const VIEWS_EVERY_MS = 100;  // while the pen moves: the row views at least this often (ms since the last came)
  const QUICK_MS = 16;  // views read in under a frame (a 60 Hz frame: ~16.7 ms) follow every answer nothing newer waits for

  // A worker made from the engine's source text (a Blob URL: works from a server and from file://)
  function workerBackend(source, receive, failed) {
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    const worker = new Worker(url);
    worker.onmessage = (event) => receive(event.data);
    worker.onerror = (event) => { event.preventDefault(); failed(event.message || "the worker failed"); };
    return {where: "worker", post: (message, transfer) => worker.postMessage(message, transfer), stop: () => { worker.terminate(); URL.revokeObjectURL(url); }};
  }

  // The same handler on the page's own thread, each request a task of its own
  function pageBackend(receive) {
    const handle = global.BiLSTMWorker.handler((message) => receive(message));
    return {where: "page", post: (message) => setTimeout(() => handle(message), 0), stop: () => {}};
  }

  function packDrawing(drawing) {  // strokes as one Float64Array of x, y and their lengths: handed over, not copied
    const lengths = Int32Array.from(drawing.strokes, (stroke) => stroke.length);
    const points = new Float64Array(2 * lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const stroke of drawing.strokes) for (const [x, y] of stroke) { points[at++] = x; points[at++] = y; }
    return {width: drawing.width, height: drawing.height, points, lengths};
  }

  function rows(value) {  // web/worker.js's {packed, width} -> rows (Float32Array views of the one buffer)
    if (!value || !value.packed) return value;
    return Array.from({length: value.packed.length / value.width}, (_, r) => value.packed.subarray(r * value.width, (r + 1) * value.width));
  }

  function start(options, hooks) {
    const starting = {kind: "start", model: options.model, useKernel: options.useKernel !== false, stretch: options.stretch || 1};
    let backend = null, kernel = null, inFlight = null, next = null, lastViewsAt = -Infinity, viewsMs = 0, timer = null;
    let viewsOwed = null;  // {id, settled}: the last answer's views, not read yet

    function receive(message) {
      if (message.kind === "ready") { kernel = message.kernel; pump(); return; }
      const answered = inFlight;
      inFlight = null;
      if (message.kind === "answer") {
        // an older drawing's views are never owed once this came
        viewsOwed = message.answer ? {id: message.id, settled: answered.settled} : null;
        const reading = message.reading && {...message.reading, model_input: rows(message.reading.model_input)};
        hooks.answer(message.id, message.answer, reading, message.ms);
      } else if (message.kind === "views") {
        lastViewsAt = performance.now();
        viewsMs = message.ms || 0;
        const views = message.views;
        if (views) {
          hooks.views(message.id, {...views, top_down: rows(views.top_down), bottom_up: rows(views.bottom_up),
                                   states: rows(views.states)}, message.ms);
        }
      } else if (message.kind === "error") {
        hooks.failed(message.id, message.message);
      }
      pump();
    }

    function viewsDue() {
      if (viewsOwed === null) return false;
      const since = performance.now() - lastViewsAt;
      if (viewsOwed.settled || since >= VIEWS_EVERY_MS || (next === null && viewsMs < QUICK_MS)) return true;
      if (next === null && timer === null) timer = setTimeout(() => { timer = null; pump(); }, VIEWS_EVERY_MS - since);
      return false;
    }

    function pump() {  // hand the worker its next request, if it is free
      if (inFlight || kernel === null) return;
      let message = null, transfer = [];
      if (viewsDue()) {
        inFlight = {kind: "views", id: viewsOwed.id};
        message = inFlight;
        viewsOwed = null;
      } else if (next !== null) {
        const request = typeof next.request === "function" ? next.request() : next.request;
        inFlight = {kind: "answer", id: next.id, request, settled: next.settled};
        message = {kind: "answer", id: next.id, ...request, settled: next.settled};
        if (request.drawing) {
          message.drawing = packDrawing(request.drawing);
          transfer = [message.drawing.points.buffer, message.drawing.lengths.buffer];
        }
        next = null;
      } else return;
      backend.post(message, transfer);
    }

    function fallBack(reason) {  // the worker could not start or died: the same handler on the page
      if (backend && backend.where === "page") return;
      if (backend) backend.stop();
      console.warn(`Reading on the page's own thread: ${reason}`);
      const lost = inFlight;
      backend = pageBackend(receive);
      kernel = null;
      inFlight = null;
      if (lost && lost.kind === "answer" && next === null) next = {id: lost.id, request: lost.request, settled: lost.settled};
      backend.post(starting);
    }

    try {
      backend = options.backend ? options.backend(receive) : workerBackend(options.source, receive, fallBack);
      backend.post(starting);
    } catch (error) {  // no Worker, or a Content-Security-Policy without worker-src blob:
      fallBack(error.message);
    }

    return {
      read(id, request, settled = false) { next = {id, request, settled}; pump(); },
      where: () => backend.where,
      kernel: () => kernel,
    };
  }

  global.BiLSTMReader = {start, rows, VIEWS_EVERY_MS, QUICK_MS};
})(typeof window !== "undefined" ? window : globalThis);

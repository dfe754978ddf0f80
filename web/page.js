// The page: the canvas, the reading in the browser, the views, the row walk, the gallery and the presenter keys,
// tied together. The Gradio app (demo.py) and the static build (build_static.py) run this same file; each part
// of the page attaches itself when it is on the page:
//
//   BiLSTMPage.attach("sketchpad" | "answer" | "reading" | "gallery", element, gradio)
//
// gradio: null on the static page; in the Gradio app, the component's {props, trigger, watch} (its js_on_load).
//
// While the pen moves, every change of the drawing goes to the engine's worker (web/reader.js: the newest
// drawing wins, its answer first, the row views as time allows), and nothing is sent anywhere. Readings that come
// back are painted on the next animation frame, the newest only: the main thread takes the pen and draws ink in
// between. When the pen lifts (and on Undo, Clear, a gallery digit, picking another digit of a number), the page
// numbers the action and, in the Gradio app, sends it once: the server reads it again (it is the authority for
// the answer, the compare toggle and the GIF) and its reading replaces the local one if no newer action has
// happened since. An answer that does not come is asked for again (RETRY_MS), at most RETRIES times.
(function (global) {
  "use strict";

  const RETRY_MS = 6000, RETRIES = 2, STEP_MS = 350;  // STEP_MS: Play shows about three rows a second
  const parts = {};
  let page = null;

  function attach(name, element, gradio = null) {
    parts[name] = {element, gradio};
    if (!page && parts.sketchpad && parts.answer && parts.reading) page = start();
    if (!page) return;
    if (parts.gallery && !parts.gallery.wired) page.wireGallery(parts.gallery);
    for (const view of ["answer", "reading"]) if (parts[view].gradio) page.watchServer(view, parts[view].gradio);
  }

  // The server's reading for the page comes with its rows packed (frontend.packed_reading: {float32: base64 of
  // little-endian float32, width}); they become rows of Float32Arrays, as the worker's readings do.
  const rowsOf = (value) => (value && typeof value.float32 === "string"
    ? BiLSTMReader.rows({packed: BiLSTMNetwork.decode(value.float32), width: value.width}) : value);

  function unpacked(reading) {  // every packed field of the reading and of its tutorial's reading
    if (!reading || typeof reading !== "object") return reading;
    const out = {};
    for (const [name, value] of Object.entries(reading)) out[name] = name === "tutorial" ? unpacked(value) : rowsOf(value);
    return out;
  }

  function start() {
    const config = global.BILSTM_PAGE;
    const sketch = parts.sketchpad, answerElement = parts.answer.element, readingElement = parts.reading.element;
    // read by the tests and bench/phone.py, bench/latency.py: answers and views painted, the main thread's time
    // for each paint (ms), and for each answer painted while the pen was down, how far it was behind the pen (ms)
    const stats = {local: 0, views: 0, frames: [], behind: [], painted: []};
    let seq = 0, lastAction = "none", pick = null, row = 28, walking = false, timer = null;
    let shown = {answer: null, reading: null}, retry = null, watched = new Set();

    const pad = BiLSTMCanvas.create(sketch.element, config, {
      started() { seq += 1; lastAction = "stroke"; pick = null; stop(); },
      changed(lifted) {
        if (lifted && lastAction !== "stroke") { seq += 1; lastAction = "stroke"; }  // something else began meanwhile
        readHere();
        if (lifted) finish();
      },
    });

    // ---- reading locally, in the engine's worker; painting the newest reading once per animation frame
    const reader = BiLSTMReader.start({model: global.BILSTM_MODEL, source: global.BILSTM_WORKER_SOURCE,
                                       stretch: global.BILSTM_WORKER_STRETCH},
                                      {answer: gotAnswer, views: gotViews, failed: gotFailure});
    Object.defineProperties(stats, {engine: {get: reader.kernel, enumerable: true}, where: {get: reader.where, enumerable: true}});
    let version = 0, latest = null, views = null, frame = null;  // latest: the newest answer to show; views: its row views
    const asked = new Map();  // version -> {seq, stamp: when its newest point was drawn, pen: down when asked}

    function ask(request, stamp) {  // every change gets a version; the reader reads the newest
      const id = ++version, asking = {seq, stamp, pen: pad.penDown()};
      asked.set(id, asking);
      asked.delete(id - 64);
      reader.read(id, typeof request === "function" ? () => request(asking) : request, !asking.pen);  // settled: views at once
    }

    function readHere() {
      if (pad.points() === 0) {  // nothing drawn: the prompt at once, and any reading still coming is too old
        version += 1;
        latest = views = null;
        show(null, null);
        return;
      }
      ask((asking) => {  // built when the worker is free: one copy of the drawing per reading, not per pointer event
        asking.stamp = pad.lastPointAt();
        asking.sent = performance.now();
        return {drawing: pad.drawing(), pick};
      }, pad.lastPointAt());
    }

    function fresh(id) {  // a reading of this action, and the server's reading of it not shown yet
      const asking = asked.get(id);
      return Boolean(asking) && asking.seq === seq && !(shown.from === "server" && answeredSeq >= seq);
    }

    function gotAnswer(id, answer, reading, ms) {
      if (!fresh(id) || (latest && id < latest.id)) return;
      Object.assign(asked.get(id), {came: performance.now(), ms});
      latest = {id, answer, reading, seq};
      paintSoon();
    }

    function gotViews(id, rowViews) {
      if (!fresh(id) || (views && id < views.id)) return;
      views = {id, seq, ...rowViews};
      paintSoon();
    }

    function gotFailure(id, message) {
      if (!fresh(id) || (latest && id < latest.id)) return;
      latest = {id, answer: null, reading: null, seq, message: `Could not read that drawing: ${message}`};
      views = null;
      paintSoon();
    }

    const pacer = BiLSTMPacer.create();  // which frames may paint a reading: those that keep their time

    function paintSoon() {
      if (frame === null) frame = requestAnimationFrame(paintNow);
    }

    function unpainted() {  // the newest answer with the newest row views of its action, if not on the page yet
      if (!latest) return null;
      let reading = latest.reading;
      if (reading && views && views.seq === latest.seq && views.id <= latest.id) {
        const {top_down, bottom_up, states, importance} = views;
        reading = {...reading, top_down, bottom_up, states, importance};
      }
      const viewsId = reading && reading.top_down ? views.id : null;
      const newAnswer = shown.answerId !== latest.id, newViews = viewsId !== null && shown.viewsId !== viewsId;
      return newAnswer || newViews ? {...latest, reading, viewsId, newAnswer, newViews} : null;
    }

    function paintNow(now) {
      frame = null;
      const may = pacer.frame(now), next = unpainted();  // every frame is timed while the pen is down or a reading waits
      if (pad.penDown() || (next && !may)) frame = requestAnimationFrame(paintNow);
      if (!next || !may) return;
      const started = performance.now();
      pacer.painted();
      show(next.answer, next.reading, {local: pad.penDown(), message: next.message, from: "engine"});
      shown.answerId = next.id;
      shown.viewsId = next.viewsId;
      const done = performance.now(), asking = asked.get(next.id) || {};
      stats.frames.push(done - started);
      if (next.newAnswer) {
        stats.local += 1;
        if (asking.pen) stats.behind.push(done - asking.stamp);
      }
      if (next.newViews) stats.views += 1;
      // when: its newest point drawn (stamp), its request sent, its answer came back (and the worker's ms), painted
      stats.painted.push({at: done, id: next.id, views: next.viewsId, stamp: asking.stamp, sent: asking.sent,
                          came: asking.came, ms: asking.ms, skipping: pacer.skipping()});
      for (const list of [stats.frames, stats.behind, stats.painted]) if (list.length > 600) list.shift();
    }

    function show(answer, reading, {local = false, message = null, from = "engine"} = {}) {
      if (!walking) row = 28;
      shown.from = from;
      showAnswer(answer, {local, message});
      showReading(reading, from);
    }

    function showAnswer(answer, {local = false, message = null} = {}) {
      shown.answer = answer;
      BiLSTMRender.answer(answerElement, answer, {local, message});
      pad.showDigits(answer ? answer.digits : null, answer ? answer.pick : null);
    }

    function showReading(reading, from) {
      shown.reading = reading;
      BiLSTMRender.reading(readingElement, reading, row, timer !== null);
      pad.showBand(walking && reading ? reading.bands : null, row);
      const root = readingElement.querySelector(".reading");
      if (root.dataset.from !== from) root.dataset.from = from;
    }

    // ---- actions the server hears about (Gradio only): numbered, sent once, asked again if unanswered
    function send(payload) {
      if (!sketch.gradio) return;
      clearTimeout(retry);
      const attempt = (left) => {
        sketch.gradio.props.value = JSON.stringify(payload);
        sketch.gradio.trigger("lift");
        retry = left > 0 ? setTimeout(() => { if (answeredSeq < payload.seq) attempt(left - 1); }, RETRY_MS) : null;
      };
      attempt(payload.strokes.length ? RETRIES : 0);  // an empty canvas is answered with no reading: nothing to wait for
    }
    let answeredSeq = 0;

    function finish() {  // the pen lifted (or Undo, Clear, a digit picked): the finished drawing, read here and sent
      readHere();
      send({...pad.drawing(), seq, pick});
    }

    function act(kind) {  // a new action: anything older that arrives later changes nothing
      seq += 1;
      lastAction = kind;
      stop();
    }

    function undo() {  // after a gallery digit or an upload there is no stroke to undo: their reading stays
      if (!pad.undo()) return;
      act("stroke");
      pick = null;
      finish();
    }

    function clear() {  // also clears a gallery digit's or an upload's reading (the canvas is empty then)
      if (pad.penDown() || (!pad.clear() && !shown.answer)) return;
      act("stroke");
      pick = null;
      finish();
    }

    function choose(index) {  // walk another digit of a number
      const digits = shown.answer ? shown.answer.digits : [];
      if (!digits || digits.length < 2 || lastAction === "example" || lastAction === "upload") return;
      const next = Math.min(Math.max(index, 0), digits.length - 1);
      if (next === shown.answer.pick) return;
      act("stroke");
      pick = next;
      finish();
    }

    sketch.element.querySelector("#undo").addEventListener("click", undo);
    sketch.element.querySelector("#clear").addEventListener("click", clear);
    answerElement.addEventListener("click", (event) => {
      const button = event.target.closest(".digit-pick");
      if (button) choose(Number(button.dataset.pick));
    });

    // ---- the server's readings (Gradio): shown when they answer the newest action
    function watchServer(name, gradio) {
      if (watched.has(name)) return;
      watched.add(name);
      gradio.watch("value", () => {
        const value = name === "reading" ? unpacked(gradio.props.value) : gradio.props.value;
        if (!value) {
          if (lastAction === "upload") show(null, null, {from: "server"});  // an upload without ink
          return;
        }
        if (value.seq !== seq) return;  // an older action's reading, overtaken by a newer one
        answeredSeq = Math.max(answeredSeq, value.seq);
        shown.from = "server";
        if (frame !== null) { cancelAnimationFrame(frame); frame = null; }  // a local reading waiting: the server's wins
        if (name === "answer") showAnswer(value);
        else showReading(value, "server");
      });
    }

    // ---- the gallery: real MNIST test digits, read here from their pixels (and by the server in Gradio)
    function wireGallery(gallery) {
      gallery.wired = true;
      gallery.element.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-name]");
        if (!button || pad.penDown()) return;
        const image = button.querySelector("img");
        pad.clear();
        act("example");
        pick = null;
        const surface = document.createElement("canvas");
        surface.width = image.naturalWidth;
        surface.height = image.naturalHeight;
        const context = surface.getContext("2d");
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, surface.width, surface.height).data;
        latest = views = null;
        ask({picture: {pixels, width: surface.width, height: surface.height, channels: 4}, pick: null}, performance.now());
        if (gallery.gradio) {
          gallery.gradio.props.value = JSON.stringify({example: button.dataset.name, seq});
          gallery.gradio.trigger("select");
        }
      });
    }

    // ---- an upload (Gradio only): a new action; its reading comes from the server
    document.addEventListener("change", (event) => {
      if (event.target.closest && event.target.closest("#upload") && event.target.type === "file") startUpload();
    }, true);
    document.addEventListener("drop", (event) => { if (event.target.closest && event.target.closest("#upload")) startUpload(); }, true);
    function startUpload() {  // the server reads the photo; the page tells it which action this is
      pad.clear();
      act("upload");
      if (parts.gallery && parts.gallery.gradio) parts.gallery.gradio.props.value = JSON.stringify({upload: true, seq});
      show(null, null, {message: "Reading the photo…", from: "server"});
    }

    // ---- the row walk: slider, Play and keys move the row here; no request
    function showRow(next, keepWalking = true) {
      row = Math.min(28, Math.max(1, Math.round(next)));
      walking = keepWalking;
      BiLSTMRender.reading(readingElement, shown.reading, row, timer !== null);
      pad.showBand(walking && shown.reading ? shown.reading.bands : null, row);
    }
    function stop() {
      clearInterval(timer);
      timer = null;
      walking = false;
      if (shown.reading) showRow(28, false);
    }
    function play() {
      if (!shown.reading) return;
      if (row >= 28) showRow(1);
      timer = setInterval(() => (row >= 28 ? stop() : showRow(row + 1)), STEP_MS);
      showRow(row);
    }
    const toggle = () => (timer !== null ? (clearInterval(timer), timer = null, showRow(row)) : play());
    readingElement.addEventListener("input", (event) => {
      if (event.target.id !== "row-slider") return;
      clearInterval(timer);
      timer = null;
      showRow(Number(event.target.value));
    });
    readingElement.addEventListener("click", (event) => { if (event.target.closest("#play")) toggle(); });

    document.addEventListener("keydown", (event) => {  // presenter keys; never while typing in a field
      const target = event.target;
      if (event.defaultPrevented || event.altKey || event.metaKey) return;
      if (target.closest && target.closest("input:not([type=range]):not([type=checkbox]), textarea, select, [contenteditable=''], [contenteditable=true]")) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (key === "z" && event.ctrlKey) { event.preventDefault(); undo(); return; }
      if (event.ctrlKey) return;
      const actions = {u: undo, c: clear, "[": () => choose((shown.answer?.pick ?? 0) - 1), "]": () => choose((shown.answer?.pick ?? 0) + 1)};
      if (key in actions) { event.preventDefault(); actions[key](); return; }
      if (!shown.reading) return;
      const walk = {" ": toggle, ArrowLeft: () => showRow(row - 1), ArrowRight: () => showRow(row + 1), Home: () => showRow(1), End: () => showRow(28)};
      if (!(key in walk)) return;
      if (key === " " && target.closest && target.closest("button")) return;  // Space on a button clicks it
      if (key === "ArrowLeft" || key === "ArrowRight") { if (target.id === "row-slider") return; }  // the slider moves itself
      event.preventDefault();
      if (key !== " ") { clearInterval(timer); timer = null; }
      walk[key]();
    });

    show(null, null);
    global.bilstm = {stats, reader, pad, state: () => ({seq, lastAction, pick, row, from: shown.from, answer: shown.answer, reading: shown.reading})};
    return {wireGallery, watchServer};
  }

  global.BiLSTMPage = {attach};
  if (typeof document !== "undefined") document.dispatchEvent(new Event("bilstm-ready"));  // parts that waited
})(typeof window !== "undefined" ? window : globalThis);

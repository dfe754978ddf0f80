// The reading in the browser: the twin of reader/readings.py. One drawing or picture ->
// the page's answer and reading values, the same numbers the server computes (tests/test_engine.py compares
// them on 1,000 inputs), from web/strokes.js, web/preprocess.js and web/lstm.js.
//
//   const engine = BiLSTMEngine.create(window.BILSTM_MODEL);   // frontend.browser_model(): weights + constants
//   const result = engine.readDrawing({width: 560, height: 280, strokes: [[[70, 56], [210, 56], [126, 238]]]});
//   result.answer.digit, result.answer.probs, result.reading.top_down ...   // readings.read_drawing's values
//
// In two steps, as the page reads while the pen moves (web/worker.js): the answer first, then the row views.
//   const first = engine.answerDrawing(drawing, pick);  // {answer, reading: no row views yet, digit} or null
//   const views = engine.rowViews(first.digit);         // {top_down, bottom_up, states, importance}
// answerDrawing costs the raster, the preprocessing and one pass of the network per digit; rowViews the 85
// readings of the walked digit (about 2,400 LSTM steps), most of a whole reading's time.
(function (global) {
  "use strict";

  function create(exported, useKernel = true) {
    const c = exported.constants, S = global.BiLSTMStrokes, P = global.BiLSTMPreprocess;
    const network = global.BiLSTMNetwork.create(exported, useKernel);

    // What web/segment.js reads with: the split at empty columns, place, and the network.
    const reader = {constants: c, splitColumns: (ink, w, h) => P.splitColumns(c, ink, w, h), place: P.place,
                    readDigit: network.readDigit, judge: network.judge,
                    strokeMasks: (drawing) => drawing.strokes.map((stroke) =>  // segment.stroke_masks
                      S.rasterize(c, {width: drawing.width, height: drawing.height, strokes: [stroke]}).ink)};

    // readings.digits_of_*: [{digit, placement, box}] left to right, split at empty columns and merged or cut where
    // the model reads them better (segment.split_digits). maxReads: readings the cuts may spend beyond the parts'
    // (undefined: the rule's MAX_READS; 0: split at empty columns only, for the frames while the pen moves).
    function digitsOf(ink, width, height, maxReads, drawing = null) {
      return global.BiLSTMSegment.segment(reader, ink, width, height, maxReads, drawing);
    }

    // The digits of one picture -> {answer, reading without its row views, digit: the walked one's 28x28}, as
    // readings.read_parts: every digit judged, the one under the pen (or pick) walked. drawing: the strokes it
    // came from (null for a picture), scale: raster pixels per canvas pixel.
    function answerOf(parts, pick, drawing, scale) {
      if (!parts.length) return null;
      const boxes = parts.map((part) => part.box.map((v) => Math.round(v / scale * 100) / 100));
      if (pick === null || pick === undefined) {
        if (drawing) {  // readings.chosen_digit: the digit nearest the last point drawn
          const stroke = drawing.strokes[drawing.strokes.length - 1], x = stroke[stroke.length - 1][0];
          const distances = boxes.map((box) => Math.max(box[0] - x, x - box[2], 0));
          pick = distances.indexOf(Math.min(...distances));
        } else pick = 0;
      }
      pick = Math.min(Math.max(Math.trunc(pick), 0), parts.length - 1);
      const verdicts = parts.map((part) => network.judge(part.logits || network.readDigit(part.digit)));
      const digits = verdicts.map((v, i) => ({digit: String(v.digit), confidence: v.confidence, probs: v.probs,
                                              not_a_digit: v.not_a_digit, box: boxes[i]}));
      const chosen = verdicts[pick], walked = parts[pick];
      const answer = {digit: String(chosen.digit), confidence: chosen.confidence, probs: chosen.probs,
                      not_a_digit: chosen.not_a_digit,
                      number: verdicts.some((v) => v.not_a_digit) ? null : verdicts.map((v) => v.digit).join(""),
                      digits, pick};
      const modelInput = [];
      for (let r = 0; r < 28; r++) modelInput.push(Array.from(walked.digit.subarray(r * 28, r * 28 + 28)));
      let bands = null;
      if (drawing) {  // readings.bands: where each row of the 28x28 lies on the canvas, as fractions of it
        const clip = (v) => Math.min(Math.max(v, 0), 1);
        const [x0, x1] = P.inputColumns(walked.placement);
        bands = {x: [Math.max(0, x0 / scale / drawing.width), Math.min(1, x1 / scale / drawing.width)],
                 rows: P.inputRows(walked.placement).map(([y0, y1]) => [clip(y0 / scale / drawing.height), clip(y1 / scale / drawing.height)])};
      }
      const reading = {pick, digit: String(chosen.digit), not_a_digit: chosen.not_a_digit,
                       points: drawing ? drawing.strokes.reduce((n, s) => n + s.length, 0) : null,
                       model_input: modelInput, bands, tutorial: null, kept: null};
      return {answer, reading, digit: walked.digit};
    }

    function rowViews(digit) {  // the walked digit's 56 partial readings, hidden states and row importance
      const {top_down, bottom_up, states, importance} = network.readRows(digit);
      return {top_down, bottom_up, states, importance};
    }

    function answerDrawing(drawing, pick = null, maxReads = undefined) {  // throws for too much ink, as strokes.rasterize
      if (!drawing.strokes.length) return null;
      const raster = S.rasterize(c, drawing), ink = P.rasterInk(c, raster);
      return answerOf(digitsOf(ink, raster.width, raster.height, maxReads, drawing), pick, drawing, raster.scale);
    }

    function answerPicture(rgb, width, height, channels, pick = null, maxReads = undefined) {
      return answerOf(digitsOf(P.inkMap(c, rgb, width, height, channels), width, height, maxReads), pick, null, 1);
    }

    const whole = (first) => (first ? {answer: first.answer, reading: {...first.reading, ...rowViews(first.digit)}} : null);

    return {constants: c, sha256: exported.sha256, kernel: network.kernel,
            answerDrawing, answerPicture, rowViews,
            readDrawing: (drawing, pick = null, maxReads = undefined) => whole(answerDrawing(drawing, pick, maxReads)),  // readings.read_drawing
            readPicture: (rgb, width, height, channels, pick = null, maxReads = undefined) =>
              whole(answerPicture(rgb, width, height, channels, pick, maxReads)),
            rasterize: (drawing) => S.rasterize(c, drawing), rasterInk: (raster) => P.rasterInk(c, raster),
            inkMap: (rgb, width, height, channels) => P.inkMap(c, rgb, width, height, channels),
            readRows: network.readRows, readDigit: network.readDigit, judge: network.judge};
  }

  global.BiLSTMEngine = {create};
})(typeof window !== "undefined" ? window : globalThis);

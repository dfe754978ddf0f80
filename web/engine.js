// The reading in the browser: the same numbers the server computes, from the same strokes.
//
//   const engine = BiLSTMEngine.create(window.BILSTM_MODEL);   // model.browser_model(): weights + constants
//   const result = engine.readDrawing({width: 280, height: 280, strokes: [[[70, 56], [210, 56], [126, 238]]]});
//   result.answer.digit, result.answer.probs, result.reading.top_down ...   // demo.py's answer and reading values
//
// Each step is a port of the Python reference, written to give the same numbers (tests/test_engine.py runs
// both on 1,000+ inputs in Chromium and compares them):
//   rasterize      strokes.rasterize: a pixel is ink when its centre is within the brush's radius of a segment
//   inkMap         model._ink_map for a grey or RGB picture (float32 arithmetic emulated with Math.fround)
//   splitColumns   model.split_columns: digits side by side, split at empty columns (then web/segment.js merges
//                  and cuts them as reader/segment.py does: digits that touch)
//   place          model.place: crop, Lanczos to 20 px exactly as Pillow does it for "F" images, centre of mass
//   readRows       model.read_rows: the BiLSTM, its hidden states, and the 56 partial readings
//   rowImportance  model.row_importance: the 28 readings with one row blanked
//   judge          model.judge: softmax, and "not a digit" when the score is under the calibrated threshold
// Python computes the LSTM in float32 (torch), this in float64: they agree to ~1e-6.
//
// The 85 readings of the row views share most of their work: every sequence reads rows of the same image or
// blank rows, so each row's input term (W_ih x + b) is computed once; the prefix readings continue the full
// image's forward states, the suffix readings its backward states, and the state after k blank rows is the same
// for every image (computed once per model). About 2,400 LSTM steps instead of 85 x 56 = 4,760.
(function (global) {
  "use strict";

  const f32 = Math.fround;

  function roundHalfEven(x) {  // Python's round() (and "{:.0f}") of a float; render.js uses it too
    const floor = Math.floor(x), rest = x - floor;
    if (rest > 0.5) return floor + 1;
    if (rest < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }

  function decode(base64) {  // little-endian float32, as model.browser_model() writes it
    const binary = atob(base64), bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  // ---------------------------------------------------------------------------------------------
  // Strokes -> ink: strokes.rasterize, the same float64 arithmetic in the same order.

  function rasterScale(c, width, height) {
    const longest = Math.max(width, height);
    return longest <= c.max_raster ? 1.0 : c.max_raster / longest;
  }

  function keptPoints(stroke, scale, step) {  // strokes._kept: drop points within step of the last kept
    const points = stroke.map(([x, y]) => [x * scale, y * scale]);
    if (points.length < 3) return points;
    const kept = [points[0]];
    let [x, y] = points[0];
    for (let i = 1; i < points.length - 1; i++) {
      const dx = points[i][0] - x, dy = points[i][1] - y;
      if (dx * dx + dy * dy >= step * step) { kept.push(points[i]); [x, y] = points[i]; }
    }
    kept.push(points[points.length - 1]);
    return kept;
  }

  function radiusOf(c, drawing) {  // strokes._radius: the brush's radius in raster pixels
    return c.brush_fraction * Math.min(drawing.width, drawing.height) * rasterScale(c, drawing.width, drawing.height) / 2;
  }

  function segmentsOf(c, drawing) {
    const scale = rasterScale(c, drawing.width, drawing.height), step = Math.max(1.0, radiusOf(c, drawing) / 4);
    const segments = [];
    for (const stroke of drawing.strokes) {
      const p = keptPoints(stroke, scale, step);
      if (p.length === 1) segments.push([p[0][0], p[0][1], p[0][0], p[0][1]]);
      else for (let i = 0; i + 1 < p.length; i++) segments.push([p[i][0], p[i][1], p[i + 1][0], p[i + 1][1]]);
    }
    return segments;
  }

  function interval(ax, ay, bx, by, y, r) {  // strokes._interval for one (segment, row)
    let low = Infinity, high = -Infinity;
    for (const [cx, cy] of [[ax, ay], [bx, by]]) {
      const dy = y - cy;
      if (dy * dy <= r * r) {
        const half = Math.sqrt(r * r - dy * dy);
        low = Math.min(low, cx - half);
        high = Math.max(high, cx + half);
      }
    }
    const dx = bx - ax, dy = by - ay;
    const length = Math.sqrt(dx * dx + dy * dy);
    if (length > 0) {
      let bandLow = -Infinity, bandHigh = Infinity;
      const across = dx * (y - ay);
      if (dy !== 0) {
        const p0 = (across - r * length) / dy, p1 = (across + r * length) / dy;
        bandLow = ax + Math.min(p0, p1);
        bandHigh = ax + Math.max(p0, p1);
      }
      const flat = dy === 0 && Math.abs(y - ay) > r;
      const along = dy * (y - ay);
      if (dx !== 0) {
        const q0 = (0.0 - along) / dx, q1 = (length * length - along) / dx;
        bandLow = Math.max(bandLow, ax + Math.min(q0, q1));
        bandHigh = Math.min(bandHigh, ax + Math.max(q0, q1));
      }
      const upright = dx === 0 && (along < 0 || along > length * length);
      if (!flat && !upright && bandLow <= bandHigh) {
        low = Math.min(low, bandLow);
        high = Math.max(high, bandHigh);
      }
    }
    return [low, high];
  }

  function inkRows(c, drawing, segments) {  // strokes.ink_rows: the measure of rasterize's work
    const radius = radiusOf(c, drawing);
    let rows = 0;
    for (const [, ay, , by] of segments) {
      const top = Math.max(Math.ceil(Math.min(ay, by) - radius - 0.5), 0);
      const bottom = Math.floor(Math.max(ay, by) + radius - 0.5);
      rows += Math.max(bottom - top + 1, 0);
    }
    return rows;
  }

  function rasterize(c, drawing) {  // -> {ink: Uint8Array (h*w), width, height, scale}
    const scale = rasterScale(c, drawing.width, drawing.height);
    const width = Math.floor(drawing.width * scale + 0.5), height = Math.floor(drawing.height * scale + 0.5);
    const radius = radiusOf(c, drawing);
    const segments = segmentsOf(c, drawing);
    const rows = inkRows(c, drawing, segments);
    if (rows > c.max_ink_rows) {
      throw new Error(`too much ink to draw (${rows.toLocaleString("en")} rows of strokes; at most ` +
                      `${c.max_ink_rows.toLocaleString("en")}): fewer or shorter strokes, please`);
    }
    const ink = new Uint8Array(width * height);
    for (const [ax, ay, bx, by] of segments) {
      const top = Math.max(Math.ceil(Math.min(ay, by) - radius - 0.5), 0);
      const bottom = Math.min(Math.floor(Math.max(ay, by) + radius - 0.5), height - 1);
      for (let row = top; row <= bottom; row++) {
        const [low, high] = interval(ax, ay, bx, by, row + 0.5, radius);
        const first = Math.max(Math.ceil(low - 0.5), 0), last = Math.min(Math.floor(high - 0.5), width - 1);
        if (first <= last) ink.fill(1, row * width + first, row * width + last + 1);
      }
    }
    return {ink, width, height, scale};
  }

  // ---------------------------------------------------------------------------------------------
  // Picture -> ink map: model._ink_map for pictures without alpha (float32 arithmetic, as numpy does it).

  const LUMA = [f32(0.299), f32(0.587), f32(0.114)];

  function medianF32(values) {  // np.median of a float32 array of even length: the mean of the middle two
    const sorted = Float32Array.from(values).sort(), n = sorted.length;
    return n % 2 ? sorted[(n - 1) / 2] : f32(sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  // rgb: a Uint8 array of w*h*channels (channels 1: grey, 3 or 4: RGB, alpha ignored) -> Float32Array ink
  function inkMap(c, rgb, width, height, channels) {
    if (Math.max(width, height) > c.max_side) throw new Error(`picture larger than ${c.max_side} px`);
    const gray = new Float32Array(width * height);
    for (let i = 0; i < width * height; i++) {
      const r = f32(rgb[i * channels] / 255);
      const g = channels === 1 ? r : f32(rgb[i * channels + 1] / 255);
      const b = channels === 1 ? r : f32(rgb[i * channels + 2] / 255);
      gray[i] = f32(f32(f32(r * LUMA[0]) + f32(g * LUMA[1])) + f32(b * LUMA[2]));
    }
    const border = [];
    for (let x = 0; x < width; x++) border.push(gray[x], gray[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) border.push(gray[y * width], gray[y * width + width - 1]);
    const background = medianF32(border);  // a float32, used as a float64 below (Python's float())
    const dark = background < 0.5;
    const ink = new Float32Array(width * height);
    let strongest = -Infinity;
    for (let i = 0; i < ink.length; i++) {
      ink[i] = dark ? gray[i] : f32(1.0 - gray[i]);
      strongest = Math.max(strongest, ink[i]);
    }
    const paper = dark ? background : 1.0 - background;
    if (strongest - paper < 0.2) return ink.fill(0);
    const paper32 = f32(paper), range32 = f32(strongest - paper);
    const floor32 = f32(c.ink_floor), keep32 = f32(1.0 - c.ink_floor);
    for (let i = 0; i < ink.length; i++) {
      const stretched = f32(f32(ink[i] - paper32) / range32);
      ink[i] = Math.min(Math.max(f32(f32(stretched - floor32) / keep32), 0), 1);
    }
    return ink;
  }

  function rasterInk(c, raster) {  // a drawing's raster read as a picture: black ink on white, as render_drawing
    const gray = new Uint8Array(raster.ink.length);
    for (let i = 0; i < gray.length; i++) gray[i] = raster.ink[i] ? 0 : 255;
    return inkMap(c, gray, raster.width, raster.height, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Ink map -> digits: model.split_columns and model.place.

  function splitColumns(c, ink, width, height) {
    const inked = new Uint8Array(width);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (ink[y * width + x] > 0) inked[x] = 1;
    const runs = [];
    for (let x = 0; x < width; x++) {
      if (inked[x] && (x === 0 || !inked[x - 1])) runs.push([x, x + 1]);
      else if (inked[x]) runs[runs.length - 1][1] = x + 1;
    }
    if (!runs.length) return [];
    const heights = runs.map(([x0, x1]) => {
      let first = -1, last = -1;
      for (let y = 0; y < height; y++) {
        for (let x = x0; x < x1; x++) if (ink[y * width + x] > 0) { if (first < 0) first = y; last = y; break; }
      }
      return last - first + 1;
    });
    const tallest = Math.max(...heights);
    return runs.filter(([x0, x1], i) => Math.max(heights[i], x1 - x0) >= c.speck * tallest);
  }

  function lanczos(x) {  // Pillow's lanczos_filter (Resample.c)
    const sinc = (v) => { if (v === 0.0) return 1.0; v = v * Math.PI; return Math.sin(v) / v; };
    return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
  }

  function coefficients(inSize, outSize) {  // Pillow's precompute_coeffs for box (0, inSize), LANCZOS
    const scale = inSize / outSize, filterscale = Math.max(scale, 1.0), support = 3.0 * filterscale;
    const ss = 1.0 / filterscale, out = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = 0 + (xx + 0.5) * scale;
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
      const k = new Float64Array(xmax);
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) { k[x] = lanczos((x + xmin - center + 0.5) * ss); ww += k[x]; }
      if (ww !== 0.0) for (let x = 0; x < xmax; x++) k[x] /= ww;
      out.push({xmin, k});
    }
    return out;
  }

  // Pillow's resize of an "F" image with LANCZOS: horizontal pass, then vertical; a pass is skipped where the
  // size does not change; sums in float64, each pass stored as float32.
  function resizeF(pixels, width, height, newWidth, newHeight) {
    let data = pixels, w = width;
    if (newWidth !== width) {
      const cs = coefficients(width, newWidth), out = new Float32Array(newWidth * height);
      for (let y = 0; y < height; y++) {
        for (let xx = 0; xx < newWidth; xx++) {
          const {xmin, k} = cs[xx];
          let ss = 0.0;
          for (let x = 0; x < k.length; x++) ss += data[y * w + x + xmin] * k[x];
          out[y * newWidth + xx] = ss;
        }
      }
      data = out; w = newWidth;
    }
    if (newHeight !== height) {
      const cs = coefficients(height, newHeight), out = new Float32Array(w * newHeight);
      for (let yy = 0; yy < newHeight; yy++) {
        const {xmin: ymin, k} = cs[yy];
        for (let x = 0; x < w; x++) {
          let ss = 0.0;
          for (let y = 0; y < k.length; y++) ss += data[(y + ymin) * w + x] * k[y];
          out[yy * w + x] = ss;
        }
      }
      data = out;
    }
    return data;
  }

  // ink (Float32Array h*w) columns [x0, x1) -> {digit: Float32Array(784), placement, box} or null (model.place)
  function place(ink, width, height, x0 = 0, x1 = width, factor = 1) {
    let top = Infinity, bottom = -1, left = Infinity, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = x0; x < x1; x++) {
        if (ink[y * width + x] > 0) {
          top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
        }
      }
    }
    if (bottom < 0) return null;
    const h = bottom - top + 1, w = right - left + 1;
    const crop = new Float32Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) crop[y * w + x] = ink[(y + top) * width + x + left];
    const scale = 20.0 / Math.max(h, w);
    const newW = Math.max(1, roundHalfEven(w * scale)), newH = Math.max(1, roundHalfEven(h * scale));
    const box = resizeF(crop, w, h, newW, newH);
    let most = 0;
    for (let i = 0; i < box.length; i++) { box[i] = Math.max(box[i], 0); most = Math.max(most, box[i]); }
    if (most <= 0.0) return null;
    for (let i = 0; i < box.length; i++) box[i] = f32(box[i] / most);
    let total = 0, sumY = 0, sumX = 0;  // centre of mass in float64, as model.place
    const rowSums = new Float64Array(newH), colSums = new Float64Array(newW);
    for (let y = 0; y < newH; y++) for (let x = 0; x < newW; x++) { rowSums[y] += box[y * newW + x]; colSums[x] += box[y * newW + x]; }
    for (let y = 0; y < newH; y++) { total += rowSums[y]; sumY += rowSums[y] * y; }
    for (let x = 0; x < newW; x++) sumX += colSums[x] * x;
    const shiftY = roundHalfEven(14.0 - sumY / total), shiftX = roundHalfEven(14.0 - sumX / total);
    const digit = new Float32Array(784);
    for (let y = 0; y < newH; y++) {
      for (let x = 0; x < newW; x++) {
        const ty = y + shiftY, tx = x + shiftX;
        if (ty >= 0 && ty < 28 && tx >= 0 && tx < 28) digit[ty * 28 + tx] = box[y * newW + x];
      }
    }
    const placement = {reduce: factor, crop_top: top, crop_left: left, scale_y: newH / h, scale_x: newW / w,
                       top: shiftY, left: shiftX};
    const box_ = [x0 * factor, top * factor, x1 * factor, (bottom + 1) * factor];
    return {digit, placement, box: box_};
  }

  function inputRows(p) {  // model.Placement.input_rows: the band of the picture that becomes each row
    const bands = [];
    for (let r = 0; r < 28; r++) {
      bands.push([p.reduce * (p.crop_top + (r - p.top) / p.scale_y), p.reduce * (p.crop_top + (r + 1 - p.top) / p.scale_y)]);
    }
    return bands;
  }

  function inputColumns(p) {
    return [p.reduce * (p.crop_left + (0 - p.left) / p.scale_x), p.reduce * (p.crop_left + (28 - p.left) / p.scale_x)];
  }

  // ---------------------------------------------------------------------------------------------
  // The BiLSTM

  const sigmoid = (x) => 1 / (1 + Math.exp(-x));

  function softmax(logits) {
    const top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  function create(exported, useKernel = true) {
    const c = exported.constants, H = exported.hidden, G = 4 * H, data = decode(exported.data);
    const tensor = (name) => { const [offset, size] = exported.tensors[name]; return data.subarray(offset, offset + size); };
    const directions = ["", "_reverse"].map((suffix) => {
      const wih = tensor(`lstm.weight_ih_l0${suffix}`), whh = tensor(`lstm.weight_hh_l0${suffix}`);
      const bias = new Float64Array(G), bih = tensor(`lstm.bias_ih_l0${suffix}`), bhh = tensor(`lstm.bias_hh_l0${suffix}`);
      for (let j = 0; j < G; j++) bias[j] = bih[j] + bhh[j];
      return {wih, whh, bias};
    });
    const headW = tensor("head.weight"), headB = tensor("head.bias");
    const blankRow = new Float32Array(28).fill(0);

    // Everything the LSTM steps touch lives in one memory: WebAssembly's when the browser has SIMD (web/kernel.wat
    // runs a whole step there, about 3x faster than JavaScript), else a plain buffer and the same step below.
    // Layout in bytes: W_hh^T of each direction (64 x 256 float32), then the batch's h and c (MAX_BATCH x 64
    // each), gates (MAX_BATCH x 256), the input terms (per direction: 28 rows of this digit, then the blank
    // row), and the index of the term each sequence reads at this step.
    const MAX_BATCH = 128, BLANK = 28, TERM = G * 4;
    const H_AT = 2 * H * G * 4, C_AT = H_AT + MAX_BATCH * H * 4, G_AT = C_AT + MAX_BATCH * H * 4;
    const T_AT = G_AT + MAX_BATCH * TERM, I_AT = T_AT + 2 * 29 * TERM, BYTES = I_AT + MAX_BATCH * 4;
    let memory = null, kernel = "javascript", wasmStep = null;
    if (useKernel && global.BILSTM_KERNEL && typeof WebAssembly === "object") {
      try {
        const bytes = Uint8Array.from(atob(global.BILSTM_KERNEL), (ch) => ch.charCodeAt(0));
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
        if (instance.exports.memory.buffer.byteLength < BYTES) throw new Error("kernel memory too small");
        memory = instance.exports.memory.buffer;
        wasmStep = instance.exports.step;
        kernel = "webassembly";
      } catch (error) {
        wasmStep = null;  // no WebAssembly SIMD in this browser: the JavaScript step below
      }
    }
    memory = memory || new ArrayBuffer(BYTES);
    const weightsT = new Float32Array(memory, 0, 2 * H * G), hs = new Float32Array(memory, H_AT, MAX_BATCH * H);
    const cs = new Float32Array(memory, C_AT, MAX_BATCH * H), gates = new Float32Array(memory, G_AT, MAX_BATCH * G);
    const terms = new Float32Array(memory, T_AT, 2 * 29 * G), index = new Int32Array(memory, I_AT, MAX_BATCH);
    directions.forEach(({whh}, d) => {
      for (let j = 0; j < G; j++) for (let k = 0; k < H; k++) weightsT[d * H * G + k * G + j] = whh[j * H + k];
    });

    function setTerm(d, slot, row) {  // terms[d][slot] = W_ih x + b_ih + b_hh, x the row normalised as forward() does
      const {wih, bias} = directions[d], at = (d * 29 + slot) * G;
      const x = Array.from(row, (v) => f32(f32(v - f32(exported.mean)) / f32(exported.std)));
      for (let j = 0; j < G; j++) {
        let s = bias[j];
        for (let i = 0; i < 28; i++) s += wih[j * 28 + i] * x[i];
        terms[at + j] = s;
      }
    }
    setTerm(0, BLANK, blankRow);
    setTerm(1, BLANK, blankRow);
    function setDigit(digit) {
      for (const d of [0, 1]) for (let r = 0; r < 28; r++) setTerm(d, r, digit.subarray(r * 28, r * 28 + 28));
    }

    function jsStep(d, batch) {  // kernel.wat's step, in JavaScript (float64 arithmetic, float32 storage)
      const whh = directions[d].whh;
      for (let b = 0; b < batch; b++) {
        const gb = b * G, hb = b * H, from = (index[b] - T_AT) / 4;
        for (let j = 0; j < G; j++) {
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let k = 0, row = j * H; k < H; k += 4) {
            s0 += whh[row + k] * hs[hb + k];
            s1 += whh[row + k + 1] * hs[hb + k + 1];
            s2 += whh[row + k + 2] * hs[hb + k + 2];
            s3 += whh[row + k + 3] * hs[hb + k + 3];
          }
          gates[gb + j] = terms[from + j] + ((s0 + s1) + (s2 + s3));
        }
        for (let k = 0; k < H; k++) {
          const i = sigmoid(gates[gb + k]), f = sigmoid(gates[gb + H + k]);
          const g = Math.tanh(gates[gb + 2 * H + k]), o = sigmoid(gates[gb + 3 * H + k]);
          cs[hb + k] = f * cs[hb + k] + i * g;
          hs[hb + k] = o * Math.tanh(cs[hb + k]);
        }
      }
    }
    const step = wasmStep ? (d, batch) => wasmStep(d * H * G * 4, H_AT, C_AT, G_AT, I_AT, batch) : jsStep;

    // Run sequences side by side, one direction at a time. jobs: [{d, start: {h, c} or null, rows: [r, ...]}],
    // rows in reading order, r in 0..27 or BLANK -> the final {h, c} of each (Float32Array(H) each);
    // record(job, t, h, c) after every step, if given.
    function run(jobs, record) {
      const out = new Array(jobs.length);
      for (const d of [0, 1]) {
        const mine = jobs.map((job, number) => ({job, number})).filter(({job}) => job.d === d);
        if (!mine.length) continue;
        if (mine.length > MAX_BATCH) throw new Error(`at most ${MAX_BATCH} sequences at once`);
        mine.sort((a, b) => b.job.rows.length - a.job.rows.length);  // longest first: the active ones are in front
        hs.fill(0, 0, mine.length * H);
        cs.fill(0, 0, mine.length * H);
        mine.forEach(({job}, b) => { if (job.start) { hs.set(job.start.h, b * H); cs.set(job.start.c, b * H); } });
        for (let t = 0; ; t++) {
          let active = 0;
          while (active < mine.length && mine[active].job.rows.length > t) active++;
          if (!active) break;
          for (let b = 0; b < active; b++) index[b] = T_AT + (d * 29 + mine[b].job.rows[t]) * TERM;
          step(d, active);
          if (record) for (let b = 0; b < active; b++) record(mine[b].number, t, hs.slice(b * H, b * H + H), cs.slice(b * H, b * H + H));
        }
        mine.forEach(({number}, b) => { out[number] = {h: hs.slice(b * H, b * H + H), c: cs.slice(b * H, b * H + H)}; });
      }
      return out;
    }

    function head(forward, backward) {  // Linear(2H -> 10) on the final states of both directions
      const logits = new Array(10);
      for (let j = 0; j < 10; j++) {
        let s = headB[j];
        for (let k = 0; k < H; k++) s += headW[j * 2 * H + k] * forward[k] + headW[j * 2 * H + H + k] * backward[k];
        logits[j] = s;
      }
      return logits;
    }

    // The state after k blank rows from zero, k = 0..28, per direction: the same for every image.
    const blankStates = [0, 1].map((d) => {
      const states = [{h: new Float32Array(H), c: new Float32Array(H)}];
      run([{d, start: null, rows: Array(28).fill(BLANK)}], (job, t, h, c) => states.push({h, c}));
      return states;
    });
    const ordered = (from, to) => {  // row numbers from..to, counting down when from > to
      const rows = [];
      for (let r = from; from <= to ? r <= to : r >= to; r += from <= to ? 1 : -1) rows.push(r);
      return rows;
    };
    const blanks = (n) => Array(n).fill(BLANK);

    // digit (Float32Array 784, in [0, 1]) -> {top_down (28 x 10), bottom_up, states (28 x 2H), logits (10),
    // importance {answer, probability, drop (28)}}: model.read_rows and model.row_importance in one go.
    function readRows(digit) {
      setDigit(digit);
      const full = [[], []];  // full[d][t]: {h, c} after row t (forward: rows 0..t; backward: rows t..27)
      run([{d: 0, start: null, rows: ordered(0, 27)}, {d: 1, start: null, rows: ordered(27, 0)}], (job, t, h, c) => {
        if (job === 0) full[0][t] = {h, c};
        else full[1][27 - t] = {h, c};
      });
      const jobs = [], readings = [];  // readings[n]: [its forward job, its backward job]
      const job = (d, start, rows) => jobs.push({d, start, rows}) - 1;
      for (let t = 0; t < 27; t++) {  // prefix t: rows 0..t, the rest blank (t = 27 is the full image)
        readings.push([job(0, full[0][t], blanks(27 - t)), job(1, blankStates[1][27 - t], ordered(t, 0))]);
      }
      for (let t = 1; t < 28; t++) {  // suffix t: rows t..27, the rest blank (t = 0 is the full image)
        readings.push([job(0, blankStates[0][t], ordered(t, 27)), job(1, full[1][t], blanks(t))]);
      }
      for (let t = 0; t < 28; t++) {  // row t blanked
        readings.push([job(0, t ? full[0][t - 1] : null, [BLANK, ...(t < 27 ? ordered(t + 1, 27) : [])]),
                       job(1, t < 27 ? full[1][t + 1] : null, [BLANK, ...(t > 0 ? ordered(t - 1, 0) : [])])]);
      }
      const finals = run(jobs);
      const logitsOf = ([f, b]) => head(finals[f].h, finals[b].h);
      const logits = head(full[0][27].h, full[1][0].h), probs = softmax(logits);
      const topDown = readings.slice(0, 27).map((r) => softmax(logitsOf(r))).concat([probs]);
      const bottomUp = [probs].concat(readings.slice(27, 54).map((r) => softmax(logitsOf(r))));
      let answer = 0;
      for (let j = 1; j < 10; j++) if (probs[j] > probs[answer]) answer = j;
      const drop = readings.slice(54).map((r) => probs[answer] - softmax(logitsOf(r))[answer]);
      const states = [];
      for (let t = 0; t < 28; t++) states.push([...full[0][t].h, ...full[1][t].h]);
      return {top_down: topDown, bottom_up: bottomUp, states, logits, importance: {answer, probability: probs[answer], drop}};
    }

    // Just the logits (one forward and one backward pass): for the digits of a number that are not walked.
    function readDigit(digit) {
      setDigit(digit);
      const [f, b] = run([{d: 0, start: null, rows: ordered(0, 27)}, {d: 1, start: null, rows: ordered(27, 0)}]);
      return head(f.h, b.h);
    }

    function judge(logits) {  // model.judge: the verdict with the probabilities
      const probs = softmax(logits);
      let digit = 0;
      for (let j = 1; j < 10; j++) if (probs[j] > probs[digit]) digit = j;
      const rule = exported.not_a_digit;
      let score = probs[digit];
      if (rule && rule.score === "logsumexp") {
        const top = Math.max(...logits);
        score = top + Math.log(logits.reduce((s, v) => s + Math.exp(v - top), 0));
      }
      return {probs, digit, confidence: probs[digit], score, not_a_digit: Boolean(rule) && score < rule.threshold};
    }

    // ink map (h x w) of a drawing's raster or a picture -> {answer, reading}, as readings.read_picture.
    // maxReads: readings web/segment.js may spend beyond the parts' (undefined: its MAX_READS; 0: split at empty
    // columns only, e.g. for the frames while the pen moves, where each reading costs ~1 ms, ~4 ms on a phone)
    function readInk(ink, width, height, pick, drawing, scale, maxReads) {
      const parts = global.BiLSTMSegment.segment(api, ink, width, height, maxReads);  // split, merged, cut
      if (!parts.length) return null;
      const boxes = parts.map((part) => part.box.map((v) => Math.round(v / scale * 100) / 100));
      if (pick === null || pick === undefined) {
        if (drawing) {
          const stroke = drawing.strokes[drawing.strokes.length - 1], x = stroke[stroke.length - 1][0];
          const distances = boxes.map((box) => Math.max(box[0] - x, x - box[2], 0));
          pick = distances.indexOf(Math.min(...distances));
        } else pick = 0;
      }
      pick = Math.min(Math.max(Math.trunc(pick), 0), parts.length - 1);
      let walked = null;
      const verdicts = parts.map((part, i) => {
        if (i !== pick) return judge(readDigit(part.digit));
        walked = readRows(part.digit);
        return judge(walked.logits);
      });
      const digits = verdicts.map((v, i) => ({digit: String(v.digit), confidence: v.confidence, probs: v.probs,
                                              not_a_digit: v.not_a_digit, box: boxes[i]}));
      const chosen = verdicts[pick], placement = parts[pick].placement;
      const answer = {digit: String(chosen.digit), confidence: chosen.confidence, probs: chosen.probs,
                      not_a_digit: chosen.not_a_digit,
                      number: verdicts.some((v) => v.not_a_digit) ? null : verdicts.map((v) => v.digit).join(""),
                      digits, pick};
      const modelInput = [];
      for (let r = 0; r < 28; r++) modelInput.push(Array.from(parts[pick].digit.subarray(r * 28, r * 28 + 28)));
      let bands = null;
      if (drawing) {
        const clip = (v) => Math.min(Math.max(v, 0), 1);
        const [x0, x1] = inputColumns(placement);
        bands = {x: [Math.max(0, x0 / scale / drawing.width), Math.min(1, x1 / scale / drawing.width)],
                 rows: inputRows(placement).map(([y0, y1]) => [clip(y0 / scale / drawing.height), clip(y1 / scale / drawing.height)])};
      }
      const reading = {pick, digit: String(chosen.digit), not_a_digit: chosen.not_a_digit,
                       points: drawing ? drawing.strokes.reduce((n, s) => n + s.length, 0) : null,
                       model_input: modelInput, top_down: walked.top_down, bottom_up: walked.bottom_up,
                       states: walked.states, importance: walked.importance, bands, tutorial: null};
      return {answer, reading};
    }

    function readDrawing(drawing, pick = null, maxReads = undefined) {  // readings.read_drawing; throws for too much ink
      if (!drawing.strokes.length) return null;
      const raster = rasterize(c, drawing);
      return readInk(rasterInk(c, raster), raster.width, raster.height, pick, drawing, raster.scale, maxReads);
    }

    function readPicture(rgb, width, height, channels, pick = null, maxReads = undefined) {  // readings.read_picture
      return readInk(inkMap(c, rgb, width, height, channels), width, height, pick, null, 1, maxReads);
    }

    const api = {constants: c, sha256: exported.sha256, readDrawing, readPicture, rasterScale: (w, h) => rasterScale(c, w, h),
                 rasterize: (drawing) => rasterize(c, drawing), rasterInk: (raster) => rasterInk(c, raster),
                 inkMap: (rgb, w, h, channels) => inkMap(c, rgb, w, h, channels),
                 splitColumns: (ink, w, h) => splitColumns(c, ink, w, h), place, inputRows, inputColumns,
                 readRows, readDigit, judge, kernel};
    return api;
  }

  global.BiLSTMEngine = {create, roundHalfEven};
})(typeof window !== "undefined" ? window : globalThis);

// Pictures -> the model's 28x28, in the browser: the twin of reader/preprocess.py, written to give the same numbers (tests/test_engine.py compares them on 1,000 inputs).
//
//   const P = BiLSTMPreprocess;
//   const ink = P.inkMap(constants, rgb, width, height, channels);  // or P.rasterInk(constants, raster)
//   for (const [x0, x1] of P.splitColumns(constants, ink, width, height)) P.place(ink, width, height, x0, x1);
//
//   inkMap        model._ink_map for a grey or RGB picture (float32 arithmetic emulated with Math.fround)
//   rasterInk     the same for a drawing's raster (black ink on white), from its two grey levels
//   splitColumns  model.split_columns: digits side by side, split at empty columns
//   place         model.place: crop, Lanczos to 20 px exactly as Pillow does it for "F" images, centre of mass
//   roundHalfEven Python's round() (render.js uses it too)
(function (global) {
  "use strict";

  const f32 = Math.fround;

  function roundHalfEven(x) {  // Python's round() (and "{:.0f}") of a float
    const floor = Math.floor(x), rest = x - floor;
    if (rest > 0.5) return floor + 1;
    if (rest < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Picture -> ink map: model._ink_map for pictures without alpha (float32 arithmetic, as numpy does it).

  const LUMA = [f32(0.299), f32(0.587), f32(0.114)];

  function grey(r8, g8, b8) {  // ITU-R 601 luma of 8-bit RGB, in float32 as numpy computes it
    const r = f32(r8 / 255), g = f32(g8 / 255), b = f32(b8 / 255);
    return f32(f32(f32(r * LUMA[0]) + f32(g * LUMA[1])) + f32(b * LUMA[2]));
  }

  function medianF32(values) {  // np.median of a float32 array of even length: the mean of the middle two
    const sorted = Float32Array.from(values).sort(), n = sorted.length;
    return n % 2 ? sorted[(n - 1) / 2] : f32(sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  function borderOf(values, width, height) {  // the picture's border, as model._ink_map takes it
    const border = [];
    for (let x = 0; x < width; x++) border.push(values[x], values[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) border.push(values[y * width], values[y * width + width - 1]);
    return border;
  }

  // The polarity from the border's median, then paper -> 0 and the strongest ink -> 1, and the soft floor:
  // -> a function of one grey level, or null when no stroke stands out from the paper (the map is all 0).
  // strongestOf(inkOf): the largest inkOf(grey) over the picture's pixels.
  function stretcher(c, border, strongestOf) {
    const background = medianF32(border);  // a float32, used as a float64 below (Python's float())
    const dark = background < 0.5;
    const inkOf = (g) => (dark ? g : f32(1.0 - g));
    const strongest = strongestOf(inkOf), paper = dark ? background : 1.0 - background;
    if (strongest - paper < 0.2) return null;
    const paper32 = f32(paper), range32 = f32(strongest - paper);
    const floor32 = f32(c.ink_floor), keep32 = f32(1.0 - c.ink_floor);
    return (g) => {
      const stretched = f32(f32(inkOf(g) - paper32) / range32);
      return Math.min(Math.max(f32(f32(stretched - floor32) / keep32), 0), 1);
    };
  }

  // rgb: a Uint8 array of w*h*channels (channels 1: grey, 3 or 4: RGB, alpha ignored) -> Float32Array ink
  function inkMap(c, rgb, width, height, channels) {
    if (Math.max(width, height) > c.max_side) throw new Error(`picture larger than ${c.max_side} px`);
    const gray = new Float32Array(width * height);
    for (let i = 0; i < width * height; i++) {
      const at = i * channels;
      gray[i] = channels === 1 ? grey(rgb[at], rgb[at], rgb[at]) : grey(rgb[at], rgb[at + 1], rgb[at + 2]);
    }
    const ink = new Float32Array(width * height);
    const stretch = stretcher(c, borderOf(gray, width, height), (inkOf) => {
      let strongest = -Infinity;
      for (let i = 0; i < gray.length; i++) strongest = Math.max(strongest, inkOf(gray[i]));
      return strongest;
    });
    if (stretch) for (let i = 0; i < ink.length; i++) ink[i] = stretch(gray[i]);
    return ink;
  }

  // A drawing's raster read as a picture, black ink (0) on white (255), as render_drawing makes it: inkMap's
  // arithmetic on its two grey levels, then each pixel looked up (the same numbers, a tenth of the work).
  function rasterInk(c, raster) {
    const levels = [grey(255, 255, 255), grey(0, 0, 0)];  // raster.ink 0: paper (white), 1: ink (black)
    const {width, height} = raster, ink = new Float32Array(width * height);
    const present = [0, 1].filter((v) => raster.ink.includes(v));
    const stretch = stretcher(c, borderOf(raster.ink, width, height).map((v) => levels[v]),
                              (inkOf) => Math.max(...present.map((v) => inkOf(levels[v]))));
    if (!stretch) return ink;
    const lookup = [stretch(levels[0]), stretch(levels[1])];
    for (let i = 0; i < ink.length; i++) ink[i] = lookup[raster.ink[i]];
    return ink;
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
      // Only a row's inked pixels are summed, in Pillow's order: a term of 0 leaves a float64 sum exactly as it was,
      // so this is Pillow's number, in a fraction of the time (a drawing's crop is mostly paper).
      const cs = coefficients(width, newWidth), out = new Float32Array(newWidth * height);
      const inked = new Int32Array(width);
      for (let y = 0; y < height; y++) {
        const row = y * w;
        let n = 0;
        for (let x = 0; x < width; x++) if (data[row + x] !== 0) inked[n++] = x;
        if (!n) continue;  // a row of paper stays 0
        for (let xx = 0, first = 0; xx < newWidth; xx++) {
          const {xmin, k} = cs[xx], end = xmin + k.length;
          while (first < n && inked[first] < xmin) first++;  // xmin never decreases along the row
          let ss = 0.0;
          for (let i = first; i < n && inked[i] < end; i++) ss += data[row + inked[i]] * k[inked[i] - xmin];
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
    return {digit, placement, box: [x0 * factor, top * factor, x1 * factor, (bottom + 1) * factor]};
  }

  function inputRows(p) {  // model.Placement.input_rows: the band of the picture that becomes each row
    const bands = [];
    for (let r = 0; r < 28; r++) {
      bands.push([p.reduce * (p.crop_top + (r - p.top) / p.scale_y), p.reduce * (p.crop_top + (r + 1 - p.top) / p.scale_y)]);
    }
    return bands;
  }

  function inputColumns(p) {  // model.Placement.input_columns
    return [p.reduce * (p.crop_left + (0 - p.left) / p.scale_x), p.reduce * (p.crop_left + (28 - p.left) / p.scale_x)];
  }

  global.BiLSTMPreprocess = {roundHalfEven, inkMap, rasterInk, splitColumns, place, inputRows, inputColumns};
})(typeof window !== "undefined" ? window : globalThis);

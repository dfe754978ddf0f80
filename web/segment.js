// Digits that touch, in the browser: segmentation by recognition, the twin of reader/segment.py (its docstring
// says the method and why). web/readings.js's digitsOf calls it where the digits of a drawing or picture are found:
//
//   const parts = BiLSTMSegment.segment(reader, ink, width, height);   // [{digit, placement, box, logits}, ...]
//
// reader: {constants, splitColumns, place, readDigit, judge} from web/preprocess.js and web/lstm.js; constants.segment
// holds the rule's numbers, sent from Python by frontend.engine_constants. Every step is Python's, in the same order, with the
// same ties: integer geometry on the same ink map (the paths, costs, valleys and pieces are the same pixels), and
// float64 sums of log-probabilities (torch's float32 readings and these agree to ~1e-6, so the same cuts win
// unless two differ by less). tests/test_engine.py and tests/reader/test_segment.py compare the two.
(function (global) {
  "use strict";

  function rowsOf(ink, width, height, x0, x1) {  // segment._rows: first and last row with ink in columns x0..x1
    let top = -1, bottom = -1;
    for (let y = 0; y < height; y++) {
      for (let x = x0; x < x1; x++) if (ink[y * width + x] > 0) { if (top < 0) top = y; bottom = y; break; }
    }
    return [top, bottom];
  }

  function cutCosts(s, mask, h, w) {  // segment._cut_costs: (h, w + 1)
    const cut = new Float64Array(h * (w + 1));
    for (let y = 0; y < h; y++) {
      for (let b = 1; b < w; b++) if (mask[y * w + b - 1] && mask[y * w + b]) cut[y * (w + 1) + b] = s.cut_cost;
    }
    return cut;
  }

  // segment._sweeps: the cut costs and the two dynamic programmes (from the top row, from the bottom one)
  function sweeps(s, mask, h, w, margin) {
    const W = w + 1, cut = cutCosts(s, mask, h, w);
    for (let y = 0; y < h; y++) {
      for (let b = 0; b < margin; b++) cut[y * W + b] = s.cut_cost * (h + 1);
      for (let b = w + 1 - margin; b <= w; b++) if (b >= 0) cut[y * W + b] = s.cut_cost * (h + 1);
    }
    const sweep = (down) => {
      const total = new Float64Array(h * W), step = new Int8Array(h * W);
      let previous = -1;
      for (let i = 0; i < h; i++) {
        const y = down ? i : h - 1 - i;
        if (previous < 0) {
          for (let b = 0; b < W; b++) total[y * W + b] = cut[y * W + b];
        } else {
          for (let b = 0; b < W; b++) {
            let best = total[previous * W + b], move = 0;
            if (b > 0 && total[previous * W + b - 1] + s.step_cost < best) { best = total[previous * W + b - 1] + s.step_cost; move = -1; }
            if (b < w && total[previous * W + b + 1] + s.step_cost < best) { best = total[previous * W + b + 1] + s.step_cost; move = 1; }
            total[y * W + b] = best + cut[y * W + b];
            step[y * W + b] = move;
          }
        }
        previous = y;
      }
      return {total, step};
    };
    return {W, h, cut, down: sweep(true), up: sweep(false)};
  }

  // segment._through: the cost of the cheapest path through each boundary of `row`, and a function that traces
  // the path of the boundaries asked for
  function through({W, h, cut, down, up}, row) {
    const costs = new Float64Array(W);
    for (let b = 0; b < W; b++) costs[b] = down.total[row * W + b] + up.total[row * W + b] - cut[row * W + b];
    const pathOf = (b) => {
      const path = new Int32Array(h);
      path[row] = b;
      for (let y = row; y > 0; y--) path[y - 1] = path[y] + down.step[y * W + path[y]];
      for (let y = row; y < h - 1; y++) path[y + 1] = path[y] + up.step[y * W + path[y]];
      return path;
    };
    return {costs, pathOf};
  }

  function minima(costs, margin) {  // segment._minima: valleys, each at its run's first, middle and last boundary
    const w = costs.length - 1, runs = [];
    for (let b = 0; b <= w;) {
      let end = b;
      while (end + 1 <= w && costs[end + 1] === costs[b]) end++;
      runs.push([costs[b], b, end]);
      b = end + 1;
    }
    const found = [];
    for (let i = 1; i + 1 < runs.length; i++) {
      const [cost, start, end] = runs[i];
      if (!(cost < runs[i - 1][0] && cost < runs[i + 1][0])) continue;
      for (const b of [...new Set([start, Math.floor((start + end) / 2), end])].sort((x, y) => x - y)) {
        if (margin <= b && b <= w - margin) found.push([cost, b]);
      }
    }
    return found;
  }

  function compareLists(a, b) {  // Python's comparison of tuples and lists of numbers
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length - b.length;
  }

  function cuts(s, mask, h, w) {  // segment.cuts
    const radius = Math.max(2, Math.floor(h / 8)), margin = Math.max(2, Math.floor(h / 20));
    const candidates = [], byRow = [], swept = sweeps(s, mask, h, w, margin);
    s.through.forEach((eighths, k) => {
      const found = through(swept, Math.min(h - 1, Math.floor(h * eighths / 8)));
      byRow.push(found.pathOf);
      for (const [cost, b] of minima(found.costs, margin)) candidates.push([cost, k, b]);
    });
    candidates.sort(compareLists);
    const kept = [], splits = [], near = [];
    for (const [, k, b] of candidates) {
      if (kept.length === s.max_cuts) break;
      if (near.some(([k_, b_]) => k === k_ && Math.abs(b - b_) <= radius)) continue;
      const path = byRow[k](b), left = new Uint8Array(h * w);
      let leftRows = 0, rightRows = 0;
      for (let y = 0; y < h; y++) {
        let l = false, r = false;
        for (let x = 0; x < w; x++) {
          if (!mask[y * w + x]) continue;
          if (x < path[y]) { left[y * w + x] = 1; l = true; } else r = true;
        }
        leftRows += l; rightRows += r;
      }
      if (Math.min(leftRows, rightRows) < s.min_height * h) continue;
      if (splits.some((other) => other.every((v, i) => v === left[i]))) continue;
      kept.push(Int32Array.from(path));
      splits.push(left);
      near.push([k, b]);
    }
    const sum = (p) => p.reduce((t, v) => t + v, 0);
    kept.sort((a, b) => (sum(a) - sum(b)) || compareLists(a, b));
    for (let i = 1; i < kept.length; i++) for (let y = 0; y < h; y++) kept[i][y] = Math.max(kept[i][y], kept[i - 1][y]);
    return kept;
  }

  function pathCosts(s, mask, h, w, list) {  // segment._path_costs
    const cut = cutCosts(s, mask, h, w);
    return list.map((p) => {
      let total = 0;
      for (let y = 0; y < h; y++) total += cut[y * (w + 1) + p[y]] + (y > 0 ? s.step_cost * Math.abs(p[y] - p[y - 1]) : 0);
      return total;
    });
  }

  function extent(piece, pw, height) {  // segment._extent: [top, bottom, left, right] of a piece's ink, or null
    let top = -1, bottom = -1, left = Infinity, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < pw; x++) {
        if (piece[y * pw + x] > 0) { if (top < 0) top = y; bottom = y; left = Math.min(left, x); right = Math.max(right, x); }
      }
    }
    return top < 0 ? null : [top, bottom, left, right];
  }

  // segment._pieces: [{a, b, piece (Float32Array height x (x1 - x0))}] between the cut paths, the whole left out
  function pieces(s, ink, width, height, x0, x1, top, list, partHeight) {
    const pw = x1 - x0, edges = [new Int32Array(height)];
    for (const path of list) {
      const line = new Int32Array(height);
      for (let y = 0; y < path.length; y++) line[top + y] = path[y];
      edges.push(line);
    }
    edges.push(new Int32Array(height).fill(pw));
    const last = edges.length - 1, found = [];
    for (let a = 0; a < last; a++) {
      for (let b = a + 1; b <= last; b++) {
        if (a === 0 && b === last) continue;
        const piece = new Float32Array(height * pw);
        for (let y = 0; y < height; y++) {
          for (let x = edges[a][y]; x < edges[b][y]; x++) piece[y * pw + x] = ink[y * width + x0 + x];
        }
        const e = extent(piece, pw, height);
        if (!e) continue;
        const pHeight = e[1] - e[0] + 1, pWidth = e[3] - e[2] + 1;
        if (pHeight >= s.min_height * partHeight && pWidth <= s.piece_ratio * pHeight) found.push({a, b, piece});
      }
    }
    return found;
  }

  // segment._stroke_pieces: a part's strokes (masks in drawing order) -> [{a, b, piece}]: strokes a..b-1 together,
  // every run but all of them, each as high and as narrow as segment._pieces asks
  function strokePieces(s, ink, width, height, masks, x0, x1, partHeight) {
    const pw = x1 - x0, found = [];
    for (let a = 0; a < masks.length; a++) {
      const union = new Uint8Array(height * pw);
      for (let b = a + 1; b <= masks.length; b++) {
        const mask = masks[b - 1];
        for (let y = 0; y < height; y++) for (let x = 0; x < pw; x++) if (mask[y * width + x0 + x]) union[y * pw + x] = 1;
        if (a === 0 && b === masks.length) continue;
        const piece = new Float32Array(height * pw);
        for (let i = 0; i < piece.length; i++) if (union[i]) piece[i] = ink[(Math.floor(i / pw)) * width + x0 + (i % pw)];
        const e = extent(piece, pw, height);
        if (!e) continue;
        const pHeight = e[1] - e[0] + 1, pWidth = e[3] - e[2] + 1;
        if (pHeight >= s.min_height * partHeight && pWidth <= s.piece_ratio * pHeight) found.push({a, b, piece});
      }
    }
    return found;
  }

  function inColumns(mask, width, height, x0, x1) {  // mask[:, x0:x1].any()
    for (let y = 0; y < height; y++) for (let x = x0; x < x1; x++) if (mask[y * width + x]) return true;
    return false;
  }

  function placeAt(reader, piece, pw, height, x0) {  // model.place(piece, 1, left=x0)
    const placed = reader.place(piece, pw, height, 0, pw, 1);
    if (placed) placed.placement.crop_left += x0;
    return placed;
  }

  function read(reader, digit) {  // segment._read for one digit
    const logits = reader.readDigit(digit), verdict = reader.judge(logits);
    const top = Math.max(...logits);
    const logP = -Math.log(logits.reduce((t, v) => t + Math.exp(v - top), 0));  // max of log_softmax
    return {logits, logP, confidence: verdict.confidence, not_a_digit: verdict.not_a_digit};
  }

  function bestPath(s, last, scored, whole, minConfidence = s.min_confidence) {  // segment._best_path
    const edges = new Map();
    for (const item of scored) {
      const r = item.reading;
      if (r.not_a_digit || (whole.not_a_digit && r.confidence < minConfidence)) continue;
      if (!edges.has(item.b)) edges.set(item.b, []);
      edges.get(item.b).push([item.a, r.logP - s.penalty, item]);
    }
    const best = new Array(last + 1).fill(-Infinity), back = new Array(last + 1).fill(null);
    best[0] = s.penalty;
    for (let b = 1; b <= last; b++) {
      for (const [a, score, item] of edges.get(b) || []) {
        if (best[a] + score > best[b]) { best[b] = best[a] + score; back[b] = item; }
      }
    }
    if (best[last] === -Infinity) return null;
    if (!whole.not_a_digit && whole.logP >= best[last]) return null;
    const chosen = [];
    for (let node = last; node > 0; node = back[node].a) chosen.push(back[node]);
    return chosen.reverse();
  }

  // ink map (Float32Array height x width, as web/preprocess.js makes it; no box-reduce: factor 1) -> the digits, left to
  // right, [{digit, placement, box, logits}], as reader/segment.segment.
  // drawing: the strokes the ink was rasterized from ({width, height, strokes}), whose groups are tried first; or null
  function segment(reader, ink, width, height, maxReads, drawing = null) {
    const s = reader.constants.segment;
    let budget = maxReads === undefined ? s.max_reads : maxReads;
    const wholes = [];
    for (const [x0, x1] of reader.splitColumns(ink, width, height)) {
      const placed = reader.place(ink, width, height, x0, x1);
      if (placed) wholes.push({x0, x1, placed});
    }
    const readings = wholes.map((whole) => read(reader, whole.placed.digit));
    const heightOf = (x0, x1) => { const [t, b] = rowsOf(ink, width, height, x0, x1); return b - t + 1; };

    const parts = [];  // {x0, x1, placed, reading}
    for (let i = 0; i < wholes.length;) {
      const {x0, x1, placed} = wholes[i];
      if (i + 1 < wholes.length && budget > 0 && (readings[i].not_a_digit || readings[i + 1].not_a_digit)) {
        const {x0: nx0, x1: nx1} = wholes[i + 1];
        if (nx0 - x1 <= s.merge_gap * Math.max(heightOf(x0, x1), heightOf(nx0, nx1))) {
          const pw = nx1 - x0, merged = new Float32Array(height * pw);
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < pw; x++) if (x < x1 - x0 || x >= nx0 - x0) merged[y * pw + x] = ink[y * width + x0 + x];
          }
          const both = placeAt(reader, merged, pw, height, x0);
          budget -= 1;
          const reading = read(reader, both.digit);
          if (!reading.not_a_digit && reading.confidence >= s.min_confidence) {
            parts.push({x0, x1: nx1, placed: both, reading});
            i += 2;
            continue;
          }
        }
      }
      parts.push({x0, x1, placed, reading: readings[i]});
      i += 1;
    }

    const grouped = new Map(), tried = new Map();
    let masks = null;
    const order = parts.map((_, i) => i).sort((i, j) => ((parts[i].x0 - parts[i].x1) - (parts[j].x0 - parts[j].x1)) || (i - j));
    for (const i of order) {
      const {x0, x1, reading} = parts[i];
      const [top, bottom] = rowsOf(ink, width, height, x0, x1), partHeight = bottom - top + 1;
      const wide = x1 - x0 > (reading.not_a_digit ? s.flagged_ratio : s.max_ratio) * partHeight &&
        (x1 - x0) * partHeight <= s.max_cut_area;
      if (drawing && drawing.strokes.length >= 2 && budget > 0 && wide) {  // groups of consecutive strokes
        if (masks === null) masks = reader.strokeMasks(drawing);
        const mine = masks.filter((mask) => mask.length === width * height && inColumns(mask, width, height, x0, x1));
        const groups = mine.length * (mine.length + 1) / 2 - 1;
        if (mine.length >= 2 && groups <= budget) {
          budget -= groups;
          const found = [];
          for (const p of strokePieces(s, ink, width, height, mine, x0, x1, partHeight)) {
            p.placed = placeAt(reader, p.piece, x1 - x0, height, x0);
            if (p.placed) found.push(p);
          }
          grouped.set(i, {count: mine.length, pieces: found});
        }
      }
      if (budget <= 0 || !wide) continue;
      const h = partHeight, w = x1 - x0, mask = new Uint8Array(h * w);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = ink[(top + y) * width + x0 + x] >= s.core ? 1 : 0;
      const list = cuts(s, mask, h, w);
      let found = pieces(s, ink, width, height, x0, x1, top, list, partHeight);
      while (found.length > budget) {
        const costs = pathCosts(s, mask, h, w, list);
        list.splice(costs.lastIndexOf(Math.max(...costs)), 1);
        found = pieces(s, ink, width, height, x0, x1, top, list, partHeight);
      }
      if (found.length) {
        budget -= found.length;
        const placed = [];
        for (const p of found) {
          p.placed = placeAt(reader, p.piece, w, height, x0);
          if (p.placed) placed.push(p);
        }
        tried.set(i, {count: list.length, pieces: placed});
      }
    }

    const result = [];
    parts.forEach(({x0, x1, placed, reading}, i) => {
      let chosen = null;
      if (grouped.has(i)) {
        const {count, pieces: found} = grouped.get(i);
        for (const p of found) p.reading = read(reader, p.placed.digit);
        chosen = bestPath(s, count, found, reading, s.stroke_confidence);
        if (chosen) {  // left to right by the middle of their ink
          const middle = (p) => { const e = extent(p.piece, x1 - x0, height); return e[2] + e[3]; };
          chosen.sort((p, q) => (middle(p) - middle(q)) || (p.a - q.a));
        }
      }
      if (tried.has(i)) {
        const {count, pieces: found} = tried.get(i);
        for (const p of found) p.reading = read(reader, p.placed.digit);
        if (!chosen) chosen = bestPath(s, count + 1, found, reading);
      }
      if (!chosen) {
        const [top, bottom] = rowsOf(ink, width, height, x0, x1);
        result.push({digit: placed.digit, placement: placed.placement, box: [x0, top, x1, bottom + 1], logits: reading.logits});
        return;
      }
      for (const p of chosen) {
        const [top, bottom, left, right] = extent(p.piece, x1 - x0, height);
        result.push({digit: p.placed.digit, placement: p.placed.placement, box: [x0 + left, top, x0 + right + 1, bottom + 1],
                     logits: p.reading.logits});
      }
    });
    return result;
  }

  global.BiLSTMSegment = {segment, cuts: (s, mask, h, w) => cuts(s, mask, h, w).map((p) => Array.from(p))};
})(typeof window !== "undefined" ? window : globalThis);

// Strokes -> ink, in the browser: the twin of reader/strokes.py, the same float64
// arithmetic in the same order, so that the raster is the same pixel for pixel (tests/test_engine.py).
//
//   const raster = BiLSTMStrokes.rasterize(constants, {width: 560, height: 280, strokes: [[[x, y], ...], ...]});
//   raster.ink (Uint8Array, h*w, 1 = ink), raster.width, raster.height, raster.scale (raster px per canvas px)
//
// A pixel is ink when its centre lies within the brush's radius of a segment of a stroke (a one-point stroke is
// a dot); each (segment, row) is one interval of x in closed form. constants: frontend.engine_constants().
(function (global) {
  "use strict";

  function rasterScale(c, width, height) {  // strokes.raster_scale
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

  function segmentsOf(c, drawing) {  // strokes._segments: [ax, ay, bx, by] in raster pixels
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

  function rasterize(c, drawing) {  // strokes.rasterize -> {ink: Uint8Array (h*w), width, height, scale}
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

  global.BiLSTMStrokes = {rasterScale, rasterize};
})(typeof window !== "undefined" ? window : globalThis);

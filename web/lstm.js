// The network in the browser: the twin of model.py's BiLSTM (one layer, both directions, the final states ->
// Linear(2H -> 10)), its read_rows and row_importance (the 56 partial readings and the 28 blanked-row
// readings), and judge (softmax, and "not a digit" under the calibrated threshold).
//
//   const network = BiLSTMNetwork.create(window.BILSTM_MODEL);  // frontend.browser_model(): weights + constants
//   network.readDigit(digit)   // digit: Float32Array(784) in [0, 1] -> the 10 logits (one pass each way)
//   network.readRows(digit)    // -> {top_down, bottom_up, states, logits, importance}: every row view
//   network.judge(logits)      // -> {probs, digit, confidence, score, not_a_digit}
//
// Python computes the LSTM in float32 (torch), this in float64 with float32 storage: they agree to ~1e-6.
// The LSTM step runs in WebAssembly SIMD (web/kernel.wat, about 3x faster) where the browser has it, else in
// the JavaScript below.
//
// The 85 readings of the row views share most of their work: every sequence reads rows of the same image or
// blank rows, so each row's input term (W_ih x + b) is computed once; the prefix readings continue the full
// image's forward states, the suffix readings its backward states, and the state after k blank rows is the same
// for every image (computed once per model). About 2,400 LSTM steps instead of 85 x 56 = 4,760.
(function (global) {
  "use strict";

  const f32 = Math.fround;
  const sigmoid = (x) => 1 / (1 + Math.exp(-x));

  function decode(base64) {  // little-endian float32, as frontend.browser_model() writes it
    const binary = atob(base64), bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  function softmax(logits) {
    const top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  function create(exported, useKernel = true) {
    const H = exported.hidden, G = 4 * H, data = decode(exported.data);
    const tensor = (name) => { const [offset, size] = exported.tensors[name]; return data.subarray(offset, offset + size); };
    const directions = ["", "_reverse"].map((suffix) => {
      const wih = tensor(`lstm.weight_ih_l0${suffix}`), whh = tensor(`lstm.weight_hh_l0${suffix}`);
      const bias = new Float64Array(G), bih = tensor(`lstm.bias_ih_l0${suffix}`), bhh = tensor(`lstm.bias_hh_l0${suffix}`);
      for (let j = 0; j < G; j++) bias[j] = bih[j] + bhh[j];
      return {wih, whh, bias};
    });
    const headW = tensor("head.weight"), headB = tensor("head.bias");

    // Everything the LSTM steps touch lives in one memory: WebAssembly's when the browser has SIMD, else a
    // plain buffer and the same step in JavaScript. Layout in bytes: W_hh^T of each direction (64 x 256
    // float32), then the batch's h and c (MAX_BATCH x 64 each), gates (MAX_BATCH x 256), the input terms (per
    // direction: 28 rows of this digit, then the blank row), and the index of the term each sequence reads.
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
        wasmStep = null;  // no WebAssembly SIMD here (or a policy forbids compiling it): the JavaScript step
      }
    }
    memory = memory || new ArrayBuffer(BYTES);
    const weightsT = new Float32Array(memory, 0, 2 * H * G), hs = new Float32Array(memory, H_AT, MAX_BATCH * H);
    const cs = new Float32Array(memory, C_AT, MAX_BATCH * H), gates = new Float32Array(memory, G_AT, MAX_BATCH * G);
    const terms = new Float32Array(memory, T_AT, 2 * 29 * G), index = new Int32Array(memory, I_AT, MAX_BATCH);
    directions.forEach(({whh}, d) => {
      for (let j = 0; j < G; j++) for (let k = 0; k < H; k++) weightsT[d * H * G + k * G + j] = whh[j * H + k];
    });

    const x = new Float64Array(28), mean = f32(exported.mean), std = f32(exported.std);
    function setTerm(d, slot, row) {  // terms[d][slot] = W_ih x + b_ih + b_hh, x the row normalised as forward() does
      const {wih, bias} = directions[d], at = (d * 29 + slot) * G;
      for (let i = 0; i < 28; i++) x[i] = f32(f32(row[i] - mean) / std);
      for (let j = 0; j < G; j++) {
        let s = bias[j];
        for (let i = 0; i < 28; i++) s += wih[j * 28 + i] * x[i];
        terms[at + j] = s;
      }
    }
    setTerm(0, BLANK, new Float32Array(28));
    setTerm(1, BLANK, new Float32Array(28));
    function setDigit(digit) {  // a row without ink has the blank row's term (the same arithmetic): copied
      for (let r = 0; r < 28; r++) {
        const row = digit.subarray(r * 28, r * 28 + 28);
        for (const d of [0, 1]) {
          if (row.some((v) => v !== 0)) setTerm(d, r, row);
          else terms.copyWithin((d * 29 + r) * G, (d * 29 + BLANK) * G, (d * 29 + BLANK + 1) * G);
        }
      }
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

    // Just the logits (one forward and one backward pass): the answer, before any row view.
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

    return {readRows, readDigit, judge, kernel, hidden: H};
  }

  global.BiLSTMNetwork = {create, decode};
})(typeof window !== "undefined" ? window : globalThis);

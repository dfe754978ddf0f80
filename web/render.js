// Draws the page's views from a reading's numbers, whoever computed them (the engine in the browser,
// web/readings.js, or the server: reader/readings.py): the answer, the softmax, the 28x28 input, the two row heatmaps,
// the p(answer) curves, the row importance, the hidden states and the captions. Nothing here decides anything
// about the digit; it shows the numbers it is given. The twin of reader/views.py.
//
//   BiLSTMRender.answer(element, answer, {local})        // #answer: the number or digit, verdict, softmax bars
//   BiLSTMRender.reading(element, reading, row, playing) // #reading: every view, outlined at row (1..28)
//
// A reading may come without its row views yet (top_down, bottom_up, states, importance: the engine reads
// them after the answer): the 28x28 is drawn and the views wait. A picture is drawn again only when its
// numbers are new (the same arrays: only the row moved).
//
// The captions are the same sentences as reader/views.py (row_belief, settling_sentence, spoken_summary), checked
// word for word by tests/test_render.py; the colours are views.viridis, views.diverging and views.MARK.
(function (global) {
  "use strict";

  const f32 = Math.fround;
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];  // = views._VIRIDIS
  // the curves and bars: top-down in viridis's second colour (views._VIRIDIS[1]), bottom-up and the rows that
  // matter in the marks' orange (views.MARK); grey: a row whose blanking helps the answer
  const BLUE = "#3b528b", ORANGE = "#e65a00", GREY = "#8a8a8a";

  const roundHalfEven = global.BiLSTMPreprocess.roundHalfEven;  // Python's round() and "{:.0f}": preprocess.js loads first
  const percent = (p) => roundHalfEven(f32(100 * f32(p)));  // f"{100 * p:.0f}" of a float32 p

  // The colour of one value written into RGBA pixels at `at` (no array made per pixel: thousands a reading)
  function viridisInto(value, data, at) {  // views.viridis for one value: the position in float32, the blend in float64
    const position = f32(Math.min(Math.max(f32(value), 0), 1) * 4);
    const low = Math.min(Math.max(Math.floor(position), 0), 3), fraction = position - low;
    const a = VIRIDIS[low], b = VIRIDIS[low + 1];
    for (let i = 0; i < 3; i++) data[at + i] = Math.trunc(a[i] * (1 - fraction) + b[i] * fraction);
  }

  const WARM = [200, 30, 40], COLD = [30, 80, 200];
  function divergingInto(value, data, at) {  // views.diverging for one value
    const v = Math.min(Math.max(value, -1), 1), target = v >= 0 ? WARM : COLD, strength = Math.abs(v);
    for (let i = 0; i < 3; i++) data[at + i] = Math.trunc(255 + (target[i] - 255) * strength);
  }

  const colourOf = (into) => (value) => { const rgb = [0, 0, 0]; into(value, rgb, 0); return rgb; };
  const viridis = colourOf(viridisInto), diverging = colourOf(divergingInto);

  // ---------------------------------------------------------------------------------------------
  // Words: the same sentences as reader/views.py

  const argmax = (values) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);

  function settlingRows(reading) {  // views.settling_rows: [down, up], or [null, null] when nothing settles
    const final = argmax(reading.top_down[27]);
    if (f32(reading.top_down[27][final]) <= 0.5) return [null, null];
    let first = 1, last = 28;
    reading.top_down.forEach((probs, t) => { if (!(f32(probs[final]) > 0.5)) first = t + 2; });
    for (let t = 27; t >= 0; t--) if (!(f32(reading.bottom_up[t][final]) > 0.5)) last = t;
    return [Math.min(first, 28), Math.max(last, 1)];
  }

  function belief(probs) {
    const best = argmax(probs);
    if (f32(probs[best]) < 0.5) return `is not sure yet (best guess ${best}, ${percent(probs[best])}%)`;
    return `says ${best} (${percent(probs[best])}%)`;
  }

  function rowBelief(reading, row) {
    return `Row ${row}. Reading only rows 1-${row} (rows below blanked), the model ${belief(reading.top_down[row - 1])}. ` +
           `Reading only rows ${row}-28 (rows above blanked), it ${belief(reading.bottom_up[row - 1])}.`;
  }

  function settlingSentence(reading) {
    const [down, up] = settlingRows(reading);
    if (down === null) return "Neither direction makes up its mind: even all 28 rows give no digit more than half.";
    return `Top-down it makes up its mind on ${argmax(reading.top_down[27])} at row ${down}; bottom-up at row ${up} (orange marks).`;
  }

  function spokenSummary(reading, notADigit) {
    const probs = reading.top_down[27], best = argmax(probs), [down, up] = settlingRows(reading);
    const said = notADigit ? `Not a digit (best guess ${best}, ${percent(probs[best])}%)` : `Reads ${best}, ${percent(probs[best])}%`;
    return down === null ? `${said}; neither direction is ever sure.`
      : `${said}; top-down sure from row ${down}, bottom-up from row ${up}.`;
  }

  function importanceScale(drop) {  // the chart's full width: the largest drop rounded up
    const largest = Math.max(...drop.map(Math.abs));
    return [0.05, 0.1, 0.2, 0.5, 1.0].find((scale) => largest <= scale) ?? 1.0;
  }

  // ---------------------------------------------------------------------------------------------
  // Pictures and charts

  // fill(row, column, data, at) writes the RGB of one pixel of a rows x columns canvas into data at `at`
  function paint(canvas, rows, columns, fill) {
    if (canvas.width !== columns) canvas.width = columns;
    if (canvas.height !== rows) canvas.height = rows;
    const context = canvas.getContext("2d"), image = context.createImageData(columns, rows), data = image.data;
    for (let r = 0, at = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++, at += 4) {
        fill(r, c, data, at);
        data[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  // Writes that happen only when the value changes: the page is painted up to 60 times a second while the pen
  // moves, and every write makes the browser lay out and paint again what it touched.
  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
  const setAttr = (node, name, value) => { if (node.getAttribute(name) !== value) node.setAttribute(name, value); };
  const setStyle = (node, property, value) => { if (node.style[property] !== value) node.style[property] = value; };
  const setClass = (node, name, on) => { if (node.classList.contains(name) !== on) node.classList.toggle(name, on); };
  const setHidden = (node, hidden) => { if (node.hidden !== hidden) node.hidden = hidden; };

  // The charts are SVG, made once per holder from these skeletons; each reading only moves their points and bars.
  const ROW = 10;  // SVG units per image row (the charts are 28 rows tall, like the 28x28 beside them)
  const svg = (body) => `<svg viewBox="0 0 100 ${28 * ROW}" preserveAspectRatio="none" role="img" aria-label="" ` +
    `xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
  const SKELETONS = {
    belief: svg([0, 50, 100].map((x) => `<line x1="${x}" y1="0" x2="${x}" y2="${28 * ROW}" stroke="#ccc" stroke-width="1" vector-effect="non-scaling-stroke"/>`).join("") +
      [BLUE, ORANGE].map((colour) => `<polyline points="" fill="none" stroke="${colour}" stroke-width="3" vector-effect="non-scaling-stroke" stroke-linejoin="round"/>`).join("") +
      [BLUE, ORANGE].map((colour) => `<circle cx="0" cy="0" r="4" fill="${colour}" visibility="hidden"/>`).join("")),
    importance: svg(`<line x1="0" y1="0" x2="0" y2="${28 * ROW}" stroke="#888" stroke-width="1" vector-effect="non-scaling-stroke"/>` +
      Array.from({length: 28}, (_, row) => `<rect x="0" y="${row * ROW + 1}" width="0" height="${ROW - 2}" fill="${GREY}"/>`).join("")),
  };

  function chart(holder, kind) {  // the holder's SVG, made on first use
    if (!holder.firstElementChild) holder.innerHTML = SKELETONS[kind];
    return holder.firstElementChild;
  }

  function drawBelief(chartSvg, reading) {  // p(final answer) after rows 1..t (blue) and t..28 (orange), a dot where each settles
    const final = argmax(reading.top_down[27]), [down, up] = settlingRows(reading);
    const y = (t) => ((t + 0.5) * ROW).toFixed(1);
    const [topDown, bottomUp] = chartSvg.querySelectorAll("polyline"), dots = chartSvg.querySelectorAll("circle");
    [[topDown, reading.top_down], [bottomUp, reading.bottom_up]].forEach(([line, series]) =>
      setAttr(line, "points", Array.from(series, (p, t) => `${(100 * p[final]).toFixed(1)},${y(t)}`).join(" ")));
    [[down, reading.top_down], [up, reading.bottom_up]].forEach(([settle, series], i) => {
      setAttr(dots[i], "visibility", settle === null ? "hidden" : "visible");
      if (settle !== null) { setAttr(dots[i], "cx", (100 * series[settle - 1][final]).toFixed(1)); setAttr(dots[i], "cy", y(settle - 1)); }
    });
    setAttr(chartSvg, "aria-label", down === null ? `Probability of ${final}: neither direction ever passes one half`
      : `Probability of ${final}: top-down reaches it at row ${down}, bottom-up at row ${up}`);
  }

  function drawImportance(chartSvg, importance) {  // bars: the probability the answer loses when that row alone is blanked
    const scale = importanceScale(importance.drop);
    chartSvg.querySelectorAll("rect").forEach((bar, row) => {
      const drop = importance.drop[row], length = 100 * Math.abs(drop) / scale;
      setAttr(bar, "width", length < 0.5 ? "0" : length.toFixed(1));
      setAttr(bar, "fill", drop > 0 ? ORANGE : GREY);
    });
    setAttr(chartSvg, "aria-label", `Blanking row ${argmax(importance.drop) + 1} costs the answer ${importance.answer} the most probability`);
  }

  function beliefSvg(reading) {  // the chart as the page draws it, as text (tests/test_render.py)
    const holder = document.createElement("div");
    drawBelief(chart(holder, "belief"), reading);
    return holder.innerHTML;
  }

  function importanceSvg(importance) {
    const holder = document.createElement("div");
    drawImportance(chart(holder, "importance"), importance);
    return holder.innerHTML;
  }

  // ---------------------------------------------------------------------------------------------
  // The answer

  const PROMPT = "Draw a digit (0-9), or a number, in the box: the answer follows your pen.";

  function bars(figure, probs, top, title) {
    const holder = figure.querySelector(".bars");
    if (!holder.children.length) {  // ten bars in fixed 0-9 order, made on the first call
      holder.innerHTML = Array.from({length: 10}, (_, d) =>
        `<div class="bar"><span class="fill"></span><span class="digit">${d}</span></div>`).join("");
    }
    setAttr(figure, "aria-label", `${title}: ${probs ? probs.map((p, d) => `${d} ${percent(p)}%`).join(", ") : "no reading"}`);
    figure.querySelectorAll(".bar").forEach((bar, d) => {
      setClass(bar, "top", probs !== null && d === top);
      // a bar's height is a transform of a full-height fill (no layout); at least a hairline, as an empty bar
      setStyle(bar.firstElementChild, "transform", `scaleY(${probs ? Math.max(probs[d], 0.01).toFixed(3) : 0.01})`);
    });
  }

  // answer: the answer value (reader/readings.py / the engine), or null for nothing drawn. local: read in this browser
  // while the pen moves (a drawing half done may not be a digit yet: said calmly). message: instead of the prompt.
  function answer(element, value, {local = false, message = null} = {}) {
    const box = element.querySelector(".answer");
    const comparing = Boolean(value && value.tutorial);
    setClass(box, "comparing", comparing);
    setClass(box, "not-a-digit", Boolean(value && value.not_a_digit && (value.digits || []).length <= 1));
    setClass(box, "settling", Boolean(local));
    setText(element.querySelector("#status"), message || (value ? "" : PROMPT));
    const prediction = element.querySelector("#prediction");
    const several = value && value.digits && value.digits.length > 1;
    let said = "", confidence = "", verdict = "";
    if (value && several) {
      said = value.number ?? value.digits.map((d) => (d.not_a_digit ? "?" : d.digit)).join("");
      confidence = `${value.digits.length} digits`;
      const strangers = value.digits.filter((d) => d.not_a_digit).length;
      verdict = strangers ? `${strangers === 1 ? "one part is" : `${strangers} parts are`} not a digit (?)` : "";
    } else if (value && value.not_a_digit) {
      said = local ? "Not a digit yet" : "Not a digit";  // said plainly; calm (grey) while the pen moves
      verdict = `best guess ${value.digit}, ${percent(value.confidence)}%`;
    } else if (value) {
      said = value.digit;
      confidence = `${percent(value.confidence)}%`;
    }
    // a number of 3-4 digits, or more, in smaller type: it stays on one line in the answer's narrow column
    const size = !several || said.length <= 2 ? "" : said.length <= 4 ? "number" : "long";
    if (prediction.dataset.size !== size) prediction.dataset.size = size;
    setText(prediction.querySelector(".title"), comparing ? "Ours reads" : "The model reads");
    setText(prediction.querySelector("[data-testid=label-output-value]"), said);
    setText(prediction.querySelector(".confidence"), confidence);
    setText(prediction.querySelector(".verdict"), verdict);

    const number = element.querySelector("#number");
    setHidden(number, !several);
    const buttons = several ? value.digits.map((d, i) => [d.not_a_digit ? "?" : d.digit, String(i === value.pick),
      `Digit ${i + 1} of ${value.digits.length}: ${d.not_a_digit ? "not a digit" : d.digit}, ` +
      `${percent(d.confidence)}%${i === value.pick ? ", shown in the row view" : ""}`]) : [];
    if (number.children.length !== buttons.length) {
      number.replaceChildren(...buttons.map((_, i) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "digit-pick";
        button.dataset.pick = String(i);
        return button;
      }));
    }
    buttons.forEach(([text, pressed, label], i) => {
      const button = number.children[i];
      setText(button, text);
      setAttr(button, "aria-pressed", pressed);
      setAttr(button, "aria-label", label);
    });

    const title = several ? `Softmax of digit ${value.pick + 1} of ${value.digits.length}` : "Softmax over all ten digits";
    const figure = element.querySelector("#probabilities");
    setText(figure.querySelector("figcaption"), title);
    bars(figure, value ? value.probs : null, value ? Number(value.digit) : -1, title);
    const theirs = element.querySelector("#tutorial-prediction"), theirBars = element.querySelector("#tutorial-probabilities");
    setHidden(theirs, !comparing);
    setHidden(theirBars, !comparing);
    if (comparing) {
      setText(theirs.querySelector("h2"), value.tutorial.digit);
      setText(theirs.querySelector(".confidence"), `${percent(value.tutorial.confidence)}%`);
      bars(theirBars, value.tutorial.probs, Number(value.tutorial.digit), "The tutorial's model's softmax");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The reading views

  const drawn = new WeakMap();  // element -> the arrays its pictures were last drawn from

  function reading(element, value, row, playing) {
    const root = element.querySelector(".reading"), viewed = Boolean(value && value.top_down);
    setClass(root, "empty", !value);
    setClass(root, "waiting", Boolean(value) && !viewed);  // the 28x28 is here, its row views are coming
    const points = value && value.points !== null ? String(value.points) : "";
    if (root.dataset.points !== points) root.dataset.points = points;
    element.querySelectorAll(".row-mark").forEach((mark) => setStyle(mark, "top", `${(row - 1) / 28 * 100}%`));
    const slider = element.querySelector("#row-slider"), play = element.querySelector("#play");
    if (slider.disabled !== !viewed) slider.disabled = play.disabled = !viewed;
    if (slider.value !== String(row)) slider.value = String(row);
    setText(element.querySelector(".walk output"), String(row));
    setText(play, playing ? "Pause" : "Play");
    const [down, up] = viewed ? settlingRows(value) : [null, null];
    setText(element.querySelector("#row-caption"), viewed ? `${rowBelief(value, row)} ${settlingSentence(value)}` : "");
    setText(element.querySelector(".spoken"), viewed ? spokenSummary(value, value.not_a_digit) : "");
    const settles = element.querySelectorAll("#row-reading .settle");
    [down, up].forEach((settle, i) => {
      setHidden(settles[i], settle === null);
      if (settle !== null) setStyle(settles[i], "top", `${(settle - 0.5) / 28 * 100}%`);
    });
    setHidden(element.querySelector("#kept"), !(value && value.kept));
    setHidden(element.querySelector("#tutorial-reading"), !(value && value.tutorial));
    if (!value) return;
    const last = drawn.get(element) || {};
    drawn.set(element, {input: value.model_input, views: viewed ? value.top_down : last.views, tutorial: value.tutorial,
                        kept: value.kept});
    if (last.input !== value.model_input) {
      paint(element.querySelector("#model-input canvas"), 28, 28, (r, c, data, at) => {
        data[at] = data[at + 1] = data[at + 2] = Math.round(255 * value.model_input[r][c]);
      });
    }
    if (viewed && last.views !== value.top_down) {
      const [topDown, bottomUp] = element.querySelectorAll("#row-reading canvas");
      paint(topDown, 28, 10, (r, c, data, at) => viridisInto(value.top_down[r][c], data, at));
      paint(bottomUp, 28, 10, (r, c, data, at) => viridisInto(value.bottom_up[r][c], data, at));
      drawBelief(chart(element.querySelector("#belief-curves .svg"), "belief"), value);
      drawImportance(chart(element.querySelector("#row-importance .svg"), "importance"), value.importance);
      setText(element.querySelector("#row-importance .scale"), String(importanceScale(value.importance.drop)));
      const H = value.states[0].length / 2;
      paint(element.querySelector("#hidden-states canvas"), 28, 2 * H + 1,
            (r, c, data, at) => (c === H ? data.fill(255, at, at + 3) : divergingInto(value.states[r][c < H ? c : c - 1], data, at)));
    }
    const kept = element.querySelector("#kept");  // an upload: what the paper path kept, with the digits' boxes
    if (value.kept && last.kept !== value.kept) {
      const picture = kept.querySelector("img");
      picture.src = value.kept;  // a data: URI made by reader/views.py kept_picture (no request)
      picture.alt = `The ink kept from the photo, ${value.digit} walked`;
    }
    const tutorial = element.querySelector("#tutorial-reading");
    if (value.tutorial && last.tutorial !== value.tutorial) {
      setText(tutorial.querySelector("p"), value.tutorial.sentence);
      const [theirDown, theirUp] = tutorial.querySelectorAll("canvas");
      paint(theirDown, 28, 10, (r, c, data, at) => viridisInto(value.tutorial.top_down[r][c], data, at));
      paint(theirUp, 28, 10, (r, c, data, at) => viridisInto(value.tutorial.bottom_up[r][c], data, at));
    }
  }

  global.BiLSTMRender = {answer, reading, settlingRows, rowBelief, settlingSentence, spokenSummary,
                         importanceScale, beliefSvg, importanceSvg, viridis, diverging, percent, BLUE, ORANGE};
})(typeof window !== "undefined" ? window : globalThis);

// Draws the page's views from a reading's numbers, whoever computed them (web/engine.js in the browser, or
// the server: readings.py): the answer, the softmax, the 28x28 input, the two row heatmaps, the p(answer)
// curves, the row importance, the hidden states and the captions. Nothing here decides anything about the
// digit; it shows the numbers it is given.
//
//   BiLSTMRender.answer(element, answer, {local})        // #answer: the number or digit, verdict, softmax bars
//   BiLSTMRender.reading(element, reading, row, playing) // #reading: every view, outlined at row (1..28)
//
// The captions are the same sentences as views.py (row_belief, settling_sentence, spoken_summary), checked
// word for word by tests/test_render.py.
(function (global) {
  "use strict";

  const f32 = Math.fround;
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];  // = views._VIRIDIS
  const BLUE = "#3b528b", ORANGE = "#e65a00", GREY = "#8a8a8a";  // = views.BLUE, views.ORANGE

  const roundHalfEven = global.BiLSTMEngine.roundHalfEven;  // Python's round() and "{:.0f}": engine.js loads first
  const percent = (p) => roundHalfEven(f32(100 * f32(p)));  // f"{100 * p:.0f}" of a float32 p

  function viridis(value) {  // views.viridis for one value: the position in float32, the blend in float64
    const position = f32(Math.min(Math.max(f32(value), 0), 1) * 4);
    const low = Math.min(Math.max(Math.floor(position), 0), 3), fraction = position - low;
    return VIRIDIS[low].map((a, i) => Math.trunc(a * (1 - fraction) + VIRIDIS[low + 1][i] * fraction));
  }

  function diverging(value) {  // views.diverging for one value
    const v = Math.min(Math.max(value, -1), 1);
    const target = v >= 0 ? [200, 30, 40] : [30, 80, 200];
    return [255, 255, 255].map((w, i) => Math.trunc(w + (target[i] - w) * Math.abs(v)));
  }

  // ---------------------------------------------------------------------------------------------
  // Words: the same sentences as views.py

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

  function paint(canvas, rows, columns, colour) {  // colour(row, column) -> [r, g, b] into a rows x columns canvas
    if (canvas.width !== columns) canvas.width = columns;
    if (canvas.height !== rows) canvas.height = rows;
    const context = canvas.getContext("2d"), image = context.createImageData(columns, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const [red, green, blue] = colour(r, c), at = 4 * (r * columns + c);
        image.data[at] = red; image.data[at + 1] = green; image.data[at + 2] = blue; image.data[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  const ROW = 10;  // SVG units per image row (the charts are 28 rows tall, like the 28x28 beside them)
  const svg = (width, body, label) => `<svg viewBox="0 0 ${width} ${28 * ROW}" preserveAspectRatio="none" role="img" ` +
    `aria-label="${label}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;

  function beliefSvg(reading) {  // p(final answer) after rows 1..t (blue) and t..28 (orange), a dot where each settles
    const final = argmax(reading.top_down[27]), [down, up] = settlingRows(reading);
    const y = (t) => (t + 0.5) * ROW;
    const line = (series, colour) => `<polyline points="${series.map((p, t) => `${(100 * p[final]).toFixed(1)},${y(t).toFixed(1)}`).join(" ")}" ` +
      `fill="none" stroke="${colour}" stroke-width="3" vector-effect="non-scaling-stroke" stroke-linejoin="round"/>`;
    const grid = [0, 50, 100].map((x) => `<line x1="${x}" y1="0" x2="${x}" y2="${28 * ROW}" stroke="#ccc" stroke-width="1" vector-effect="non-scaling-stroke"/>`).join("");
    let dots = "", label = `Probability of ${final}: neither direction ever passes one half`;
    if (down !== null) {
      dots = `<circle cx="${(100 * reading.top_down[down - 1][final]).toFixed(1)}" cy="${y(down - 1).toFixed(1)}" r="4" fill="${BLUE}"/>` +
             `<circle cx="${(100 * reading.bottom_up[up - 1][final]).toFixed(1)}" cy="${y(up - 1).toFixed(1)}" r="4" fill="${ORANGE}"/>`;
      label = `Probability of ${final}: top-down reaches it at row ${down}, bottom-up at row ${up}`;
    }
    return svg(100, grid + line(reading.top_down, BLUE) + line(reading.bottom_up, ORANGE) + dots, label);
  }

  function importanceSvg(importance) {  // bars: the probability the answer loses when that row alone is blanked
    const scale = importanceScale(importance.drop);
    const bars = importance.drop.map((drop, row) => {
      const length = 100 * Math.abs(drop) / scale;
      return length < 0.5 ? "" : `<rect x="0" y="${row * ROW + 1}" width="${length.toFixed(1)}" height="${ROW - 2}" fill="${drop > 0 ? ORANGE : GREY}"/>`;
    }).join("");
    const top = argmax(importance.drop) + 1;
    const axis = `<line x1="0" y1="0" x2="0" y2="${28 * ROW}" stroke="#888" stroke-width="1" vector-effect="non-scaling-stroke"/>`;
    return svg(100, axis + bars, `Blanking row ${top} costs the answer ${importance.answer} the most probability`);
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
    figure.setAttribute("aria-label", `${title}: ${probs ? probs.map((p, d) => `${d} ${percent(p)}%`).join(", ") : "no reading"}`);
    figure.querySelectorAll(".bar").forEach((bar, d) => {
      bar.classList.toggle("top", probs !== null && d === top);
      bar.querySelector(".fill").style.height = `${probs ? 100 * probs[d] : 0}%`;
    });
  }

  // answer: the answer value (readings.py / engine), or null for nothing drawn. local: read in this browser
  // while the pen moves (a drawing half done may not be a digit yet: said calmly). message: instead of the prompt.
  function answer(element, value, {local = false, message = null} = {}) {
    const box = element.querySelector(".answer");
    const comparing = Boolean(value && value.tutorial);
    box.classList.toggle("comparing", comparing);
    box.classList.toggle("not-a-digit", Boolean(value && value.not_a_digit && (value.digits || []).length <= 1));
    box.classList.toggle("settling", Boolean(local));
    element.querySelector("#status").textContent = message || (value ? "" : PROMPT);
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
    prediction.dataset.size = !several || said.length <= 2 ? "" : said.length <= 4 ? "number" : "long";
    prediction.querySelector(".title").textContent = comparing ? "Ours reads" : "The model reads";
    prediction.querySelector("[data-testid=label-output-value]").textContent = said;
    prediction.querySelector(".confidence").textContent = confidence;
    prediction.querySelector(".verdict").textContent = verdict;

    const number = element.querySelector("#number");
    number.hidden = !several;
    number.replaceChildren(...(several ? value.digits.map((d, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "digit-pick";
      button.dataset.pick = String(i);
      button.textContent = d.not_a_digit ? "?" : d.digit;
      button.setAttribute("aria-pressed", String(i === value.pick));
      button.setAttribute("aria-label", `Digit ${i + 1} of ${value.digits.length}: ${d.not_a_digit ? "not a digit" : d.digit}, ` +
                                        `${percent(d.confidence)}%${i === value.pick ? ", shown in the row view" : ""}`);
      return button;
    }) : []));

    const title = several ? `Softmax of digit ${value.pick + 1} of ${value.digits.length}` : "Softmax over all ten digits";
    const figure = element.querySelector("#probabilities");
    figure.querySelector("figcaption").textContent = title;
    bars(figure, value ? value.probs : null, value ? Number(value.digit) : -1, title);
    const theirs = element.querySelector("#tutorial-prediction"), theirBars = element.querySelector("#tutorial-probabilities");
    theirs.hidden = theirBars.hidden = !comparing;
    if (comparing) {
      theirs.querySelector("h2").textContent = value.tutorial.digit;
      theirs.querySelector(".confidence").textContent = `${percent(value.tutorial.confidence)}%`;
      bars(theirBars, value.tutorial.probs, Number(value.tutorial.digit), "The tutorial's model's softmax");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The reading views

  function reading(element, value, row, playing) {
    const root = element.querySelector(".reading");
    root.classList.toggle("empty", !value);
    root.dataset.points = value && value.points !== null ? String(value.points) : "";
    element.querySelectorAll(".row-mark").forEach((mark) => { mark.style.top = `${(row - 1) / 28 * 100}%`; });
    const slider = element.querySelector("#row-slider"), play = element.querySelector("#play");
    slider.disabled = play.disabled = !value;
    slider.value = String(row);
    element.querySelector(".walk output").textContent = String(row);
    play.textContent = playing ? "Pause" : "Play";
    const [down, up] = value ? settlingRows(value) : [null, null];
    element.querySelector("#row-caption").textContent = value ? `${rowBelief(value, row)} ${settlingSentence(value)}` : "";
    const spoken = value ? spokenSummary(value, value.not_a_digit) : "";
    const speaker = element.querySelector(".spoken");
    if (speaker.textContent !== spoken) speaker.textContent = spoken;
    const settles = element.querySelectorAll("#row-reading .settle");
    [down, up].forEach((settle, i) => {
      settles[i].hidden = settle === null;
      if (settle !== null) settles[i].style.top = `${(settle - 0.5) / 28 * 100}%`;
    });
    if (!value) return;
    if (element.dataset.drawn === String(value.serial)) return;  // the same numbers: only the row moved
    element.dataset.drawn = String(value.serial);
    paint(element.querySelector("#model-input canvas"), 28, 28, (r, c) => Array(3).fill(Math.round(255 * value.model_input[r][c])));
    const [topDown, bottomUp] = element.querySelectorAll("#row-reading canvas");
    paint(topDown, 28, 10, (r, c) => viridis(value.top_down[r][c]));
    paint(bottomUp, 28, 10, (r, c) => viridis(value.bottom_up[r][c]));
    element.querySelector("#belief-curves .svg").innerHTML = beliefSvg(value);
    element.querySelector("#row-importance .svg").innerHTML = importanceSvg(value.importance);
    element.querySelector("#row-importance .scale").textContent = String(importanceScale(value.importance.drop));
    const H = value.states[0].length / 2;
    paint(element.querySelector("#hidden-states canvas"), 28, 2 * H + 1,
          (r, c) => (c === H ? [255, 255, 255] : diverging(value.states[r][c < H ? c : c - 1])));
    const tutorial = element.querySelector("#tutorial-reading");
    tutorial.hidden = !value.tutorial;
    if (value.tutorial) {
      tutorial.querySelector("p").textContent = value.tutorial.sentence;
      const [theirDown, theirUp] = tutorial.querySelectorAll("canvas");
      paint(theirDown, 28, 10, (r, c) => viridis(value.tutorial.top_down[r][c]));
      paint(theirUp, 28, 10, (r, c) => viridis(value.tutorial.bottom_up[r][c]));
    }
  }

  global.BiLSTMRender = {answer, reading, settlingRows, rowBelief, settlingSentence, spokenSummary,
                         importanceScale, beliefSvg, importanceSvg, viridis, diverging, percent};
})(typeof window !== "undefined" ? window : globalThis);

// When the page paints a reading: in a frame only while the frames keep their time. Painting a reading costs the
// main thread more than its script (the browser restyles, lays out, paints and commits what changed, in that
// frame), and a late frame makes the pen's next events wait. So the page paints the newest reading in every frame
// while the frames come on time (a desktop), and skips one more frame between paints each time a frame came late
// since the last paint, one fewer each time none did (a phone slowed 4x: about every second or third frame).
//
//   const pacer = BiLSTMPacer.create();
//   // in every animation frame while the pen is down or a reading waits:
//   if (pacer.frame(now) && waiting) { paint(); pacer.painted(); }
(function (global) {
  "use strict";

  const LATE = 1.25;  // a frame more than 25% longer than the shortest seen (the display's period) is late
  const MOST_SKIPPED = 3;  // a reading is painted at least every 4th frame (15 a second at 60 Hz)
  const PAUSE_MS = 200;  // frames further apart than this were not asked for in a row: no verdict on them

  function create() {
    let period = Infinity, last = null, skip = 0, waited = Infinity, late = false;
    return {
      frame(now) {  // every frame (now: requestAnimationFrame's argument) -> true: a reading may be painted in it
        if (last !== null && now - last < PAUSE_MS) {
          const interval = now - last;
          period = Math.min(period, interval);
          if (interval > LATE * period) late = true;
        }
        last = now;
        waited += 1;
        return waited > skip;
      },
      painted() {  // a reading was painted in this frame
        skip = late ? Math.min(skip + 1, MOST_SKIPPED) : Math.max(skip - 1, 0);
        late = false;
        waited = 0;
      },
      skipping: () => skip,
    };
  }

  global.BiLSTMPacer = {create, LATE, MOST_SKIPPED};
})(typeof window !== "undefined" ? window : globalThis);

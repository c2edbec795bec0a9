'use strict';
// CPU timing shared by run.mjs (the in-process floor and figures) and floor-driver.cjs (the same
// floor in another Node's process), so that both floors are timed by one piece of code.

/** Median of a list of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Run `fn` (sync or async) `n` times per sample, `samples` samples; median CPU ms per call. CPU
 * time, not wall: this machine is shared and a busy neighbour stretches wall time, not the work done.
 */
async function timeFn(fn, { n = 200, samples = 9, warmup = 50 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const xs = [];
  for (let s = 0; s < samples; s++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn();
    const c = process.cpuUsage(c0);
    xs.push((c.user + c.system) / 1000 / n);
  }
  return median(xs);
}

module.exports = { median, timeFn };

/** The fuzz budget adds up: the shares cover FUZZ_RUNS exactly once, so the files together run ≥ FUZZ_RUNS cases. */
import { expect, it } from 'vitest';
import { SHARES, TOTAL } from './budget.js';

it('shares sum to 1 and the rounded-up runs add up to at least FUZZ_RUNS', () => {
  const sum = Object.values(SHARES).reduce((a, b) => a + b, 0);
  expect(Math.abs(sum - 1)).toBeLessThan(1e-9);
  const runs = Object.values(SHARES).reduce((a, s) => a + Math.max(1, Math.ceil(TOTAL * s)), 0);
  expect(runs).toBeGreaterThanOrEqual(TOTAL);
  console.log(`fuzz: budget FUZZ_RUNS=${TOTAL} → ${runs} property cases over ${Object.keys(SHARES).length} properties (plus the exhaustive TLV sweep)`);
});

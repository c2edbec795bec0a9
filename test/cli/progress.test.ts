/** startProgress (src/cli/output.ts) on a stand-in terminal with a stand-in clock: frames counted, never timed. */
import { describe, expect, it } from 'vitest';
import { startProgress } from '../../src/cli/output.js';

function fakeTerminal(isTTY = true) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 80, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream };
}

describe('startProgress', () => {
  it('at most 10 frames a second however fast results come; the first result draws at once', () => {
    const { writes, stream } = fakeTerminal();
    let t = 1_000_000;
    const p = startProgress('Verifying…', stream, { now: () => t });
    p.setTotal(10_000);
    for (let i = 0; i < 10_000; i++) {
      p.tick();
      t += 0.1; // 10,000 results in 1 s of the stand-in clock
    }
    p.stop();
    const frames = writes.filter((w) => w.startsWith('\r\u001b[2KVerifying…'));
    expect(frames[0]).toBe('\r\u001b[2KVerifying… 1 of 10,000');
    expect(frames.length).toBeGreaterThanOrEqual(10);
    expect(frames.length).toBeLessThanOrEqual(11);
    // rate and ETA once half a second has passed; numbers only
    expect(frames.at(-1)).toMatch(/^\r\u001b\[2KVerifying… [\d,]+ of 10,000, [\d,]+\/s, ETA \d+s$/);
    // erased at the end
    expect(writes.at(-1)).toBe('\r\u001b[2K');
  });

  it('no total: done and rate only; clear() erases and the next tick draws again', () => {
    const { writes, stream } = fakeTerminal();
    let t = 0;
    const p = startProgress('Verifying…', stream, { now: () => t });
    t = 1000;
    p.tick(500);
    expect(writes.at(-1)).toBe('\r\u001b[2KVerifying… 500, 500/s');
    p.clear();
    expect(writes.at(-1)).toBe('\r\u001b[2K');
    p.stop();
    expect(writes).toHaveLength(2); // nothing shown, nothing to erase
  });

  it('not a terminal: not one byte', () => {
    const { writes, stream } = fakeTerminal(false);
    let t = 0;
    const p = startProgress('Verifying…', stream, { now: () => (t += 200) });
    expect(p.active).toBe(false);
    for (let i = 0; i < 100; i++) p.tick();
    p.setTotal(100);
    p.clear();
    p.stop();
    expect(writes).toEqual([]);
  });
});

/**
 * The fuzz budget: FUZZ_RUNS cases in total (default 2,000, the CI slice;
 * `npm run fuzz` sets 100,000), split over the properties of test/fuzz/*.test.ts
 * by the shares below. The shares add up to 1 and every property rounds up, so
 * the cases run always add up to at least FUZZ_RUNS; each file prints its count.
 */
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';
import { isGitsealError } from '../../src/errors.js';

export const TOTAL = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000) || 2000);

/** Per-property shares of TOTAL (keys are `<file>/<property>`). */
export const SHARES: Record<string, number> = {
  'der/random': 0.02,
  'der/mutated-cert': 0.03,
  'pem/random': 0.02,
  'pem/mutated': 0.02,
  'x509/mutated-leaf': 0.06,
  'cms/random': 0.02,
  'cms/mutated-parse': 0.04,
  'verify/mutated-signature': 0.12,
  'verify/cert-bags': 0.02,
  'verify/v2-entries': 0.02,
  'git/ident-headers': 0.02,
  'verify/tlv-edits': 0.1,
  'verify/mutated-payload': 0.03,
  'verify/pem-armour': 0.02,
  'tle/random': 0.02,
  'tle/mutated': 0.05,
  'checkpoint/random': 0.02,
  'checkpoint/mutated': 0.03,
  'json/rekor': 0.04,
  'json/fulcio': 0.03,
  'json/trusted-root': 0.02,
  'jwt/random': 0.02,
  'jwt/claims': 0.02,
  'git/random': 0.02,
  'git/mutated': 0.05,
  'config/random': 0.02,
  'config/mutated': 0.02,
  'agent/frames': 0.03,
  'agent/requests': 0.03,
  'policy/allowed-signers': 0.04,
};

let ran = 0;
const areas = new Set<string>();

/** Runs for one property; counted for this file's summary line. */
export function runs(key: string): number {
  const share = SHARES[key];
  if (share === undefined) throw new Error(`no fuzz share for ${key}`);
  const n = Math.max(1, Math.ceil(TOTAL * share));
  ran += n;
  areas.add(key.split('/')[0]);
  return n;
}

afterAll(() => {
  // The number a reader adds up: per file, and the total it was cut from.
  if (ran) console.log(`fuzz: ${[...areas].join('+')} ran ${ran} cases (FUZZ_RUNS=${TOTAL}, all files together run ≥ ${TOTAL})`);
});

/** fast-check parameters: the run count, and a per-case bound so a hang fails instead of stalling. */
export function params(key: string): fc.Parameters<unknown> {
  return { numRuns: runs(key), timeout: 10_000, endOnFailure: true };
}

/** Run `fn`; any throw other than GitsealError fails the property (a crash, not a verdict). */
export function onlyGitsealErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!isGitsealError(e)) {
      expect.fail(`crash: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack ?? ''}`);
    }
    expect((e as Error).message).not.toMatch(/\n/);
    return undefined;
  }
}

export async function onlyGitsealErrorsAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (!isGitsealError(e)) expect.fail(`crash: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack ?? ''}`);
    return undefined;
  }
}

/** Byte-level mutations of a real input: flips, truncation, extension, insertion, deletion, overwrite. */
export function mutated(base: Buffer): fc.Arbitrary<Buffer> {
  const n = base.length;
  const flip = fc.array(fc.tuple(fc.nat(n - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((fl) => {
    const m = Buffer.from(base);
    for (const [i, x] of fl) m[i] ^= x;
    return m;
  });
  const cut = fc.nat(n - 1).map((i) => base.subarray(0, i));
  const extend = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((x) => Buffer.concat([base, Buffer.from(x)]));
  const insert = fc.tuple(fc.nat(n), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([i, x]) => Buffer.concat([base.subarray(0, i), Buffer.from(x), base.subarray(i)]));
  const del = fc.tuple(fc.nat(n - 1), fc.integer({ min: 1, max: 32 })).map(([i, k]) => Buffer.concat([base.subarray(0, i), base.subarray(i + k)]));
  const set = fc.tuple(fc.nat(n - 1), fc.constantFrom(0x00, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xff)).map(([i, v]) => {
    const m = Buffer.from(base);
    m[i] = v;
    return m;
  });
  return fc.oneof(flip, cut, extend, insert, del, set);
}

/** Text mutations of a real text input (line-aware as well as character-level). */
export function mutatedText(base: string): fc.Arbitrary<string> {
  const lines = base.split('\n');
  const dupLine = fc.nat(lines.length - 1).map((i) => [...lines.slice(0, i + 1), lines[i], ...lines.slice(i + 1)].join('\n'));
  const dropLine = fc.nat(lines.length - 1).map((i) => [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n'));
  const crlf = fc.constant(base.replace(/\n/g, '\r\n'));
  const insertStr = fc.tuple(fc.nat(base.length), fc.string({ maxLength: 8, unit: 'binary-ascii' })).map(([i, s]) => base.slice(0, i) + s + base.slice(i));
  const charAt = fc.tuple(fc.nat(Math.max(0, base.length - 1)), fc.constantFrom('\n', '\r', ' ', '\t', '\0', '"', '\\', '=', '[', ']', '#', ';', '\u2014', '\uFFFF', 'é')).map(
    ([i, c]) => base.slice(0, i) + c + base.slice(i + 1),
  );
  const cut = fc.nat(base.length).map((i) => base.slice(0, i));
  return fc.oneof(dupLine, dropLine, crlf, insertStr, charAt, cut, mutated(Buffer.from(base, 'utf8')).map((b) => b.toString('utf8')));
}

/** Random text: ASCII with control characters, plus some non-ASCII (fast-check's full-unicode units are slow to generate). */
export function text(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength, unit: 'binary-ascii' }),
    fc.uint8Array({ maxLength }).map((b) => Buffer.from(b).toString('latin1')),
    fc.string({ maxLength: Math.ceil(maxLength / 8), unit: fc.constantFrom('\n', '\r', ' ', '\u2014', '\uFFFF', '\uD800', 'é', '=', '-', '.', '#', '[', ']', '"', '\\') }),
  );
}

/**
 * The validFor windows of a trusted root decide when a CA, a log key or a CT log key counts: a
 * rotated key keeps verifying what it signed in its time and nothing after. Decisions pinned here
 * (held, not changed):
 * - a tlog or ctlog key with no validFor is trusted at any time (as sigstore-js reads it;
 *   sigstore-go refuses such a key for SETs). A window is for rotation; a root that omits one
 *   trusts the key until the root drops it. cosign's `trusted-root create` always writes a start.
 *   A CA without validFor is refused when the root is parsed.
 * - an inverted window (end before start) trusts nothing;
 * - one key listed twice with adjacent windows counts in either; a time in neither is refused;
 * - an open-ended window (no end) counts from its start on, never before it.
 */
import { describe, expect, test } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { makeLeaf, makeWorld, PAYLOAD, signPayload } from '../verify/helpers/forge.js';

const w = makeWorld();
// The forged world logs at 2025-06-01T12:01:00Z (forge.ts logEntry).
const sig = () => signPayload(w, makeLeaf(w), PAYLOAD).pem;

function rootWith(edit: (j: Record<string, any>) => void) {
  const j = JSON.parse(w.trustJson);
  edit(j);
  return parseTrustedRoot(JSON.stringify(j));
}

async function verdict(edit: (j: Record<string, any>) => void) {
  return verifySignature({ signature: sig(), payload: PAYLOAD, trust: rootWith(edit), offline: true });
}

describe('trusted-root windows', () => {
  test('a log key and a CT log key with no validFor: trusted (documented decision)', async () => {
    const r = await verdict((j) => {
      delete j.tlogs[0].publicKey.validFor;
      delete j.ctlogs[0].publicKey.validFor;
    });
    expect(r, r.message).toMatchObject({ ok: true });
  });

  test('a CA with no validFor: the root is refused', () => {
    expect(() => rootWith((j) => delete j.certificateAuthorities[0].validFor)).toThrow(/validFor/);
  });

  test('an inverted window trusts nothing', async () => {
    const tlog = await verdict((j) => (j.tlogs[0].publicKey.validFor = { start: '2026-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' }));
    expect(tlog).toMatchObject({ ok: false, failedCheck: 'tlog' });
    const ca = await verdict((j) => (j.certificateAuthorities[0].validFor = { start: '2026-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' }));
    expect(ca).toMatchObject({ ok: false, failedCheck: 'chain' });
    const ct = await verdict((j) => (j.ctlogs[0].publicKey.validFor = { start: '2026-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' }));
    expect(ct).toMatchObject({ ok: false, failedCheck: 'sct' });
  });

  test('a key listed twice with adjacent windows counts in either; a gap between them does not', async () => {
    const twice = (a: string, b: string) => (j: Record<string, any>) => {
      const k = j.tlogs[0];
      j.tlogs = [
        { ...k, publicKey: { ...k.publicKey, validFor: { start: '2020-01-01T00:00:00Z', end: a } } },
        { ...k, publicKey: { ...k.publicKey, validFor: { start: b } } },
      ];
    };
    expect(await verdict(twice('2025-06-01T12:01:00Z', '2025-06-01T12:01:00Z'))).toMatchObject({ ok: true });
    expect(await verdict(twice('2025-01-01T00:00:00Z', '2025-06-01T12:00:59Z'))).toMatchObject({ ok: true });
    expect(await verdict(twice('2025-06-01T12:00:59Z', '2025-06-01T12:01:01Z'))).toMatchObject({ ok: false, failedCheck: 'tlog' });
  });

  test('an open-ended window counts from its start, not before', async () => {
    expect(await verdict((j) => (j.tlogs[0].publicKey.validFor = { start: '2025-06-01T12:01:00Z' }))).toMatchObject({ ok: true });
    expect(await verdict((j) => (j.tlogs[0].publicKey.validFor = { start: '2025-06-01T12:01:01Z' }))).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(await verdict((j) => (j.certificateAuthorities[0].validFor = { start: '2025-06-01T12:01:01Z' }))).toMatchObject({ ok: false, failedCheck: 'chain' });
  });
});

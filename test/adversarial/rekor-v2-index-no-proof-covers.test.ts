/**
 * Issue 14 item 8: a Rekor v2 (rekor-tiles) entry's log_index is not signed by anything: no
 * SET, and the inclusion proof authenticates only its own index. An entry claiming index
 * 999999 next to a proof for index 4 used to verify, and stderr said "Rekor log index
 * 999999". The index shown must be one the proof covers: the entry's and the proof's must agree.
 */
import { describe, expect, test } from 'vitest';
import { verifySignature } from '../../src/verify/pipeline.js';
import { commitPayload, signedCommit } from '../verify/helpers/forge.js';
import { useAllPaths } from './helpers/paths.js';
import { rekorV2Signature, useRekorV2World } from './helpers/rekor-v2.js';

const world = useRekorV2World();

const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000']);

/** A Rekor v2 signature over `payload`: v0.0.2 entry + RFC 3161 token, entry index `logIndex`. */
function v2Signature(o: { logIndex?: bigint; proofIndex?: bigint; index?: number } = {}): string {
  return rekorV2Signature(world, payload, { entry: o });
}

describe('Rekor v2 log index', () => {
  test('a consistent entry verifies and reports the proven index', async () => {
    const r = await verifySignature({ signature: v2Signature(), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: true, kind: 'good', logIndex: 4n });
  });

  test('an entry index the inclusion proof does not cover is refused', async () => {
    const r = await verifySignature({ signature: v2Signature({ logIndex: 999_999n }), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG' });
    expect(r.message).toMatch(/log index 999999.*inclusion proof.*4/);
    expect(r.logIndex).toBeUndefined();
  });

  test('a proof for another position does not verify either (the index is what the proof hashes)', async () => {
    const r = await verifySignature({ signature: v2Signature({ logIndex: 3n, proofIndex: 3n }), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/inclusion proof/);
  });
});

describe('every path: the unproven index is never shown as fact', () => {
  const sandbox = useAllPaths(() => world.trustJson);

  test('git, gitseal verify, the library and the hook refuse it; nothing prints 999999 as a log index', async () => {
    const v = await sandbox.paths.all(signedCommit(payload, v2Signature({ logIndex: 999_999n })));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.git.stderr).not.toMatch(/Rekor log index 999999/);
    expect(v.cli.result?.logIndex).toBeUndefined();
    expect(v.hook.accepted).toBe(false);
  });

  test('the consistent entry is good on every path, index 4', async () => {
    const v = await sandbox.paths.all(signedCommit(payload, v2Signature()));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['U', 'U', 'U']);
    expect(v.git.stderr).toMatch(/Rekor log index 4,/);
    // Its time is the timestamp authority's, and stderr says so (not "integrated time").
    expect(v.git.stderr).toMatch(/Rekor log index 4, timestamped 2025-06-01T12:00:40\.000Z by http:\/\/127\.0\.0\.1:1\/forged-tsa \(RFC 3161\)/);
    expect(v.cli.result?.logIndex).toBe('4');
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });
});

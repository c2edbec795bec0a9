/**
 * A Rekor v2 (rekor-tiles) entry has no SET: its C2SP checkpoint is the only signed statement
 * that the entry is in the log. The checkpoint names its log on the origin line, and the
 * signature line names the key; neither was compared with the trusted log. So a checkpoint of
 * ANOTHER log signed with the same key — a second shard, a staging or test log run with the
 * production key — proved inclusion "in log2025-1" for an entry that is only in a tree that no
 * monitor of log2025-1 watches: the signature is good while nobody can ever see it in the log
 * the trusted root names. C2SP tlog-checkpoint: the origin must be the log the client expects;
 * sigstore-go builds its note verifier with the log's name and accepts no other.
 *
 * The log's name is what the trusted root pins: for an Ed25519 log whose id is its C2SP key id
 * (public-good log2025-1, the sandbox), SHA-256(name || 0x0A || 0x01 || key) must equal that id;
 * otherwise the host of its baseUrl. Rekor v1 entries are bound to the log by the SET; their
 * origins ("<hostname> - <tree id>") are not compared (pinned below).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { encodeTle } from '../../src/rekor/tle.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { isLogOrigin } from '../../src/verify/checkpoint.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import {
  commitPayload,
  logEntry,
  makeLeaf,
  pemOf,
  signedCommit,
  signPayload,
  tsaToken,
  v2Body,
  v2Entry,
  type V2Log,
} from '../verify/helpers/forge.js';
import { useAllPaths } from './helpers/paths.js';
import { rekorV2Signature, useRekorV2World } from './helpers/rekor-v2.js';

const world = useRekorV2World('log2025-1.rekor.example');

const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000']);

/** A Rekor v2 signature over `payload` whose checkpoint the log's key signs, shaped by `o`. */
function v2Signature(o: Parameters<typeof v2Entry>[2] = {}, l: V2Log = world.log): string {
  return rekorV2Signature(world, payload, { entry: o, log: l });
}

describe('a Rekor v2 checkpoint must be the trusted log’s own', () => {
  test('the log’s own checkpoint verifies (control)', async () => {
    const r = await verifySignature({ signature: v2Signature(), payload, trust: world.trust, offline: true });
    expect(r, r.message).toMatchObject({ ok: true, kind: 'good', logIndex: 4n });
  });

  test('a checkpoint of another log signed with the same key is refused', async () => {
    // Named consistently (origin = key name, hint from that name): a genuine checkpoint of a
    // staging log that shares the production key.
    const r = await verifySignature({ signature: v2Signature({ origin: 'staging.rekor.example', keyName: 'staging.rekor.example' }), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG' });
    expect(r.message).toMatch(/checkpoint is for the log "staging\.rekor\.example", not the trusted log https:\/\/log2025-1\.rekor\.example/);
  });

  test('another origin under the log’s key name is refused too', async () => {
    const r = await verifySignature({ signature: v2Signature({ origin: 'log2025-2.rekor.example' }), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/checkpoint is for the log "log2025-2\.rekor\.example"/);
  });

  test('the right origin signed under another key name is refused (the name is part of the key’s identity)', async () => {
    const r = await verifySignature({ signature: v2Signature({ keyName: 'someone-else.example' }), payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/not signed by the trusted transparency log key/);
  });

  test('a witness cosignature beside the log’s signature does not get in the way', async () => {
    const witness = { name: 'witness.example', key: generateKeyPairSync('ed25519') };
    const r = await verifySignature({ signature: v2Signature({ witnesses: [witness] }), payload, trust: world.trust, offline: true });
    expect(r, r.message).toMatchObject({ ok: true, kind: 'good' });
  });

  test('a log whose id does not commit to a name is named by its baseUrl host', () => {
    const t = parseTrustedRoot(
      JSON.stringify({
        ...JSON.parse(world.trustJson),
        tlogs: [{ ...world.log.trustItem, baseUrl: 'http://127.0.0.1:3004', logId: { keyId: createHash('sha256').update(world.log.spki).digest().toString('base64') } }],
      }),
    ).tlogs[0];
    expect(isLogOrigin(t, '127.0.0.1:3004')).toBe(true);
    expect(isLogOrigin(t, '127.0.0.1')).toBe(true);
    expect(isLogOrigin(t, 'log2025-1.rekor.example')).toBe(false);
    expect(isLogOrigin(t, '')).toBe(false);
    // …and one whose id is its C2SP key id by that id, whatever its URL says.
    expect(isLogOrigin(world.trust.tlogs.find((x) => x.logId.equals(world.log.logId))!, 'log2025-1.rekor.example')).toBe(true);
  });

  test('the public-good log2025-1 id is the C2SP key id of its host name', async () => {
    const { embeddedTrustedRoot } = await import('../../src/trust/embedded.js');
    const v2 = embeddedTrustedRoot().tlogs.find((t) => t.baseUrl === 'https://log2025-1.rekor.sigstore.dev')!;
    expect(isLogOrigin(v2, 'log2025-1.rekor.sigstore.dev')).toBe(true);
    expect(isLogOrigin(v2, 'log2025-2.rekor.sigstore.dev')).toBe(false);
  });

  test('a v0.0.2 entry proven against a Rekor v1 checkpoint (another kind of log, no SET) is refused', async () => {
    const leaf = makeLeaf(world.w);
    const s = signPayload(world.w, leaf, payload, { noTlog: true });
    const body = v2Body(createHash('sha256').update(s.signedAttrsSet).digest(), s.signature, leaf.der);
    const tle = { ...logEntry(world.w, body, { logIndex: 5n, treeIndex: 5 }), version: '0.0.2', signedEntryTimestamp: undefined, integratedTime: 0n };
    const pem = pemOf({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle), tst: tsaToken(world.tsa, s.signature, new Date('2025-06-01T12:00:40Z')) });
    const r = await verifySignature({ signature: pem, payload, trust: world.trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog' });
    expect(r.message).toMatch(/checkpoint is for the log "127\.0\.0\.1 - 1234567890"/);
  });

  test('pinned: a Rekor v1 checkpoint origin is not compared (the SET binds the entry to the log)', async () => {
    // The forged world's v1 checkpoints say "127.0.0.1 - 1234567890" while its baseUrl is
    // http://127.0.0.1:1/rekor; public-good ones say "rekor.sigstore.dev - <tree id>".
    const leaf = makeLeaf(world.w);
    const r = await verifySignature({ signature: signPayload(world.w, leaf, payload).pem, payload, trust: world.w.trust, offline: true });
    expect(r, r.message).toMatchObject({ ok: true });
  });
});

describe('every path refuses a checkpoint of another log', () => {
  const sandbox = useAllPaths(() => world.trustJson);

  test('git, gitseal verify, the library and the hook', async () => {
    const v = await sandbox.paths.all(signedCommit(payload, v2Signature({ origin: 'staging.rekor.example', keyName: 'staging.rekor.example' })));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.git.stderr).toMatch(/checkpoint is for the log "staging\.rekor\.example"/);
    expect(v.hook.accepted).toBe(false);
  });

  test('the log’s own checkpoint is good on every path', async () => {
    const v = await sandbox.paths.all(signedCommit(payload, v2Signature()));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['U', 'U', 'U']);
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });
});

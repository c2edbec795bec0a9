/**
 * docs/security.md, "Who can forge a good signature" and "What the transparency log proves",
 * one class at a time, through every path (git verify-commit, gitseal verify, the library, the
 * pre-receive hook). Each forger holds exactly what the class says and nothing more.
 */
import { createHash, sign } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { encodeTle } from '../../src/rekor/tle.js';
import {
  assembleCms,
  commitPayload,
  ecKey,
  logEntry,
  makeLeaf,
  name,
  signedAttributes,
  signedCommit,
  signPayload,
} from '../verify/helpers/forge.js';
import { encodePem } from '../../src/util/pem.js';
import { useForgedWorld, type PathVerdicts } from './helpers/paths.js';

const forged = useForgedWorld();

const T = '1748779200 +0000';
const alice = `Alice <alice@example.com> ${T}`;
const payload = commitPayload([`author ${alice}`, `committer ${alice}`]);

function refusedEverywhere(v: PathVerdicts, letter: 'B' | 'E'): void {
  expect([v.git.letter, v.cli.letter, v.lib.letter], `${v.git.stderr}\n${v.cli.stdout}`).toEqual([letter, letter, letter]);
  expect(v.git.status).toBe(1);
  expect(v.cli.status).toBe(1);
  expect(v.lib.result.ok).toBe(false);
  expect(v.hook.accepted).toBe(false);
}

/** Sign `payload` with `leaf` and attach a v1 entry whose SET and checkpoint `rekorKey` signs. */
function signLogged(leaf: { key: ReturnType<typeof ecKey>; der: Buffer }, p: Buffer, rekorKey = forged.w.rekor) {
  const attrs = signedAttributes(p, new Date('2025-06-01T12:00:30Z'));
  const signature = sign('sha256', attrs, leaf.key.privateKey);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(attrs).digest(), signature, leaf.der));
  const entry = logEntry({ ...forged.w, rekor: rekorKey }, body, { checkpointKey: rekorKey });
  return encodePem('SIGNED MESSAGE', assembleCms({ signedAttrsSet: attrs, signature, leaf: leaf.der, tle: encodeTle(entry) }));
}

describe('who cannot forge a good signature', () => {
  test('the Rekor log alone (its key signs SET and checkpoint; the certificate is self-made): not verified', async () => {
    const ca = ecKey('P-384');
    const caName = name('sigstore-intermediate'); // the real names do not help
    const leaf = makeLeaf(forged.w, { caKey: ca, caName });
    const v = await forged.paths.all(signedCommit(payload, signLogged(leaf, payload)));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/chain check failed/);
  });

  test('Fulcio alone (its CA key issues the leaf; the log entry is signed by a key the root does not list): not verified', async () => {
    const leaf = makeLeaf(forged.w, { email: 'alice@example.com' });
    const v = await forged.paths.all(signedCommit(payload, signLogged(leaf, payload, ecKey())));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/tlog check failed/);
  });

  test('Fulcio alone, with no log entry at all (offline): not verified, and it says the proof is missing', async () => {
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), payload, { noTlog: true }).pem));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/Rekor proof is not embedded/);
  });

  test('a CA that is trusted but whose CT log is not: not verified (the SCT check)', async () => {
    const leaf = makeLeaf(forged.w, { ctKey: ecKey() });
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, leaf, payload).pem));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/sct check failed/);
  });
});

describe('anyone who can only change the git object', () => {
  const good = () => signPayload(forged.w, makeLeaf(forged.w), payload).pem;

  test.each<[string, Buffer]>([
    ['another author', commitPayload([`author Mallory <m@example.com> ${T}`, `committer ${alice}`])],
    ['another tree', Buffer.from(payload.toString('latin1').replace('4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 'latin1')],
    ['a parent added', commitPayload(['parent 1111111111111111111111111111111111111111', `author ${alice}`, `committer ${alice}`])],
    ['an extra header', commitPayload([`author ${alice}`, `committer ${alice}`, 'encoding ISO-8859-1'])],
    ['the message changed', commitPayload([`author ${alice}`, `committer ${alice}`], 'forged, but not this\n')],
  ])('%s under the original signature: BAD everywhere', async (_n, changed) => {
    const v = await forged.paths.all(signedCommit(changed, good()));
    refusedEverywhere(v, 'B');
  });

  test("a signature moved from another commit: BAD everywhere", async () => {
    const other = commitPayload([`author ${alice}`, `committer ${alice}`], 'the commit alice really signed\n');
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), other).pem));
    refusedEverywhere(v, 'B');
  });

  test('the signature stripped: no path calls it signed', async () => {
    const v = await forged.paths.all(payload);
    expect(v.git.letter).toBe('N');
    expect(v.cli.result?.kind).toBe('unsigned');
    expect(v.lib.result).toMatchObject({ ok: false, kind: 'error' });
    expect(v.hook.accepted).toBe(false);
  });
});

describe('the transparency log proof is for this signature only', () => {
  test("another signature's valid log entry transplanted: not verified", async () => {
    const leaf = makeLeaf(forged.w);
    const other = signPayload(forged.w, leaf, commitPayload([`author ${alice}`, `committer ${alice}`], 'something else\n'));
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, leaf, payload, { tle: other.tle }).pem));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/tlog check failed/);
  });

  test('a checkpoint signed by another key, or a flipped proof hash: not verified', async () => {
    for (const o of [{ checkpointKey: ecKey() }, { flipProofHash: true }]) {
      const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), payload, o).pem));
      refusedEverywhere(v, 'E');
    }
  });

  test("the signer's own signingTime is never the time: a signature dated 1999 reports the log's time", async () => {
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), payload, { signingTime: new Date('1999-01-01Z') }).pem));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['U', 'U', 'U']);
    expect(v.cli.result?.integratedTime).toBe('2025-06-01T12:01:00.000Z');
    expect(v.lib.result.integratedTime?.toISOString()).toBe('2025-06-01T12:01:00.000Z');
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });

  test('a leaf that expired before the log saw it: not verified (time check)', async () => {
    const leaf = makeLeaf(forged.w, { notBefore: new Date('2025-06-01T11:40:00Z') }); // valid until 11:50; logged 12:01
    const v = await forged.paths.all(signedCommit(payload, signPayload(forged.w, leaf, payload).pem));
    refusedEverywhere(v, 'E');
    expect(v.git.stderr).toMatch(/time check failed/);
  });
});

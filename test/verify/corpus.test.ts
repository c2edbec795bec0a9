/**
 * Every real object of the vendored gitsign corpus (test/fixtures/gitsign-corpus,
 * README "Expected verdicts") against the embedded public-good root, offline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { verifySignature } from '../../src/verify/pipeline.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');

interface IndexEntry {
  dir: string;
  oid: string;
  type: string;
  signer_identity: string;
  oidc_issuer: string | null;
  not_before: string;
  not_after: string;
  has_embedded_tlog: boolean;
}

const index: IndexEntry[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));
const trust = embeddedTrustedRoot();

function load(dir: string) {
  return {
    signature: readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8'),
    payload: readFileSync(join(CORPUS, dir, 'payload.bin')),
  };
}

const offlineMode = index.filter((e) => e.has_embedded_tlog);
const nonFulcio = index.filter((e) => e.oidc_issuer === null);
const PRE_RELEASE = 'sigstore_gitsign_commit_c47e8bf5c862';
const onlineMode = index.filter((e) => !e.has_embedded_tlog && e.oidc_issuer !== null && e.dir !== PRE_RELEASE);

test('corpus has the documented shape', () => {
  expect(index).toHaveLength(72);
  expect(offlineMode).toHaveLength(12);
  expect(nonFulcio.map((e) => e.dir)).toEqual(['sigstore_fulcio_commit_d733fda5c62b']);
});

describe('offline-mode objects verify fully offline', () => {
  test.each(offlineMode.map((e) => [e.dir, e] as const))('%s', async (_dir, e) => {
    const r = await verifySignature({ ...load(e.dir), trust, offline: true });
    expect(r.message).toMatch(/^good signature/);
    expect(r).toMatchObject({ ok: true, kind: 'good', identity: e.signer_identity, issuer: e.oidc_issuer });
    expect(r.policyMatched).toBeUndefined();
    expect(typeof r.logIndex).toBe('bigint');
    const t = r.integratedTime!.getTime();
    expect(t).toBeGreaterThanOrEqual(new Date(e.not_before).getTime());
    expect(t).toBeLessThanOrEqual(new Date(e.not_after).getTime());
    expect(r.fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('online-mode objects: error saying the proof is missing', () => {
  test.each(onlineMode.map((e) => [e.dir, e] as const))('%s', async (_dir, e) => {
    const r = await verifySignature({ ...load(e.dir), trust, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG_MISSING' });
    expect(r.message).toMatch(/Rekor proof is not embedded in this signature \(gitsign online mode\)/);
    // everything before the log check was established, and reported
    expect(r.identity).toBe(e.signer_identity);
    expect(r.issuer).toBe(e.oidc_issuer);
  });
});

test('the smimesign (non-Fulcio) commit is rejected: no chain to a Fulcio CA', async () => {
  const r = await verifySignature({ ...load(nonFulcio[0].dir), trust, offline: true });
  expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'chain', code: 'CHAIN' });
});

describe('negative/ cases are rejected with the right class', () => {
  const expected: Record<string, { kind: 'bad' | 'error'; failedCheck: string }> = {
    '01-commit-payload-byte-flip': { kind: 'bad', failedCheck: 'message-digest' },
    '02-tag-message-byte-flip': { kind: 'bad', failedCheck: 'message-digest' },
    '03-signature-value-byte-flip': { kind: 'bad', failedCheck: 'signature' },
    '04-signed-attr-signingTime-altered': { kind: 'bad', failedCheck: 'signature' },
    '05-signature-transplanted-to-other-commit': { kind: 'bad', failedCheck: 'message-digest' },
    // the SignerInfo names a certificate the CMS does not carry: nothing to check the signature with
    '06-embedded-certificate-swapped': { kind: 'error', failedCheck: 'signature' },
    '11-real-non-fulcio-smime-commit': { kind: 'error', failedCheck: 'chain' },
    '12-wrong-payload-derivation-raw-object': { kind: 'bad', failedCheck: 'message-digest' },
  };
  const dirs = readdirSync(join(CORPUS, 'negative')).filter((d) => !d.endsWith('.json'));
  test('every negative case has an expectation', () => {
    expect(dirs.sort()).toEqual(Object.keys(expected).sort());
  });
  test.each(dirs)('%s', async (d) => {
    const r = await verifySignature({ ...load(join('negative', d)), trust, offline: true });
    expect(r.ok).toBe(false);
    expect(r).toMatchObject(expected[d]);
  });

  test('12: the same signature over the payload derived from object.raw passes every content check', async () => {
    const raw = readFileSync(join(CORPUS, 'negative/12-wrong-payload-derivation-raw-object/object.raw'));
    // git's rule: drop the gpgsig header and its space-prefixed continuation lines
    const lines = raw.toString('latin1').split('\n');
    const out: string[] = [];
    let inSig = false;
    for (const l of lines) {
      if (l.startsWith('gpgsig ')) inSig = true;
      else if (inSig && l.startsWith(' ')) continue;
      else inSig = false;
      if (!inSig) out.push(l);
    }
    const payload = Buffer.from(out.join('\n'), 'latin1');
    const r = await verifySignature({ signature: load('negative/12-wrong-payload-derivation-raw-object').signature, payload, trust, offline: true });
    // an online-mode commit: content, signature and chain pass; only the absent log proof stops it
    expect(r).toMatchObject({ kind: 'error', failedCheck: 'tlog', code: 'TLOG_MISSING' });
  });
});

test('the Jan-2023 pre-release layout (attributes 3.0–3.8) is not verified, and says which layout it is', async () => {
  const r = await verifySignature({ ...load(PRE_RELEASE), trust, offline: true });
  expect(r).toMatchObject({ kind: 'error', failedCheck: 'tlog', code: 'TLOG_MISSING', identity: 'billy@chainguard.dev', issuer: 'https://accounts.google.com' });
  expect(r.message).toBe(
    "this signature uses gitsign's January-2023 pre-release log layout (attributes 1.3.6.1.4.1.57264.3.0–3.8), which no gitsign release writes or reads; its Rekor proof cannot be checked, so this signature is not verified",
  );
  expect(r.message).not.toMatch(/online mode/);
});

/**
 * Rekor v2 signatures through verifySignature: a hashedrekord v0.0.2 entry
 * with an inclusion proof to an Ed25519 C2SP checkpoint, and the time from an
 * RFC 3161 token made by OpenSSL's own TSA (`openssl ts -reply`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { encodeTle, type TransparencyLogEntry } from '../../src/rekor/tle.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { der } from '../../src/util/der.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { hashedRekordV002Body } from '../../src/verify/tlog.js';
import { assembleCms, auditPath, ecKey, EXT, ext, makeCert, makeLeaf, makeWorld, mth, name, PAYLOAD, signedAttributes, type World } from './helpers/forge.js';
import { needs } from '../helpers/tools.js';

let w: World;
let dir: string;
let trust: TrustedRoot;
const logName = 'log2099-test.rekor.example';
const ed = generateKeyPairSync('ed25519');
const edSpki = ed.publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
const logId = createHash('sha256').update(Buffer.concat([Buffer.from(logName + '\n'), Buffer.from([1]), edSpki.subarray(12)])).digest();
const tsaRoot = ecKey();
const tsaLeaf = ecKey();
let tsaRootCert: Buffer;
let tsaLeafCert: Buffer;

beforeAll(() => {
  w = makeWorld();
  dir = mkdtempSync(join(tmpdir(), 'gitseal-v2tsa-'));
  const nb = new Date('2020-01-01Z');
  const na = new Date('2040-01-01Z');
  tsaRootCert = makeCert({ issuer: name('test-tsa-root'), subject: name('test-tsa-root'), spki: tsaRoot.spki, notBefore: nb, notAfter: na, extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(tsaRoot.spki)], signer: tsaRoot.privateKey });
  tsaLeafCert = makeCert({
    issuer: name('test-tsa-root'),
    subject: name('test-tsa'),
    spki: tsaLeaf.spki,
    notBefore: nb,
    notAfter: na,
    extensions: [ext('2.5.29.37', true, der.seq(der.oid('1.3.6.1.5.5.7.3.8'))), EXT.ski(tsaLeaf.spki), EXT.aki(tsaRoot.spki)],
    signer: tsaRoot.privateKey,
  });
  const json = JSON.parse(w.trustJson);
  json.tlogs = [
    {
      baseUrl: `https://${logName}`,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: edSpki.toString('base64'), keyDetails: 'PKIX_ED25519', validFor: { start: '2020-01-01T00:00:00Z' } },
      logId: { keyId: logId.toString('base64') },
    },
  ];
  json.timestampAuthorities = [
    {
      uri: 'http://127.0.0.1:1/tsa',
      certChain: { certificates: [{ rawBytes: tsaLeafCert.toString('base64') }, { rawBytes: tsaRootCert.toString('base64') }] },
      validFor: { start: '2020-01-01T00:00:00Z' },
    },
  ];
  trust = parseTrustedRoot(JSON.stringify(json));
  writeFileSync(join(dir, 'tsa.pem'), encodePem('CERTIFICATE', tsaLeafCert));
  writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', tsaRootCert));
  writeFileSync(join(dir, 'tsa.key'), tsaLeaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    join(dir, 'tsa.cnf'),
    ['[ tsa ]', 'default_tsa = t', '[ t ]', `serial = ${join(dir, 'serial')}`, 'signer_digest = sha256', 'default_policy = 1.2.3.4.1', 'digests = sha256', 'ess_cert_id_alg = sha256', ''].join('\n'),
  );
});

/** A real RFC 3161 token over `data` from `openssl ts -reply`. */
function opensslToken(data: Buffer): Buffer {
  writeFileSync(join(dir, 'data'), data);
  execFileSync('openssl', ['ts', '-query', '-data', join(dir, 'data'), '-sha256', '-cert', '-out', join(dir, 'q.tsq')], { stdio: 'pipe' });
  execFileSync(
    'openssl',
    ['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', join(dir, 'q.tsq'), '-signer', join(dir, 'tsa.pem'), '-inkey', join(dir, 'tsa.key'), '-chain', join(dir, 'root.pem'), '-token_out', '-out', join(dir, 't.der')],
    { stdio: 'pipe' },
  );
  return readFileSync(join(dir, 't.der'));
}

/** A v0.0.2 entry for `body` in a 6-leaf tree whose C2SP checkpoint the Ed25519 log key signs. */
function v2Entry(body: Buffer): TransparencyLogEntry {
  const leaves = Array.from({ length: 6 }, (_, i) => (i === 4 ? body : Buffer.from(`v2 entry ${i}`)));
  const root = mth(leaves);
  const note = `${logName}\n6\n${root.toString('base64')}\n`;
  const sig = sign(null, Buffer.from(note), ed.privateKey);
  return {
    logIndex: 4n,
    logId,
    kind: 'hashedrekord',
    version: '0.0.2',
    integratedTime: 0n,
    inclusionProof: {
      logIndex: 4n,
      rootHash: root,
      treeSize: 6n,
      hashes: auditPath(4, leaves),
      checkpoint: `${note}\n\u2014 ${logName} ${Buffer.concat([logId.subarray(0, 4), sig]).toString('base64')}\n`,
    },
  };
}

function signV2(opts: { tst?: 'good' | 'other' | 'none'; notBefore?: Date } = {}) {
  const leaf = makeLeaf(w, { notBefore: opts.notBefore ?? new Date(Date.now() - 60_000) });
  const attrs = signedAttributes(PAYLOAD, new Date());
  const signature = sign('sha256', attrs, leaf.key.privateKey);
  const body = hashedRekordV002Body(createHash('sha256').update(attrs).digest(), signature, leaf.der);
  const tst = opts.tst === 'none' ? undefined : opensslToken(opts.tst === 'other' ? Buffer.from('another signature') : signature);
  const cms = assembleCms({ signedAttrsSet: attrs, signature, leaf: leaf.der, tle: encodeTle(v2Entry(body)), tst });
  return encodePem('SIGNED MESSAGE', cms);
}

needs('openssl').describe('Rekor v2 entry + RFC 3161 time', () => {
  test('verifies, with the time taken from the TSA token', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const r = await verifySignature({ signature: signV2(), payload: PAYLOAD, trust, offline: true });
    expect(r.message).toMatch(/good signature/);
    expect(r).toMatchObject({ ok: true, kind: 'good', logIndex: 4n });
    expect(r.integratedTime!.getTime()).toBeGreaterThanOrEqual(before);
  });

  test('without a token: error, the time cannot be established', async () => {
    const r = await verifySignature({ signature: signV2({ tst: 'none' }), payload: PAYLOAD, trust, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog' });
    expect(r.message).toMatch(/no RFC 3161 timestamp/);
  });

  test('a token over other data is refused', async () => {
    const r = await verifySignature({ signature: signV2({ tst: 'other' }), payload: PAYLOAD, trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/different data/);
  });

  test('a token from a TSA that is not trusted is refused', async () => {
    const json = JSON.parse(w.trustJson);
    json.tlogs = trust.tlogs.map((t) => ({ baseUrl: t.baseUrl, publicKey: { rawBytes: t.publicKey.toString('base64'), keyDetails: t.keyDetails, validFor: { start: '2020-01-01T00:00:00Z' } }, logId: { keyId: t.logId.toString('base64') } }));
    const noTsa = parseTrustedRoot(JSON.stringify(json));
    const r = await verifySignature({ signature: signV2(), payload: PAYLOAD, trust: noTsa, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/not signed by a trusted timestamp authority/);
  });

  test('the leaf must be valid at the TSA time', async () => {
    const r = await verifySignature({ signature: signV2({ notBefore: new Date(Date.now() - 3_600_000) }), payload: PAYLOAD, trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'time' });
  });
});

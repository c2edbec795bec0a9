/**
 * Against the project's own Rekor v1-compatible service (packages/sandbox/src/rekor, on
 * 127.0.0.1): gitsign online mode — search by certificate, match the
 * hashedrekord over sha256(object id) — and offline mode with an entry the
 * service really logged (SET, proof and checkpoint made by another implementation).
 */
import { createHash, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRekorService, type RekorService } from '../../packages/sandbox/src/rekor/service.js';
import { createRekorSearch } from '../../src/rekor/search.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { encodeTle, type TransparencyLogEntry } from '../../src/rekor/tle.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { encodePem } from '../../src/util/pem.js';
import { signedObjectId } from '../../src/verify/online.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { assembleCms, makeLeaf, makeWorld, PAYLOAD, signPayload, type World } from './helpers/forge.js';

let server: Server;
let rekor: RekorService;
let url: string;
let w: World;
let trust: TrustedRoot;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-sbrekor-'));
  server = createServer((req, res) => rekor.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  url = `http://127.0.0.1:${addr.port}`;
  rekor = createRekorService({ dir, url });
  w = makeWorld();
  const json = JSON.parse(w.trustJson);
  json.tlogs = [
    {
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: rekor.trust.publicKeyDer.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: rekor.trust.validFrom.toISOString() } },
      logId: { keyId: rekor.trust.logId.toString('base64') },
    },
  ];
  trust = parseTrustedRoot(JSON.stringify(json));
});

afterAll(async () => {
  rekor?.close();
  await new Promise<void>((r) => server.close(() => r()));
});

async function upload(digest: Buffer, signature: Buffer, leafDer: Buffer) {
  const body = hashedRekordV001(digest, signature, leafDer);
  const res = await fetch(`${url}/api/v1/log/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return Object.values((await res.json()) as Record<string, any>)[0];
}

const recent = () => new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

describe('online mode (gitsign default): entry found by Rekor search', () => {
  test('verifies when online, and is an error offline', async () => {
    const leaf = makeLeaf(w, { notBefore: recent(), email: 'alice@example.com' });
    const s = signPayload(w, leaf, PAYLOAD, { noTlog: true, signingTime: new Date() });
    // what gitsign logs: a second signature, over the object id string, hashed
    const oid = signedObjectId(PAYLOAD, s.pem)!;
    await upload(createHash('sha256').update(oid).digest(), sign('sha256', Buffer.from(oid), leaf.key.privateKey), leaf.der);
    const rekorSearch = createRekorSearch(url);
    const online = await verifySignature({ signature: s.pem, payload: PAYLOAD, trust, offline: false, rekorSearch });
    expect(online.message).toMatch(/good signature/);
    expect(online).toMatchObject({ ok: true, kind: 'good', identity: 'alice@example.com' });
    expect(typeof online.logIndex).toBe('bigint');
    const offline = await verifySignature({ signature: s.pem, payload: PAYLOAD, trust, offline: true, rekorSearch });
    expect(offline).toMatchObject({ ok: false, code: 'TLOG_MISSING' });
  });

  test('an entry by the same certificate for another object is not accepted', async () => {
    const leaf = makeLeaf(w, { notBefore: recent() });
    const s = signPayload(w, leaf, PAYLOAD, { noTlog: true, signingTime: new Date() });
    const wrong = 'f'.repeat(40);
    await upload(createHash('sha256').update(wrong).digest(), sign('sha256', Buffer.from(wrong), leaf.key.privateKey), leaf.der);
    const r = await verifySignature({ signature: s.pem, payload: PAYLOAD, trust, offline: false, rekorSearch: createRekorSearch(url) });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'TLOG_MISSING' });
  });

  test('an unreachable Rekor is a clear error, not a success', async () => {
    const leaf = makeLeaf(w, { notBefore: recent() });
    const s = signPayload(w, leaf, PAYLOAD, { noTlog: true });
    const r = await verifySignature({ signature: s.pem, payload: PAYLOAD, trust, offline: false, rekorSearch: createRekorSearch('http://127.0.0.1:9') });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'tlog', code: 'NETWORK' });
  });
});

test('offline mode with an entry the sandbox Rekor really logged', async () => {
  const leaf = makeLeaf(w, { notBefore: recent() });
  const s = signPayload(w, leaf, PAYLOAD, { noTlog: true, signingTime: new Date() });
  const digest = createHash('sha256').update(s.signedAttrsSet).digest();
  const e = await upload(digest, s.signature, leaf.der);
  // the canonical body the log stored is the one we rebuild
  expect(Buffer.from(e.body, 'base64').equals(canonicalBody(hashedRekordV001(digest, s.signature, leaf.der)))).toBe(true);
  const p = e.verification.inclusionProof;
  const tle: TransparencyLogEntry = {
    logIndex: BigInt(e.logIndex),
    logId: Buffer.from(e.logID, 'hex'),
    kind: 'hashedrekord',
    version: '0.0.1',
    integratedTime: BigInt(e.integratedTime),
    signedEntryTimestamp: Buffer.from(e.verification.signedEntryTimestamp, 'base64'),
    inclusionProof: {
      logIndex: BigInt(p.logIndex),
      rootHash: Buffer.from(p.rootHash, 'hex'),
      treeSize: BigInt(p.treeSize),
      hashes: p.hashes.map((h: string) => Buffer.from(h, 'hex')),
      checkpoint: p.checkpoint,
    },
  };
  const cms = assembleCms({ signedAttrsSet: s.signedAttrsSet, signature: s.signature, leaf: leaf.der, tle: encodeTle(tle) });
  const r = await verifySignature({ signature: encodePem('SIGNED MESSAGE', cms), payload: PAYLOAD, trust, offline: true });
  expect(r.message).toMatch(/good signature/);
  expect(r).toMatchObject({ ok: true, logIndex: BigInt(e.logIndex) });
  expect(r.integratedTime?.getTime()).toBe(e.integratedTime * 1000);
});

// The sandbox Rekor v2 (rekor-tiles) write API over real HTTP on 127.0.0.1,
// driven by the signing-side client (uploadV2) and checked twice: with
// independent code here (node:crypto Ed25519, RFC 9162 inclusion, C2SP key
// id) and with the hot-path verifier (verifyRekorV2Entry) against a trusted
// root built from the service's own trustedRootFragment.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadV2 } from '../../src/rekor/client-v2.js';
import { decodeTle, encodeTle } from '../../src/rekor/tle.js';
import { createRekorV2Service, type RekorV2Service } from '../../packages/sandbox/src/rekor-v2/service.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { decodePem } from '../../src/util/pem.js';
import { hashedRekordV002Body } from '../../src/verify/tlog.js';
import { verifyRekorV2Entry } from '../../src/verify/timestamp.js';
import { rootFromInclusion } from './rfc9162.js';
import { needs } from '../helpers/tools.js';

const MEDIA = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const sha256 = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
let dir: string;
let server: Server;
let url: string;
let origin: string;
let svc: RekorV2Service;
let trust: TrustedRoot;
let leafDer: Buffer;
let leafKey: ReturnType<typeof createPrivateKey>;

function material(payload: string) {
  const signedAttrs = Buffer.from(payload);
  const digest = sha256(signedAttrs);
  const signature = sign('sha256', signedAttrs, leafKey);
  return { digest, signature, leafDer };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-rekor-v2-'));
  // A real X.509 certificate from OpenSSL for the verifier (what Fulcio would issue).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'leaf.key'), '-out', join(dir, 'leaf.pem'), '-subj', '/CN=signer', '-days', '1'], { stdio: 'pipe' });
  leafDer = decodePem(readFileSync(join(dir, 'leaf.pem'), 'utf8'), 'CERTIFICATE');
  leafKey = createPrivateKey(readFileSync(join(dir, 'leaf.key')));
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `http://${origin}`;
  svc = createRekorV2Service({ dir, origin, url });
  server.on('request', (req, res) => svc.handle(req, res));
  trust = parseTrustedRoot(JSON.stringify({ mediaType: MEDIA, tlogs: [svc.trustedRootFragment()] }));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  svc.close();
  rmSync(dir, { recursive: true, force: true });
});

needs('openssl').describe('sandbox Rekor v2', () => {
  it('logs a hashedrekord v0.0.2 entry with a proof to an Ed25519-signed C2SP checkpoint', async () => {
    const m = material('entry one');
    const e = await uploadV2(url, m);
    expect(e.kind).toBe('hashedrekord');
    expect(e.version).toBe('0.0.2');
    expect(e.integratedTime).toBe(0n);
    expect(e.signedEntryTimestamp).toBeUndefined();
    expect(e.canonicalizedBody!.toString()).toBe(hashedRekordV002Body(m.digest, m.signature, leafDer).toString());

    // C2SP key id for Ed25519: SHA-256(name || 0x0A || 0x01 || raw key).
    const raw = svc.trust.publicKeyDer.subarray(-32);
    const keyId = sha256(Buffer.from(origin), Buffer.from([0x0a, 0x01]), raw);
    expect(e.logId.equals(keyId)).toBe(true);
    expect(trust.tlogs[0].logId.equals(keyId)).toBe(true);
    expect(trust.tlogs[0].keyDetails).toBe('PKIX_ED25519');

    const cp = e.inclusionProof!.checkpoint;
    const [note, sigLine] = cp.split('\n\n');
    const [o, size, root] = note.split('\n');
    expect(o).toBe(origin);
    const m2 = /^\u2014 (\S+) (\S+)\n$/.exec(sigLine)!;
    expect(m2[1]).toBe(origin);
    const blob = Buffer.from(m2[2], 'base64');
    expect(blob.subarray(0, 4).equals(keyId.subarray(0, 4))).toBe(true);
    expect(verify(null, Buffer.from(note + '\n'), createPublicKey({ key: svc.trust.publicKeyDer, format: 'der', type: 'spki' }), blob.subarray(4))).toBe(true);

    const leaf = sha256(Buffer.from([0]), e.canonicalizedBody!);
    const got = rootFromInclusion(Number(e.inclusionProof!.logIndex), Number(size), leaf, e.inclusionProof!.hashes);
    expect(got.toString('base64')).toBe(root);
    expect(e.inclusionProof!.rootHash.toString('base64')).toBe(root);
    expect(e.inclusionProof!.logIndex).toBe(e.logIndex);

    const r = verifyRekorV2Entry(e, m, trust);
    expect(r.logIndex).toBe(e.logIndex);
    expect(r.integratedTime).toBeUndefined();
  });

  it('proves every entry of a growing log, and survives embedding without its body', async () => {
    const entries = [];
    for (let i = 0; i < 6; i++) {
      const m = material(`entry batch ${i}`);
      entries.push({ m, e: await uploadV2(url, m) });
    }
    const indexes = entries.map((x) => Number(x.e.logIndex));
    expect(new Set(indexes).size).toBe(6);
    for (const { m, e } of entries) {
      // As embedded in the CMS: binary protobuf, canonicalized_body cleared; the verifier rebuilds it.
      const embedded = decodeTle(encodeTle({ ...e, canonicalizedBody: undefined }));
      expect(embedded.canonicalizedBody).toBeUndefined();
      expect(verifyRekorV2Entry(embedded, m, trust).logIndex).toBe(e.logIndex);
    }
    // The same entry again keeps its index (deduplicated, like Tessera).
    const again = await uploadV2(url, entries[2].m);
    expect(again.logIndex).toBe(entries[2].e.logIndex);
  });

  it('verification fails for another signature, another log, a spliced proof or an expired log key', async () => {
    const m = material('entry for negative checks');
    const e = await uploadV2(url, m);
    const other = material('something else');
    expect(() => verifyRekorV2Entry(e, { ...m, signature: other.signature }, trust)).toThrow(/different signature/);
    const bodiless = { ...e, canonicalizedBody: undefined };
    expect(() => verifyRekorV2Entry(bodiless, { ...m, digest: other.digest }, trust)).toThrow(/inclusion proof/);

    const otherDir = mkdtempSync(join(tmpdir(), 'gitseal-rekor-v2-other-'));
    try {
      const otherLog = createRekorV2Service({ dir: otherDir, origin });
      const otherTrust = parseTrustedRoot(JSON.stringify({ mediaType: MEDIA, tlogs: [otherLog.trustedRootFragment()] }));
      otherLog.close();
      expect(() => verifyRekorV2Entry(e, m, otherTrust)).toThrow(/unknown transparency log/);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    const p = e.inclusionProof!;
    const spliced = { ...e, inclusionProof: { ...p, hashes: p.hashes.length ? [Buffer.alloc(32, 7), ...p.hashes.slice(1)] : [Buffer.alloc(32, 7)] } };
    expect(() => verifyRekorV2Entry(spliced, m, trust)).toThrow(/inclusion proof/);
    const forgedCp = { ...e, inclusionProof: { ...p, checkpoint: p.checkpoint.replace(/\n(\d+)\n/, (_, n) => `\n${Number(n) + 1}\n`) } };
    expect(() => verifyRekorV2Entry(forgedCp, m, trust)).toThrow(/checkpoint|tree size/);
    const ended = parseTrustedRoot(JSON.stringify({ mediaType: MEDIA, tlogs: [svc.trustedRootFragment({ end: new Date(Date.now() - 60_000) })] }));
    expect(() => verifyRekorV2Entry(e, m, ended, new Date())).toThrow(/not trusted at/);
  });

  it('refuses bad requests the way rekor-tiles does (400 with a message)', async () => {
    const m = material('bad requests');
    const post = async (body: unknown) => {
      const r = await fetch(`${url}/api/v2/log/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) as { message?: string } };
    };
    const req = (sig: Buffer, verifier: object) => ({ hashedRekordRequestV002: { digest: m.digest.toString('base64'), signature: { content: sig.toString('base64'), verifier } } });
    const cert = { x509Certificate: { rawBytes: leafDer.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' };
    let r = await post(req(material('x').signature, cert));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/does not verify/);
    r = await post(req(m.signature, { ...cert, keyDetails: 'PKIX_ECDSA_P384_SHA_384' }));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/does not match keyDetails/);
    r = await post(req(m.signature, { ...cert, keyDetails: 'constructor' }));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/unsupported keyDetails/);
    r = await post({ dsseRequestV002: {} });
    expect(r.status).toBe(400);
    // A bare public key verifier is accepted too.
    const spki = createPublicKey(leafKey).export({ type: 'spki', format: 'der' });
    r = await post(req(m.signature, { publicKey: { rawBytes: spki.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }));
    expect(r.status).toBe(201);
    expect((await fetch(`${url}/api/v2/log/entries`)).status).toBe(405);
  });

  it('serves the latest checkpoint and keeps its key and tree across restarts', async () => {
    const text = await (await fetch(`${url}/api/v2/checkpoint`)).text();
    const size = Number(text.split('\n')[1]);
    expect(size).toBe(svc.stats().treeSize);
    for (const f of ['key.pem', 'log.json', 'entries.jsonl', 'leaves.bin']) expect(statSync(join(dir, 'rekor-v2', f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'rekor-v2')).mode & 0o777).toBe(0o700);
    const again = createRekorV2Service({ dir: dir, origin });
    try {
      expect(again.trust.keyId.equals(svc.trust.keyId)).toBe(true);
      expect(again.stats().treeSize).toBe(size);
    } finally {
      again.close();
    }
  });
});

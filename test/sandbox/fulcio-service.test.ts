import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { importJWK, SignJWT } from 'jose';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { verifyCertificate } from '@sigstore/verify/dist/key/index.js';
import { mintIdToken, startOidcProvider, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';
import { loadOrCreateKeys } from '../../packages/sandbox/src/oidc/keys.js';
import { createFulcioService, type FulcioService } from '../../packages/sandbox/src/fulcio/service.js';
import { TRUSTED_ROOT_MEDIA_TYPE } from '../../packages/sandbox/src/fulcio/trusted-root.js';
import { decodePem, decodePemAll, encodePem } from '../../src/util/pem.js';
import { parseDer } from '../../src/util/der.js';
import { close, listen, openssl, opensslVerify, tempDir, writePems, x509Text } from './fulcio-helpers.js';
import { needs } from '../helpers/tools.js';

/** sigstore-js's parser takes a Buffer over a plain ArrayBuffer: a copy. */
const parseCert = (der: Uint8Array): X509Certificate => X509Certificate.parse(Buffer.from(der));

const EMAIL = 'dev@example.test';
const FULCIO = '1.3.6.1.4.1.57264.1.';

let dir: string; // sandbox DIR for the CA, CT log and the e-mail issuer
let wfDir: string; // the workflow issuer's key
let foreignDir: string; // a key no configured issuer publishes
let emailOp: RunningOidcProvider;
let wfOp: RunningOidcProvider;
let svc: FulcioService;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = tempDir('gitseal-fulcio-');
  wfDir = tempDir('gitseal-fulcio-wf-');
  foreignDir = tempDir('gitseal-fulcio-foreign-');
  emailOp = await startOidcProvider({ dir });
  wfOp = await startOidcProvider({ dir: wfDir });
  svc = createFulcioService({
    dir,
    issuers: [
      { issuerURL: emailOp.issuer, audience: 'sigstore', type: 'email' },
      { issuerURL: wfOp.issuer, audience: 'sigstore', type: 'github-workflow' },
    ],
  });
  ({ server, url } = await listen(svc.handle));
});

afterAll(async () => {
  await close(server);
  await emailOp?.close();
  await wfOp?.close();
  for (const d of [dir, wfDir, foreignDir]) rmSync(d, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, init);
  const text = await res.text();
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, json: JSON.parse(text) };
}

function post(body: unknown, headers: Record<string, string> = {}) {
  return call('/api/v2/signingCert', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function p256() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function pemOf(k: KeyObject): string {
  return k.export({ type: 'spki', format: 'pem' }) as string;
}

/** Form A: public key + proof of possession over `challenge`. */
function keyRequest(token: string, kp: { publicKey: KeyObject; privateKey: KeyObject }, challenge: string, hash: string | null = 'sha256') {
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: pemOf(kp.publicKey) },
      proofOfPossession: sign(hash, Buffer.from(challenge), kp.privateKey).toString('base64'),
    },
  };
}

/** A token signed with the e-mail provider's own key but with claims of our choosing. */
async function customToken(claims: Record<string, unknown>, keyDir = dir): Promise<string> {
  const { signingKey } = await loadOrCreateKeys(keyDir);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, aud: 'sigstore', ...claims })
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid })
    .sign(await importJWK(signingKey, signingKey.alg));
}

function chainOf(json: any): Buffer[] {
  const pems: string[] = json.signedCertificateEmbeddedSct.chain.certificates;
  return pems.map((p) => decodePem(p, 'CERTIFICATE'));
}

function utf8Ext(cert: X509Certificate, n: number): string | undefined {
  const ext = cert.extension(FULCIO + n);
  if (!ext) return undefined;
  const t = parseDer(ext.value);
  expect(t.tag).toBe(0x0c); // UTF8String
  return t.value.toString('utf8');
}

function rawExt(cert: X509Certificate, n: number): string | undefined {
  return cert.extension(FULCIO + n)?.value.toString('utf8');
}

function trustMaterial(frag = svc.trustedRootFragment({ fulcioURL: url })) {
  const json = { mediaType: TRUSTED_ROOT_MEDIA_TYPE, tlogs: [], timestampAuthorities: [], ...frag };
  return toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(JSON.stringify(json))));
}

needs('openssl').describe('sandbox Fulcio: issuing', () => {
  it('issues an e-mail identity certificate with the Fulcio profile (openssl view)', async () => {
    const kp = p256();
    const before = svc.stats().signingCert;
    const { status, json } = await post(keyRequest(await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL }), kp, EMAIL));
    expect(status).toBe(200);
    const pems: string[] = json.signedCertificateEmbeddedSct.chain.certificates;
    expect(pems).toHaveLength(3);
    // Wrapped PEM, like Go's encoding/pem.
    for (const p of pems) expect(p.split('\n').every((l) => l.length <= 64)).toBe(true);
    const [leaf, intermediate, root] = chainOf(json);
    expect(intermediate.equals(svc.trust.caChain[0])).toBe(true);
    expect(root.equals(svc.trust.caChain[1])).toBe(true);
    const files = writePems(dir, { leaf, intermediate, root });
    const text = x509Text(files.leaf);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA384/);
    expect(text).toMatch(/Issuer: O = gitseal-sandbox, CN = sandbox-sigstore-intermediate\n/);
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+Code Signing\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier: \n/);
    expect(text).toMatch(/X509v3 Authority Key Identifier: \n/);
    expect(text).toMatch(new RegExp(`X509v3 Subject Alternative Name: critical\\n\\s+email:${EMAIL}\\n`));
    expect(text).toContain(`1.3.6.1.4.1.57264.1.1: \n                ${emailOp.issuer}\n`);
    expect(text).toMatch(/1\.3\.6\.1\.4\.1\.57264\.1\.8: \n/);
    expect(text).toMatch(/CT Precertificate SCTs: \n\s+Signed Certificate Timestamp:\n\s+Version\s+: v1 \(0x0\)/);
    expect(text).not.toMatch(/Basic Constraints|CT Precertificate Poison/);
    expect(text).toMatch(/NIST CURVE: P-256/);
    expect(svc.stats().signingCert).toBe(before + 1);
  });

  it('issues a leaf that @sigstore/core reads as Fulcio does, valid for 10 minutes, with a random 160-bit serial', async () => {
    const kp = p256();
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    const a = await post(keyRequest(await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL }), kp, EMAIL));
    const b = await post(keyRequest(await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL }), kp, EMAIL));
    const t1 = Date.now();
    const [leafA, intermediate] = chainOf(a.json);
    const cert = parseCert(leafA);
    const certB = parseCert(chainOf(b.json)[0]);
    expect(cert.subject.length).toBe(0); // empty Name (no RDNs)
    expect(parseCert(intermediate).subject.length).toBeGreaterThan(0);
    expect(cert.subjectAltName).toBe(EMAIL);
    expect(cert.extSubjectAltName!.critical).toBe(true);
    expect(cert.isCA).toBe(false);
    expect(cert.extKeyUsage!.critical).toBe(true);
    expect(cert.extKeyUsage!.digitalSignature).toBe(true);
    expect(cert.publicKey.equals(kp.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(rawExt(cert, 1)).toBe(emailOp.issuer);
    expect(utf8Ext(cert, 8)).toBe(emailOp.issuer);
    expect(cert.extension(FULCIO + 9)).toBeUndefined();
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(600_000);
    expect(cert.notBefore.getTime()).toBeGreaterThanOrEqual(t0);
    expect(cert.notBefore.getTime()).toBeLessThanOrEqual(t1);
    expect(cert.serialNumber.length).toBe(20);
    expect(cert.serialNumber[0] & 0x80).toBe(0);
    expect(cert.serialNumber.equals(certB.serialNumber)).toBe(false);
    expect(cert.extAuthorityKeyID!.keyIdentifier!.equals(parseCert(intermediate).extSubjectKeyID!.keyIdentifier)).toBe(true);
    expect(cert.verify(parseCert(intermediate))).toBe(true);
    const scts = cert.extSCT!.signedCertificateTimestamps;
    expect(scts).toHaveLength(1);
    expect(scts[0].logID.equals(svc.trust.ctLogId)).toBe(true);
  });

  it('chains leaf → intermediate → root for openssl, and not to another sandbox', async () => {
    const { json } = await post(keyRequest(await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL }), p256(), EMAIL));
    const [leaf, intermediate, root] = chainOf(json);
    const files = writePems(dir, { leaf, intermediate, root });
    expect(opensslVerify(['-CAfile', files.root, '-untrusted', files.intermediate, files.leaf])).toEqual([true, `${files.leaf}: OK\n`]);
    expect(opensslVerify(['-partial_chain', '-CAfile', files.intermediate, files.leaf])[0]).toBe(true);
    const otherDir = tempDir('gitseal-fulcio-other-');
    try {
      const other = createFulcioService({ dir: otherDir, issuers: [] });
      const otherRoot = writePems(dir, { otherRoot: other.trust.caChain[1] }).otherRoot;
      expect(opensslVerify(['-CAfile', otherRoot, '-untrusted', files.intermediate, files.leaf])[0]).toBe(false);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('passes @sigstore/verify chain and SCT checks with its trusted-root fragment, and fails with another CT key', async () => {
    const { json } = await post(keyRequest(await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL }), p256(), EMAIL));
    const leaf = parseCert(chainOf(json)[0]);
    const frag = svc.trustedRootFragment({ fulcioURL: url });
    expect(frag.certificateAuthorities).toHaveLength(1);
    expect(frag.certificateAuthorities[0].certChain.certificates.map((c) => c.rawBytes)).toEqual(svc.trust.caChain.map((c) => c.toString('base64')));
    expect(frag.ctlogs[0].logId.keyId).toBe(svc.trust.ctLogId.toString('base64'));
    expect(frag.ctlogs[0].publicKey.rawBytes).toBe(svc.trust.ctLogPublicKey.toString('base64'));
    const at = new Date(leaf.notBefore.getTime() + 60_000);
    const { scts, signer } = verifyCertificate(leaf, [at], trustMaterial(frag));
    expect(scts).toEqual([svc.trust.ctLogId]);
    expect(signer.identity!.subjectAlternativeName).toBe(EMAIL);
    expect(signer.identity!.extensions!.issuer).toBe(emailOp.issuer);
    // Swap the CT key for another P-256 key under the same log ID: the SCT must not verify.
    const wrongKey = p256().publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const bad = { ...frag, ctlogs: [{ ...frag.ctlogs[0], publicKey: { ...frag.ctlogs[0].publicKey, rawBytes: wrongKey } }] };
    expect(() => verifyCertificate(leaf, [at], trustMaterial(bad))).toThrow(/SCT verification failed/);
  });

  it('accepts P-384, Ed25519 and RSA keys with the matching proof of possession', async () => {
    const token = () => mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const cases: [ReturnType<typeof generateKeyPairSync>, string | null][] = [
      [generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
      [generateKeyPairSync('ed25519'), null],
      [generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
    ];
    for (const [kp, hash] of cases) {
      const { status, json } = await post(keyRequest(await token(), kp, EMAIL, hash));
      expect(status).toBe(200);
      expect(parseCert(chainOf(json)[0]).publicKey.equals(kp.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    }
  });

  it('takes the token from Authorization: Bearer when credentials are empty, and a DER key in base64', async () => {
    const kp = p256();
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const body = keyRequest('', kp, EMAIL);
    body.publicKeyRequest.publicKey.content = kp.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const { status } = await post(body, { authorization: `Bearer ${token}` });
    expect(status).toBe(200);
  });

  it('issues from a PKCS#10 CSR made by openssl (self-signature as proof of possession)', async () => {
    const keyFile = join(dir, 'csr.key');
    const kp = p256();
    writeFileSync(keyFile, kp.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const csrPem = openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=ignored', '-sha256']);
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const ok = await post({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: Buffer.from(csrPem).toString('base64') });
    expect(ok.status).toBe(200);
    const cert = parseCert(chainOf(ok.json)[0]);
    expect(cert.publicKey.equals(kp.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(cert.subjectAltName).toBe(EMAIL);
    expect(cert.subject.length).toBe(0); // the CSR subject is ignored

    // The same CSR with one signature byte changed.
    const der = decodePemAll(csrPem)[0].der;
    der[der.length - 1] ^= 0x01;
    const tampered = encodePem('CERTIFICATE REQUEST', der);
    const bad = await post({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: Buffer.from(tampered).toString('base64') });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      code: 3,
      message: 'The signature supplied in the request could not be verified: the certificate request signature does not verify with its key',
      details: [],
    });
    const junk = await post({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: Buffer.from('not a csr').toString('base64') });
    expect(junk.status).toBe(400);
    expect(junk.json.message).toBe('The certificate signing request could not be parsed: expected a PEM or DER PKCS#10 certificate request');
  });

  it('issues a GitHub-workflow identity with a URI SAN and the workflow claim extensions', async () => {
    const token = await mintIdToken({ dir: wfDir, issuer: wfOp.issuer, type: 'workflow', repository: 'acme/widgets' });
    const sub = 'repo:acme/widgets:ref:refs/heads/main';
    // Workload issuers: the proof signs `sub`; signing an e-mail address is refused.
    const wrong = await post(keyRequest(token, p256(), EMAIL));
    expect(wrong.status).toBe(400);
    const { status, json } = await post(keyRequest(token, p256(), sub));
    expect(status).toBe(200);
    const cert = parseCert(chainOf(json)[0]);
    const signer = 'https://github.com/acme/widgets/.github/workflows/ci.yml@refs/heads/main';
    expect(cert.subjectAltName).toBe(signer);
    expect(cert.extSubjectAltName!.critical).toBe(true);
    const files = writePems(dir, { wf: chainOf(json)[0] });
    expect(x509Text(files.wf)).toMatch(new RegExp(`X509v3 Subject Alternative Name: critical\\n\\s+URI:${signer.replace(/[.]/g, '\\.')}\\n`));
    expect(rawExt(cert, 1)).toBe(wfOp.issuer);
    expect([2, 3, 4, 5, 6].map((n) => rawExt(cert, n))).toEqual(['push', 'a'.repeat(40), 'CI', 'acme/widgets', 'refs/heads/main']);
    expect(utf8Ext(cert, 8)).toBe(wfOp.issuer);
    expect(utf8Ext(cert, 9)).toBe(signer);
    expect(utf8Ext(cert, 10)).toBe('a'.repeat(40));
    expect(utf8Ext(cert, 11)).toBe('github-hosted');
    expect(utf8Ext(cert, 12)).toBe('https://github.com/acme/widgets');
    expect(utf8Ext(cert, 13)).toBe('a'.repeat(40));
    expect(utf8Ext(cert, 14)).toBe('refs/heads/main');
    expect(utf8Ext(cert, 15)).toBe('100001');
    expect(utf8Ext(cert, 16)).toBe('https://github.com/acme');
    expect(utf8Ext(cert, 17)).toBe('100000');
    expect(utf8Ext(cert, 18)).toBe(signer);
    expect(utf8Ext(cert, 19)).toBe('a'.repeat(40));
    expect(utf8Ext(cert, 20)).toBe('push');
    expect(utf8Ext(cert, 21)).toBe('https://github.com/acme/widgets/actions/runs/1/attempts/1');
    expect(utf8Ext(cert, 22)).toBe('public');
    expect(utf8Ext(cert, 23)).toBeUndefined(); // no "environment" claim in this token
    expect(utf8Ext(cert, 24)).toBe(sub);
  });
});

describe('sandbox Fulcio: other endpoints', () => {
  it('serves the trust bundle (intermediate, root) and the issuer configuration', async () => {
    const tb = await call('/api/v2/trustBundle');
    expect(tb.status).toBe(200);
    expect(tb.json.chains).toHaveLength(1);
    expect(tb.json.chains[0].certificates.map((p: string) => decodePem(p, 'CERTIFICATE'))).toEqual(svc.trust.caChain);
    const cfg = await call('/api/v2/configuration');
    expect(cfg.status).toBe(200);
    expect(cfg.json.issuers).toEqual([
      expect.objectContaining({ issuerUrl: emailOp.issuer, audience: 'sigstore', challengeClaim: 'email', issuerType: 'email' }),
      expect.objectContaining({ issuerUrl: wfOp.issuer, audience: 'sigstore', challengeClaim: 'sub', issuerType: 'github-workflow' }),
    ]);
  });

  it('answers unknown paths with 404 and wrong methods with 405, grpc-gateway style', async () => {
    expect(await call('/api/v2/nothing')).toEqual({ status: 404, json: { code: 5, message: 'Not Found', details: [] } });
    expect(await call('/api/v2/signingCert')).toEqual({ status: 405, json: { code: 12, message: 'Method Not Allowed', details: [] } });
  });
});

describe('sandbox Fulcio: refused requests', () => {
  const tokenError = (reason: string) => ({ code: 3, message: `There was an error processing the identity token: ${reason}`, details: [] });

  async function expectRefused(body: unknown, status: number, json: unknown, headers?: Record<string, string>) {
    const before = svc.stats().signingCert;
    const res = await post(body, headers);
    expect(res).toEqual({ status, json });
    expect(svc.stats().signingCert).toBe(before);
  }

  it('refuses an expired token', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL, ttl: -600 });
    await expectRefused(keyRequest(token, p256(), EMAIL), 400, tokenError('the token has expired'));
  });

  it('refuses a token for the right issuer signed by a foreign key', async () => {
    const token = await mintIdToken({ dir: foreignDir, issuer: emailOp.issuer, email: EMAIL });
    await expectRefused(keyRequest(token, p256(), EMAIL), 400, tokenError("the token is not signed by any of the issuer's keys"));
  });

  it('refuses a token from an issuer that is not configured', async () => {
    const token = await customToken({ iss: 'http://127.0.0.1:9/elsewhere', sub: 'x', email: EMAIL, email_verified: true });
    await expectRefused(keyRequest(token, p256(), EMAIL), 400, tokenError('the token issuer "http://127.0.0.1:9/elsewhere" is not configured'));
  });

  it('refuses a token for another audience', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL, audience: 'not-sigstore' });
    await expectRefused(keyRequest(token, p256(), EMAIL), 400, tokenError('the token audience is not "sigstore"'));
  });

  it('refuses an unverified e-mail address', async () => {
    const token = await customToken({ iss: emailOp.issuer, sub: 'u-1', email: EMAIL, email_verified: false });
    await expectRefused(keyRequest(token, p256(), EMAIL), 400, tokenError('the token\'s e-mail address is not verified ("email_verified" is not true)'));
  });

  it('refuses a request without a token, and a token that is not a JWT', async () => {
    await expectRefused(keyRequest('', p256(), EMAIL), 400, tokenError('the request carries no identity token'));
    await expectRefused(keyRequest('abc.def', p256(), EMAIL), 400, tokenError('the token is not a well-formed JWT'));
  });

  it('refuses a proof of possession that does not verify', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    await expectRefused(keyRequest(token, p256(), 'someone-else@example.test'), 400, {
      code: 3,
      message: 'The signature supplied in the request could not be verified: the proof of possession does not verify with the supplied key',
      details: [],
    });
    // A proof made with another key than the one requested.
    const body = keyRequest(token, p256(), EMAIL);
    body.publicKeyRequest.publicKey.content = pemOf(p256().publicKey);
    expect((await post(body)).status).toBe(400);
  });

  it('refuses a public key it cannot parse', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const body = keyRequest(token, p256(), EMAIL);
    body.publicKeyRequest.publicKey.content = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    await expectRefused(body, 400, {
      code: 3,
      message: 'The public key supplied in the request could not be parsed: expected a PEM or DER SubjectPublicKeyInfo',
      details: [],
    });
    const none = { credentials: { oidcIdentityToken: token } };
    await expectRefused(none, 400, { code: 3, message: 'The public key supplied in the request could not be parsed: no public key in the request', details: [] });
  });

  it('refuses weak and unsupported keys as insecure', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectRefused(keyRequest(token, rsa1024, EMAIL), 400, {
      code: 3,
      message: 'The public key supplied in the request is insecure: RSA key of 1024 bits is too small (minimum 2048)',
      details: [],
    });
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    await expectRefused(keyRequest(token, k1, EMAIL), 400, {
      code: 3,
      message: 'The public key supplied in the request is insecure: unsupported elliptic curve secp256k1',
      details: [],
    });
  });

  it('refuses a body that is not JSON, and one with bad base64', async () => {
    await expectRefused('{"credentials": nope', 400, { code: 3, message: 'The request body could not be parsed: it is not JSON', details: [] });
    await expectRefused('[1,2]', 400, { code: 3, message: 'The request body could not be parsed: expected a JSON object', details: [] });
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const body = keyRequest(token, p256(), EMAIL);
    body.publicKeyRequest.proofOfPossession = '***';
    await expectRefused(body, 400, { code: 3, message: 'The request body could not be parsed: proofOfPossession is not base64', details: [] });
  });

  it('refuses an oversized body', async () => {
    const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
    const body = { ...keyRequest(token, p256(), EMAIL), padding: 'x'.repeat((1 << 20) + 1) };
    await expectRefused(body, 400, { code: 3, message: 'http: request body too large: the limit is 1048576 bytes', details: [] });
  });
});

needs('openssl').describe('sandbox Fulcio: state across restarts and CA rotation', () => {
  it('keeps the same root after a restart on the same DIR, with private file modes', () => {
    const again = createFulcioService({ dir, issuers: [] });
    expect(again.trust.caChain).toEqual(svc.trust.caChain);
    expect(again.trust.ctLogId.equals(svc.trust.ctLogId)).toBe(true);
    expect(statSync(join(dir, 'fulcio')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'fulcio', 'intermediate.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ct', 'log.key')).mode & 0o777).toBe(0o600);
  });

  it('stamps leaves and SCTs with the injected clock', async () => {
    const cdir = tempDir('gitseal-fulcio-clock-');
    try {
      const fixed = new Date(Math.floor(Date.now() / 1000) * 1000 - 7_000 + 123);
      const clocked = createFulcioService({ dir: cdir, issuers: [{ issuerURL: emailOp.issuer, audience: 'sigstore', type: 'email' }], now: () => fixed });
      const s = await listen(clocked.handle);
      try {
        const token = await mintIdToken({ dir, issuer: emailOp.issuer, email: EMAIL });
        const res = await fetch(`${s.url}/api/v2/signingCert`, { method: 'POST', body: JSON.stringify(keyRequest(token, p256(), EMAIL)) });
        expect(res.status).toBe(200);
        const cert = parseCert(chainOf(await res.json())[0]);
        expect(cert.notBefore.getTime()).toBe(fixed.getTime() - 123);
        expect(cert.extSCT!.signedCertificateTimestamps[0].datetime.getTime()).toBe(fixed.getTime());
      } finally {
        await close(s.server);
      }
    } finally {
      rmSync(cdir, { recursive: true, force: true });
    }
  });

  it('moves to a rotated CA (generation 2) whose leaves chain to the new root only', async () => {
    const rdir = tempDir('gitseal-fulcio-rot-');
    const op = await startOidcProvider({ dir: rdir });
    try {
      const issuers = [{ issuerURL: op.issuer, audience: 'sigstore', type: 'email' as const }];
      const gen1 = createFulcioService({ dir: rdir, issuers });
      const gen2 = createFulcioService({ dir: rdir, issuers, caGeneration: 2, certLifetimeSeconds: 120 });
      expect(gen2.trust.caChain[1].equals(gen1.trust.caChain[1])).toBe(false);
      expect(gen2.trust.ctLogId.equals(gen1.trust.ctLogId)).toBe(true);
      const s = await listen(gen2.handle);
      try {
        const res = await fetch(`${s.url}/api/v2/signingCert`, {
          method: 'POST',
          body: JSON.stringify(keyRequest(await mintIdToken({ dir: rdir, issuer: op.issuer, email: EMAIL }), p256(), EMAIL)),
        });
        expect(res.status).toBe(200);
        const [leaf, intermediate, root] = chainOf(await res.json());
        expect(root.equals(gen2.trust.caChain[1])).toBe(true);
        const cert = parseCert(leaf);
        expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(120_000);
        const f = writePems(rdir, { leaf, intermediate, root, oldRoot: gen1.trust.caChain[1] });
        expect(opensslVerify(['-CAfile', f.root, '-untrusted', f.intermediate, f.leaf])[0]).toBe(true);
        expect(opensslVerify(['-CAfile', f.oldRoot, '-untrusted', f.intermediate, f.leaf])[0]).toBe(false);
        // The trusted root keeps the retired CA, ending where the new one starts.
        const frag = gen2.trustedRootFragment({ fulcioURL: s.url });
        expect(frag.certificateAuthorities).toHaveLength(2);
        const [old, cur] = frag.certificateAuthorities;
        expect(old.certChain.certificates[1].rawBytes).toBe(gen1.trust.caChain[1].toString('base64'));
        expect(cur.certChain.certificates[1].rawBytes).toBe(gen2.trust.caChain[1].toString('base64'));
        expect(old.validFor.end).toBe(cur.validFor.start);
        expect(cur.validFor.end).toBeUndefined();
        expect(gen2.trustedRootFragment({ fulcioURL: s.url, generations: 'active' }).certificateAuthorities).toHaveLength(1);
        const at = new Date(cert.notBefore.getTime() + 30_000);
        expect(verifyCertificate(cert, [at], trustMaterial(frag)).signer.identity!.subjectAlternativeName).toBe(EMAIL);
      } finally {
        await close(s.server);
      }
    } finally {
      await op.close();
      rmSync(rdir, { recursive: true, force: true });
    }
  });
});

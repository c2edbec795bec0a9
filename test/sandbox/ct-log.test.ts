import { describe, expect, it } from 'vitest';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { verifySCTs } from '@sigstore/verify/dist/key/sct.js';
import { openCtLog } from '../../packages/sandbox/src/ct/log.js';
import { encodeSctList, precertSignatureInput, serializeSct } from '../../packages/sandbox/src/ct/sct.js';
import { OID_CT_POISON } from '../../packages/sandbox/src/ct/precert.js';
import { openCa } from '../../packages/sandbox/src/fulcio/ca.js';
import { identityFromClaims, sanExtension } from '../../packages/sandbox/src/fulcio/leaf-profile.js';
import { asn1Null, buildCertificate, randomSerial } from '../../packages/sandbox/src/fulcio/x509-build.js';
import { openssl, tempDirsRemovedAfterAll, writePems, x509Text } from './fulcio-helpers.js';
import { needs } from '../helpers/tools.js';

/** sigstore-js's parser takes a Buffer over a plain ArrayBuffer: a copy. */
const parseCert = (der: Uint8Array): X509Certificate => X509Certificate.parse(Buffer.from(der));

const newDir = tempDirsRemovedAfterAll('gitseal-ct-');

function issue(dir: string) {
  const ca = openCa({ dir });
  const ctLog = openCtLog({ dir });
  const id = identityFromClaims('email', { iss: 'http://127.0.0.1:9/op', sub: 'u1', email: 'dev@example.test', email_verified: true });
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const notBefore = new Date();
  const before = Date.now();
  const leaf = ca.issueLeaf({ spki, san: sanExtension(id), extensions: id.extensions, notBefore, notAfter: new Date(notBefore.getTime() + 600_000), ctLog });
  return { ca, ctLog, leaf, before, after: Date.now() };
}

function ctAuthority(logID: Buffer, spki: Buffer) {
  return {
    logID,
    baseURL: 'http://127.0.0.1/ct',
    publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
}

needs('openssl').describe('sandbox CT log', () => {
  it('keeps one P-256 key in DIR/ct (0600 in 0700) and its log ID is sha256(DER SPKI)', () => {
    const dir = newDir();
    const a = openCtLog({ dir });
    const b = openCtLog({ dir });
    expect(b.publicKey.equals(a.publicKey)).toBe(true);
    expect(b.createdAt.getTime()).toBe(a.createdAt.getTime());
    expect(statSync(join(dir, 'ct')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ct', 'log.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ct', 'log.json')).mode & 0o777).toBe(0o600);
    // openssl as the oracle for the key type and the SPKI encoding.
    const text = openssl(['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], a.publicKey);
    expect(text).toMatch(/NIST CURVE: P-256/);
    expect(a.logId.equals(createHash('sha256').update(a.publicKey).digest())).toBe(true);
    expect(a.keyDetails).toBe('PKIX_ECDSA_P256_SHA_256');
    const other = openCtLog({ dir: newDir() });
    expect(other.logId.equals(a.logId)).toBe(false);
  });

  it('embeds an SCT that sigstore-js verifies against the log key, and no other key', () => {
    const dir = newDir();
    const { ca, ctLog, leaf, before, after } = issue(dir);
    const cert = parseCert(leaf);
    const issuer = parseCert(ca.intermediate);
    const scts = cert.extSCT!.signedCertificateTimestamps;
    expect(scts).toHaveLength(1);
    expect(scts[0].version).toBe(0);
    expect(scts[0].logID.equals(ctLog.logId)).toBe(true);
    // The SCT is stamped when the precertificate was logged, with millisecond precision.
    expect(scts[0].datetime.getTime()).toBeGreaterThanOrEqual(before);
    expect(scts[0].datetime.getTime()).toBeLessThanOrEqual(after);
    expect(verifySCTs(cert, issuer, [ctAuthority(ctLog.logId, ctLog.publicKey)])).toEqual([ctLog.logId]);
    // Same log ID, different key: the signature must not verify.
    const wrong = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => verifySCTs(cert, issuer, [ctAuthority(ctLog.logId, wrong)])).toThrow(/SCT verification failed/);
    // The SCT binds the issuer key hash: verifying with another issuer fails.
    const otherCa = openCa({ dir: newDir() });
    expect(() => verifySCTs(cert, parseCert(otherCa.intermediate), [ctAuthority(ctLog.logId, ctLog.publicKey)])).toThrow(
      /SCT verification failed/,
    );
    // openssl parses the extension as an SCT list with our log ID.
    const files = writePems(dir, { leaf });
    const logIdHex = [...ctLog.logId].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');
    expect(x509Text(files.leaf).replace(/\s+/g, '')).toContain(`LogID:${logIdHex}`);
  });

  it('accepts only precertificates signed by the submitted issuer', () => {
    const dir = newDir();
    const { ca, ctLog, leaf } = issue(dir);
    expect(() => ctLog.addPreChain(leaf, ca.intermediate)).toThrow(/only precertificates/);
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const now = new Date();
    const forged = buildCertificate(
      {
        serial: randomSerial(),
        issuer: { commonName: 'sandbox-sigstore-intermediate' },
        subject: {},
        notBefore: now,
        notAfter: new Date(now.getTime() + 60_000),
        spki,
        extensions: [{ oid: OID_CT_POISON, critical: true, value: asn1Null() }],
      },
      strangerKey,
    );
    expect(() => ctLog.addPreChain(forged, ca.intermediate)).toThrow(/not signed by the submitted issuer/);
  });

  it('encodes SCTs and the signed struct as RFC 6962 §3.2/§3.3 lay them out', () => {
    const logId = Buffer.alloc(32, 0xab);
    const sct = { logId, timestamp: 0x0102030405n, extensions: Buffer.alloc(0), signature: Buffer.from('3006020101020102', 'hex') };
    const s = serializeSct(sct);
    expect(s[0]).toBe(0); // v1
    expect(s.subarray(1, 33).equals(logId)).toBe(true);
    expect(s.readBigUInt64BE(33)).toBe(0x0102030405n);
    expect(s.readUInt16BE(41)).toBe(0); // no extensions
    expect([s[43], s[44]]).toEqual([4, 3]); // sha256, ecdsa
    expect(s.readUInt16BE(45)).toBe(8);
    expect(s.length).toBe(47 + 8);
    const list = encodeSctList([sct, sct]);
    expect(list.readUInt16BE(0)).toBe(2 * (2 + s.length));
    expect(list.readUInt16BE(2)).toBe(s.length);
    const tbs = Buffer.from('3003020101', 'hex');
    const input = precertSignatureInput({ timestamp: 7n, issuerKeyHash: Buffer.alloc(32, 1), tbs });
    expect(input.subarray(0, 2).equals(Buffer.from([0, 0]))).toBe(true); // v1, certificate_timestamp
    expect(input.readBigUInt64BE(2)).toBe(7n);
    expect(input.readUInt16BE(10)).toBe(1); // precert_entry
    expect(input.readUIntBE(44, 3)).toBe(tbs.length);
    expect(input.subarray(47, 47 + tbs.length).equals(tbs)).toBe(true);
    expect(input.length).toBe(47 + tbs.length + 2);
    expect(() => encodeSctList([])).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { openCtLog } from '../../packages/sandbox/src/ct/log.js';
import { caDir, listCaGenerations, openCa } from '../../packages/sandbox/src/fulcio/ca.js';
import { identityFromClaims, sanExtension } from '../../packages/sandbox/src/fulcio/leaf-profile.js';
import { opensslVerify, tempDirsRemovedAfterAll, writePems, x509Text } from './fulcio-helpers.js';
import { needs } from '../helpers/tools.js';

/** sigstore-js's parser takes a Buffer over a plain ArrayBuffer: a copy. */
const parseCert = (der: Uint8Array): X509Certificate => X509Certificate.parse(Buffer.from(der));

const newDir = tempDirsRemovedAfterAll('gitseal-ca-');

const spkiOf = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) => k.export({ type: 'spki', format: 'der' }) as Buffer;

needs('openssl').describe('sandbox CA', () => {
  it('creates a P-384 root and intermediate with the public-good CA profile', () => {
    const dir = newDir();
    const ca = openCa({ dir });
    const files = writePems(dir, { root: ca.root, intermediate: ca.intermediate });
    const root = x509Text(files.root);
    expect(root).toMatch(/Issuer: O = gitseal-sandbox, CN = sandbox-sigstore\n/);
    expect(root).toMatch(/Subject: O = gitseal-sandbox, CN = sandbox-sigstore\n/);
    expect(root).toMatch(/NIST CURVE: P-384/);
    expect(root).toMatch(/Signature Algorithm: ecdsa-with-SHA384/);
    expect(root).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    expect(root).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
    const int = x509Text(files.intermediate);
    expect(int).toMatch(/Issuer: O = gitseal-sandbox, CN = sandbox-sigstore\n/);
    expect(int).toMatch(/Subject: O = gitseal-sandbox, CN = sandbox-sigstore-intermediate\n/);
    expect(int).toMatch(/NIST CURVE: P-384/);
    expect(int).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
    expect(int).toMatch(/X509v3 Extended Key Usage: \n\s+Code Signing/);
    expect(int).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    const r = parseCert(ca.root);
    const i = parseCert(ca.intermediate);
    expect(r.isCA && i.isCA).toBe(true);
    expect(r.verify()).toBe(true);
    expect(i.verify(r)).toBe(true);
    expect(i.extAuthorityKeyID!.keyIdentifier!.equals(r.extSubjectKeyID!.keyIdentifier)).toBe(true);
    // Long-lived: years, not minutes.
    expect(r.notAfter.getUTCFullYear() - r.notBefore.getUTCFullYear()).toBeGreaterThanOrEqual(5);
    expect(i.notAfter.getTime()).toBeLessThanOrEqual(r.notAfter.getTime());
    expect(ca.createdAt.getTime()).toBe(r.notBefore.getTime());
    expect(opensslVerify(['-CAfile', files.root, files.intermediate])[0]).toBe(true);
  });

  it('keeps its keys and certificates in DIR/fulcio (0600 in 0700) so a restart keeps the trust root', () => {
    const dir = newDir();
    const a = openCa({ dir });
    const b = openCa({ dir });
    expect(b.root.equals(a.root)).toBe(true);
    expect(b.intermediate.equals(a.intermediate)).toBe(true);
    expect(statSync(join(dir, 'fulcio')).mode & 0o777).toBe(0o700);
    for (const f of ['root.key', 'root.pem', 'intermediate.key', 'intermediate.pem']) {
      expect(statSync(join(dir, 'fulcio', f)).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(join(dir, 'fulcio', 'intermediate.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // A leaf issued after the restart still chains to the first root.
    const ctLog = openCtLog({ dir });
    const id = identityFromClaims('email', { iss: 'http://127.0.0.1:9/op', sub: 'u', email: 'a@example.test', email_verified: true });
    const now = new Date();
    const leaf = b.issueLeaf({ spki: spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), san: sanExtension(id), extensions: id.extensions, notBefore: now, notAfter: new Date(now.getTime() + 600_000), ctLog });
    const files = writePems(dir, { root: a.root, intermediate: a.intermediate, leaf });
    expect(opensslVerify(['-CAfile', files.root, '-untrusted', files.intermediate, files.leaf])).toEqual([true, `${files.leaf}: OK\n`]);
  });

  it('refuses a CA directory whose key does not match its certificate', () => {
    const dir = newDir();
    openCa({ dir });
    const other = newDir();
    openCa({ dir: other });
    // Swap in another generation's intermediate certificate.
    const cert = readFileSync(join(other, 'fulcio', 'intermediate.pem'));
    writeFileSync(join(dir, 'fulcio', 'intermediate.pem'), cert);
    expect(() => openCa({ dir })).toThrow(/do not belong together/);
    // Or a root that did not sign the intermediate.
    const third = newDir();
    openCa({ dir: third });
    writeFileSync(join(third, 'fulcio', 'root.pem'), readFileSync(join(other, 'fulcio', 'root.pem')));
    expect(() => openCa({ dir: third })).toThrow(/do not belong together/);
  });

  it('rotates to a second generation in DIR/fulcio/gen2 with new keys and the same names', () => {
    const dir = newDir();
    const g1 = openCa({ dir });
    expect(listCaGenerations(dir)).toEqual([1]);
    const g2 = openCa({ dir, generation: 2 });
    expect(caDir(dir, 2)).toBe(join(dir, 'fulcio', 'gen2'));
    expect(listCaGenerations(dir)).toEqual([1, 2]);
    expect(statSync(join(dir, 'fulcio', 'gen2', 'intermediate.key')).mode & 0o777).toBe(0o600);
    expect(g2.root.equals(g1.root)).toBe(false);
    const r1 = parseCert(g1.root);
    const r2 = parseCert(g2.root);
    expect(r2.publicKey.equals(r1.publicKey)).toBe(false);
    // Like the public-good 2021/2022 roots: same subject, different key.
    expect(r2.subject.equals(r1.subject)).toBe(true);
    const files = writePems(dir, { r1: g1.root, i2: g2.intermediate });
    expect(opensslVerify(['-CAfile', files.r1, files.i2])[0]).toBe(false);
    expect(openCa({ dir, generation: 2 }).root.equals(g2.root)).toBe(true);
    expect(() => openCa({ dir, generation: 0 })).toThrow(/positive integer/);
  });
});

/** Certificate parsing against openssl's reading of the same real certificates. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseSignedData } from '../../src/cms/parse.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { decodePem } from '../../src/util/pem.js';
import {
  authorityKeyId,
  basicConstraints,
  embeddedScts,
  extKeyUsage,
  fingerprintSha1,
  fulcioClaims,
  fulcioIssuer,
  keyUsage,
  parseCertificate,
  signerIdentity,
  subjectAltNames,
  subjectKeyId,
} from '../../src/x509/certificate.js';
import { verifyIssuedBy } from '../../src/x509/signature.js';
import { needs } from '../helpers/tools.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const index: { dir: string }[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));

function openssl(pemPath: string, ...args: string[]): string {
  return execFileSync('openssl', ['x509', '-in', pemPath, '-noout', ...args]).toString();
}

const opensslDate = (s: string) => new Date(s.split('=')[1].trim()).getTime();

needs('openssl').describe('every corpus leaf parses as openssl reads it', () => {
  test.each(index.map((e) => e.dir))('%s', (dir) => {
    const pemPath = join(CORPUS, dir, 'leaf.pem');
    const meta = JSON.parse(readFileSync(join(CORPUS, dir, 'meta.json'), 'utf8'));
    const c = parseCertificate(decodePem(readFileSync(pemPath, 'utf8'), 'CERTIFICATE'));
    const [serial, fp, nb, na] = openssl(pemPath, '-serial', '-fingerprint', '-sha1', '-startdate', '-enddate').trim().split('\n');
    expect(c.serial).toBe(BigInt('0x' + serial.split('=')[1]));
    expect(fingerprintSha1(c)).toBe(fp.split('=')[1].replace(/:/g, '').toLowerCase());
    expect(c.notBefore.getTime()).toBe(opensslDate(nb));
    expect(c.notAfter.getTime()).toBe(opensslDate(na));
    const m = meta.certs[meta.certs.length - 1] ?? meta.certs[0];
    expect(c.issuerString).toBe(meta.cert_issuer ?? m.issuer);
    // (the S/MIME leaf's subject has emailAddress, which the corpus tool printed as a bare OID)
    if (meta.oidc_issuer) expect(c.subjectString).toBe(m.subject);
    expect(signerIdentity(c)).toBe(meta.signer_identity);
    expect(fulcioIssuer(c)).toBe(meta.oidc_issuer ?? undefined);
    expect(extKeyUsage(c)).toEqual(m.eku);
    if (meta.oidc_issuer) {
      // Fulcio profile: critical SAN, codeSigning, digitalSignature only, not a CA, SCTs (2022+ leaves)
      expect(c.extensions.find((e) => e.oid === '2.5.29.17')?.critical).toBe(true);
      expect(keyUsage(c)).toEqual({ digitalSignature: true, keyCertSign: false, crlSign: false });
      expect(basicConstraints(c).ca).toBe(false);
      expect(embeddedScts(c).length).toBe(meta.sct?.sct_count ?? 0);
      expect(subjectKeyId(c)?.length).toBe(20);
      expect(authorityKeyId(c)?.length).toBe(20);
    }
  });
});

test('SCT fields decode (log id and millisecond timestamp) as the corpus recorded them', () => {
  const meta = JSON.parse(readFileSync(join(CORPUS, 'sigstore_gitsign_commit_05444098f5b1/meta.json'), 'utf8'));
  const c = parseCertificate(decodePem(readFileSync(join(CORPUS, 'sigstore_gitsign_commit_05444098f5b1/leaf.pem'), 'utf8'), 'CERTIFICATE'));
  const [sct] = embeddedScts(c);
  expect(sct.logId.toString('base64')).toBe(meta.sct.scts[0].log_id_b64);
  expect(sct.timestamp).toBe(BigInt(meta.sct.scts[0].timestamp_ms));
  expect(sct.hashAlgorithm).toBe(4);
  expect(sct.signatureAlgorithm).toBe(3);
});

test('GitHub Actions leaf: URI SAN, issuer …1.8, workflow claims …1.2–1.6 and …1.9+', () => {
  // the tag in negative/02 was signed from a GitHub workflow
  const sd = readFileSync(join(CORPUS, 'negative/02-tag-message-byte-flip/signature.pem'), 'utf8');
  const c = parseCertificate(parseSignedData(sd).certificates[0]);
  expect(subjectAltNames(c).uris).toEqual(['https://github.com/chainguard-dev/actions/.github/workflows/release.yaml@refs/heads/main']);
  expect(fulcioIssuer(c)).toBe('https://token.actions.githubusercontent.com');
  const claims = fulcioClaims(c);
  expect(claims.githubWorkflowRepository).toBe('chainguard-dev/actions');
  expect(claims.githubWorkflowRef).toBe('refs/heads/main');
  expect(claims.sourceRepositoryURI).toBe('https://github.com/chainguard-dev/actions');
  expect(Object.keys(claims).length).toBeGreaterThan(8);
});

describe('public-good CA certificates', () => {
  const root = embeddedTrustedRoot();
  test('roots are CAs, self-issued, and the two roots share one subject DN but not a key', () => {
    const r2021 = parseCertificate(root.certificateAuthorities[0].certChain[0]);
    const [inter, r2022] = root.certificateAuthorities[1].certChain.map((d) => parseCertificate(d));
    expect(r2021.subjectString).toBe('CN=sigstore,O=sigstore.dev');
    expect(r2022.subject.equals(r2021.subject)).toBe(true);
    expect(r2022.spki.equals(r2021.spki)).toBe(false);
    expect(basicConstraints(r2022).ca).toBe(true);
    expect(keyUsage(inter)?.keyCertSign).toBe(true);
    expect(verifyIssuedBy(inter, r2022)).toBe(true);
    expect(verifyIssuedBy(inter, r2021)).toBe(false);
    expect(verifyIssuedBy(r2021, r2021)).toBe(true);
  });
});

describe('malformed certificates are refused', () => {
  const good = decodePem(readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/leaf.pem'), 'utf8'), 'CERTIFICATE');
  test('truncated, trailing data, or oversized', () => {
    expect(() => parseCertificate(good.subarray(0, good.length - 1))).toThrow(/invalid certificate/);
    expect(() => parseCertificate(Buffer.concat([good, Buffer.from([0])]))).toThrow(/invalid certificate/);
    expect(() => parseCertificate(Buffer.alloc(20_000, 0x30))).toThrow(/larger than 16 KiB/);
  });
  test('a flipped TBS byte breaks the issuer signature', () => {
    const root = embeddedTrustedRoot();
    const inter = parseCertificate(root.certificateAuthorities[1].certChain[0]);
    const bad = Buffer.from(good);
    bad[200] ^= 1;
    let c;
    try {
      c = parseCertificate(bad);
    } catch {
      return; // flipping broke the encoding: also refused
    }
    expect(verifyIssuedBy(c, inter)).toBe(false);
    expect(verifyIssuedBy(parseCertificate(good), inter)).toBe(true);
  });
});

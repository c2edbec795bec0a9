/** CMS SignedData parsing on the real corpus, cross-checked with openssl, plus malformed input. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CMS_OID, findSignerCertificate, parseSignedData, signatureDer } from '../../src/cms/parse.js';
import { decodePem, encodePem } from '../../src/util/pem.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { needs } from '../helpers/tools.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const index: { dir: string; has_embedded_tlog: boolean }[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'gitseal-cms-'));

describe('every corpus signature parses to the documented layout', () => {
  test.each(index.map((e) => [e.dir, e] as const))('%s', (dir, e) => {
    const meta = JSON.parse(readFileSync(join(CORPUS, dir, 'meta.json'), 'utf8'));
    const pem = readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8');
    const sd = parseSignedData(pem);
    expect(sd.version).toBe(meta.cms.sd_version);
    expect(sd.detached).toBe(true);
    expect(sd.eContentType).toBe(CMS_OID.data);
    expect(sd.certificates).toHaveLength(meta.num_certs);
    expect(sd.signerInfos).toHaveLength(1);
    const si = sd.signerInfos[0];
    expect(si.version).toBe(1);
    expect(si.digestAlgorithm).toBe(CMS_OID.sha256);
    // the signed bytes are the received attributes with only the tag changed
    expect(si.signedAttrsRaw![0]).toBe(0xa0);
    expect(si.signedAttrsSet![0]).toBe(0x31);
    expect(si.signedAttrsSet!.subarray(1).equals(si.signedAttrsRaw!.subarray(1))).toBe(true);
    expect(si.signedAttrs.get(CMS_OID.messageDigest)!.values[0].value.toString('hex')).toBe(meta.cms.signed_attrs.messageDigest);
    // offline mode = …3.1 holding an OCTET STRING (the pre-release layout reuses 3.1 for a string)
    expect(si.unsignedAttrs.get(CMS_OID.rekorTle)?.values[0].tag === 0x04).toBe(e.has_embedded_tlog);
    // the signer is found by issuer+serial and is the corpus leaf
    const leaf = findSignerCertificate(si, sd.certificates.map((c) => parseCertificate(c)));
    expect(leaf?.der.equals(decodePem(readFileSync(join(CORPUS, dir, 'leaf.pem'), 'utf8'), 'CERTIFICATE'))).toBe(true);
    // raw DER input gives the same result
    expect(parseSignedData(signatureDer(pem)).signerInfos[0].signature.equals(si.signature)).toBe(true);
  });
});

needs('openssl').it('openssl agrees that the re-tagged signed attributes are what the signature covers', () => {
  const dir = 'sigstore_gitsign_commit_7550db4cf96b';
  const pem = readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8');
  const sd = parseSignedData(pem);
  const si = sd.signerInfos[0];
  const derPath = join(tmp, 'sig.der');
  writeFileSync(derPath, signatureDer(pem));
  writeFileSync(join(tmp, 'payload'), readFileSync(join(CORPUS, dir, 'payload.bin')));
  execFileSync('openssl', ['cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', derPath, '-content', join(tmp, 'payload'), '-out', '/dev/null'], { stdio: 'pipe' });
  // and an independent check of our bytes: openssl dgst over signedAttrsSet with the leaf key
  writeFileSync(join(tmp, 'attrs'), si.signedAttrsSet!);
  writeFileSync(join(tmp, 'sig'), si.signature);
  execFileSync('openssl', ['x509', '-in', join(CORPUS, dir, 'leaf.pem'), '-pubkey', '-noout', '-out', join(tmp, 'pub.pem')]);
  const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(tmp, 'pub.pem'), '-signature', join(tmp, 'sig'), join(tmp, 'attrs')]).toString();
  expect(out.trim()).toBe('Verified OK');
});

test('the Jan-2023 pre-release layout exposes attributes 57264.3.0–3.8 and no protobuf entry', () => {
  const sd = parseSignedData(readFileSync(join(CORPUS, 'sigstore_gitsign_commit_c47e8bf5c862/signature.pem'), 'utf8'));
  const oids = [...sd.signerInfos[0].unsignedAttrs.keys()].filter((o) => o.startsWith('1.3.6.1.4.1.57264.3.'));
  expect(oids.length).toBeGreaterThan(1);
  const v = sd.signerInfos[0].unsignedAttrs.get(CMS_OID.rekorTle)?.values[0];
  expect(v).toBeDefined();
  expect(v!.tag).not.toBe(0x04);
});

test('the swapped-certificate case: no embedded certificate matches the signer id', () => {
  const sd = parseSignedData(readFileSync(join(CORPUS, 'negative/06-embedded-certificate-swapped/signature.pem'), 'utf8'));
  expect(sd.certificates).toHaveLength(1);
  expect(findSignerCertificate(sd.signerInfos[0], sd.certificates.map((c) => parseCertificate(c)))).toBeUndefined();
});

describe('malformed input is refused with BAD_CMS / BAD_PEM / INPUT_TOO_LARGE', () => {
  const der = signatureDer(readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/signature.pem'), 'utf8'));
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'no error';
  };
  test('truncated DER', () => expect(code(() => parseSignedData(der.subarray(0, der.length - 3)))).toBe('BAD_CMS'));
  test('trailing garbage', () => expect(code(() => parseSignedData(Buffer.concat([der, Buffer.from([0, 0])])))).toBe('BAD_CMS'));
  test('BER indefinite length', () => {
    const ber = Buffer.from(der);
    ber[1] = 0x80;
    expect(code(() => parseSignedData(ber))).toBe('BAD_CMS');
  });
  test('wrong PEM label', () => expect(code(() => parseSignedData(encodePem('PKCS7', der)))).toBe('BAD_PEM'));
  test('two SIGNED MESSAGE blocks', () => expect(code(() => parseSignedData(encodePem('SIGNED MESSAGE', der).repeat(2)))).toBe('BAD_PEM'));
  test('larger than 64 KiB', () => {
    const big = Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x10, 0x00]), Buffer.alloc(0x11000)]);
    expect(code(() => parseSignedData(big))).toBe('INPUT_TOO_LARGE');
  });
  test('not SignedData', () => {
    const other = Buffer.from(der);
    // contentType OID 1.2.840.113549.1.7.2 → …7.3 (envelopedData)
    const i = other.indexOf(Buffer.from('2a864886f70d010702', 'hex'));
    other[i + 8] = 0x03;
    expect(code(() => parseSignedData(other))).toBe('BAD_CMS');
  });
});

/**
 * Byte layout of the CMS builder against real gitsign signatures
 * (test/fixtures/gitsign-corpus: public commits signed by gitsign in offline mode):
 * take each signature apart with the DER reader and re-assemble it with our
 * builder; the bytes must come out identical.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleSignedData, buildSignedAttributes, OID } from '../../src/cms/build.js';
import { children, decodeOid, decodeTime, parseDer, type Tlv } from '../../src/util/der.js';
import { decodePem } from '../../src/util/pem.js';
import { gpgsmVerify, makeGpgsmHome } from '../e2e/sign-helpers.js';
import { needs } from '../helpers/tools.js';

const CORPUS = join(__dirname, '..', 'fixtures', 'gitsign-corpus');

interface Meta {
  has_embedded_tlog: boolean;
}
const dirs = readdirSync(CORPUS).filter((d) => {
  try {
    return (JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as Meta).has_embedded_tlog;
  } catch {
    return false;
  }
});

/** Pull the pieces our builder takes out of a gitsign CMS. */
function pieces(der: Buffer) {
  const ci = children(parseDer(der));
  const sd = children(children(ci[1])[0]);
  const certs = children(sd[3]);
  const si = children(children(sd[4])[0]);
  const signedAttrsImplicit = si[3];
  const signedAttrs = Buffer.concat([Buffer.from([0x31]), signedAttrsImplicit.raw.subarray(1)]);
  const unsigned = children(si[6]);
  const attr = (t: Tlv) => ({ oid: decodeOid(children(t)[0].value), values: children(children(t)[1]) });
  const tle = unsigned.map(attr).find((a) => a.oid === OID.rekorTle)!.values[0].value;
  const attrs = children(signedAttrsImplicit).map(attr);
  const signingTime = decodeTime(attrs.find((a) => a.oid === OID.signingTime)!.values[0]);
  return { certs, signedAttrs, signature: si[5].value, tle, signingTime, unsignedCount: unsigned.length };
}

describe('CMS builder against real gitsign offline-mode signatures', () => {
  it('has offline-mode fixtures to compare with', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(5);
  });

  for (const d of dirs) {
    it(`re-assembles ${d} byte for byte`, () => {
      const der = decodePem(readFileSync(join(CORPUS, d, 'signature.pem'), 'utf8'), 'SIGNED MESSAGE');
      const payload = readFileSync(join(CORPUS, d, 'payload.bin'));
      const p = pieces(der);
      expect(p.certs).toHaveLength(1);
      expect(p.unsignedCount).toBe(1);
      // the signed attributes are rebuilt from the payload and the signing time alone
      expect(buildSignedAttributes(payload, p.signingTime).equals(p.signedAttrs)).toBe(true);
      const rebuilt = assembleSignedData({ signedAttrs: p.signedAttrs, signature: p.signature, leaf: p.certs[0].raw, tle: p.tle });
      expect(rebuilt.toString('hex')).toBe(der.toString('hex'));
    });
  }
});

needs('openssl', 'gpgsm').describe('CMS builder output checked by openssl and gpgsm', () => {
  it('verifies a self-made signature with openssl cms -verify and gpgsm --verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-cms-'));
    try {
      // A throwaway CA and leaf made by openssl itself.
      const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
      run(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=test/CN=test-root', '-days', '1', '-sha384', '-out', 'ca.pem']);
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, 'leaf.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, 'ext.cnf'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=critical,email:dev@example.test\n');
      // A subject (unlike Fulcio's empty one) so that gpgsm/libksba can parse the CMS.
      run(['x509', '-new', '-force_pubkey', 'leaf.pub', '-subj', '/CN=gitseal test leaf', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '1', '-sha384', '-extfile', 'ext.cnf', '-outform', 'DER', '-out', 'leaf.der']);
      const leaf = readFileSync(join(dir, 'leaf.der'));
      const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\n\nmsg\n');
      const signedAttrs = buildSignedAttributes(payload, new Date());
      const signature = sign('sha256', signedAttrs, privateKey);
      const der = assembleSignedData({ signedAttrs, signature, leaf, tle: Buffer.from([0x08, 0x01]) });
      writeFileSync(join(dir, 'sig.der'), der);
      writeFileSync(join(dir, 'payload'), payload);
      const out = execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', 'sig.der', '-binary', '-content', 'payload', '-CAfile', 'ca.pem', '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, stdio: 'pipe' });
      expect(out.length).toBe(0);
      const gpg = makeGpgsmHome(readFileSync(join(dir, 'ca.pem'), 'utf8'));
      try {
        const status = gpgsmVerify(gpg.home, dir, der, payload);
        expect(status).toMatch(/\[GNUPG:\] GOODSIG /);
        expect(status).toMatch(/\[GNUPG:\] TRUST_FULLY/);
      } finally {
        gpg.close();
      }
      // a changed payload must fail
      writeFileSync(join(dir, 'payload'), Buffer.concat([payload, Buffer.from('x')]));
      expect(() => execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', 'sig.der', '-binary', '-content', 'payload', '-CAfile', 'ca.pem', '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, stdio: 'pipe' })).toThrow();
      expect(createHash('sha256').update(payload).digest().length).toBe(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Beyond issue 14's list: what a hostile signer can put in front of each parser, and what it
 * costs. Every oversized or over-counted input is one clear error with a verdict git can show
 * (ERRSIG), never silence, a stack trace or unbounded work.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { der } from '../../src/util/der.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { signatureCheckCount } from '../../src/x509/signature.js';
import { BIN } from '../cli/helpers.js';
import { randomBytes } from 'node:crypto';
import { EXT, makeCert, makeLeaf, makeWorld, PAYLOAD, pemOf, signedAttributes, signedParts, signerInfoWith, type World } from '../verify/helpers/forge.js';
import { letterOf } from './helpers/paths.js';

let w: World;
let dir: string;
beforeAll(() => {
  w = makeWorld();
  dir = mkdtempSync(join(tmpdir(), 'gitseal-limits-'));
  writeFileSync(join(dir, 'trusted_root.json'), w.trustJson);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** git's own call: bin/gitseal --status-fd=1 --verify <sigfile> -, payload on stdin. */
function gitCall(sigfile: string, input: Buffer) {
  const r = spawnSync(process.execPath, [BIN, '--status-fd=1', '--verify', sigfile, '-'], {
    input,
    env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GITSEAL_TRUSTED_ROOT: join(dir, 'trusted_root.json'), GITSEAL_OFFLINE: '1' },
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, letter: letterOf(r.stdout) };
}

async function verdict(pem: string, payload = PAYLOAD) {
  return verifySignature({ signature: pem, payload, trust: w.trust, offline: true });
}

describe("git's --verify call: sizes", () => {
  test('a payload over 64 MiB on stdin: ERRSIG and one line (git showed N: no status line at all)', () => {
    const sig = join(dir, 'sig.pem');
    writeFileSync(sig, pemOf(signedParts(w, makeLeaf(w), PAYLOAD)));
    const r = gitCall(sig, Buffer.alloc(64 * 1024 * 1024 + 1, 'a'));
    expect(r.letter, r.stdout).toBe('E');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/larger than 67108864 bytes/);
  });

  test('a 40 MiB commit payload: refused as gitseal verify refuses a 40 MiB commit object', () => {
    const sig = join(dir, 'sig.pem');
    const big = Buffer.concat([PAYLOAD, Buffer.alloc(40 * 1024 * 1024, 'm')]);
    writeFileSync(sig, pemOf(signedParts(w, makeLeaf(w), big)));
    const r = gitCall(sig, big);
    expect(r.letter).toBe('E');
    expect(r.stderr).toMatch(/commit object is larger than 33554432 bytes/);
  });

  test('a signature file over 128 KiB, and one that never ends (/dev/zero): ERRSIG, bounded read', () => {
    const sig = join(dir, 'big.pem');
    writeFileSync(sig, Buffer.alloc(129 * 1024, ' '));
    for (const f of [sig, '/dev/zero']) {
      const r = gitCall(f, PAYLOAD);
      expect(r.letter, `${f}: ${r.stdout}${r.stderr}`).toBe('E');
      expect(r.stderr).toMatch(/signature file larger than 128 KiB/);
    }
  });
});

describe('the other limits docs/security.md lists (they had no test of their own)', () => {
  test("a config file over 4 MiB: git's --verify call answers ERRSIG with one line", () => {
    const repo = join(dir, 'big-config');
    spawnSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, '.git', 'config'), '[core]\n\trepositoryformatversion = 0\n' + `# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    const sig = join(dir, 'sig-cfg.pem');
    writeFileSync(sig, pemOf(signedParts(w, makeLeaf(w), PAYLOAD)));
    const r = spawnSync(process.execPath, [BIN, '--status-fd=1', '--verify', sig, '-'], {
      input: PAYLOAD,
      env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GITSEAL_TRUSTED_ROOT: join(dir, 'trusted_root.json'), GITSEAL_OFFLINE: '1' },
      cwd: repo,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(letterOf(r.stdout)).toBe('E');
    expect(r.stderr).toMatch(/config file .*config is too large/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('an identity token over 64 KiB, and a token file over 64 KiB: one clear error, never parsed', async () => {
    const { parseJwtClaims } = await import('../../src/oidc/jwt.js');
    const { tokenFromFile } = await import('../../src/oidc/token-file.js');
    const big = `${'a'.repeat(40_000)}.${'b'.repeat(30_000)}.c`;
    expect(() => parseJwtClaims(big, 'SIGSTORE_ID_TOKEN')).toThrow(/identity token from SIGSTORE_ID_TOKEN is too large/);
    const f = join(dir, 'token');
    writeFileSync(f, big);
    expect(() => tokenFromFile({ GITSEAL_TOKEN_FILE: f })).toThrow(/token file .* is too large/);
    // A path with no size to check first (tokenProvider "file" with GITSEAL_TOKEN_FILE=/dev/zero) was read until memory ran out.
    expect(() => tokenFromFile({ GITSEAL_TOKEN_FILE: '/dev/zero' })).toThrow(/token file \/dev\/zero is too large/);
  });

  test('a commit whose header block is over 1 MiB: refused before it is parsed further', async () => {
    const { parseCommit } = await import('../../src/git/object.js');
    const raw = Buffer.from(`tree ${'0'.repeat(40)}\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\nx-junk ${'j'.repeat(1024 * 1024)}\n\nmsg\n`);
    expect(() => parseCommit(raw)).toThrow(/header block larger than 1048576 bytes/);
  });
});

describe('counts inside the signature', () => {
  test('five signerInfos: refused at parse, before any signature check', async () => {
    const k = signedParts(w, makeLeaf(w), PAYLOAD);
    const si = signerInfoWith(k);
    const before = signatureCheckCount();
    const r = await verdict(pemOf({ ...k, moreSignerInfos: [si, si, si, si] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_CMS' });
    expect(r.message).toMatch(/too many signers/);
    expect(signatureCheckCount() - before).toBe(0);
  });

  test('two signerInfos (both valid): refused, one signer only', async () => {
    const k = signedParts(w, makeLeaf(w), PAYLOAD);
    const r = await verdict(pemOf({ ...k, moreSignerInfos: [signerInfoWith(k)] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/exactly one signer/);
  });

  test('17 unsigned attributes: refused at parse', async () => {
    const k = signedParts(w, makeLeaf(w), PAYLOAD);
    const many = Array.from({ length: 16 }, (_, i) => [`1.3.6.1.4.1.57264.9.${i}`, der.null()] as [string, Buffer]);
    const r = await verdict(pemOf({ ...k, unsigned: many }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse' });
    expect(r.message).toMatch(/too many unsigned attributes/);
  });

  test('a leaf certificate over 16 KiB: refused before its signature is checked', async () => {
    const leaf = makeLeaf(w, { extra: [EXT.raw('1.3.6.1.4.1.99999.1', 'x'.repeat(17 * 1024))] });
    const before = signatureCheckCount();
    const r = await verdict(pemOf(signedParts(w, leaf, PAYLOAD)));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'INPUT_TOO_LARGE' });
    expect(signatureCheckCount() - before).toBe(0);
  });

  test('a whole signature over 64 KiB of DER: refused before parsing', async () => {
    const k = signedParts(w, makeLeaf(w), PAYLOAD);
    const r = await verdict(pemOf({ ...k, unsigned: [['1.3.6.1.4.1.57264.9.1', der.octets(Buffer.alloc(65 * 1024))]] }));
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'INPUT_TOO_LARGE' });
  });
});

describe('the signer key sets the price of the first signature check', () => {
  /** An RSA SubjectPublicKeyInfo with the given modulus and exponent sizes (no private key exists). */
  function rsaSpki(modBits: number, expBytes: number): Buffer {
    const n = randomBytes(modBits / 8);
    n[0] |= 0x80;
    n[n.length - 1] |= 1;
    const e = randomBytes(expBytes);
    e[0] = (e[0] & 0x7f) | 0x40;
    e[e.length - 1] |= 1;
    if (expBytes * 8 >= modBits) e[0] = n[0] >> 1; // below the modulus
    return der.seq(der.seq(der.oid('1.2.840.113549.1.1.1'), der.null()), der.bitString(der.seq(der.int(n), der.int(e))));
  }

  test.each([
    ['a 3072-bit RSA key with a 3072-bit public exponent (~7 ms a check)', rsaSpki(3072, 384), /public exponent/],
    ['a 16384-bit RSA key (~5 ms a check)', rsaSpki(16384, 3), /16384-bit RSA key/],
  ])('refused before any signature check: %s', async (_n, spki, why) => {
    const nb = new Date('2025-06-01T12:00:00Z');
    const leafDer = makeCert({
      issuer: w.interName,
      subject: der.seq(),
      spki,
      notBefore: nb,
      notAfter: new Date(nb.getTime() + 600_000),
      extensions: [EXT.leafKeyUsage(), EXT.codeSigning(), EXT.email('alice@example.com'), EXT.issuerV1('https://accounts.example.com')],
      signer: w.inter.privateKey,
      sha384: true,
    });
    const attrs = signedAttributes(PAYLOAD, nb);
    const pem = pemOf({ signedAttrsSet: attrs, signature: randomBytes(spki.length > 1000 ? 2048 : 384), leaf: leafDer, signatureAlgorithm: '1.2.840.113549.1.1.11' });
    const before = signatureCheckCount();
    const r = await verdict(pem);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'signature', code: 'BAD_CERTIFICATE' });
    expect(r.message).toMatch(why);
    expect(signatureCheckCount() - before).toBe(0);
  });

  // docs/security.md claims the same for an untrusted CA's key and an embedded TSA's: pinned here.
  test("an untrusted CA in the signature with a key Fulcio never certifies is never checked against (the leaf still chains without it)", async () => {
    const { ecKey, name: dn } = await import('../verify/helpers/forge.js');
    // The leaf comes from an intermediate the signature carries (one untrusted level is allowed),
    // so the path search looks at the signature's CA certificates — the heavy one among them.
    // Fresh certificates for each run: verified checks are remembered (src/x509/verified-memo.ts), so each run counts all of its own.
    const leafOf = () => {
      const midKey = ecKey('P-384');
      const mid = makeCert({ issuer: w.interName, subject: dn('carried-intermediate'), spki: midKey.spki, notBefore: new Date('2020-01-01Z'), notAfter: new Date('2040-01-01Z'), extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(midKey.spki), EXT.aki(w.inter.spki)], signer: w.inter.privateKey, sha384: true });
      return { ...signedParts(w, makeLeaf(w, { caKey: midKey, caName: dn('carried-intermediate') }), PAYLOAD), mid };
    };
    // An EC key on a curve Fulcio never uses: an ECDSA-signed leaf would be checked against it.
    const { generateKeyPairSync } = await import('node:crypto');
    const odd = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
    const heavyCa = makeCert({ issuer: dn('heavy'), subject: dn('heavy'), spki: odd, notBefore: new Date('2020-01-01Z'), notAfter: new Date('2040-01-01Z'), extensions: [EXT.caBasic(), EXT.caKeyUsage()], signer: w.inter.privateKey, sha384: true });
    const k0 = leafOf();
    const plain = signatureCheckCount();
    expect(await verdict(pemOf({ ...k0, certs: [k0.leaf, k0.mid] }))).toMatchObject({ ok: true });
    const cost = signatureCheckCount() - plain;
    const k = leafOf();
    const before = signatureCheckCount();
    const r = await verdict(pemOf({ ...k, certs: [k.leaf, heavyCa, k.mid] }));
    expect(r, r.message).toMatchObject({ ok: true });
    // Not one check more than without it: the heavy key was set aside before any verify.
    expect(signatureCheckCount() - before).toBe(cost);
  });

  test("an RFC 3161 token whose embedded signer certificate holds such a key is refused before its signature is checked", async () => {
    const { makeTsa, trustWith, tsaToken, leafTbsFields, name: dn } = await import('../verify/helpers/forge.js');
    const { decodeInteger } = await import('../../src/util/der.js');
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa] });
    // A twin of the TSA's certificate (same issuer and serial) carrying a 16384-bit key, embedded in the token.
    const serial = decodeInteger(leafTbsFields(tsa.leafCert).serialOctets);
    const twin = makeCert({ issuer: dn('forged-tsa-root'), subject: dn('forged-tsa'), spki: rsaSpki(16384, 3), notBefore: new Date('2020-01-01Z'), notAfter: new Date('2040-01-01Z'), extensions: [], signer: tsa.root.privateKey, serial });
    const k = signedParts(w, makeLeaf(w), PAYLOAD);
    const tst = tsaToken({ ...tsa, leafCert: twin }, k.signature, new Date('2025-06-01T12:00:40Z'));
    const before = signatureCheckCount();
    const r = await verifySignature({ signature: pemOf({ ...k, tst }), payload: PAYLOAD, trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'tlog', code: 'TSA' });
    expect(r.message).toMatch(/timestamp token's signer holds a 16384-bit RSA key/);
    // the signer's CMS signature, the SET and the checkpoint: nothing of the token's
    expect(signatureCheckCount() - before).toBeLessThanOrEqual(3);
  });
});

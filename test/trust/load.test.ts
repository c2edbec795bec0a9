// loadTrustedRoot (src/trust/load.ts): each source, the precedence between
// them, the gitsign/cosign PEM overrides built from the real public-good
// trust material (src/trust/public-good/trusted_root.json, the @sigstore/tuf
// 4.0.2 seed) and checked against real gitsign signatures from the vendored
// corpus, and fail-closed errors for configured files that are missing or bad.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { GitsealError } from '../../src/errors.js';
import { EMBEDDED_DIGEST, embeddedTrustedRoot, loadTrustedRoot as legacyLoad } from '../../src/trust/embedded.js';
import { loadTrustedRoot, type LoadTrustedRootOptions } from '../../src/trust/load.js';
import { certificateAuthoritiesFromPem, logKeysFromPem, timestampAuthoritiesFromPem } from '../../src/trust/pem-bundle.js';
import { tufMetadataDir } from '../../src/trust/sources.js';
import type { TrustedRoot } from '../../src/trust/trusted-root.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';

const ROOT_JSON = join(__dirname, '../../src/trust/public-good/trusted_root.json');
const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
const tmp = mkdtempSync(join(tmpdir(), 'gitseal-trustload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A fresh directory under the test's temporary root. */
function fresh(name: string): string {
  const d = join(tmp, `${name}-${++n}`);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

function write(dir: string, name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

const pg = JSON.parse(readFileSync(ROOT_JSON, 'utf8'));
const b64 = (s: string) => Buffer.from(s, 'base64');
const certPem = (s: string) => encodePem('CERTIFICATE', b64(s));
const keyPem = (s: string) => encodePem('PUBLIC KEY', b64(s));
// Public-good pieces, as a private deployment would hand them out as PEM files.
const ca2021Root = pg.certificateAuthorities[0].certChain.certificates[0].rawBytes as string;
const [ca2022Int, ca2022Root] = pg.certificateAuthorities[1].certChain.certificates.map((c: { rawBytes: string }) => c.rawBytes) as string[];
const rekorKey = pg.tlogs[0].publicKey.rawBytes as string;
const ctKey2022 = pg.ctlogs[1].publicKey.rawBytes as string;
const tsaChain = pg.timestampAuthorities[0].certChain.certificates.map((c: { rawBytes: string }) => c.rawBytes) as string[];

/** A valid trusted root that trusts nothing the corpus needs (the next layer in override tests). */
function emptyRootJson(): string {
  return JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
}

function corpusObject(dir: string) {
  return { signature: readFileSync(join(CORPUS, dir, 'signature.pem'), 'utf8'), payload: readFileSync(join(CORPUS, dir, 'payload.bin')) };
}
const index: { dir: string; has_embedded_tlog: boolean; signer_identity: string }[] = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8'));
const offline = index.filter((e) => e.has_embedded_tlog).slice(0, 2);

/** The certificate with the last byte of its signature changed: still parses, no longer verifies. */
function flipLast(der: Buffer): Buffer {
  const c = Buffer.from(der);
  c[c.length - 1] ^= 0x01;
  return c;
}

function caught(f: () => unknown): GitsealError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GitsealError);
    return e as GitsealError;
  }
  throw new Error('expected a GitsealError, nothing was thrown');
}

/** An environment with a private, empty HOME (no TUF cache) plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { HOME: fresh('home'), ...extra };
}

function load(o: Partial<LoadTrustedRootOptions> & { env: NodeJS.ProcessEnv }) {
  return loadTrustedRoot(o);
}

describe('no configuration: the embedded public-good root', () => {
  test('is used, says so, and verifies offline-mode corpus objects', async () => {
    const r = load({ env: envWith() });
    expect(r).toMatchObject({ source: 'embedded public-good root', layer: 'embedded', warnings: [], files: [] });
    expect(r.root.digest).toBe(EMBEDDED_DIGEST);
    expect(offline).toHaveLength(2);
    for (const e of offline) {
      const v = await verifySignature({ ...corpusObject(e.dir), trust: r.root, offline: true });
      expect(v.message).toMatch(/^good signature/);
      expect(v.identity).toBe(e.signer_identity);
    }
  });

  test('an environment naming no home directory has no TUF cache layer', () => {
    expect(load({ env: {} }).layer).toBe('embedded');
  });
});

describe('the TUF cache written by gitseal initialize', () => {
  const v02 = { ...pg, mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json' };

  test('$XDG_CACHE_HOME/gitseal/trusted_root.json is used when it parses', () => {
    const xdg = fresh('xdg');
    mkdirSync(join(xdg, 'gitseal'));
    const path = write(join(xdg, 'gitseal'), 'trusted_root.json', JSON.stringify(v02));
    utimesSync(path, new Date('2026-03-04T05:06:07Z'), new Date('2026-03-04T05:06:07Z'));
    const r = load({ env: envWith({ XDG_CACHE_HOME: xdg }) });
    expect(r.layer).toBe('cache');
    expect(r.source).toBe(`TUF cache ${path} (refreshed 2026-03-04T05:06:07.000Z)`);
    expect(r.root.mediaType).toBe(v02.mediaType);
    expect(r.root.digest).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(r.files).toEqual([path]);
  });

  test('$HOME/.cache/gitseal is the default, shown with ~; cacheDir overrides both', () => {
    const home = fresh('home');
    mkdirSync(join(home, '.cache', 'gitseal'), { recursive: true });
    write(join(home, '.cache', 'gitseal'), 'trusted_root.json', JSON.stringify(v02));
    const r = load({ env: { HOME: home } });
    expect(r.source).toMatch(/^TUF cache ~\/\.cache\/gitseal\/trusted_root\.json \(refreshed \d{4}-\d\d-\d\dT/);
    const other = fresh('cachedir');
    write(other, 'trusted_root.json', emptyRootJson());
    const o = load({ env: { HOME: home }, cacheDir: other });
    expect(o.root.certificateAuthorities).toEqual([]);
    expect(o.files).toEqual([join(other, 'trusted_root.json')]);
  });

  test('a damaged cache is skipped with a warning (it was not configured)', () => {
    const cacheDir = fresh('damaged');
    write(cacheDir, 'trusted_root.json', '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": 7}');
    const r = load({ env: envWith(), cacheDir });
    expect(r.layer).toBe('embedded');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^ignoring the TUF cache .*trusted_root\.json: .*tlogs must be an array; run "gitseal initialize"/);
  });

  test('TUF_ROOT names where initialize keeps TUF metadata, as in cosign', () => {
    expect(tufMetadataDir({ HOME: '/h' })).toBe('/h/.cache/gitseal/tuf');
    expect(tufMetadataDir({ HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe('/x/gitseal/tuf');
    expect(tufMetadataDir({ HOME: '/h', TUF_ROOT: '/srv/tuf' })).toBe('/srv/tuf');
    expect(tufMetadataDir({ HOME: '/h', TUF_ROOT: '' })).toBe('/h/.cache/gitseal/tuf');
  });
});

describe('an explicit TrustedRoot JSON', () => {
  test('path (gitseal.trustedRoot) wins over GITSEAL_TRUSTED_ROOT, overrides and the cache', () => {
    const d = fresh('explicit');
    const a = write(d, 'a.json', JSON.stringify(pg));
    const b = write(d, 'b.json', emptyRootJson());
    const ca = write(d, 'ca.pem', certPem(ca2022Int) + certPem(ca2022Root));
    write(d, 'trusted_root.json', emptyRootJson());
    const env = envWith({ GITSEAL_TRUSTED_ROOT: b, SIGSTORE_ROOT_FILE: ca });
    const r = load({ path: a, env, cacheDir: d });
    expect(r).toMatchObject({ layer: 'file', source: `gitseal.trustedRoot ${a}`, files: [a] });
    expect(r.root.digest).toBe(createHash('sha256').update(readFileSync(a)).digest('hex'));
    expect(r.root.certificateAuthorities).toHaveLength(2);
    expect(r.warnings).toEqual([`SIGSTORE_ROOT_FILE (${ca}) is ignored: gitseal.trustedRoot ${a} takes precedence`]);
    expect(load({ path: a, pathOrigin: 'env GITSEAL_TRUSTED_ROOT', env: envWith() }).source).toBe(`env GITSEAL_TRUSTED_ROOT ${a}`);
  });

  test('GITSEAL_TRUSTED_ROOT alone; an empty variable counts as unset', () => {
    const d = fresh('envroot');
    const b = write(d, 'b.json', emptyRootJson());
    const r = load({ env: envWith({ GITSEAL_TRUSTED_ROOT: b }) });
    expect(r).toMatchObject({ layer: 'file', source: `GITSEAL_TRUSTED_ROOT ${b}` });
    expect(r.root.certificateAuthorities).toEqual([]);
    expect(load({ env: envWith({ GITSEAL_TRUSTED_ROOT: '', SIGSTORE_ROOT_FILE: '' }) }).layer).toBe('embedded');
  });

  test('validFor dates are carried through unchanged', () => {
    const d = fresh('validfor');
    const j = JSON.parse(JSON.stringify(pg));
    j.certificateAuthorities[1].validFor = { start: '2023-01-01T00:00:00Z', end: '2030-06-30T12:00:00Z' };
    const r = load({ path: write(d, 'r.json', JSON.stringify(j)), env: envWith() });
    expect(r.root.certificateAuthorities[1].validFor).toEqual({ start: new Date('2023-01-01T00:00:00Z'), end: new Date('2030-06-30T12:00:00Z') });
    expect(r.root.tlogs[1].validFor.start).toEqual(new Date(pg.tlogs[1].publicKey.validFor.start));
  });

  test('the old root-only wrapper in embedded.ts follows the same precedence', () => {
    const d = fresh('legacy');
    const ca = write(d, 'ca.pem', certPem(ca2022Root) + certPem(ca2022Int));
    const root = legacyLoad({ env: envWith({ SIGSTORE_ROOT_FILE: ca }) });
    expect(root.certificateAuthorities.map((c) => c.certChain.length)).toEqual([2]);
    expect(root.tlogs).toEqual(embeddedTrustedRoot().tlogs);
  });
});

describe('gitsign/cosign PEM overrides', () => {
  test('SIGSTORE_ROOT_FILE: self-signed certificates are roots, the rest chained to them by key', () => {
    const d = fresh('bundle');
    // Deliberately out of order: root, 2021 root, intermediate.
    const ca = write(d, 'fulcio.pem', certPem(ca2022Root) + certPem(ca2021Root) + certPem(ca2022Int));
    const r = load({ env: envWith({ SIGSTORE_ROOT_FILE: ca }) });
    expect(r.layer).toBe('overrides');
    expect(r.source).toBe(`SIGSTORE_ROOT_FILE ${ca} (Fulcio CAs); Rekor keys, CT log keys, timestamp authorities from the embedded public-good root`);
    const chains = r.root.certificateAuthorities.map((c) => c.certChain.map((x) => x.toString('base64')));
    expect(chains).toEqual([[ca2022Int, ca2022Root], [ca2021Root]]);
    for (const c of r.root.certificateAuthorities) expect(c.validFor).toEqual({ start: new Date(0) });
    // The pieces not given come unchanged from the next layer.
    const e = embeddedTrustedRoot();
    expect(r.root.tlogs).toBe(e.tlogs);
    expect(r.root.ctlogs).toBe(e.ctlogs);
    expect(r.root.timestampAuthorities).toBe(e.timestampAuthorities);
    expect(r.root.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(r.root.digest).not.toBe(EMBEDDED_DIGEST);
  });

  test('the rest comes from the TUF cache when there is one, and the source says so', () => {
    const d = fresh('overcache');
    write(d, 'trusted_root.json', emptyRootJson());
    const ca = write(d, 'fulcio.pem', certPem(ca2022Int) + certPem(ca2022Root));
    const r = load({ env: envWith({ GITSIGN_FULCIO_ROOT: ca }), cacheDir: d });
    expect(r.source).toMatch(new RegExp(`^GITSIGN_FULCIO_ROOT ${ca} \\(Fulcio CAs\\); Rekor keys, CT log keys, timestamp authorities from the TUF cache ${d}/trusted_root\\.json \\(refreshed `));
    expect(r.root.tlogs).toEqual([]);
    expect(r.files).toEqual([ca, join(d, 'trusted_root.json')]);
  });

  test('gitsign names win over SIGSTORE_ROOT_FILE; configuration (fulcioRoot) over the environment', () => {
    const d = fresh('names');
    const a = write(d, 'a.pem', certPem(ca2021Root));
    const b = write(d, 'b.pem', certPem(ca2022Int) + certPem(ca2022Root));
    const r = load({ env: envWith({ SIGSTORE_ROOT_FILE: a, GITSIGN_FULCIO_ROOT: b }) });
    expect(r.root.certificateAuthorities).toHaveLength(1);
    expect(r.root.certificateAuthorities[0].certChain).toHaveLength(2);
    expect(r.warnings).toEqual([`SIGSTORE_ROOT_FILE (${a}) is ignored: GITSIGN_FULCIO_ROOT (${b}) takes precedence`]);
    const c = load({ fulcioRoot: a, env: envWith({ SIGSTORE_FULCIO_ROOT: b }) });
    expect(c.root.certificateAuthorities.map((x) => x.certChain.length)).toEqual([1]);
    expect(c.source).toMatch(/^gitsign\.fulcioRoot /);
    expect(c.warnings[0]).toMatch(/^SIGSTORE_FULCIO_ROOT .* is ignored: gitsign\.fulcioRoot/);
  });

  test('all four files replace their lists and verify real gitsign signatures with nothing else trusted', async () => {
    const d = fresh('allfour');
    write(d, 'trusted_root.json', emptyRootJson());
    const env = envWith({
      SIGSTORE_ROOT_FILE: write(d, 'fulcio.pem', certPem(ca2021Root) + certPem(ca2022Int) + certPem(ca2022Root)),
      SIGSTORE_REKOR_PUBLIC_KEY: write(d, 'rekor.pub', keyPem(rekorKey)),
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: write(d, 'ctfe.pub', keyPem(ctKey2022)),
      SIGSTORE_TSA_CERTIFICATE_FILE: write(d, 'tsa.pem', [...tsaChain].reverse().map(certPem).join('')),
    });
    const r = load({ env, cacheDir: d });
    expect(r.source).not.toMatch(/ from the /); // nothing left for the base layer
    const root: TrustedRoot = r.root;
    // Log ids are SHA-256 of the DER SPKI: exactly the ids the public-good root lists.
    expect(root.tlogs).toHaveLength(1);
    expect(root.tlogs[0].logId.toString('base64')).toBe(pg.tlogs[0].logId.keyId);
    expect(root.tlogs[0].keyDetails).toBe('PKIX_ECDSA_P256_SHA_256');
    expect(root.ctlogs[0].logId.toString('base64')).toBe(pg.ctlogs[1].logId.keyId);
    // The TSA chain is put back in leaf → root order whatever the file's order.
    expect(root.timestampAuthorities.map((t) => t.certChain.map((c) => c.toString('base64')))).toEqual([tsaChain]);
    for (const e of offline) {
      const v = await verifySignature({ ...corpusObject(e.dir), trust: root, offline: true });
      expect(v.message).toMatch(/^good signature/);
      expect(v.ok).toBe(true);
    }
    // Without the Rekor key (base layer trusts no log) the same signature must fail at the log check.
    const noRekor = load({ env: { ...env, SIGSTORE_REKOR_PUBLIC_KEY: '' }, cacheDir: d });
    const bad = await verifySignature({ ...corpusObject(offline[0].dir), trust: noRekor.root, offline: true });
    expect(bad.ok).toBe(false);
    expect(bad.failedCheck).toBe('tlog');
  });
});

describe('configured files that are missing or malformed fail closed', () => {
  const d = fresh('bad');
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['missing GITSEAL_TRUSTED_ROOT', { GITSEAL_TRUSTED_ROOT: join(d, 'nope.json') }, /^cannot read the trusted root .*nope\.json \(GITSEAL_TRUSTED_ROOT\): no such file or directory$/],
    ['trusted root that is not JSON', { GITSEAL_TRUSTED_ROOT: write(d, 'x.json', '{') }, /^the trusted root .*x\.json \(GITSEAL_TRUSTED_ROOT\) is not usable: invalid trusted root: not JSON$/],
    ['missing SIGSTORE_ROOT_FILE', { SIGSTORE_ROOT_FILE: join(d, 'nope.pem') }, /^cannot read the Fulcio CAs file .*nope\.pem \(SIGSTORE_ROOT_FILE\): no such file or directory$/],
    ['directory as SIGSTORE_REKOR_PUBLIC_KEY', { SIGSTORE_REKOR_PUBLIC_KEY: d }, /\(SIGSTORE_REKOR_PUBLIC_KEY\): not a regular file$/],
    ['CA bundle without PEM', { SIGSTORE_ROOT_FILE: write(d, 'junk.pem', 'hello\n') }, /junk\.pem: no PEM CERTIFICATE block found$/],
    ['CA bundle with broken base64', { SIGSTORE_ROOT_FILE: write(d, 'b64.pem', '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n') }, /b64\.pem: the CERTIFICATE PEM block has invalid base64$/],
    ['CA bundle with a malformed certificate', { SIGSTORE_ROOT_FILE: write(d, 'trunc.pem', encodePem('CERTIFICATE', b64(ca2022Root).subarray(0, 100))) }, /trunc\.pem: certificate 1 is malformed: /],
    ['intermediate without its root', { SIGSTORE_ROOT_FILE: write(d, 'int.pem', certPem(ca2022Int)) }, /int\.pem: no self-signed root certificate/],
    ['intermediate of another root', { SIGSTORE_ROOT_FILE: write(d, 'mixed.pem', certPem(ca2022Int) + certPem(ca2021Root)) }, /mixed\.pem: intermediate certificate "[^"]*" does not chain to a root in the file$/],
    ['a root whose self-signature is broken', { SIGSTORE_ROOT_FILE: write(d, 'badroot.pem', certPem(ca2022Int) + encodePem('CERTIFICATE', flipLast(b64(ca2022Root)))) }, /badroot\.pem: no self-signed root certificate/],
    ['an intermediate whose signature is broken (names alone do not chain)', { SIGSTORE_ROOT_FILE: write(d, 'badint.pem', encodePem('CERTIFICATE', flipLast(b64(ca2022Int))) + certPem(ca2022Root)) }, /badint\.pem: intermediate certificate "[^"]*" does not chain to a root in the file$/],
    ['a key where certificates belong', { SIGSTORE_ROOT_FILE: write(d, 'key-as-ca.pem', keyPem(rekorKey)) }, /key-as-ca\.pem: unexpected "PUBLIC KEY" PEM block/],
    ['a certificate where a key belongs', { SIGSTORE_REKOR_PUBLIC_KEY: write(d, 'ca-as-key.pem', certPem(ca2022Root)) }, /ca-as-key\.pem: no PEM "PUBLIC KEY" block found$/],
    ['a public key that is not one', { SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: write(d, 'junkkey.pem', encodePem('PUBLIC KEY', Buffer.from('not a key'))) }, /junkkey\.pem: the public key is malformed or of an unsupported type$/],
    ['a TSA file with only the root', { SIGSTORE_TSA_CERTIFICATE_FILE: write(d, 'tsaroot.pem', certPem(tsaChain[tsaChain.length - 1])) }, /tsaroot\.pem: no timestamp signing certificate/],
    ['a TSA leaf without its root', { SIGSTORE_TSA_CERTIFICATE_FILE: write(d, 'tsaleaf.pem', certPem(tsaChain[0])) }, /tsaleaf\.pem: timestamp certificate "[^"]*" does not chain to a root in the file$/],
  ];
  test.each(cases)('%s', (_name, extra, message) => {
    const e = caught(() => load({ env: envWith(extra as Record<string, string>) }));
    expect(e.code).toBe('TRUST_ROOT');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });

  test('a bad override fails even when a good explicit root is absent and a good cache is present', () => {
    const c = fresh('goodcache');
    write(c, 'trusted_root.json', JSON.stringify(pg));
    const e = caught(() => load({ env: envWith({ SIGSTORE_REKOR_PUBLIC_KEY: join(d, 'missing.pub') }), cacheDir: c }));
    expect(e.message).toMatch(/missing\.pub \(SIGSTORE_REKOR_PUBLIC_KEY\): no such file or directory/);
  });
});

describe('in-process memo', () => {
  test('a second load reuses the parsed file; a changed file is read again', () => {
    const d = fresh('memo');
    const p = write(d, 'r.json', JSON.stringify(pg));
    const a = load({ path: p, env: envWith() });
    const b = load({ path: p, env: envWith() });
    expect(b.root).toBe(a.root);
    writeFileSync(p, emptyRootJson());
    const c = load({ path: p, env: envWith() });
    expect(c.root.certificateAuthorities).toEqual([]);
    expect(c.root.digest).toBe(createHash('sha256').update(emptyRootJson()).digest('hex'));
  });
});

describe('pem-bundle builders directly', () => {
  test('duplicates are dropped; a lone root is its own CA', () => {
    const cas = certificateAuthoritiesFromPem(certPem(ca2021Root) + certPem(ca2021Root), 'x.pem', 'https://fulcio.example');
    expect(cas).toHaveLength(1);
    expect(cas[0]).toMatchObject({ uri: 'https://fulcio.example', validFor: { start: new Date(0) } });
    expect(cas[0].validFor.end).toBeUndefined();
  });

  test('several keys in one file give several log entries; Ed25519 is recognised', () => {
    const ed = pg.tlogs[1].publicKey.rawBytes as string;
    const keys = logKeysFromPem(keyPem(rekorKey) + keyPem(ed), 'k.pem');
    expect(keys.map((k) => k.keyDetails)).toEqual(['PKIX_ECDSA_P256_SHA_256', 'PKIX_ED25519']);
    expect(keys[1].logId).toEqual(createHash('sha256').update(b64(ed)).digest());
  });

  test('a TSA chain in file order leaf, root is kept', () => {
    const t = timestampAuthoritiesFromPem(tsaChain.map(certPem).join(''), 't.pem');
    expect(t[0].certChain.map((c) => c.toString('base64'))).toEqual(tsaChain);
  });
});

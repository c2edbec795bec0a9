import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EMBEDDED_DIGEST, embeddedTrustedRoot, loadTrustedRoot } from '../../src/trust/embedded.js';
import { inValidity, parseTrustedRoot } from '../../src/trust/trusted-root.js';

const FILE = join(__dirname, '../../src/trust/public-good/trusted_root.json');
const require = createRequire(import.meta.url);

describe('embedded public-good root', () => {
  test('is byte-for-byte the trusted_root.json seed of @sigstore/tuf, and DIGEST is its sha256', () => {
    const seeds = require('@sigstore/tuf/seeds.json');
    const seed = Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64');
    const file = readFileSync(FILE);
    expect(file.equals(seed)).toBe(true);
    expect(createHash('sha256').update(file).digest('hex')).toBe(EMBEDDED_DIGEST);
    expect(file.equals(readFileSync(join(__dirname, '../fixtures/gitsign-corpus/trusted_root.json')))).toBe(true);
  });

  test('has the documented content', () => {
    const r = embeddedTrustedRoot();
    expect(r.digest).toBe(EMBEDDED_DIGEST);
    expect(r.certificateAuthorities.map((c) => c.certChain.length)).toEqual([1, 2]);
    expect(r.certificateAuthorities[0].validFor.end?.toISOString()).toBe('2022-12-31T23:59:59.999Z');
    expect(r.tlogs.map((t) => t.baseUrl)).toEqual(['https://rekor.sigstore.dev', 'https://log2025-1.rekor.sigstore.dev']);
    expect(r.tlogs[0].logId.toString('hex')).toBe(createHash('sha256').update(r.tlogs[0].publicKey).digest('hex'));
    expect(r.tlogs[1].keyDetails).toBe('PKIX_ED25519');
    expect(r.ctlogs).toHaveLength(2);
    expect(r.timestampAuthorities).toHaveLength(1);
    expect(embeddedTrustedRoot()).toBe(r); // parsed once
  });

  test('parseTrustedRoot of the file equals the embedded object', () => {
    const a = parseTrustedRoot(readFileSync(FILE));
    const b = embeddedTrustedRoot();
    expect(a.digest).toBe(b.digest);
    expect(a.tlogs.map((t) => t.publicKey.toString('hex'))).toEqual(b.tlogs.map((t) => t.publicKey.toString('hex')));
  });
});

describe('loadTrustedRoot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-trust-'));
  const v02 = JSON.parse(readFileSync(FILE, 'utf8'));
  v02.mediaType = 'application/vnd.dev.sigstore.trustedroot.v0.2+json';
  v02.tlogs[1].checkpointKeyId = { keyId: Buffer.alloc(32, 7).toString('base64') };
  const path = join(dir, 'root.json');
  writeFileSync(path, JSON.stringify(v02));

  test('explicit path wins, then GITSEAL_TRUSTED_ROOT, then embedded', () => {
    const fromPath = loadTrustedRoot({ path, env: {} });
    expect(fromPath.mediaType).toBe('application/vnd.dev.sigstore.trustedroot.v0.2+json');
    expect(fromPath.tlogs[1].checkpointKeyId).toEqual(Buffer.alloc(32, 7));
    expect(fromPath.digest).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(loadTrustedRoot({ env: { GITSEAL_TRUSTED_ROOT: path } }).digest).toBe(fromPath.digest);
    expect(loadTrustedRoot({ env: {} }).digest).toBe(EMBEDDED_DIGEST);
  });

  test('unreadable file and invalid content fail with TRUST_ROOT', () => {
    expect(() => loadTrustedRoot({ path: join(dir, 'missing.json'), env: {} })).toThrow(/cannot read the trusted root/);
    const bad = (o: unknown) => () => parseTrustedRoot(JSON.stringify(o));
    expect(bad({ mediaType: 'application/json' })).toThrow(/unsupported media type/);
    expect(() => parseTrustedRoot('{')).toThrow(/not JSON/);
    const broken = JSON.parse(readFileSync(FILE, 'utf8'));
    broken.tlogs[0].publicKey.rawBytes = 'not base64!';
    expect(bad(broken)).toThrow(/must be base64/);
    const noStart = JSON.parse(readFileSync(FILE, 'utf8'));
    noStart.certificateAuthorities[0].validFor = { start: 'yesterday' };
    expect(bad(noStart)).toThrow(/not a valid time/);
  });

  test('validity windows include both ends', () => {
    const v = { start: new Date('2022-01-01Z'), end: new Date('2022-12-31Z') };
    expect(inValidity(v, new Date('2022-01-01Z'))).toBe(true);
    expect(inValidity(v, new Date('2022-12-31Z'))).toBe(true);
    expect(inValidity(v, new Date('2023-01-01Z'))).toBe(false);
    expect(inValidity({ start: v.start }, new Date('2099-01-01Z'))).toBe(true);
  });
});

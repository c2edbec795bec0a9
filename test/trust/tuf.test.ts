// refreshTrustedRoot against a real TUF repository (TUF spec 1.0 metadata:
// root, timestamp, snapshot, targets) that this test writes, signs with keys
// it generates (ECDSA P-256 for root, Ed25519 for the other roles) and serves
// over HTTP on 127.0.0.1. The target is a trusted_root.json made from the
// sandbox CA. @sigstore/tuf 4.0.2 / tuf-js do all the checking.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedRootFragment } from '../../packages/sandbox/src/fulcio/trusted-root.js';
import { refreshTrustedRoot } from '../../src/trust/tuf.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { canonicalize } from '../../src/util/canonical-json.js';

interface RoleKey {
  id: string;
  json: object;
  priv: KeyObject;
  ecdsa: boolean;
}

function ed25519Key(): RoleKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  return { id: createHash('sha256').update(canonicalize(json)).digest('hex'), json, priv: privateKey, ecdsa: false };
}

function ecdsaKey(): RoleKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Hex of the uncompressed point (a PEM value would need OLPC canonical JSON's raw newlines).
  const point = publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
  const json = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: point.toString('hex') } };
  return { id: createHash('sha256').update(canonicalize(json)).digest('hex'), json, priv: privateKey, ecdsa: true };
}

/** TUF §4.2: signatures over the canonical JSON of "signed", hex encoded. */
function signed(body: object, ...keys: RoleKey[]): string {
  const bytes = Buffer.from(canonicalize(body), 'utf8');
  const signatures = keys.map((k) => ({ keyid: k.id, sig: (k.ecdsa ? sign('sha256', bytes, k.priv) : sign(null, bytes, k.priv)).toString('hex') }));
  return JSON.stringify({ signed: body, signatures }, null, 1);
}

const iso = (msFromNow: number) => new Date(Math.floor((Date.now() + msFromNow) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const DAY = 86_400_000;

let work: string;
let repo: string;
let server: Server;
let mirrorURL: string;
const keys = { root: ecdsaKey(), targets: ed25519Key(), snapshot: ed25519Key(), timestamp: ed25519Key() };
let version = 0;

function writeRoot(): void {
  const body = {
    _type: 'root',
    spec_version: '1.0.31',
    version: 1,
    expires: iso(365 * DAY),
    consistent_snapshot: false,
    keys: Object.fromEntries(Object.values(keys).map((k) => [k.id, k.json])),
    roles: Object.fromEntries(Object.entries(keys).map(([role, k]) => [role, { keyids: [k.id], threshold: 1 }])),
  };
  const text = signed(body, keys.root);
  writeFileSync(join(repo, '1.root.json'), text);
  writeFileSync(join(work, 'initial-root.json'), text);
}

/** Publish a new version of the repository with `target` as trusted_root.json. */
function publish(target: Buffer, opts: { servedTarget?: Buffer; timestampExpires?: string } = {}): void {
  version++;
  writeFileSync(join(repo, 'targets', 'trusted_root.json'), opts.servedTarget ?? target);
  const targets = {
    _type: 'targets',
    spec_version: '1.0.31',
    version,
    expires: iso(30 * DAY),
    targets: { 'trusted_root.json': { length: target.length, hashes: { sha256: createHash('sha256').update(target).digest('hex') } } },
  };
  writeFileSync(join(repo, 'targets.json'), signed(targets, keys.targets));
  const snapshot = { _type: 'snapshot', spec_version: '1.0.31', version, expires: iso(7 * DAY), meta: { 'targets.json': { version } } };
  writeFileSync(join(repo, 'snapshot.json'), signed(snapshot, keys.snapshot));
  const timestamp = { _type: 'timestamp', spec_version: '1.0.31', version, expires: opts.timestampExpires ?? iso(DAY), meta: { 'snapshot.json': { version } } };
  writeFileSync(join(repo, 'timestamp.json'), signed(timestamp, keys.timestamp));
}

/** A trusted_root.json from the sandbox CA, with `tag` in the CA URI so versions differ. */
function trustedRootTarget(sandboxDir: string, tag: string): Buffer {
  const frag = trustedRootFragment({ dir: sandboxDir, fulcioURL: `http://127.0.0.1:1/${tag}` });
  return Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], ...frag, timestampAuthorities: [] }, null, 2) + '\n');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gitseal-tuf-'));
  repo = join(work, 'repo');
  mkdirSync(join(repo, 'targets'), { recursive: true });
  writeRoot();
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(repo, path);
    if (path.includes('..') || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  mirrorURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

describe('refreshTrustedRoot (TUF)', () => {
  const sandbox = () => join(work, 'sandbox');
  const cacheDir = () => join(work, 'cache', 'gitseal');

  it('fails plainly when there is no good copy and the mirror is unusable', async () => {
    await expect(refreshTrustedRoot({ mirrorURL, rootPath: join(work, 'initial-root.json'), cacheDir: join(work, 'empty-cache'), fetchTimeout: 5000 })).rejects.toThrow(
      /could not refresh the trusted root from http:\/\/127\.0\.0\.1:\d+/,
    );
  });

  it('fetches, verifies and stores trusted_root.json (0600 in 0700)', async () => {
    const target = trustedRootTarget(sandbox(), 'v1');
    publish(target);
    const r = await refreshTrustedRoot({ mirrorURL, rootPath: join(work, 'initial-root.json'), cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r).toMatchObject({ refreshed: true, changed: true, trustedRootPath: join(cacheDir(), 'trusted_root.json') });
    expect(r.warning).toBeUndefined();
    expect(readFileSync(r.trustedRootPath).equals(target)).toBe(true);
    expect(parseTrustedRoot(readFileSync(r.trustedRootPath)).certificateAuthorities[0].uri).toBe('http://127.0.0.1:1/v1');
    expect(statSync(r.trustedRootPath).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir(), 'tuf')).mode & 0o777).toBe(0o700);

    // A new version is picked up; the same one again is "refreshed, unchanged".
    const v2 = trustedRootTarget(sandbox(), 'v2');
    publish(v2);
    const r2 = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r2).toMatchObject({ refreshed: true, changed: true });
    expect(readFileSync(r2.trustedRootPath).equals(v2)).toBe(true);
    const r3 = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r3).toMatchObject({ refreshed: true, changed: false });
  });

  it('keeps TUF metadata where $TUF_ROOT points (tufDir), as cosign does', async () => {
    const tufDir = join(work, 'tuf-root');
    const r = await refreshTrustedRoot({ mirrorURL, rootPath: join(work, 'initial-root.json'), cacheDir: join(work, 'cache-tufroot'), tufDir, fetchTimeout: 5000 });
    expect(r.refreshed).toBe(true);
    expect(readdirSync(tufDir, { recursive: true }).some((f) => String(f).endsWith('root.json'))).toBe(true);
    expect(existsSync(join(work, 'cache-tufroot', 'tuf'))).toBe(false);
  });

  it('refuses expired timestamp metadata and keeps the last good copy', async () => {
    const good = readFileSync(join(cacheDir(), 'trusted_root.json'));
    publish(trustedRootTarget(sandbox(), 'v-expired'), { timestampExpires: iso(-DAY) });
    const r = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r.refreshed).toBe(false);
    expect(r.warning).toMatch(/could not refresh the trusted root from .*expired.*; using the last good copy from /i);
    expect(readFileSync(r.trustedRootPath).equals(good)).toBe(true);
  });

  it('refuses a tampered target (hash mismatch) and keeps the last good copy', async () => {
    const good = readFileSync(join(cacheDir(), 'trusted_root.json'));
    const honest = trustedRootTarget(sandbox(), 'v3');
    // Same length, one CA URI letter changed: only the hash can tell.
    const tampered = Buffer.from(honest.toString('utf8').replace('/v3"', '/v4"'));
    expect(tampered.length).toBe(honest.length);
    expect(tampered.equals(honest)).toBe(false);
    publish(honest, { servedTarget: tampered });
    const r = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r.refreshed).toBe(false);
    expect(r.warning).toMatch(/could not refresh the trusted root/);
    expect(r.warning).toMatch(/hash|digest|length/i);
    expect(readFileSync(r.trustedRootPath).equals(good)).toBe(true);

    // Once the mirror serves the real file again, the refresh goes through.
    publish(honest);
    const ok = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(ok).toMatchObject({ refreshed: true, changed: true });
    expect(readFileSync(ok.trustedRootPath).equals(honest)).toBe(true);
  });

  it('refuses metadata signed by a key the root does not trust', async () => {
    const good = readFileSync(join(cacheDir(), 'trusted_root.json'));
    const rogue = ed25519Key();
    const saved = keys.targets;
    keys.targets = { ...rogue, id: saved.id }; // claims the trusted key id, signs with another key
    try {
      publish(trustedRootTarget(sandbox(), 'v-rogue'));
    } finally {
      keys.targets = saved;
    }
    const r = await refreshTrustedRoot({ mirrorURL, cacheDir: cacheDir(), fetchTimeout: 5000 });
    expect(r.refreshed).toBe(false);
    expect(r.warning).toMatch(/targets was signed by 0\/1 keys/);
    expect(readFileSync(r.trustedRootPath).equals(good)).toBe(true);
  });
});

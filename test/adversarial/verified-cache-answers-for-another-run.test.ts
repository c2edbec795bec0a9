/**
 * The verified-signature cache (src/verify/cache.ts) must never turn into a GOODSIG the verifier
 * would not give now (its own rule). A cached record is a verdict reached under some conditions;
 * every condition the verdict depends on must be in its key, and the cache must be one nobody
 * else can write.
 *
 * - offline vs online: a gitsign online-mode signature (no embedded proof) is good only when its
 *   Rekor entry is found online. Verified once online, it was cached, and the next `gitseal
 *   verify --offline` (or gitseal.offline=true) said good from the cache, while the verifier —
 *   and git's own path — say "not verified" offline.
 * - the verifier build: records were keyed by the package version only, and the verifier's
 *   rules change without one (all of issue 14's refusals came with version 0.1.0 unchanged, and
 *   the cache format stayed v1): whatever an earlier build of the same version had cached as good
 *   — a padded serial, a crls field, a v2 index no proof covers — stayed good from the cache
 *   after the fix. Now the key names the digest of the sources the verifier was built from.
 * - whose cache it is: every input of a record's key is public (trust root, policy, version),
 *   so whoever can write the cache directory can write a record — and its HMAC key sits beside
 *   it. A directory another user created first (a shared XDG_CACHE_HOME, a group-writable
 *   home) was used anyway ("not ours to fix: the HMAC still guards reads"): that user planted a
 *   key and a record, and a tampered commit came out good. Now a cache directory, key or log
 *   that is not the user's own is not used (the run verifies everything, keeping nothing).
 */
import { execFileSync } from 'node:child_process';
import { createHash, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import type { RekorLogEntry, RekorSearch } from '../../src/rekor/search.js';
import { verifyRangeAll } from '../../src/verify/batch.js';
import { VERIFIER_BUILD, VerifiedCache } from '../../src/verify/cache.js';
import { leafHash } from '../../src/verify/merkle.js';
import { ROOT } from '../cli/helpers.js';
import { commitPayload, logEntry, makeLeaf, makeWorld, signedCommit, signPayload, type World } from '../verify/helpers/forge.js';

let w: World;
let tmp: string;
let repo: string;

function git(args: string[], input?: Buffer): string {
  return execFileSync('git', ['-C', repo, ...args], { input, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmp, GIT_CONFIG_NOSYSTEM: '1' } });
}

beforeAll(() => {
  w = makeWorld();
  tmp = mkdtempSync(join(tmpdir(), 'gitseal-cache-adv-'));
  repo = join(tmp, 'repo');
  execFileSync('git', ['init', '-q', repo]);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A gitsign online-mode commit (no proof inside) and the genuine Rekor entry an online lookup finds for it. */
function onlineModeCommit(): { oid: string; search: RekorSearch } {
  const leaf = makeLeaf(w);
  const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000'], `online ${Math.random()}\n`);
  const raw = signedCommit(payload, signPayload(w, leaf, payload, { noTlog: true }).pem);
  const oid = git(['hash-object', '-t', 'commit', '-w', '--stdin'], raw).trim();
  // gitsign online mode logs a hashedrekord of SHA-256(object id), signed by the same key.
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(oid).digest(), sign('sha256', Buffer.from(oid), leaf.key.privateKey), leaf.der));
  const t = logEntry(w, body);
  const p = t.inclusionProof!;
  const entry: RekorLogEntry = {
    uuid: leafHash(body).toString('hex'),
    body: body.toString('base64'),
    integratedTime: Number(t.integratedTime),
    logID: t.logId.toString('hex'),
    logIndex: Number(t.logIndex),
    verification: {
      signedEntryTimestamp: t.signedEntryTimestamp!.toString('base64'),
      inclusionProof: { checkpoint: p.checkpoint, hashes: p.hashes.map((h) => h.toString('hex')), logIndex: Number(p.logIndex), rootHash: p.rootHash.toString('hex'), treeSize: Number(p.treeSize) },
    },
  };
  return { oid, search: { entriesForCertificate: async () => [entry] } };
}

describe('offline and online verdicts are different verdicts', () => {
  test('an online-mode signature verified online is not good from the cache in an offline run', async () => {
    const { oid, search } = onlineModeCommit();
    const dir = join(tmp, 'cache-online');
    const online = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: false, rekorSearch: search, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest, offline: false }) });
    expect(online.results[0].result, online.results[0].result?.message).toMatchObject({ ok: true, kind: 'good' });

    // What the verifier says offline, with no cache at all (git's path, the hook, the library):
    const uncached = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: true, workers: 0, cache: false });
    expect(uncached.results[0].result).toMatchObject({ ok: false, code: 'TLOG_MISSING' });

    const offline = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest }) });
    expect(offline.results[0].cached).toBe(false);
    expect(offline.results[0].result).toMatchObject({ ok: false, code: 'TLOG_MISSING' });

    // …and online again, the online verdict is still remembered.
    const again = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: false, rekorSearch: search, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest, offline: false }) });
    expect(again.results[0]).toMatchObject({ cached: true, status: 'good' });
  });

  test('a cache opened for online runs is refused for an offline one (and the reverse)', async () => {
    const { oid, search } = onlineModeCommit();
    const dir = join(tmp, 'cache-mixed');
    await expect(verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest, offline: false }) })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: false, rekorSearch: search, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest }) })).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('a verdict of one build of the verifier is not another build’s', () => {
  test('the source digest changes with any byte under src/, and only with src/', async () => {
    // @ts-expect-error: a plain .mjs build script
    const { sourceDigest } = (await import('../../scripts/source-digest.mjs')) as { sourceDigest(dir: string): string };
    const copy = join(tmp, 'src-copy');
    execFileSync('cp', ['-r', join(ROOT, 'src'), copy]);
    const d = sourceDigest(copy);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(sourceDigest(copy)).toBe(d);
    const chain = join(copy, 'verify', 'chain.ts');
    writeFileSync(chain, readFileSync(chain, 'utf8').replace('MAX_UNTRUSTED_CERTS = 4', 'MAX_UNTRUSTED_CERTS = 5'));
    expect(sourceDigest(copy)).not.toBe(d);
  });

  test('records of another build — the same version, other sources — are misses', () => {
    const dir = join(tmp, 'cache-builds');
    const raw = Buffer.from('tree 0\n\nx');
    const a = VerifiedCache.open({ dir, trustDigest: w.trust.digest, salt: '0.1.0+' + 'a'.repeat(64) });
    a.put('1'.repeat(40), raw, { identity: 'x@example.com' });
    a.flush();
    expect(VerifiedCache.open({ dir, trustDigest: w.trust.digest, salt: '0.1.0+' + 'a'.repeat(64) }).get('1'.repeat(40), raw)).toBeDefined();
    expect(VerifiedCache.open({ dir, trustDigest: w.trust.digest, salt: '0.1.0+' + 'b'.repeat(64) }).get('1'.repeat(40), raw)).toBeUndefined();
    // What builds before this wrote (the version alone) is not what this build reads.
    expect(VerifiedCache.open({ dir, trustDigest: w.trust.digest, salt: '0.1.0' }).get('1'.repeat(40), raw)).toBeUndefined();
    expect(VERIFIER_BUILD).toMatch(/\+/);
  });

  test('a built gitseal keys its cache with the digest of the sources it was built from', async () => {
    // @ts-expect-error: a plain .mjs build script
    const { sourceDigest } = (await import('../../scripts/source-digest.mjs')) as { sourceDigest(dir: string): string };
    const out = join(tmp, 'build');
    // The real build script, into a private directory (dist/ belongs to everyone).
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: { ...process.env, GITSEAL_OUTDIR: out }, stdio: 'pipe' });
    const digest = sourceDigest(join(ROOT, 'src'));
    const bundles = execFileSync('grep', ['-rl', '--include=*.js', digest, out], { encoding: 'utf8' }).trim().split('\n');
    // The chunk that holds the verified-signature cache, whichever it is.
    expect(bundles.some((f) => /gitseal-verified-v2/.test(readFileSync(f, 'utf8')))).toBe(true);
  }, 180_000);
});

describe('a cache someone else can write is not used', () => {
  const OTHER = 4242;
  const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

  /** A commit whose signature does not verify (the message was changed after signing). */
  function tamperedCommit(): string {
    const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000'], 'signed message\n');
    const pem = signPayload(w, makeLeaf(w), payload).pem;
    const edited = Buffer.from(payload.toString('latin1').replace('signed message', 'edited message'), 'latin1');
    return git(['hash-object', '-t', 'commit', '-w', '--stdin'], signedCommit(edited, pem)).trim();
  }

  /** What another local user can do to a cache directory they own: write a key and a "good" record. */
  function plant(dir: string, oid: string): void {
    const raw = Buffer.from(git(['cat-file', 'commit', oid]), 'latin1');
    const c = VerifiedCache.open({ dir, trustDigest: w.trust.digest });
    c.put(oid, raw, { identity: 'ceo@example.com', issuer: 'https://accounts.example.com' });
    c.flush();
    execFileSync('chown', ['-R', String(OTHER), dir]);
  }

  test.skipIf(!isRoot)('a directory owned by another user: the planted record is not read, the tampered commit is bad', async () => {
    const oid = tamperedCommit();
    const dir = join(tmp, 'shared-cache', 'gitseal', 'verified');
    plant(dir, oid);
    const r = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest }) });
    expect(r.results[0]).toMatchObject({ cached: false, status: 'bad' });
    expect(r.results[0].result).toMatchObject({ code: 'CONTENT_MISMATCH' });
    // Nothing was written into their directory either.
    expect(readFileSync(join(dir, 'v1.log'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  test.skipIf(!isRoot)('our directory with a key or log another user put there: not used', async () => {
    const oid = tamperedCommit();
    const dir = join(tmp, 'own-cache');
    plant(dir, oid);
    execFileSync('chown', [String(process.geteuid!()), dir]);
    const r = await verifyRangeAll({ repoDir: repo, objects: [oid], trust: w.trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest }) });
    expect(r.results[0]).toMatchObject({ cached: false, status: 'bad' });
  });

  test('control: our own private cache still answers', async () => {
    const { oid, search } = onlineModeCommit();
    const dir = join(tmp, 'mine');
    const o = { repoDir: repo, objects: [oid], trust: w.trust, offline: false, rekorSearch: search, workers: 0 };
    await verifyRangeAll({ ...o, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest, offline: false }) });
    const again = await verifyRangeAll({ ...o, cache: VerifiedCache.open({ dir, trustDigest: w.trust.digest, offline: false }) });
    expect(again.results[0]).toMatchObject({ cached: true, status: 'good' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyRangeAll, type ObjectResult } from '../../src/verify/batch.js';
import { VerifiedCache, policyDigest, rememberedFailure, resultFromCache } from '../../src/verify/cache.js';
import { signatureCheckCount } from '../../src/x509/signature.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { git, makeHistory, writeLoose } from '../../scripts/bench/fixtures.mjs';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'test/fixtures/gitsign-corpus');

interface Meta {
  type: 'commit' | 'tag';
  oid: string;
  signer_identity: string;
  oidc_issuer: string;
  has_embedded_tlog: boolean;
}

let tmp: string;
let repo: string;
let trust: TrustedRoot;
let workerUrl: URL;
const offline: Meta[] = [];
const online: Meta[] = [];
let tampered: string;
let unsigned: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gitseal-batch-'));
  repo = join(tmp, 'repo');
  trust = parseTrustedRoot(readFileSync(join(CORPUS, 'trusted_root.json')));
  // Real gitsign objects, stored byte for byte (their ids do not change).
  const h = await makeHistory({ dir: repo, count: 1, pack: false });
  unsigned = h.head;
  for (const d of readdirSync(CORPUS)) {
    let meta: Meta;
    try {
      meta = JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8'));
    } catch {
      continue;
    }
    const oid = writeLoose(repo, meta.type, readFileSync(join(CORPUS, d, 'object.raw')));
    expect(oid).toBe(meta.oid);
    (meta.has_embedded_tlog ? offline : online).push(meta);
  }
  // An offline-mode commit with one byte of its message changed.
  const raw = readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/object.raw'));
  const flipped = Buffer.from(raw);
  flipped[flipped.length - 3] ^= 0x01;
  tampered = writeLoose(repo, 'commit', flipped);
  // The real worker entry, bundled the way scripts/build.mjs does.
  await build({ entryPoints: [join(ROOT, 'src/verify/worker.ts')], outdir: join(tmp, 'dist/verify'), bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
  workerUrl = pathToFileURL(join(tmp, 'dist/verify/worker.js'));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const byOid = (rs: ObjectResult[]) => new Map(rs.map((r) => [r.oid, r]));

describe('verifyRange over real gitsign objects', () => {
  it('gives every offline-mode object a good verdict with its identity, and never a good one to the rest', async () => {
    const objects = [...offline.map((m) => m.oid), ...online.map((m) => m.oid), tampered, unsigned];
    const { results, summary } = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: false });
    expect(results.map((r) => r.oid)).toEqual(objects);
    const m = byOid(results);
    for (const meta of offline) {
      const r = m.get(meta.oid)!;
      expect(r.status, `${meta.oid}: ${r.result?.message}`).toBe('good');
      expect(r.result!.identity).toBe(meta.signer_identity);
      expect(r.result!.issuer).toBe(meta.oidc_issuer);
      expect(r.result!.logIndex).toBeTypeOf('bigint');
    }
    for (const meta of online) expect(m.get(meta.oid)!.status).not.toBe('good');
    expect(m.get(tampered)!.status).toBe('bad');
    expect(m.get(unsigned)!.status).toBe('unsigned');
    expect(summary).toMatchObject({ total: objects.length, good: offline.length, unsigned: 1, cached: 0 });
  });

  it('gives the same verdicts from worker threads as in this thread, in order', async () => {
    const base = [...offline.map((m) => m.oid), tampered, online[0].oid, unsigned];
    const objects = Array.from({ length: 12 }, () => base).flat();
    const inThread = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: false });
    const threaded = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 2, minForWorkers: 1, cache: false, workerUrl });
    expect(threaded.results.map((r) => r.oid)).toEqual(objects);
    expect(threaded.results.map((r) => [r.status, r.result?.identity, r.result?.logIndex, r.result?.code])).toEqual(
      inThread.results.map((r) => [r.status, r.result?.identity, r.result?.logIndex, r.result?.code]),
    );
    expect(threaded.summary.good).toBe(offline.length * 12);
  });

  it('fails the run, not the verdicts, when a worker dies', async () => {
    const bad = join(tmp, 'bad-worker.mjs');
    writeFileSync(bad, 'throw new Error("worker exploded");\n');
    const objects = Array.from({ length: 40 }, () => offline[0].oid);
    await expect(
      verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 2, minForWorkers: 1, cache: false, workerUrl: pathToFileURL(bad) }),
    ).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/worker/) });
  });

  it('walks a rev-list range', async () => {
    const { results } = await verifyRangeAll({ repoDir: repo, revs: ['main'], trust, offline: true, workers: 0, cache: false });
    expect(results.map((r) => [r.oid, r.status])).toEqual([[unsigned, 'unsigned']]);
  });

  it('reports a parse failure (duplicate gpgsig) per object instead of aborting the range', async () => {
    const raw = readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/object.raw')).toString('latin1');
    const sigStart = raw.indexOf('gpgsig ');
    const sigEnd = raw.indexOf('\n\n');
    const dup = raw.slice(0, sigEnd + 1) + raw.slice(sigStart, sigEnd + 1) + raw.slice(sigEnd + 1);
    const oid = writeLoose(repo, 'commit', Buffer.from(dup, 'latin1'));
    const { results } = await verifyRangeAll({ repoDir: repo, objects: [oid, offline[0].oid], trust, offline: true, workers: 0, cache: false });
    expect(results[0]).toMatchObject({ status: 'error', result: { code: 'BAD_GIT_OBJECT' } });
    expect(results[1].status).toBe('good');
  });

  it('reports missing objects', async () => {
    const { results } = await verifyRangeAll({ repoDir: repo, objects: ['1'.repeat(40)], trust, offline: true, workers: 0, cache: false });
    expect(results[0].status).toBe('missing');
  });
});

describe('verified-signature cache', () => {
  it('answers a second run from the cache with the same verdicts: good ones, and failures that cannot change', async () => {
    const dir = join(tmp, 'cache-a');
    const objects = [...offline.map((m) => m.oid), tampered, online[0].oid];
    const cold = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest }) });
    expect(cold.summary.cached).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'v1.log')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'key')).mode & 0o777).toBe(0o600);
    // Every good one, the tampered commit (its digest does not match) and the online-mode one
    // (offline, its proof is not there to check: TLOG_MISSING).
    expect(cold.results.find((r) => r.oid === tampered)!.result).toMatchObject({ kind: 'bad', code: 'CONTENT_MISMATCH' });
    expect(cold.results.find((r) => r.oid === online[0].oid)!.result).toMatchObject({ kind: 'error', code: 'TLOG_MISSING' });
    expect(readFileSync(join(dir, 'v1.log'), 'utf8').trim().split('\n').length).toBe(offline.length + 2);

    const c2 = VerifiedCache.open({ dir, trustDigest: trust.digest });
    const checks = signatureCheckCount();
    const warm = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: c2 });
    expect(signatureCheckCount() - checks).toBe(0);
    expect(warm.summary.cached).toBe(objects.length);
    const verdict = (r: ObjectResult) => [r.status, r.result?.kind, r.result?.code, r.result?.failedCheck, r.result?.identity, r.result?.issuer, r.result?.logIndex, r.result?.ok ? '' : r.result?.message];
    expect(warm.results.map(verdict)).toEqual(cold.results.map(verdict));
  });

  it('remembers no failure that could change: an online run\'s lookup outcome, a network error, an internal error', () => {
    const base = { ok: false, kind: 'error' as const, message: 'm' };
    expect(rememberedFailure({ ...base, code: 'TLOG_MISSING', failedCheck: 'tlog' }, true)).toBe(true);
    expect(rememberedFailure({ ...base, code: 'TLOG_MISSING', failedCheck: 'tlog' }, false)).toBe(false);
    expect(rememberedFailure({ ...base, code: 'NETWORK', failedCheck: 'tlog' }, true)).toBe(false);
    expect(rememberedFailure({ ...base, code: 'REKOR', failedCheck: 'tlog' }, true)).toBe(false);
    expect(rememberedFailure({ ...base, code: 'INTERNAL', failedCheck: 'parse' }, true)).toBe(false);
    // Decided before any lookup: the same online or offline.
    expect(rememberedFailure({ ...base, code: 'BAD_CMS', failedCheck: 'parse' }, false)).toBe(true);
    expect(rememberedFailure({ ...base, kind: 'bad', code: 'SIGNATURE_MISMATCH', failedCheck: 'signature' }, false)).toBe(true);
    // A policy refusal: keyed by the policy as data.
    expect(rememberedFailure({ ...base, kind: 'good', code: 'POLICY', failedCheck: 'policy' }, true)).toBe(true);
    expect(rememberedFailure({ ok: true, kind: 'good', message: 'good' }, true)).toBe(false);
  });

  it('a remembered failure answers only for the same bytes, and only ever "not good"', () => {
    const dir = join(tmp, 'cache-g');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest });
    const raw = Buffer.from('tree x\n\nm\n');
    c.put('b'.repeat(40), raw, { identity: 'alice@example.com', failure: { kind: 'bad', code: 'CONTENT_MISMATCH', failedCheck: 'message-digest', message: 'the signature does not match' } });
    c.flush();
    const again = VerifiedCache.open({ dir, trustDigest: trust.digest });
    const hit = again.get('b'.repeat(40), raw)!;
    expect(resultFromCache(hit)).toMatchObject({ ok: false, kind: 'bad', code: 'CONTENT_MISMATCH', failedCheck: 'message-digest', message: 'the signature does not match', identity: 'alice@example.com' });
    expect(again.get('b'.repeat(40), Buffer.from('tree x\n\nM\n'))).toBeUndefined();
    expect(again.stats.rejected).toBe(1);
  });

  it('appends as it goes: a long run holds at most a few hundred unwritten records', () => {
    const dir = join(tmp, 'cache-h');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest });
    for (let i = 0; i < 1000; i++) c.put(i.toString(16).padStart(40, '0'), Buffer.from(String(i)), { identity: `u${i}` });
    // Before any flush(): 3 appends of 256 happened.
    expect(readFileSync(join(dir, 'v1.log'), 'utf8').trim().split('\n').length).toBe(768);
    c.flush();
    expect(readFileSync(join(dir, 'v1.log'), 'utf8').trim().split('\n').length).toBe(1000);
    expect(VerifiedCache.open({ dir, trustDigest: trust.digest }).get((999).toString(16).padStart(40, '0'), Buffer.from('999'))?.identity).toBe('u999');
  });

  it('misses under another trust root or policy', async () => {
    const dir = join(tmp, 'cache-b');
    const objects = offline.map((m) => m.oid);
    await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest }) });
    const otherTrust = await verifyRangeAll({ repoDir: repo, objects, trust: { ...trust, digest: '0'.repeat(64) }, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: '0'.repeat(64) }) });
    expect(otherTrust.summary.cached).toBe(0);
    const policy = { certificateIdentity: offline[0].signer_identity, certificateOidcIssuer: offline[0].oidc_issuer };
    expect(policyDigest(policy)).not.toBe(policyDigest(undefined));
    const pol = await verifyRangeAll({ repoDir: repo, objects, trust, policy, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest, policy }) });
    expect(pol.summary.cached).toBe(0);
    // The policy's refusals of other signers are remembered too, under this policy only.
    const again = await verifyRangeAll({ repoDir: repo, objects, trust, policy, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest, policy }) });
    const allowed = offline.filter((m) => m.signer_identity === offline[0].signer_identity).length;
    expect(again.summary.cached).toBe(objects.length);
    expect(again.summary.good).toBe(allowed);
  });

  it('refuses a cache opened for another policy or trust root', async () => {
    const dir = join(tmp, 'cache-f');
    const objects = offline.map((m) => m.oid);
    const policy = { certificateIdentity: 'nobody@example.com' };
    await expect(verifyRangeAll({ repoDir: repo, objects, trust, policy, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest }) })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: 'f'.repeat(64) }) })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('ignores corrupt, torn and forged lines: they cost a re-verification, never a verdict', async () => {
    const dir = join(tmp, 'cache-c');
    const objects = offline.map((m) => m.oid);
    await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: VerifiedCache.open({ dir, trustDigest: trust.digest }) });
    const file = join(dir, 'v1.log');
    const lines = readFileSync(file, 'utf8').split('\n');
    // Flip one character inside the first record's JSON; truncate the second; add a forged line and a torn tail.
    lines[0] = lines[0].replace('"k":"', '"k":"0');
    lines[1] = lines[1].slice(0, 50);
    const forged = JSON.stringify({ k: 'f'.repeat(64), h: 'a'.repeat(64), v: 1 });
    writeFileSync(file, lines.join('\n') + '0'.repeat(64) + ' ' + forged + '\n');
    appendFileSync(file, 'abc');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest });
    // At open only the shape is read: the garbled key, the truncated line and the torn tail. The
    // forged line has the shape; its MAC is checked (and it is dropped) when a lookup or a
    // compaction uses it.
    expect(c.stats.ignoredLines).toBe(3);
    const { summary } = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: c });
    expect(summary.cached).toBe(offline.length - 2);
    expect(summary.good).toBe(offline.length);
  });

  it('checks a line when a lookup uses it: a forged line under the key asked for is a miss and is dropped', () => {
    const dir = join(tmp, 'cache-i');
    const raw = Buffer.from('tree x\n\nm\n');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest });
    c.put('c'.repeat(40), raw, { identity: 'alice@example.com' });
    c.flush();
    const file = join(dir, 'v1.log');
    const good = readFileSync(file, 'utf8');
    const body = good.slice(65, -1);
    // The same record with another identity and the old MAC, and with a MAC of zeros.
    const forged = body.replace('alice@example.com', 'mallory@example.com');
    for (const line of [`${good.slice(0, 64)} ${forged}`, `${'0'.repeat(64)} ${forged}`, `${'0'.repeat(64)} ${body}`]) {
      writeFileSync(file, line + '\n');
      const d = VerifiedCache.open({ dir, trustDigest: trust.digest });
      expect(d.size).toBe(1);
      expect(d.stats.ignoredLines).toBe(0);
      expect(d.get('c'.repeat(40), raw)).toBeUndefined();
      expect(d.stats.ignoredLines).toBe(1);
      expect(d.size).toBe(0);
      // Compaction writes back only lines that pass their check.
      d.compact();
      expect(readFileSync(file, 'utf8')).toBe('');
    }
    writeFileSync(file, good);
    expect(VerifiedCache.open({ dir, trustDigest: trust.digest }).get('c'.repeat(40), raw)?.identity).toBe('alice@example.com');
  });

  it('never applies a record to different bytes under the same object id', () => {
    const dir = join(tmp, 'cache-d');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest });
    const raw = Buffer.from('tree x\n\nm\n');
    c.put('a'.repeat(40), raw, { identity: 'alice@example.com' });
    expect(c.get('a'.repeat(40), raw)?.identity).toBe('alice@example.com');
    expect(c.get('a'.repeat(40), Buffer.from('tree x\n\nM\n'))).toBeUndefined();
    expect(c.stats.rejected).toBe(1);
    c.flush();
    const key = readFileSync(join(dir, 'key'));
    // A cache copied with another key is worthless, not trusted.
    writeFileSync(join(dir, 'key'), Buffer.alloc(32, 7));
    expect(VerifiedCache.open({ dir, trustDigest: trust.digest }).get('a'.repeat(40), raw)).toBeUndefined();
    writeFileSync(join(dir, 'key'), key);
    expect(VerifiedCache.open({ dir, trustDigest: trust.digest }).get('a'.repeat(40), raw)?.identity).toBe('alice@example.com');
  });

  it('compacts duplicates and over-limit entries into a fresh 0600 file', () => {
    const dir = join(tmp, 'cache-e');
    const c = VerifiedCache.open({ dir, trustDigest: trust.digest, maxEntries: 10 });
    for (let i = 0; i < 30; i++) c.put(i.toString(16).padStart(40, '0'), Buffer.from(String(i)), { identity: `u${i}` });
    c.flush();
    const lines = readFileSync(join(dir, 'v1.log'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(10);
    expect(statSync(join(dir, 'v1.log')).mode & 0o777).toBe(0o600);
    const again = VerifiedCache.open({ dir, trustDigest: trust.digest, maxEntries: 10 });
    expect(again.get((29).toString(16).padStart(40, '0'), Buffer.from('29'))?.identity).toBe('u29');
    expect(again.get('0'.repeat(40), Buffer.from('0'))).toBeUndefined();
  });
});

describe('fixture sanity', () => {
  it('stores corpus objects under their real ids', () => {
    expect(git(repo, ['cat-file', '-t', offline[0].oid]).toString().trim()).toBe(offline[0].type);
  });
});

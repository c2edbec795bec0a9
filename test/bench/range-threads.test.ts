/**
 * Range verification with workers and this thread sharing the work (issue
 * "Speed"): when every worker is full, the calling thread verifies a batch
 * itself. Verdicts and their order must not depend on who verified what.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyRangeAll } from '../../src/verify/batch.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { issuedByMemo } from '../../src/x509/signature.js';
import { clearMemos } from '../../src/x509/verified-memo.js';
import { makeHistory, writeLoose } from '../../scripts/bench/fixtures.mjs';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'test/fixtures/gitsign-corpus');

let tmp: string;
let repo: string;
let trust: TrustedRoot;
let workerUrl: URL;
let objects: string[];
let tampered: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gitseal-threads-'));
  repo = join(tmp, 'repo');
  trust = parseTrustedRoot(readFileSync(join(CORPUS, 'trusted_root.json')));
  await makeHistory({ dir: repo, count: 1, pack: false });
  const oids: string[] = [];
  for (const d of readdirSync(CORPUS)) {
    let meta: { type: string; has_embedded_tlog: boolean };
    try {
      meta = JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8'));
    } catch {
      continue;
    }
    const oid = writeLoose(repo, meta.type, readFileSync(join(CORPUS, d, 'object.raw')));
    if (meta.has_embedded_tlog) oids.push(oid);
  }
  const raw = readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/object.raw'));
  const flipped = Buffer.from(raw);
  flipped[flipped.length - 3] ^= 0x01;
  tampered = writeLoose(repo, 'commit', flipped);
  // 600 objects: far more than one worker holds in flight (4 batches of 32), with a bad one every 50.
  objects = Array.from({ length: 600 }, (_, i) => (i % 50 === 49 ? tampered : oids[i % oids.length]));
  await build({ entryPoints: [join(ROOT, 'src/verify/worker.ts')], outdir: join(tmp, 'dist/verify'), bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
  workerUrl = pathToFileURL(join(tmp, 'dist/verify/worker.js'));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('one worker plus this thread give the verdicts of this thread alone, in order', async () => {
  const alone = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 0, cache: false });
  clearMemos();
  const shared = await verifyRangeAll({ repoDir: repo, objects, trust, offline: true, workers: 1, minForWorkers: 1, cache: false, workerUrl });
  // This thread did verify some of them (its own memo saw the certificates).
  expect(issuedByMemo.size).toBeGreaterThan(0);
  expect(shared.summary).toEqual(alone.summary);
  expect(shared.summary.good).toBe(588);
  expect(shared.summary.bad + shared.summary.error).toBe(12);
  const view = (r: (typeof alone.results)[number]) => [r.seq, r.oid, r.status, r.result?.identity, r.result?.logIndex, r.result?.failedCheck];
  expect(shared.results.map(view)).toEqual(alone.results.map(view));
}, 120_000);

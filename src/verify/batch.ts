/**
 * Range verification (`gitseal verify <range>`): rev-list + one cat-file
 * process for the objects, the verified-signature cache in front, and the
 * remaining signatures spread over worker threads, results in rev-list order.
 *
 * Small ranges are verified in this thread: a worker costs a module load
 * (~30 ms) that a handful of commits does not repay.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { GitsealError, describeError } from '../errors.js';
import { parseSignedObject, type HashAlgo } from '../git/object.js';
import { hashAlgoOf, isMissing, readObjects, readRange, type MissingObject, type RawObject } from '../git/reader.js';
import type { RekorSearch } from '../rekor/search.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import { cacheableVerdict, resultFromCache, VerifiedCache } from './cache.js';
import { verifySignature } from './pipeline.js';
import type { Policy } from './policy.js';
import type { VerifyResult } from './result.js';
import { EMBEDDED_WORKER, embeddedText, isEmbedded } from '../sea/embedded.js';

export type SignatureFormat = 'x509' | 'openpgp' | 'ssh' | 'unknown';

export interface ObjectResult {
  oid: string;
  type: string;
  /** Position in rev-list order (0-based). */
  seq: number;
  /** Absent for unsigned objects. */
  format?: SignatureFormat;
  /** 'good' means ok (every check and the policy passed). */
  status: 'good' | 'bad' | 'error' | 'unsigned' | 'missing';
  /** The verifier's verdict; for cache hits, rebuilt from the cache record. */
  result?: VerifyResult;
  /** The verdict came from the verified-signature cache. */
  cached: boolean;
}

export interface RangeSummary {
  total: number;
  good: number;
  bad: number;
  error: number;
  unsigned: number;
  missing: number;
  cached: number;
}

export interface VerifyRangeOptions {
  repoDir: string;
  /** rev-list arguments, e.g. ["main"], ["v1.0..HEAD"]. */
  revs?: string[];
  /** Explicit object ids (commits or tags) instead of a rev-list range. */
  objects?: string[];
  trust: TrustedRoot;
  policy?: Policy;
  offline: boolean;
  /**
   * Worker threads; default: available cores − 1 (at least 1), since this thread
   * verifies too whenever every worker is full. 0 verifies in this thread only.
   */
  workers?: number;
  /** The cache to use; false disables it; default: the user cache. */
  cache?: VerifiedCache | false;
  /** For online-mode signatures when not offline (forces in-thread verification: a client cannot cross threads). */
  rekorSearch?: RekorSearch;
  /** Where dist/verify/worker.js is (tests, bundlers). */
  workerUrl?: URL;
  /** Below this many signatures to check, no workers are started. */
  minForWorkers?: number;
  /** Skip the SCT check only (gitseal verify --insecure-ignore-sct); never uses or fills the cache. */
  ignoreSct?: boolean;
}

// ------------------------------------------------------------ shared with worker.ts

export interface WorkerSetup {
  trust: TrustedRoot;
  policy?: Policy;
  offline: boolean;
  ignoreSct?: boolean;
}

export interface VerifyJob {
  seq: number;
  signature: Buffer;
  payload: Buffer;
}

export interface JobResult {
  seq: number;
  result: VerifyResult;
}

/** Structured clone turns Buffers into Uint8Arrays; turn them back (deeply, Dates and RegExps untouched). */
export function reviveBuffers<T>(v: T): T {
  if (v instanceof Uint8Array) return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)) as T;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveBuffers(v[i]);
    return v;
  }
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof RegExp)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveBuffers(o[k]);
  }
  return v;
}

export async function verifyJob(j: VerifyJob, s: WorkerSetup, rekorSearch?: RekorSearch): Promise<JobResult> {
  const result = await verifySignature({ signature: j.signature, payload: j.payload, trust: s.trust, policy: s.policy, offline: s.offline, rekorSearch, ignoreSct: s.ignoreSct });
  return { seq: j.seq, result };
}

// ------------------------------------------------------------ helpers

export function signatureFormat(sig: Buffer): SignatureFormat {
  const head = sig.subarray(0, 40).toString('latin1');
  if (head.startsWith('-----BEGIN SIGNED MESSAGE-----')) return 'x509';
  if (head.startsWith('-----BEGIN PGP ')) return 'openpgp';
  if (head.startsWith('-----BEGIN SSH SIGNATURE-----')) return 'ssh';
  return 'unknown';
}

function statusOf(r: VerifyResult): ObjectResult['status'] {
  return r.ok ? 'good' : r.kind === 'bad' ? 'bad' : 'error';
}

function errorResult(code: GitsealError['code'], message: string): VerifyResult {
  return { ok: false, kind: 'error', code, message };
}

/** Worker code for `new Worker(code, { eval: true })`: the single-file executable's embedded worker. */
interface WorkerCode {
  code: string;
}

/** The worker of this installation: dist/verify/worker.js, or the one embedded in the executable. */
function defaultWorker(): URL | WorkerCode {
  return isEmbedded() ? { code: embeddedText(EMBEDDED_WORKER) } : defaultWorkerUrl();
}

/** The worker entry next to this code in dist/, or in dist/ when running from src/ (tests). */
export function defaultWorkerUrl(): URL {
  const candidates = ['./verify/worker.js', '../verify/worker.js', './worker.js', '../../dist/verify/worker.js', '../dist/verify/worker.js'];
  for (const c of candidates) {
    const u = new URL(c, import.meta.url);
    if (u.pathname.endsWith('.js') && existsSync(fileURLToPath(u))) return u;
  }
  throw new GitsealError('INTERNAL', 'cannot find the verify worker (dist/verify/worker.js); run the build');
}

/**
 * A worker's young generation kept small (V8 grows its semi-spaces under a steady allocation
 * rate; what a verification allocates dies young either way). Measured by scripts/bench/memory.mjs
 * --compare-limits (100,000 agent-shaped commits, table, load 6-13): gitseal's peak RSS 178.8 MiB
 * capped against 190.2 MiB with V8's defaults (0.94×), CPU 67.5 s against 67.2 s (1.01×); 1,000
 * commits 102.8 against 107.4 MiB. GITSEAL_WORKER_YOUNG_MB=none (that value only) restores V8's
 * defaults, for that comparison; no value can make the cap larger or smaller.
 */
const V8_DEFAULT_YOUNG = process.env.GITSEAL_WORKER_YOUNG_MB === 'none';
const WORKER_LIMITS = V8_DEFAULT_YOUNG ? undefined : { maxYoungGenerationSizeMb: 6 };

/**
 * This thread's young generation held at a moderate size for the rest of the process, for a
 * command that verifies a range (src/cli/verify-command.ts calls holdYoungGeneration; the read
 * loop below calls youngGenerationCheck every YOUNG_CHECK_EVERY objects). The heap was sized when
 * Node started, so no resource limit reaches it; but V8 reads the growth factor each time it would
 * grow the semi-spaces, and factor 1 means they grow no more. Without the hold they grew to 32 MiB
 * over a long range, most of why peak RSS rose with its length (20,000 agent-shaped commits,
 * table: gitseal's peak RSS 139.5-149.2 MiB, against 111.8-113.1 MiB held from the start, which
 * cost 3.5% more CPU: hence not from the start, but once the new space reaches YOUNG_HOLD_AT,
 * the size a 1,000-commit range reaches anyway). Process-wide and for good: only for a command,
 * never in the library. Each isolate V8 configures (every worker) clamps the process-wide factor
 * back to 2, so each worker's 'online' holds it again; until then this thread may grow one step.
 * Once set, the flag changes V8's flag hash, so no code cache is accepted later in the process:
 * none is loaded after a range starts (the build trains its caches on single objects).
 * GITSEAL_WORKER_YOUNG_MB=none leaves V8's defaults here too.
 */
export function holdYoungGeneration(): void {
  if (!V8_DEFAULT_YOUNG) youngHold = 'wanted';
}
const YOUNG_HOLD_AT = 8 * 1024 * 1024;
const YOUNG_CHECK_EVERY = 1024;
let youngHold: 'no' | 'wanted' | 'held' = 'no';
function youngGenerationCheck(): void {
  if (youngHold !== 'wanted') return;
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (!space || space.space_size < YOUNG_HOLD_AT) return;
  youngHold = 'held';
  setFlagsFromString('--semi-space-growth-factor=1');
}
function reholdYoungGeneration(): void {
  if (youngHold === 'held') setFlagsFromString('--semi-space-growth-factor=1');
}

/** A small pool: round-robin batches, at most `depth` batches in flight per worker. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly inflight: number[] = [];
  private readonly waiters: Array<() => void> = [];
  private failure: unknown;
  onResults: (r: JobResult[]) => void = () => {};

  constructor(n: number, url: URL | WorkerCode, setup: WorkerSetup, private readonly depth = 4) {
    for (let i = 0; i < n; i++) {
      const w = url instanceof URL ? new Worker(url, { workerData: setup, resourceLimits: WORKER_LIMITS }) : new Worker(url.code, { eval: true, workerData: setup, resourceLimits: WORKER_LIMITS });
      const idx = i;
      this.inflight.push(0);
      w.once('online', reholdYoungGeneration);
      w.on('message', (r: JobResult[]) => {
        this.inflight[idx]--;
        this.onResults(r.map((x) => reviveBuffers(x)));
        this.wake();
      });
      w.on('error', (e) => {
        this.failure ??= e;
        this.wake();
      });
      w.on('exit', (code) => {
        if (code !== 0) this.failure ??= new GitsealError('INTERNAL', `verify worker exited with status ${code}`);
        this.wake();
      });
      this.workers.push(w);
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private check(): void {
    if (this.failure) throw new GitsealError('INTERNAL', `verify worker failed: ${describeError(this.failure)}`, this.failure);
  }

  /** Send one batch to the least busy worker, waiting while all are full. */
  async submit(jobs: VerifyJob[]): Promise<void> {
    for (;;) {
      if (this.trySubmit(jobs)) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Send one batch to the least busy worker if one has room; false when all are full. */
  trySubmit(jobs: VerifyJob[]): boolean {
    this.check();
    let best = 0;
    for (let i = 1; i < this.inflight.length; i++) if (this.inflight[i] < this.inflight[best]) best = i;
    if (this.inflight[best] >= this.depth) return false;
    this.inflight[best]++;
    this.workers[best].postMessage(jobs);
    return true;
  }

  /** Resolves when nothing is in flight. */
  async drain(): Promise<void> {
    while (this.inflight.some((n) => n > 0)) {
      this.check();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.check();
  }

  /** Wait until some batch completes (or fail). */
  async progress(): Promise<void> {
    this.check();
    await new Promise<void>((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

const BATCH = 32;

/**
 * Objects read but not yet yielded (queued, in flight, or done out of order): past this the
 * reader waits, so memory stays flat over any range however the workers finish. Room for every
 * worker's full depth twice over, so the window never starves the pool.
 */
export function readAheadWindow(workers: number): number {
  return Math.max(1024, 2 * 4 * BATCH * (workers + 1));
}

interface Pending {
  raw: Buffer;
  oid: string;
}

/**
 * Verify every commit of a range (or the given objects). Yields one result
 * per object in rev-list (or given) order.
 */
export async function* verifyRange(opts: VerifyRangeOptions): AsyncGenerator<ObjectResult> {
  if (!opts.revs?.length && !opts.objects?.length) throw new GitsealError('USAGE', 'no revisions or objects to verify');
  const setup: WorkerSetup = { trust: opts.trust, policy: opts.policy, offline: opts.offline, ...(opts.ignoreSct ? { ignoreSct: true } : {}) };
  // A verdict reached without the SCT check is not the cache's kind of verdict, in either direction.
  const cache = opts.cache === false || opts.ignoreSct ? undefined : opts.cache ?? VerifiedCache.open({ trustDigest: opts.trust.digest, policy: opts.policy, offline: opts.offline });
  // A cache opened for another trust root, policy or mode (an online-mode signature is good only
  // online) would hand out verdicts this run never reached.
  if (cache && !cache.isFor(opts.trust.digest, opts.policy, opts.offline)) {
    throw new GitsealError('INTERNAL', 'the verified-signature cache was opened for another trust root, policy or offline/online mode');
  }
  const inThreadOnly = !opts.offline && opts.rekorSearch !== undefined;
  // Each worker is a whole V8 isolate that boots, loads the verifier and warms its own JIT
  // (~50 ms CPU, and ~30% more CPU per commit over a 2000-commit run than one thread):
  // with this thread helping, cores − 1 workers keep every core busy (issue "Speed").
  const maxWorkers = inThreadOnly ? 0 : opts.workers ?? Math.max(1, availableParallelism() - 1);
  const minForWorkers = opts.minForWorkers ?? 48;

  const source = opts.objects?.length ? readObjects(opts.repoDir, opts.objects) : readRange(opts.repoDir, opts.revs!);
  const ready = new Map<number, ObjectResult>();
  const waiting = new Map<number, { partial: ObjectResult; item: Pending }>();
  let next = 0;
  let seq = 0;
  let algo: HashAlgo | undefined;
  let pool: Pool | undefined;
  let queue: VerifyJob[] = [];

  const window = readAheadWindow(maxWorkers);
  const finish = (partial: ObjectResult, item: Pending, result: VerifyResult) => {
    partial.result = result;
    partial.status = statusOf(result);
    // Good verdicts, and failures that cannot change (src/verify/cache.ts cacheableVerdict).
    const keep = cache ? cacheableVerdict(result, opts.offline) : undefined;
    if (keep) cache!.put(item.oid, item.raw, keep);
    ready.set(partial.seq, partial);
  };
  const onResults = (rs: JobResult[]) => {
    for (const r of rs) {
      const w = waiting.get(r.seq);
      if (!w) continue;
      waiting.delete(r.seq);
      finish(w.partial, w.item, r.result);
    }
  };
  function* flushReady(): Generator<ObjectResult> {
    while (ready.has(next)) {
      const r = ready.get(next)!;
      ready.delete(next++);
      yield r;
    }
  }
  /** Send out every queued job and yield results in order while `more()` and jobs are in flight. */
  async function* settle(more: () => boolean): AsyncGenerator<ObjectResult> {
    await dispatch(true);
    yield* flushReady();
    while (more() && waiting.size > 0) {
      if (!pool) throw new GitsealError('INTERNAL', 'range verification lost track of some objects');
      await pool.progress();
      yield* flushReady();
    }
  }
  const startPool = () => {
    if (pool || maxWorkers === 0) return;
    pool = new Pool(maxWorkers, opts.workerUrl ?? defaultWorker(), setup);
    pool.onResults = onResults;
  };
  const runInThread = async (jobs: VerifyJob[]) => {
    for (const j of jobs) onResults([await verifyJob(j, setup, opts.rekorSearch)]);
  };
  const dispatch = async (force: boolean) => {
    // Hold back the first jobs until we know whether the range is big enough for workers.
    if (!pool && maxWorkers > 0 && !force && queue.length < minForWorkers) return;
    if (!pool && maxWorkers > 0 && queue.length >= minForWorkers) startPool();
    while (queue.length >= BATCH || (force && queue.length > 0)) {
      const jobs = queue.splice(0, BATCH);
      if (!pool) await runInThread(jobs);
      // Every worker full: this thread verifies the batch itself rather than sit idle
      // (it only reads and parses objects otherwise; on 2 cores that is most of a core).
      else if (!pool.trySubmit(jobs)) await runInThread(jobs);
    }
  };

  try {
    for await (const o of source as AsyncIterable<RawObject | MissingObject>) {
      const s = seq++;
      if (s % YOUNG_CHECK_EVERY === YOUNG_CHECK_EVERY - 1) youngGenerationCheck();
      if (isMissing(o)) {
        ready.set(s, { oid: o.oid, type: 'unknown', seq: s, status: 'missing', cached: false, result: errorResult('GIT', `object ${o.oid} is missing`) });
      } else {
        algo ??= hashAlgoOf(o.oid);
        const partial: ObjectResult = { oid: o.oid, type: o.type, seq: s, status: 'error', cached: false };
        try {
          // A record exists only for an object the verifier checked, and a hit compares SHA-256
          // of these very bytes (src/verify/cache.ts): the same bytes parse the same way, so a hit
          // is answered before parsing (on a second run over a long history, parsing 2000
          // commits cost more than looking their verdicts up).
          const hit = cache?.get(o.oid, o.data);
          if (hit) {
            partial.format = 'x509';
            partial.cached = true;
            partial.result = resultFromCache(hit);
            partial.status = statusOf(partial.result);
            ready.set(s, partial);
          } else {
            const obj = parseSignedObject(o.type, o.data, algo);
            if (!obj.signature) {
              partial.status = 'unsigned';
              ready.set(s, partial);
            } else {
              partial.format = signatureFormat(obj.signature);
              if (partial.format !== 'x509') {
                partial.result = errorResult('BAD_CMS', `not a gitsign/x509 signature (${partial.format}); gitseal verifies x509 signatures only`);
                ready.set(s, partial);
              } else {
                waiting.set(s, { partial, item: { raw: o.data, oid: o.oid } });
                queue.push({ seq: s, signature: obj.signature, payload: obj.payload });
                await dispatch(false);
              }
            }
          }
        } catch (e) {
          partial.result = errorResult(e instanceof GitsealError ? e.code : 'INTERNAL', describeError(e));
          ready.set(s, partial);
        }
      }
      yield* flushReady();
      // Backpressure: the reader (and git behind it) waits while the window is full.
      if (seq - next >= window) yield* settle(() => seq - next >= window);
    }
    yield* settle(() => true);
    if (pool) await pool.drain();
    yield* flushReady();
  } finally {
    if (pool) await pool.close();
    cache?.flush();
  }
}

export function summarize(results: Iterable<ObjectResult>): RangeSummary {
  const s: RangeSummary = { total: 0, good: 0, bad: 0, error: 0, unsigned: 0, missing: 0, cached: 0 };
  for (const r of results) {
    s.total++;
    s[r.status]++;
    if (r.cached) s.cached++;
  }
  return s;
}

/** verifyRange, collected: every result plus the counts. */
export async function verifyRangeAll(opts: VerifyRangeOptions): Promise<{ results: ObjectResult[]; summary: RangeSummary }> {
  const results: ObjectResult[] = [];
  for await (const r of verifyRange(opts)) results.push(r);
  return { results, summary: summarize(results) };
}

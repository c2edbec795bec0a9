/**
 * Verified-signature cache for range verification: a run over a long history
 * only re-checks what it has not fully verified before under the same trust
 * root and policy.
 *
 * File: ~/.cache/gitseal/verified/v1.log (XDG_CACHE_HOME honoured), 0600 in a
 * 0700 directory, one record per line, append-only, compacted by rewrite +
 * rename. Beside it `key` (0600): 32 random bytes.
 *
 * Safety (a cache must never turn into a GOODSIG the verifier would not give):
 * - Good records are stored only for results with `ok === true` (every check
 *   passed, policy included).
 * - Failures are stored only when the verdict is a function of what the key
 *   binds (rememberedFailure below: malformed signatures, a signature or digest
 *   that does not match, an offline run's missing log proof, chain, SCT, time,
 *   policy); never a network or Rekor error, an internal error, or an online
 *   run's log-lookup outcome. A failure record can only answer "not good".
 * - The lookup key binds the object id, the trust root digest, the policy
 *   digest, offline or online (a gitsign online-mode signature is good only
 *   online), the cache format and the verifier build (VERIFIER_BUILD).
 * - Each record also stores SHA-256 of the raw object, compared on every hit,
 *   so a hit never rests on SHA-1 alone.
 * - Each line carries an HMAC-SHA-256 under the local key: truncated,
 *   garbled or hand-written lines are ignored (a miss, never a hit). This
 *   does not defend against someone who can already write the user's files.
 *   The HMAC is checked when a line is used (a lookup hits it, or compaction
 *   keeps it), not when the file is opened: opening a cache of N lines costs N
 *   slices, not N HMACs and N JSON parses, and a line never used is never
 *   trusted. A line that fails its check then is a miss and is dropped.
 */
import { createHash, createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ErrorCode } from '../errors.js';
import { canonicalize } from '../util/canonical-json.js';
import type { Policy } from './policy.js';
import type { CheckName, VerifyResult } from './result.js';

/** Bump when what a record means changes (v2: records may hold a failure). */
const FORMAT = 'gitseal-verified-v2';
/**
 * Which verifier reached a verdict: its version and the digest of its sources, both set by the
 * build (scripts/source-digest.mjs). The verifier's rules change without a version change (issue
 * 14 did), and a verdict one build reached must never come out of another. Unbuilt code (tests
 * from src/) has neither.
 */
export const VERIFIER_BUILD = `${process.env.GITSEAL_BUILD_VERSION ?? ''}+${process.env.GITSEAL_SOURCE_DIGEST ?? ''}`;
const FILE = 'v1.log';
const KEY_FILE = 'key';
const DEFAULT_MAX_ENTRIES = 500_000;
const MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_LINE = 4096;
/** Records put since the last flush are appended once this many are waiting (memory stays flat over any range). */
const FLUSH_EVERY = 256;

/**
 * Failure codes a record may remember: each is decided by the object's bytes, the trust root and
 * the policy alone (the pipeline reads no clock: every time check is against the log's or a
 * timestamp's time, from the signature). Not here, never remembered: NETWORK, REKOR (a lookup
 * that may succeed next time), INTERNAL (a bug, or a resource failure), IO, GIT, CONFIG, USAGE and
 * anything else.
 */
const DETERMINISTIC_FAILURES: ReadonlySet<string> = new Set<ErrorCode>([
  'BAD_PEM',
  'BAD_DER',
  'BAD_CMS',
  'BAD_CERTIFICATE',
  'BAD_PROTOBUF',
  'BAD_GIT_OBJECT',
  'INPUT_TOO_LARGE',
  'CONTENT_MISMATCH',
  'SIGNATURE_MISMATCH',
  'CHAIN',
  'SCT',
  'TLOG',
  'TLOG_MISSING',
  'TIME',
  'TIMESTAMP',
  'POLICY',
]);
/** Checks an online run passes before any Rekor lookup: their failures do not depend on the network. */
const BEFORE_LOOKUP: ReadonlySet<string> = new Set<CheckName>(['parse', 'content-type', 'message-digest', 'signature']);

/** A remembered failure: the verdict, code, failed check and message of the run that reached it. */
export interface CachedFailure {
  /** 'good' for a policy refusal (a good signature the policy does not allow). */
  kind: 'good' | 'bad' | 'error';
  code: ErrorCode;
  failedCheck?: CheckName;
  message: string;
  policyMatched?: boolean;
}

/** What a range table needs about a verified object, without re-verifying it. */
export interface CachedVerification {
  identity?: string;
  issuer?: string;
  fingerprint?: string;
  logIndex?: bigint;
  integratedTime?: Date;
  /** The policy's description, when a policy was in force. */
  policy?: string;
  /** When it was verified (informational). */
  verifiedAt: Date;
  /** Present for a remembered failure: the object is not good, for this reason. */
  failure?: CachedFailure;
}

interface CacheRecord {
  /** lookup key (hex) */
  k: string;
  /** sha256 of the raw object (hex) */
  h: string;
  i?: string;
  s?: string;
  f?: string;
  l?: string;
  t?: number;
  p?: string;
  v: number;
  /** A failure: kind, code, failed check, message, policyMatched (absent: a good verdict). */
  x?: { k: 'good' | 'bad' | 'error'; c: string; f?: string; m: string; pm?: boolean };
}

/**
 * Whether a failed verdict may be remembered by a cache of this mode: its code is one of
 * DETERMINISTIC_FAILURES, and in an online run only a check that precedes the Rekor lookup failed
 * (what a lookup finds can change; offline, a missing proof stays missing).
 */
export function rememberedFailure(r: VerifyResult, offline: boolean): boolean {
  if (r.ok || (r.kind === 'good' && r.code !== 'POLICY')) return false;
  if (!r.code || !DETERMINISTIC_FAILURES.has(r.code)) return false;
  if (!offline && !(r.failedCheck !== undefined && BEFORE_LOOKUP.has(r.failedCheck))) return false;
  return true;
}

/** What the cache keeps of a verdict, or undefined when it keeps nothing (see rememberedFailure). */
export function cacheableVerdict(r: VerifyResult, offline: boolean): Omit<CachedVerification, 'verifiedAt'> | undefined {
  const v: Omit<CachedVerification, 'verifiedAt'> = {
    identity: r.identity,
    issuer: r.issuer,
    fingerprint: r.fingerprint,
    logIndex: r.logIndex,
    integratedTime: r.integratedTime,
    policy: r.policy,
  };
  if (r.ok) return v;
  if (!rememberedFailure(r, offline)) return undefined;
  v.failure = { kind: r.kind, code: r.code!, failedCheck: r.failedCheck, message: r.message, policyMatched: r.policyMatched };
  return v;
}

/** The verdict a cache hit stands for: a failure exactly as first reported, or a good result. */
export function resultFromCache(hit: CachedVerification): VerifyResult {
  const common = {
    identity: hit.identity,
    issuer: hit.issuer,
    fingerprint: hit.fingerprint,
    logIndex: hit.logIndex,
    integratedTime: hit.integratedTime,
    policy: hit.policy,
  };
  const f = hit.failure;
  if (f) {
    return { ok: false, kind: f.kind, ...common, policyMatched: f.policyMatched, failedCheck: f.failedCheck, code: f.code, message: f.message };
  }
  return {
    ok: true,
    kind: 'good',
    ...common,
    policyMatched: hit.policy !== undefined ? true : undefined,
    message: `good signature from ${hit.identity ?? '(no identity)'} (${hit.issuer ?? 'unknown issuer'}), verified ${hit.verifiedAt.toISOString()}`,
  };
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'gitseal', 'verified');
}

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof RegExp) return { re: v.source, flags: v.flags };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Digest of a policy as data (regexps by source and flags); 'none' for none. */
export function policyDigest(policy: Policy | undefined): string {
  if (!policy) return 'none';
  const plain = JSON.parse(JSON.stringify(policy, replacer)) as unknown;
  return createHash('sha256').update(canonicalize(plain)).digest('hex');
}

export function objectDigest(raw: Buffer): string {
  return hash('sha256', raw, 'hex');
}

export interface VerifiedCacheOptions {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  trustDigest: string;
  policy?: Policy;
  /** The runs this cache serves are offline (default) or online: each keeps its own verdicts. */
  offline?: boolean;
  /** Which verifier's verdicts these are; default VERIFIER_BUILD (version and source digest). */
  salt?: string;
  maxEntries?: number;
}

export class VerifiedCache {
  readonly dir: string;
  readonly file: string;
  private readonly key: Buffer;
  private readonly scope: string;
  private readonly trustDigest: string;
  private readonly policyDigest: string;
  private readonly offline: boolean;
  private readonly maxEntries: number;
  /**
   * Records read from the file (bounded by the file's own limits), by lookup key: a line as
   * read (its HMAC not yet checked) until a lookup or compaction checks it and puts the record.
   */
  private readonly entries = new Map<string, CacheRecord | string>();
  /** Records put since the last flush, and their lines: at most FLUSH_EVERY before an append. */
  private fresh = new Map<string, CacheRecord>();
  private pending: string[] = [];
  /** Lines read that were not usable (corrupt, foreign, duplicate). */
  private wasted = 0;
  private lines = 0;
  /** Lines this run appended to the file (not in `entries`). */
  private appended = 0;
  /** False for a directory that is not the user's own: verdicts are kept for this run only. */
  persistent = true;
  /** Counters for reports and tests. */
  readonly stats = { hits: 0, misses: 0, rejected: 0, stored: 0, ignoredLines: 0 };

  private constructor(dir: string, key: Buffer, scope: string, trustDigest: string, policy: string, offline: boolean, maxEntries: number) {
    this.dir = dir;
    this.file = join(dir, FILE);
    this.key = key;
    this.scope = scope;
    this.trustDigest = trustDigest;
    this.policyDigest = policy;
    this.offline = offline;
    this.maxEntries = maxEntries;
  }

  /** True when this cache was opened for exactly this trust root, policy and mode. */
  isFor(trustDigest: string, policy: Policy | undefined, offline = true): boolean {
    return trustDigest === this.trustDigest && policyDigest(policy) === this.policyDigest && offline === this.offline;
  }

  /** Open (creating if needed) the cache. Never throws for a damaged file: it starts empty. */
  static open(opts: VerifiedCacheOptions): VerifiedCache {
    const dir = opts.dir ?? defaultCacheDir(opts.env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Every input of a record's key is public, and the HMAC key lies in the directory: whoever
    // can write there can write a "good" record. A directory, key or log that is not ours
    // (another user created it first, in a shared cache home) is not used at all.
    const own = ownPrivateDirectory(dir);
    const key = own ? loadKey(join(dir, KEY_FILE)) : randomBytes(32);
    const pd = policyDigest(opts.policy);
    const offline = opts.offline ?? true;
    const scope = createHash('sha256')
      .update([FORMAT, opts.salt ?? VERIFIER_BUILD, opts.trustDigest, pd, offline ? 'offline' : 'online'].join('\0'))
      .digest('hex');
    const c = new VerifiedCache(dir, key, scope, opts.trustDigest, pd, offline, opts.maxEntries ?? DEFAULT_MAX_ENTRIES);
    c.persistent = own;
    if (own) c.load();
    return c;
  }

  private lookupKey(oid: string): string {
    return hash('sha256', `${this.scope}\0${oid}`, 'hex');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('hex');
  }

  private load(): void {
    let text: string;
    try {
      const fd = openSync(this.file, 'r');
      try {
        if (fstatSync(fd).size > MAX_FILE_BYTES) return;
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return;
    }
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      // A last line without "\n" is a torn append: ignore it.
      if (nl < 0) {
        this.wasted++;
        this.stats.ignoredLines++;
        break;
      }
      const line = text.slice(start, nl);
      start = nl + 1;
      this.lines++;
      const k = lineKey(line);
      if (k === undefined) {
        this.wasted++;
        this.stats.ignoredLines++;
        continue;
      }
      if (this.entries.has(k)) this.wasted++;
      this.entries.set(k, line);
    }
  }

  /** The entry for `k`, its line checked now if it was not yet; a line that fails is dropped. */
  private entry(k: string): CacheRecord | undefined {
    const e = this.entries.get(k);
    if (typeof e !== 'string') return e;
    const rec = this.parseLine(e);
    if (!rec || rec.k !== k) {
      this.entries.delete(k);
      this.wasted++;
      this.stats.ignoredLines++;
      return undefined;
    }
    this.entries.set(k, rec);
    return rec;
  }

  private parseLine(line: string): CacheRecord | undefined {
    if (line.length > MAX_LINE || line.length < 66 || line[64] !== ' ') return undefined;
    const mac = line.slice(0, 64);
    const body = line.slice(65);
    const want = this.mac(body);
    if (!/^[0-9a-f]{64}$/.test(mac) || !timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(want, 'hex'))) return undefined;
    try {
      const r = JSON.parse(body) as CacheRecord;
      if (typeof r.k !== 'string' || typeof r.h !== 'string' || typeof r.v !== 'number') return undefined;
      if (r.x !== undefined && (typeof r.x !== 'object' || r.x === null || typeof r.x.c !== 'string' || typeof r.x.m !== 'string' || !['good', 'bad', 'error'].includes(r.x.k))) return undefined;
      return r;
    } catch {
      return undefined;
    }
  }

  /**
   * A previous full verification of exactly these object bytes under the
   * same trust root and policy, or undefined.
   */
  get(oid: string, raw: Buffer): CachedVerification | undefined {
    const k = this.lookupKey(oid);
    const rec = this.fresh.get(k) ?? this.entry(k);
    if (!rec) {
      this.stats.misses++;
      return undefined;
    }
    if (rec.h !== objectDigest(raw)) {
      this.stats.rejected++;
      return undefined;
    }
    this.stats.hits++;
    return {
      identity: rec.i,
      issuer: rec.s,
      fingerprint: rec.f,
      logIndex: rec.l !== undefined && /^\d+$/.test(rec.l) ? BigInt(rec.l) : undefined,
      integratedTime: rec.t !== undefined ? new Date(rec.t) : undefined,
      policy: rec.p,
      verifiedAt: new Date(rec.v),
      ...(rec.x
        ? {
            failure: {
              kind: rec.x.k,
              code: rec.x.c as ErrorCode,
              ...(rec.x.f !== undefined ? { failedCheck: rec.x.f as CheckName } : {}),
              message: rec.x.m,
              ...(rec.x.pm !== undefined ? { policyMatched: rec.x.pm } : {}),
            },
          }
        : {}),
    };
  }

  /**
   * Remember a verdict: a fully verified object (ok === true), or a failure that
   * cacheableVerdict() allows (`failure` set). Use cacheableVerdict() to decide.
   */
  put(oid: string, raw: Buffer, v: Omit<CachedVerification, 'verifiedAt'>): void {
    const rec: CacheRecord = { k: this.lookupKey(oid), h: objectDigest(raw), v: Date.now() };
    if (v.identity !== undefined) rec.i = v.identity;
    if (v.issuer !== undefined) rec.s = v.issuer;
    if (v.fingerprint !== undefined) rec.f = v.fingerprint;
    if (v.logIndex !== undefined) rec.l = v.logIndex.toString();
    if (v.integratedTime !== undefined) rec.t = v.integratedTime.getTime();
    if (v.policy !== undefined) rec.p = v.policy;
    if (v.failure) {
      const f = v.failure;
      rec.x = { k: f.kind, c: f.code, m: f.message };
      if (f.failedCheck !== undefined) rec.x.f = f.failedCheck;
      if (f.policyMatched !== undefined) rec.x.pm = f.policyMatched;
    }
    const body = JSON.stringify(rec);
    const line = `${this.mac(body)} ${body}`;
    if (line.length > MAX_LINE) return;
    this.fresh.set(rec.k, rec);
    this.pending.push(line + '\n');
    this.stats.stored++;
    // Appended as the run goes: nothing of a long range is held until its end.
    if (this.pending.length >= FLUSH_EVERY) this.append();
  }

  private append(): void {
    const data = this.pending.join('');
    const n = this.pending.length;
    this.pending = [];
    this.fresh = new Map();
    if (!this.persistent) return;
    try {
      appendFileSync(this.file, data, { mode: 0o600 });
      this.lines += n;
      this.appended += n;
    } catch {
      /* a cache that cannot be written is only slower */
    }
  }

  /** Append what was stored since the last flush (one write), compacting when the file is mostly waste. */
  flush(): void {
    if (!this.persistent) return;
    if (this.needsCompaction()) {
      this.compact();
      return;
    }
    if (this.pending.length > 0) this.append();
  }

  private needsCompaction(): boolean {
    return (this.wasted > 1000 && this.wasted > this.lines / 4) || this.entries.size + this.appended + this.pending.length > this.maxEntries * 1.25;
  }

  /**
   * Rewrite the file with one line per live entry (newest kept when over the limit): what was
   * read at open, what this run appended (read back from the file) and what is pending.
   */
  compact(): void {
    if (!this.persistent) return;
    // Only lines that pass their check are written again.
    const live = new Map<string, CacheRecord>();
    for (const k of [...this.entries.keys()]) {
      const r = this.entry(k);
      if (r) live.set(k, r);
    }
    if (this.appended > 0) {
      const again = new VerifiedCache(this.dir, this.key, this.scope, this.trustDigest, this.policyDigest, this.offline, this.maxEntries);
      again.load();
      for (const k of [...again.entries.keys()]) {
        const r = again.entry(k);
        if (!r) continue;
        live.delete(k);
        live.set(k, r);
      }
    }
    for (const [k, r] of this.fresh) {
      live.delete(k);
      live.set(k, r);
    }
    let recs = [...live.values()];
    live.clear();
    if (recs.length > this.maxEntries) {
      // Stable: among equal times the later put stays.
      recs.sort((a, b) => a.v - b.v);
      recs = recs.slice(recs.length - this.maxEntries);
    }
    this.entries.clear();
    for (const r of recs) this.entries.set(r.k, r);
    this.fresh = new Map();
    this.appended = 0;
    const data = recs.map((r) => {
      const body = JSON.stringify(r);
      return `${this.mac(body)} ${body}\n`;
    });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, data.join(''), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.file);
      this.pending = [];
      this.wasted = 0;
      this.lines = recs.length;
    } catch {
      /* keep running without the cache file */
    }
  }

  /** Entries read or put (a line read is counted before its check: see entries). */
  get size(): number {
    return this.entries.size;
  }
}

const KEY_PREFIX = '{"k":"';

/**
 * The lookup key of a line as put() writes it (`<64 hex mac> {"k":"<64 hex>",…}`), or undefined
 * for a line of any other shape. Nothing here is trusted: the line's HMAC is checked when it is used.
 */
function lineKey(line: string): string | undefined {
  if (line.length > MAX_LINE || line.length < 66 + KEY_PREFIX.length + 65 || line[64] !== ' ' || !line.startsWith(KEY_PREFIX, 65) || line[65 + KEY_PREFIX.length + 64] !== '"') return undefined;
  return line.slice(65 + KEY_PREFIX.length, 65 + KEY_PREFIX.length + 64);
}

/**
 * True when `dir` is a real directory (not a symbolic link) of this user, private (made 0700 if
 * it was not), and its key and log, where present, are this user's regular files.
 */
function ownPrivateDirectory(dir: string): boolean {
  const uid = process.geteuid?.();
  if (uid === undefined) return true; // Windows: no owners to compare
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid) return false;
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    for (const f of [KEY_FILE, FILE]) {
      let fst;
      try {
        fst = lstatSync(join(dir, f));
      } catch {
        continue; // not there yet: we create it
      }
      if (!fst.isFile() || fst.uid !== uid) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function loadKey(path: string): Buffer {
  try {
    const k = readFileSync(path);
    if (k.length === 32) return k;
  } catch {
    /* create below */
  }
  const k = randomBytes(32);
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, k, { mode: 0o600 });
    renameSync(tmp, path);
    // Another process may have won the race: use whatever is on disk now.
    const onDisk = readFileSync(path);
    if (onDisk.length === 32) return onDisk;
  } catch {
    /* an unwritable key only means the cache will not survive this process */
  }
  return k;
}

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
 * - Only results with `ok === true` (every check passed, policy included)
 *   are stored; failures are always re-verified.
 * - The lookup key binds the object id, the trust root digest, the policy
 *   digest, offline or online (a gitsign online-mode signature is good only
 *   online), the cache format and the verifier build (VERIFIER_BUILD).
 * - Each record also stores SHA-256 of the raw object, compared on every hit,
 *   so a hit never rests on SHA-1 alone.
 * - Each line carries an HMAC-SHA-256 under the local key: truncated,
 *   garbled or hand-written lines are ignored (a miss, never a hit). This
 *   does not defend against someone who can already write the user's files.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { canonicalize } from '../util/canonical-json.js';
import type { Policy } from './policy.js';

/** Bump when what a record means changes. */
const FORMAT = 'gitseal-verified-v1';
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
  return createHash('sha256').update(raw).digest('hex');
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
  private readonly entries = new Map<string, CacheRecord>();
  private pending: string[] = [];
  /** Lines read that were not usable (corrupt, foreign, duplicate). */
  private wasted = 0;
  private lines = 0;
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
    return createHash('sha256').update(this.scope).update('\0').update(oid).digest('hex');
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
      const rec = this.parseLine(line);
      if (!rec) {
        this.wasted++;
        this.stats.ignoredLines++;
        continue;
      }
      if (this.entries.has(rec.k)) this.wasted++;
      this.entries.set(rec.k, rec);
    }
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
    const rec = this.entries.get(this.lookupKey(oid));
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
    };
  }

  /** Remember a fully verified object (call only for ok === true results). */
  put(oid: string, raw: Buffer, v: Omit<CachedVerification, 'verifiedAt'>): void {
    const rec: CacheRecord = { k: this.lookupKey(oid), h: objectDigest(raw), v: Date.now() };
    if (v.identity !== undefined) rec.i = v.identity;
    if (v.issuer !== undefined) rec.s = v.issuer;
    if (v.fingerprint !== undefined) rec.f = v.fingerprint;
    if (v.logIndex !== undefined) rec.l = v.logIndex.toString();
    if (v.integratedTime !== undefined) rec.t = v.integratedTime.getTime();
    if (v.policy !== undefined) rec.p = v.policy;
    const body = JSON.stringify(rec);
    const line = `${this.mac(body)} ${body}`;
    if (line.length > MAX_LINE) return;
    this.entries.set(rec.k, rec);
    this.pending.push(line + '\n');
    this.stats.stored++;
  }

  /** Append what was stored since the last flush (one write), compacting when the file is mostly waste. */
  flush(): void {
    if (!this.persistent) return;
    if (this.pending.length === 0 && !this.needsCompaction()) return;
    if (this.needsCompaction()) {
      this.compact();
      return;
    }
    const data = this.pending.join('');
    this.pending = [];
    try {
      appendFileSync(this.file, data, { mode: 0o600 });
      this.lines += data.split('\n').length - 1;
    } catch {
      /* a cache that cannot be written is only slower */
    }
  }

  private needsCompaction(): boolean {
    return (this.wasted > 1000 && this.wasted > this.lines / 4) || this.entries.size > this.maxEntries * 1.25;
  }

  /** Rewrite the file with one line per live entry (newest kept when over the limit). */
  compact(): void {
    if (!this.persistent) return;
    let recs = [...this.entries.values()];
    if (recs.length > this.maxEntries) {
      recs.sort((a, b) => a.v - b.v);
      recs = recs.slice(recs.length - this.maxEntries);
      this.entries.clear();
      for (const r of recs) this.entries.set(r.k, r);
    }
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

  get size(): number {
    return this.entries.size;
  }
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

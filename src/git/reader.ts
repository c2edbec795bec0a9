/**
 * Bulk object reading for range verification: one `git rev-list` streamed
 * into one `git cat-file --batch --buffer`, and a streaming parser for
 * cat-file's output.
 *
 * Why git and not isomorphic-git (the design card's suggestion): measured by
 * scripts/bench/run.mjs on 2,000 signed commits (packed, read + parsed),
 * `rev-list | cat-file --batch` reads ~11,500-14,000 commits/s against
 * ~700-800/s for isomorphic-git `log` + `readObject` (16-18x, same run;
 * scripts/bench/latest.md). git also reads packs with its own delta cache,
 * keeps npm packages out of this process, and understands every rev-list
 * range syntax (`A..B`, `A...B`, `^A B`, `--all`), which isomorphic-git lacks.
 *
 * Only git's documented batch format is relied on (git-cat-file(1), BATCH
 * OUTPUT): "<oid> SP <type> SP <size> LF <contents> LF", or "<name> SP missing LF".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GitsealError } from '../errors.js';
import type { HashAlgo } from './object.js';
import { revListError } from './revision-error.js';

export interface RawObject {
  oid: string;
  type: string;
  data: Buffer;
}

export interface MissingObject {
  oid: string;
  missing: true;
}

/** rev-list options we pass through; any other argument starting with "-" is refused. */
const ALLOWED_OPTIONS = new Set(['--all', '--branches', '--tags', '--remotes', '--not', '--first-parent', '--no-merges', '--merges']);

/** Reject revision arguments that git would read as options (argument injection). */
export function checkRevs(revs: string[]): void {
  for (const r of revs) {
    if (r.length === 0) throw new GitsealError('USAGE', 'empty revision');
    if (r.startsWith('-') && !ALLOWED_OPTIONS.has(r) && !/^--max-count=\d+$/.test(r)) {
      throw new GitsealError('USAGE', `unsupported revision option "${r}"`);
    }
    if (/[\0\n]/.test(r)) throw new GitsealError('USAGE', 'revision contains a newline or NUL');
  }
}

/** The object format, from an object id's length (40 hex: SHA-1, 64: SHA-256). */
export function hashAlgoOf(oid: string): HashAlgo {
  if (/^[0-9a-f]{40}$/.test(oid)) return 'sha1';
  if (/^[0-9a-f]{64}$/.test(oid)) return 'sha256';
  throw new GitsealError('BAD_GIT_OBJECT', `"${oid.slice(0, 80)}" is not an object id`);
}

/**
 * Incremental parser for `git cat-file --batch` output. Feed chunks, get
 * objects; copies each object's bytes out of the chunk stream once.
 */
export class BatchParser {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private want: { oid: string; type: string; size: number } | undefined;

  /** Append a chunk; returns every object completed by it. */
  push(chunk: Buffer): Array<RawObject | MissingObject> {
    const out: Array<RawObject | MissingObject> = [];
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    // Still short of the object being read: keep the chunk, copy nothing. Joining all pending
    // chunks on every push made a large object quadratic (a 32 MiB commit in 64 KiB chunks:
    // ~8 GB copied, 15 s of a pre-receive hook).
    if (this.want && this.pendingLen < this.want.size + 1) return out;
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLen);
    let p = 0;
    for (;;) {
      if (!this.want) {
        const nl = buf.indexOf(0x0a, p);
        if (nl < 0) break;
        const line = buf.toString('latin1', p, nl);
        p = nl + 1;
        const parts = line.split(' ');
        if (parts.length === 2 && (parts[1] === 'missing' || parts[1] === 'ambiguous')) {
          out.push({ oid: parts[0], missing: true });
          continue;
        }
        if (parts.length !== 3 || !/^\d+$/.test(parts[2])) {
          throw new GitsealError('GIT', `unexpected line from git cat-file: "${line.slice(0, 100)}"`);
        }
        this.want = { oid: parts[0], type: parts[1], size: Number(parts[2]) };
      }
      const w = this.want;
      if (buf.length - p < w.size + 1) break;
      if (buf[p + w.size] !== 0x0a) throw new GitsealError('GIT', 'git cat-file output lost its framing');
      // Copy: the chunk buffers are pooled and reused by the stream.
      out.push({ oid: w.oid, type: w.type, data: Buffer.from(buf.subarray(p, p + w.size)) });
      p += w.size + 1;
      this.want = undefined;
    }
    buf = buf.subarray(p);
    this.pending = buf.length ? [buf] : [];
    this.pendingLen = buf.length;
    return out;
  }

  /** True when no partial record is buffered. */
  get idle(): boolean {
    return this.pendingLen === 0 && !this.want;
  }
}

function gitEnv(): NodeJS.ProcessEnv {
  // Never prompt, never page; keep the user's config (safe.directory, alternates).
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', GIT_OPTIONAL_LOCKS: '0' };
}

function collectStderr(cp: ChildProcess): () => string {
  const parts: Buffer[] = [];
  let len = 0;
  cp.stderr?.on('data', (d: Buffer) => {
    if (len < 64 * 1024) {
      parts.push(d);
      len += d.length;
    }
  });
  return () => Buffer.concat(parts).toString('utf8').trim().split('\n')[0] ?? '';
}

function exited(cp: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (cp.exitCode !== null) return resolve(cp.exitCode);
    cp.once('error', (e) => reject(new GitsealError('GIT', `cannot run git: ${e.message}`, e)));
    cp.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Object ids of `git rev-list <revs>` in rev-list order (newest first by default). */
export async function revList(repoDir: string, revs: string[]): Promise<string[]> {
  checkRevs(revs);
  const cp = spawn('git', ['rev-list', ...revs, '--'], { cwd: repoDir, env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const err = collectStderr(cp);
  const chunks: Buffer[] = [];
  cp.stdout!.on('data', (d: Buffer) => chunks.push(d));
  const code = await exited(cp);
  if (code !== 0) throw revListError(repoDir, revs, err(), code, gitEnv());
  const text = Buffer.concat(chunks).toString('latin1');
  return text.length ? text.trimEnd().split('\n') : [];
}

export interface ReadOptions {
  /** Stop early (e.g. the consumer was cancelled). */
  signal?: AbortSignal;
}

async function* drain(
  cat: ChildProcess,
  catErr: () => string,
  upstream?: { cp: ChildProcess; err: () => string; fail(line: string, code: number): GitsealError },
): AsyncGenerator<RawObject | MissingObject> {
  const parser = new BatchParser();
  const catDone = exited(cat);
  const upDone = upstream ? exited(upstream.cp) : undefined;
  try {
    for await (const chunk of cat.stdout! as AsyncIterable<Buffer>) {
      for (const o of parser.push(chunk)) yield o;
    }
    const [upCode, catCode] = await Promise.all([upDone ?? Promise.resolve(0), catDone]);
    if (upstream && upCode !== 0) throw upstream.fail(upstream.err(), upCode);
    if (catCode !== 0) throw new GitsealError('GIT', `git cat-file failed: ${catErr() || `exit ${catCode}`}`);
    if (!parser.idle) throw new GitsealError('GIT', 'git cat-file output ended in the middle of an object');
  } finally {
    // Early exit by the consumer: stop both processes (ours, by handle).
    if (cat.exitCode === null) cat.kill();
    if (upstream && upstream.cp.exitCode === null) upstream.cp.kill();
  }
}

/**
 * Every commit of `git rev-list <revs>` with its raw bytes, in rev-list
 * order: rev-list's output is fed to cat-file as it arrives, so git streams
 * objects while it is still walking.
 */
export function readRange(repoDir: string, revs: string[]): AsyncGenerator<RawObject | MissingObject> {
  checkRevs(revs);
  const env = gitEnv();
  const rl = spawn('git', ['rev-list', ...revs, '--'], { cwd: repoDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rlErr = collectStderr(rl);
  // --buffer: cat-file flushes per block, not per object (git-cat-file(1)).
  const cat = spawn('git', ['cat-file', '--batch', '--buffer'], { cwd: repoDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const catErr = collectStderr(cat);
  cat.stdin!.on('error', () => {
    /* cat-file exiting early is reported through its exit status */
  });
  rl.stdout!.pipe(cat.stdin!);
  return drain(cat, catErr, { cp: rl, err: rlErr, fail: (line, code) => revListError(repoDir, revs, line, code, env) });
}

/** The raw bytes of the given objects (ids or any name cat-file accepts), in order. */
export function readObjects(repoDir: string, names: Iterable<string>): AsyncGenerator<RawObject | MissingObject> {
  const cat = spawn('git', ['cat-file', '--batch', '--buffer'], { cwd: repoDir, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const catErr = collectStderr(cat);
  const lines: string[] = [];
  for (const n of names) {
    if (/[\0\n]/.test(n)) throw new GitsealError('USAGE', 'object name contains a newline or NUL');
    lines.push(n);
  }
  cat.stdin!.on('error', () => {
    /* cat-file exiting early is reported through its exit status */
  });
  cat.stdin!.end(lines.length ? lines.join('\n') + '\n' : '');
  return drain(cat, catErr);
}

export function isMissing(o: RawObject | MissingObject): o is MissingObject {
  return (o as MissingObject).missing === true;
}

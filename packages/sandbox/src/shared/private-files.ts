/**
 * Private on-disk state of the sandbox services (CA, CT, TSA and log keys, runner files):
 * directories 0700, files 0600, written atomically (temp file + rename) so a crash never
 * leaves a half-written key that a restart would then trust.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Create `dir` (and parents) if needed and make sure it is 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Write `data` to `dir/name` with mode 0600, atomically. */
export function writePrivateFile(dir: string, name: string, data: string | Buffer): void {
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, join(dir, name));
}

/** Write `data` to `path` (mode 0600, atomically), creating its directory 0700 first. */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  ensurePrivateDir(dirname(path));
  writePrivateFile(dirname(path), basename(path), data);
}

/** The contents of `dir/name`, or undefined when it does not exist. */
export function readIfExists(dir: string, name: string): Buffer | undefined {
  const p = join(dir, name);
  return existsSync(p) ? readFileSync(p) : undefined;
}

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

/**
 * Run `fn` while holding `dir/.name.lock` (mkdir(2) is atomic), so two processes
 * starting on a fresh DIR at once do not both create keys. Synchronous: start-up only.
 * A lock older than 30 s is taken to be left by a crashed process and broken.
 */
export function withDirLock<T>(dir: string, name: string, fn: () => T): T {
  const lock = join(dir, `.${name}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the holder released it meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Read the files `names` from `dir` under its lock `lockName`; when any is missing, `create`
 * makes and writes the whole set (writing last the file whose presence marks it complete)
 * and returns it. Either way every name maps to its contents.
 */
export function loadOrCreateFiles<K extends string>(dir: string, lockName: string, names: Record<K, string>, create: () => Record<K, Buffer>): Record<K, Buffer> {
  ensurePrivateDir(dir);
  return withDirLock(dir, lockName, () => {
    const found = {} as Record<K, Buffer>;
    for (const k of Object.keys(names) as K[]) {
      const data = readIfExists(dir, names[k]);
      if (!data) return create();
      found[k] = data;
    }
    return found;
  });
}

/**
 * A bounded memo of signature checks that succeeded, for range verification:
 * a history signed through the agent reuses one certificate for many commits,
 * and the same CA and CT-log signatures over it would otherwise be checked
 * again for every commit (a P-384 check alone is ~0.7 ms).
 *
 * Safety rules (a memo must never turn into a pass the check would not give):
 * - Only successes are recorded; a failure is always checked again.
 * - The key is SHA-256 over every input byte of the check, each part length-
 *   prefixed, so a recorded success answers only for exactly the same bytes
 *   (key, algorithm, signed data, signature): never by name, serial or id.
 * - Bounded: past `max` entries the oldest go first.
 * Per thread (module state); nothing is written anywhere.
 */
import { hash } from 'node:crypto';

/** SHA-256 over the parts, each preceded by its length (so no two part lists collide by concatenation). */
export function memoKey(...parts: (Buffer | string)[]): string {
  const bufs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  let n = 0;
  for (const b of bufs) n += 4 + b.length;
  // One buffer, one update: each Hash call crosses into C++, which costs more than the copy.
  const all = Buffer.allocUnsafe(n);
  let o = 0;
  for (const b of bufs) {
    o = all.writeUInt32BE(b.length, o);
    o += b.copy(all, o);
  }
  return hash('sha256', all, 'base64');
}

const registry = new Set<{ clear(): void }>();

/** Empty every SuccessMemo of this thread (benchmarks of the cold path, tests); parse and key caches stay. */
export function clearMemos(): void {
  for (const c of registry) c.clear();
}

export class SuccessMemo {
  private readonly seen = new Map<string, true>();
  /** Lookups answered from the memo (for tests and benchmarks). */
  hits = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('memo size must be a positive integer');
    registry.add(this);
  }

  get size(): number {
    return this.seen.size;
  }

  has(key: string): boolean {
    if (!this.seen.has(key)) return false;
    // Least recently used goes first: refresh the order on a hit.
    this.seen.delete(key);
    this.seen.set(key, true);
    this.hits++;
    return true;
  }

  /** Record a success. Call only after the real check passed. */
  add(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, true);
    while (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }

  clear(): void {
    this.seen.clear();
    this.hits = 0;
  }
}

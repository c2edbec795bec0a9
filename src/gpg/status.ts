/**
 * `[GNUPG:] KEYWORD args` status lines on the file descriptor git names with
 * --status-fd (GnuPG doc/DETAILS, "Format of the --status-fd output"):
 * 1 → stdout, 2 → stderr, any other N → that inherited descriptor, < 0 → discard.
 * Writes are synchronous so that ordering against stdout is exact and nothing
 * is lost when the process exits right after.
 */
import { writeSync } from 'node:fs';

export interface StatusWriter {
  /** Emit `[GNUPG:] <keyword> <args…>`. */
  emit(keyword: string, ...args: (string | number)[]): void;
}

/** Write all of `data` to `fd`, riding out EAGAIN on non-blocking pipes. */
export function writeAllSync(fd: number, data: Buffer | string): void {
  let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let spins = 0;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
      spins = 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 10_000) throw e;
      // The reader (git) is draining the pipe; wait a moment without burning CPU.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export function statusLine(keyword: string, ...args: (string | number)[]): string {
  return ['[GNUPG:]', keyword, ...args.map(String)].join(' ') + '\n';
}

export function openStatus(fd: number, write: (fd: number, s: string) => void = writeAllSync): StatusWriter {
  if (!Number.isInteger(fd) || fd < 0) return { emit() {} };
  return { emit: (keyword, ...args) => write(fd, statusLine(keyword, ...args)) };
}

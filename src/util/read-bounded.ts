/**
 * Read at most `max` + 1 bytes of the file at `path`, whatever it is: a character device or a
 * FIFO has no size to check first, and /dev/zero never ends. Returns the bytes when they fit in
 * `max`; `undefined` when the file holds more (the caller says so in its own words). Errors of
 * opening or reading are thrown as they come (the caller names the file and the setting).
 *
 * For paths a configuration, the environment or a repository chooses: git's paths read such
 * files on every call, and `gitseal.signingConfig = /dev/zero` used to read until memory ran out.
 *
 * Opened without blocking: a FIFO nobody writes to (`gitseal.allowedSignersFile=/tmp/fifo`, a
 * name another local user can plant) blocked open(2) for ever, and `git log --show-signature`
 * with it. Now such a FIFO reads as empty; one whose writer sends nothing is waited for at most
 * FIFO_WAIT_MS in all, then an error. A pipe that delivers (`--allowed-signers <(…)`) reads as before.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Longest a pipe's writer may keep us waiting for data, in all. */
export const FIFO_WAIT_MS = 5_000;

function readSome(fd: number, b: Buffer, size: number, deadline: { left: number }): number {
  for (;;) {
    try {
      return readSync(fd, b, 0, size, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || deadline.left <= 0) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') throw Object.assign(new Error(`no data within ${FIFO_WAIT_MS / 1000} s`), { code: 'ETIMEDOUT' });
        throw e;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      deadline.left -= 10;
    }
  }
}

export function readBounded(path: string, max: number): Buffer | undefined {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  const deadline = { left: FIFO_WAIT_MS };
  try {
    const st = fstatSync(fd);
    // A regular file: one read of its size + 1 finds its end; anything else in 64 KiB steps.
    const first = st.isFile() ? Math.min(st.size + 1, max + 1) : Math.min(65536, max + 1);
    const chunks: Buffer[] = [];
    let n = 0;
    for (let size = first; n <= max; size = Math.min(65536, max + 1 - n)) {
      const b = Buffer.allocUnsafe(size);
      const k = readSome(fd, b, size, deadline);
      if (k === 0) break;
      // A short read is copied out: a writer that drips a byte per read must not pin 64 KiB each.
      chunks.push(k === size ? b : Buffer.from(b.subarray(0, k)));
      n += k;
    }
    return n > max ? undefined : Buffer.concat(chunks, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read at most `max` + 1 bytes of the file at `path`, whatever it is: a character device or a
 * FIFO has no size to check first, and /dev/zero never ends. Returns the bytes when they fit in
 * `max`; `undefined` when the file holds more (the caller says so in its own words). Errors of
 * opening or reading are thrown as they come (the caller names the file and the setting).
 *
 * For paths a configuration, the environment or a repository chooses: git's paths read such
 * files on every call, and `gitseal.signingConfig = /dev/zero` used to read until memory ran out.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export function readBounded(path: string, max: number): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    // A regular file: one read of its size + 1 finds its end; anything else in 64 KiB steps.
    const first = st.isFile() ? Math.min(st.size + 1, max + 1) : Math.min(65536, max + 1);
    const chunks: Buffer[] = [];
    let n = 0;
    for (let size = first; n <= max; size = Math.min(65536, max + 1 - n)) {
      const b = Buffer.allocUnsafe(size);
      const k = readSync(fd, b, 0, size, null);
      if (k === 0) break;
      chunks.push(k === size ? b : b.subarray(0, k));
      n += k;
    }
    return n > max ? undefined : Buffer.concat(chunks, n);
  } finally {
    closeSync(fd);
  }
}

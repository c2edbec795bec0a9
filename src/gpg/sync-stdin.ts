/** Reading git's payload from fd 0 without process.stdin (the fast entries, src/main-fast-*.ts). */
import { readSync } from 'node:fs';

const CHUNK = 64 * 1024;

/**
 * fd 0 read with readSync, as an async iterable of chunks. Creating
 * process.stdin would load the stream and socket machinery (a few ms) to read
 * one small payload. Chunks are read on demand, so a consumer that stops (the
 * payload size limit) stops the reading too.
 */
export function syncStdin(fd = 0): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      let spins = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(CHUNK);
        let n: number;
        try {
          n = readSync(fd, buf, 0, CHUNK, null);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // A non-blocking pipe with nothing in it yet: the writer (git) is still writing.
          if (code === 'EAGAIN' && ++spins < 600_000) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
            continue;
          }
          if (code === 'EOF') return; // Windows: end of a pipe
          throw e;
        }
        spins = 0;
        if (n === 0) return;
        yield buf.subarray(0, n);
      }
    },
  };
}

/**
 * gitseal.logPath / GITSEAL_LOG / GITSIGN_LOG: a copy of what gitseal shows on the terminal while
 * git runs it, for the times git hides it (IDEs, GUIs, git < 2.40 on failure). Each line gets
 * the time and the process id, so the signatures of a rebase (one process each) can be told
 * apart; the file is 0600 and capped: when it has reached MAX_LOG_BYTES it becomes `<path>.1`
 * (replacing the one before) and a new file starts, so the log never holds more than about two
 * caps. Logging never stops a signature: a file that cannot be written is said once, on the
 * terminal. node:fs only (git's per-commit paths load this).
 */
import { closeSync, fstatSync, openSync, renameSync, statSync } from 'node:fs';
import { fsReason } from '../errors.js';
import { writeAllSync } from './status.js';

/** Size at which the log is rotated to `<path>.1`. */
export const MAX_LOG_BYTES = 1024 * 1024;
/** What one process writes at most (a run writes a handful of lines). */
const MAX_RUN_BYTES = 64 * 1024;

export interface LogFile {
  write(line: string): void;
  close(): void;
}

/** Open the log for appending; `problem` says why it could not be (the caller tells the person). */
export function openLogFile(path: string, o: { now?: () => Date; maxBytes?: number } = {}): LogFile | { problem: string } {
  const now = o.now ?? (() => new Date());
  const maxBytes = o.maxBytes ?? MAX_LOG_BYTES;
  try {
    if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) >= maxBytes) renameSync(path, `${path}.1`);
  } catch {
    // Another process rotated it first, or it cannot be renamed: append to what is there.
  }
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      return { problem: `cannot write the log ${path}: it is not a regular file` };
    }
  } catch (e) {
    return { problem: `cannot write the log ${path}: ${fsReason(e) ?? 'error'}` };
  }
  let written = 0;
  return {
    write(line: string) {
      if (fd < 0 || written >= MAX_RUN_BYTES) return;
      const text = line.endsWith('\n') ? line : line + '\n';
      const entry = `${now().toISOString()} [${process.pid}] ${text}`;
      written += entry.length;
      try {
        writeAllSync(fd, entry);
      } catch {
        /* a full disk must not break signing */
      }
    },
    close() {
      if (fd >= 0) {
        try {
          closeSync(fd);
        } catch {
          /* already closed */
        }
      }
      fd = -1;
    },
  };
}

/**
 * Human output while git holds our stdout (the signature) and stderr (the
 * status fd when signing). Like gitsign, progress goes to the controlling
 * terminal (/dev/tty) when one can be opened, so it never lands in git's pipes.
 * Without a terminal (IDE, CI), lines are kept and written to stderr only when
 * the run fails — the one time git shows that stream to the user.
 * Nothing secret (tokens, keys) is ever passed here.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { openLogFile, type LogFile } from './log-file.js';
import { writeAllSync } from './status.js';
import { terminalSafe } from '../util/terminal-text.js';

export interface Ui {
  say(line: string): void;
}

export interface Terminal extends Ui {
  /** True when lines reach a terminal directly. */
  readonly isTty: boolean;
  /** Also append every line to this log (gitseal.logPath / GITSEAL_LOG): time-stamped, 0600, capped (log-file.ts). */
  tee(path: string): void;
  /** After a failure: lines that could not reach a terminal go to stderr. */
  flushToStderr(): void;
  close(): void;
}

export function openTerminal(opts: { ttyPath?: string; writeStderr?: (s: string) => void } = {}): Terminal {
  const writeStderr = opts.writeStderr ?? ((s: string) => writeAllSync(2, s));
  let fd = -1;
  try {
    // O_NOCTTY: never become the controlling terminal by accident.
    fd = openSync(opts.ttyPath ?? '/dev/tty', constants.O_WRONLY | (constants.O_NOCTTY ?? 0));
  } catch {
    fd = -1;
  }
  let log: LogFile | undefined;
  let teeTried = false;
  const pending: string[] = [];
  const write = (f: number, s: string) => {
    try {
      writeAllSync(f, s);
    } catch {
      /* a vanished terminal must not break signing */
    }
  };
  return {
    isTty: fd >= 0,
    say(line: string) {
      // Lines quote servers, certificates and file names: escape what a terminal would act on.
      const s = terminalSafe(line.endsWith('\n') ? line.slice(0, -1) : line) + '\n';
      if (fd >= 0) write(fd, s);
      else pending.push(s);
      log?.write(s);
    },
    tee(path: string) {
      if (teeTried) return; // already copying (the fast path may ask twice)
      teeTried = true;
      const opened = openLogFile(path);
      if ('problem' in opened) {
        const s = `gitseal: warning: ${opened.problem} (gitseal.logPath / GITSEAL_LOG)\n`;
        if (fd >= 0) write(fd, s);
        else pending.push(s);
      } else log = opened;
    },
    flushToStderr() {
      for (const s of pending.splice(0)) {
        try {
          writeStderr(s);
        } catch {
          /* stderr gone */
        }
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
      log?.close();
      fd = -1;
      log = undefined;
    },
  };
}

/**
 * A failed gpg-style call: `gitseal: <message>` on the terminal (and log file) first; without a
 * terminal, progress that was held back and the error go to stderr, which git shows on failure
 * (git >= 2.40 prints it; older git only says "gpg failed to sign the data", so the terminal and
 * gitseal.logPath matter there).
 */
export function reportFailure(term: Terminal, io: { write(fd: number, s: string): void }, message: string): void {
  const line = terminalSafe(`gitseal: ${message}`);
  term.say(line);
  if (term.isTty) {
    try {
      io.write(2, line + '\n');
    } catch {
      /* stderr gone: nothing more we can do */
    }
  } else term.flushToStderr();
}

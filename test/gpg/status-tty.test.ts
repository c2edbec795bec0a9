/** Status lines on real file descriptors, and human output to a terminal device or held for stderr. */
import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStatus, statusLine } from '../../src/gpg/status.js';
import { openTerminal } from '../../src/gpg/tty.js';

describe('status writer', () => {
  it('formats gpg status lines', () => {
    expect(statusLine('SIG_CREATED', 'D', 19, 9, '00', 1700000000, 'ab')).toBe('[GNUPG:] SIG_CREATED D 19 9 00 1700000000 ab\n');
    expect(statusLine('BEGIN_SIGNING')).toBe('[GNUPG:] BEGIN_SIGNING\n');
  });

  it('writes to the numbered descriptor, and nowhere for a negative one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-status-'));
    try {
      const file = join(dir, 'status');
      const fd = openSync(file, 'w');
      const s = openStatus(fd);
      s.emit('BEGIN_SIGNING');
      s.emit('SIG_CREATED', 'D', 19, 9, '00', 1, 'f');
      closeSync(fd);
      expect(readFileSync(file, 'utf8')).toBe('[GNUPG:] BEGIN_SIGNING\n[GNUPG:] SIG_CREATED D 19 9 00 1 f\n');
      const seen: number[] = [];
      openStatus(-1, (f) => seen.push(f)).emit('NEWSIG');
      expect(seen).toEqual([]);
      openStatus(7, (f) => seen.push(f)).emit('NEWSIG');
      expect(seen).toEqual([7]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('terminal output', () => {
  it('writes straight to the terminal device and tees to a 0600 log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-tty-'));
    try {
      const tty = join(dir, 'tty');
      writeFileSync(tty, '');
      const stderr: string[] = [];
      const t = openTerminal({ ttyPath: tty, writeStderr: (s) => stderr.push(s) });
      expect(t.isTty).toBe(true);
      t.tee(join(dir, 'log'));
      t.say('Requesting certificate…');
      t.say('Logged to Rekor at index 7\n');
      t.flushToStderr();
      t.close();
      expect(readFileSync(tty, 'utf8')).toBe('Requesting certificate…\nLogged to Rekor at index 7\n');
      // Each log line: time, process id, the line (src/gpg/log-file.ts).
      const stamp = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[${process.pid}\] `;
      expect(readFileSync(join(dir, 'log'), 'utf8')).toMatch(new RegExp(`^${stamp}Requesting certificate…\n${stamp}Logged to Rekor at index 7\n$`));
      expect(statSync(join(dir, 'log')).mode & 0o777).toBe(0o600);
      expect(stderr).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a terminal, holds lines back and gives them to stderr only on flush', () => {
    const stderr: string[] = [];
    const t = openTerminal({ ttyPath: '/nonexistent/tty', writeStderr: (s) => stderr.push(s) });
    expect(t.isTty).toBe(false);
    t.say('progress');
    expect(stderr).toEqual([]);
    t.flushToStderr();
    expect(stderr).toEqual(['progress\n']);
    t.close();
  });
});

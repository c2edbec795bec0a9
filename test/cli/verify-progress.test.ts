/**
 * `gitseal verify` over a range: a progress line on stderr when stderr is a terminal (a real
 * pseudo-terminal from script(1)), nothing of it on a pipe or a file, none mixed into --json or
 * --json-lines on the same terminal, and erased before the table and summary. Frames are
 * counted and read, never timed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { BIN, Sandbox } from './helpers.js';
import { screenLines } from './pty.js';
import { needs } from '../helpers/tools.js';

const N = 300;
const sb = new Sandbox();
let repo: string;

beforeAll(() => {
  repo = sb.repo('progress');
  // N unsigned commits in one fast-import stream (each fails as "unsigned": the verdicts are not the point here).
  let s = '';
  for (let i = 1; i <= N; i++) {
    s += `commit refs/heads/main\nmark :${i}\ncommitter C <c@example.com> ${1_700_000_000 + i} +0000\ndata <<EOT\nc${i}\nEOT\n`;
    if (i > 1) s += `from :${i - 1}\n`;
    s += '\n';
  }
  sb.git(['fast-import', '--quiet'], repo, s);
});
afterAll(() => sb.cleanup());

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** The command on a pseudo-terminal; everything the terminal received. */
const onTty = (cmd: string) => {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: repo, env: sb.env, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stdout + r.stderr).not.toBeNull();
  return r.stdout;
};
const gitseal = `${sh(process.execPath)} ${sh(BIN)}`;

// "\r ESC[2K" then the label and numbers only: done, "of" total, rate, ETA.
const FRAME = /\r\u001b\[2KVerifying… ([\d,]+)(?: of ([\d,]+))?(?:, ([\d,]+)\/s(?:, ETA (\d+[smhd])(?: (\d+[sm]))?)?)?(?=\r|$)/g;
const num = (s: string) => Number(s.replace(/,/g, ''));

function frames(raw: string): Array<{ done: number; total?: number }> {
  return [...raw.matchAll(FRAME)].map((m) => ({ done: num(m[1]!), total: m[2] === undefined ? undefined : num(m[2]) }));
}

describe('gitseal verify: progress on a terminal', () => {
  needs('script').it('stderr on a terminal, stdout to a file: frames with plausible counts, then erased', () => {
    const out = join(sb.dir, 'table.txt');
    const tty = onTty(`${gitseal} verify --all --offline > ${sh(out)}`);
    const fs = frames(tty);
    expect(fs.length, JSON.stringify(tty.slice(0, 400))).toBeGreaterThan(0);
    let prev = 0;
    for (const f of fs) {
      expect(f.done).toBeGreaterThanOrEqual(prev);
      expect(f.done).toBeGreaterThan(0);
      expect(f.done).toBeLessThanOrEqual(N);
      if (f.total !== undefined) expect(f.total).toBe(N);
      prev = f.done;
    }
    // The last frame is erased: what is left on the line after it is empty.
    const last = tty.lastIndexOf('Verifying…');
    expect(tty.slice(last)).toMatch(/^Verifying…[^\r]*\r\u001b\[2K/);
    // Every progress write is a whole frame or an erase: nothing else written with \r or ESC.
    const rest = tty.replace(FRAME, '').replace(/\r\u001b\[2K/g, '');
    expect(rest).not.toMatch(/Verifying|\u001b\[(?!\d*m)/);
    // The file got the table and the summary, without a byte of progress.
    const table = readFileSync(out, 'utf8');
    expect(table).not.toMatch(/Verifying|\r|\u001b/);
    expect(table.split('\n').filter((l) => l.startsWith('- unsigned'))).toHaveLength(N);
    expect(table).toContain(`${N} of ${N} failed`);
  });

  needs('script').it('stdout on the same terminal: the final screen is the table and summary, no progress line left', () => {
    const tty = onTty(`${gitseal} verify --all --offline`);
    expect(frames(tty).length).toBeGreaterThan(0);
    const screen = screenLines(tty.replace(/\r\n/g, '\n'));
    expect(screen).not.toContain('Verifying');
    expect(screen.split('\n').filter((l) => l.startsWith('- unsigned'))).toHaveLength(N);
    expect(screen).toContain(`${N} of ${N} failed`);
  });

  needs('script').it('--json and --json-lines on the terminal: no progress; piped on: progress on stderr', () => {
    for (const flag of ['--json', '--json-lines']) {
      const tty = onTty(`${gitseal} verify --all --offline ${flag}`);
      expect(tty, flag).not.toContain('Verifying');
      expect(tty, flag).not.toContain('\u001b[2K');
      const out = join(sb.dir, 'out.json');
      const piped = onTty(`${gitseal} verify --all --offline ${flag} > ${sh(out)}`);
      expect(frames(piped).length, flag).toBeGreaterThan(0);
      const doc = readFileSync(out, 'utf8');
      expect(doc).not.toMatch(/Verifying|\r|\u001b/);
      if (flag === '--json') expect(JSON.parse(doc)).toMatchObject({ total: N, failed: N });
      else expect(JSON.parse(doc.trimEnd().split('\n').pop()!)).toMatchObject({ summary: { total: N, failed: N } });
    }
  });

  needs('script').it('one commit: the spinner, not the progress line', () => {
    const tty = onTty(`${gitseal} verify main --offline > /dev/null`);
    expect(frames(tty)).toHaveLength(0);
    expect(tty).toContain('Verifying main…');
  });

  needs('script').it('the line holds numbers only: a range named by a ref is not echoed', () => {
    sb.git(['update-ref', 'refs/heads/pwned-by-name', 'main~100'], repo);
    const tty = onTty(`${gitseal} verify pwned-by-name..main --offline > /dev/null`);
    const fs = frames(tty);
    expect(fs.length).toBeGreaterThan(0);
    for (const f of fs) if (f.total !== undefined) expect(f.total).toBe(100);
    expect(fs.at(-1)!.done).toBeLessThanOrEqual(100);
    expect(tty).not.toContain('pwned');
  });
});

describe('gitseal verify: no progress off a terminal', () => {
  needs('script').it('stderr on a pipe: not one progress byte', () => {
    const r = sb.gitseal(['verify', '--all', '--offline'], { cwd: repo });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).not.toMatch(/Verifying|\r|\u001b/);
    const j = sb.gitseal(['verify', '--all', '--offline', '--json-lines'], { cwd: repo });
    expect(j.stderr + j.stdout).not.toMatch(/Verifying|\r|\u001b/);
  });
});

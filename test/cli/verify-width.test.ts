/**
 * `gitseal verify` rows fit the terminal: on a real pseudo-terminal 80 columns wide, a GitHub
 * workflow identity (≈ 85 characters, ≈ 155-column rows) is shortened in the middle with "…" and
 * every line fits; a failure reason that does not fit goes, whole, on the line below its row.
 * Piped output and --json keep every value in full. Commits are signed against the sandbox
 * (workflow and e-mail identities).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayWidth, fitTable, shortenMiddle } from '../../src/cli/fit-width.js';
import { table } from '../../src/cli/output.js';
import { BIN, ROOT, Sandbox } from './helpers.js';
import { runInPty } from './pty.js';
import { SANDBOX_BIN, startSandbox, type RunningSandbox } from './sandbox.js';

describe('fitting rows (pure)', () => {
  it('shortens in the middle, keeping both ends, colour codes and wide characters whole', () => {
    expect(shortenMiddle('abcdefghij', 10)).toBe('abcdefghij');
    expect(shortenMiddle('abcdefghij', 7)).toBe('abc…hij');
    expect(displayWidth(shortenMiddle('https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', 30))).toBe(30);
    const red = '\u001b[31mabcdefghij\u001b[39m';
    expect(shortenMiddle(red, 5)).toBe('\u001b[31mab…hij\u001b[39m'.replace('ab…hij', 'ab…ij'));
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth(shortenMiddle('日本語のテキスト', 7))).toBeLessThanOrEqual(7);
  });

  it('without a width it is exactly table(); with one, only the named columns shrink', () => {
    const rows = [
      ['✓', 'aaaaaaaaaaaa', 'x'.repeat(60), 'y'.repeat(40), 'log #1', 'policy ok'],
      ['✗', 'bbbbbbbbbbbb', 'short', 'iss', '', 'z'.repeat(70)],
    ];
    expect(fitTable(rows, undefined, { shrink: [2, 3] })).toBe(table(rows));
    const lines = fitTable(rows, 80, { shrink: [2, 3] }).split('\n');
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^✓ {2}aaaaaaaaaaaa {2}x+…x+ {2}y+…y+ {2}log #1 {2}policy ok$/);
    // The long reason is not cut: it has its own line.
    expect(lines[1]).toMatch(/^✗ {2}bbbbbbbbbbbb {2}short/);
    expect(lines[2]).toBe('    ' + 'z'.repeat(70));
  });
});

describe('gitseal verify on a terminal', () => {
  const sb = new Sandbox('gitseal-width-');
  let sbx: RunningSandbox;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  const workflow = /^https:\/\/github\.com\/\S+\/\.github\/workflows\/\S+@refs\/heads\/main$/;
  let identity = '';

  beforeAll(async () => {
    sbx = await startSandbox(join(sb.dir, 'sbx'));
    env = { ...sb.env, ...sbx.env, GITSEAL_AGENT: 'off' };
    repo = sb.repo();
    const program = join(sb.dir, 'gitseal');
    execFileSync('sh', ['-c', `printf '#!/bin/sh\\nexec "%s" "%s" "$@"\\n' "${process.execPath}" "${BIN}" > "${program}" && chmod 755 "${program}"`]);
    const git = (args: string[], extra: NodeJS.ProcessEnv = {}) => execFileSync('git', args, { cwd: repo, env: { ...env, ...extra } });
    git(['config', 'gpg.format', 'x509']);
    git(['config', 'gpg.x509.program', program]);
    const wf = execFileSync(process.execPath, [SANDBOX_BIN, 'token', '--dir', sbx.dir, '--issuer-type', 'workflow'], { encoding: 'utf8' }).trim();
    git(['commit', '-q', '-S', '--allow-empty', '-m', 'by a workflow'], { SIGSTORE_ID_TOKEN: wf });
    git(['commit', '-q', '-S', '--allow-empty', '-m', 'by a person'], { SIGSTORE_ID_TOKEN: sbx.token('person@example.test') });
    const j = JSON.parse(sb.gitseal(['verify', '--json', 'HEAD~1'], { cwd: repo, env }).stdout) as { results: Array<{ identity: string }> };
    identity = j.results[0]!.identity;
  }, 120_000);

  afterAll(async () => {
    await sbx?.stop();
    sb.cleanup();
  });

  it('the workflow identity is really long (the case this is about)', () => {
    expect(identity).toMatch(workflow);
    expect(identity.length).toBeGreaterThan(70);
  });

  it('80 columns: every line fits, the identity is shortened in the middle', async () => {
    const run = runInPty([process.execPath, BIN, 'verify', '--', '--max-count=2', 'HEAD'], { cwd: repo, env, cols: 80 });
    expect(await run.exited).toBe(0);
    const lines = run.text.split('\n').filter(Boolean);
    for (const l of lines.filter((x) => !x.startsWith('note:'))) expect(displayWidth(l), l).toBeLessThanOrEqual(80);
    const row = lines.find((l) => l.startsWith('✓') && !l.includes('person@example.test'))!;
    expect(row).toContain('…');
    expect(row).not.toContain(identity);
    // Both ends survive: where it runs, and which workflow at which ref.
    const [head, tail] = row.split(/\s{2,}/)[2]!.split('…');
    expect(identity.startsWith(head!)).toBe(true);
    expect(identity.endsWith(tail!)).toBe(true);
    expect(lines.some((l) => /person@example\.test/.test(l))).toBe(true);
    expect(lines).toContain('2 of 2 verified');
  });

  it('piped, and under --json on the terminal, every value is whole', async () => {
    const piped = spawnSync(process.execPath, [BIN, 'verify', '--', '--max-count=2', 'HEAD'], { cwd: repo, env, encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toContain(identity);
    expect(piped.stdout).not.toContain('…');
    const json = runInPty([process.execPath, BIN, 'verify', '--json', '--', '--max-count=2', 'HEAD'], { cwd: repo, env, cols: 80 });
    expect(await json.exited).toBe(0);
    expect(json.text).toContain(`"identity": "${identity}"`);
  });

  it('a failure reason that does not fit is printed whole on the line below its row', async () => {
    // The public-good root does not know the sandbox's log: a long, trust-root-dependent reason.
    const pg = { ...env, GITSEAL_TRUSTED_ROOT: join(ROOT, 'src', 'trust', 'public-good', 'trusted_root.json') };
    const run = runInPty([process.execPath, BIN, 'verify', '--no-cache', 'HEAD'], { cwd: repo, env: pg, cols: 80 });
    expect(await run.exited).toBe(1);
    const lines = run.text.split('\n').filter(Boolean);
    const i = lines.findIndex((l) => l.startsWith('✗'));
    expect(displayWidth(lines[i]!)).toBeLessThanOrEqual(80);
    expect(lines[i + 1]).toMatch(/^ {4}the log entry comes from an unknown transparency log \(id [0-9a-f]+…\) — trusted root used: env GITSEAL_TRUSTED_ROOT .*$/);
  });
});

/**
 * Errors that carry their fix, through the real binary (CLI and git's gpg-style calls), against
 * the sandbox where a signature is needed:
 *   - a range with a missing endpoint fails like a missing revision (one line, exit 2);
 *   - file errors say why in words, never a bare errno name (ENOENT, ENOTDIR, EISDIR, …);
 *   - a failure that depends on the trusted root names the root used and how to choose another;
 *   - an expired token in SIGSTORE_ID_TOKEN / GITSEAL_ID_TOKEN names the variable and what to do,
 *     with or without the agent, and without a misleading "one-time credential" line first;
 *     `doctor` fails the login check for it instead of showing ✓.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStop } from '../../src/agent/client.js';
import { describeError, fsReason } from '../../src/errors.js';
import { BIN, ROOT, Sandbox, type Run } from './helpers.js';
import { SANDBOX_BIN, startSandbox, type RunningSandbox } from './sandbox.js';

const RAW_ERRNO = /\bE[A-Z]{3,}\b/;
const PUBLIC_GOOD = join(ROOT, 'src', 'trust', 'public-good', 'trusted_root.json');

const sb = new Sandbox('gitseal-errors-');
let sbx: RunningSandbox;
let repo: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sbx = await startSandbox(join(sb.dir, 'sbx'));
  env = { ...sb.env, ...sbx.env };
  repo = sb.repo();
  const program = join(sb.dir, 'gs');
  writeFileSync(program, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const git = (args: string[], extra: NodeJS.ProcessEnv = {}) => execFileSync('git', args, { cwd: repo, env: { ...env, ...extra } });
  git(['config', 'gpg.format', 'x509']);
  git(['config', 'gpg.x509.program', program]);
  git(['config', 'user.email', 'errors@example.test']);
  git(['branch', '-M', 'main']);
  git(['commit', '-q', '-S', '--allow-empty', '-m', 'signed'], { SIGSTORE_ID_TOKEN: sbx.token('errors@example.test'), GITSEAL_AGENT: 'off' });
}, 120_000);

afterAll(async () => {
  await agentStop({ env }).catch(() => undefined);
  await sbx?.stop();
  sb.cleanup();
});

const gitseal = (args: string[], extra: NodeJS.ProcessEnv = {}, input = ''): Run => sb.gitseal(args, { cwd: repo, env: { ...env, ...extra }, input });
const oneLine = (r: Run) => {
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
};
/** git's signing call, as git makes it (payload on stdin). */
const gpgSign = (extra: NodeJS.ProcessEnv, args = ['--status-fd=2', '-bsau', 'x']) => gitseal(args, extra, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');

describe('ranges with a missing end', () => {
  it('fail like a missing revision: one line naming it, exit 2', () => {
    const single = gitseal(['verify', 'nosuch']);
    expect(single.status).toBe(2);
    expect(oneLine(single)).toBe('gitseal: no such revision: "nosuch"');
    for (const range of ['main..nosuch', 'nosuch..main', 'main...nosuch', '^nosuch']) {
      const r = gitseal(['verify', range]);
      expect(r.status, range).toBe(2);
      expect(oneLine(r)).toMatch(/^gitseal: no such revision: "nosuch" \(in "\^?[.\w]*nosuch[.\w]*"\)$/);
    }
    const j = gitseal(['verify', 'main..nosuch', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'USAGE', message: 'no such revision: "nosuch" (in "main..nosuch")' } });
  });
});

describe('file errors say why, in words', () => {
  const cases: Array<[string, () => Run, RegExp]> = [
    ['allowed signers', () => gitseal(['verify', '--allowed-signers', '/nonexistent/signers']), /^gitseal: cannot read the allowed signers file \/nonexistent\/signers \(--allowed-signers\): no such file or directory$/],
    ['trusted root missing', () => gitseal(['verify'], { GITSEAL_TRUSTED_ROOT: '/nonexistent/root.json' }), /: no such file or directory$/],
    ['trusted root a directory', () => gitseal(['verify'], { GITSEAL_TRUSTED_ROOT: sb.dir }), /: not a regular file$/],
    ['signing config', () => gitseal(['doctor', '--offline'], { GITSEAL_SIGNING_CONFIG: '/nonexistent/sc.json' }), /^gitseal: cannot read the signing config \/nonexistent\/sc\.json \(env GITSEAL_SIGNING_CONFIG\): no such file or directory$/],
    ['signature file (git --verify)', () => gitseal(['--status-fd=1', '--verify', '/nonexistent/sig', '-'], {}, 'x'), /cannot read the signature file \/nonexistent\/sig: no such file or directory$/],
    ['payload file (git -bsau FILE)', () => gpgSign({}, ['--status-fd=2', '-bsau', 'x', '/nonexistent/payload']), /^gitseal: cannot read the payload file \/nonexistent\/payload: no such file or directory$/],
    ['token file', () => gpgSign({ GITSEAL_TOKEN_PROVIDER: 'file', GITSEAL_TOKEN_FILE: '/nonexistent/token', GITSEAL_AGENT: 'off' }), /^gitseal: cannot read the token file \/nonexistent\/token: no such file or directory$/],
  ];
  for (const [what, run, want] of cases) {
    it(what, () => {
      const r = run();
      expect(r.status, r.stderr).not.toBe(0);
      const line = r.stderr.split('\n').filter((l) => l.startsWith('gitseal:')).pop()!;
      expect(line).toMatch(want);
      expect(r.stderr).not.toMatch(RAW_ERRNO);
      expect(r.stderr).not.toMatch(/unexpected error/);
    });
  }

  it('a directory that cannot be made (a file in the way) is an IO error, not a bug', () => {
    const home = join(sb.dir, 'home-file-in-way');
    mkdirSync(home);
    writeFileSync(join(home, '.config'), 'not a directory');
    const r = sb.gitseal(['init', '--global', '--json'], { cwd: sb.dir, env: { HOME: home } });
    expect(r.status).toBe(1);
    expect(oneLine(r)).toBe(`gitseal: cannot create the directory ${join(home, '.config', 'gitseal')}: a part of the path is not a directory`);
    expect(JSON.parse(r.stdout).error.code).toBe('IO');
    const home2 = join(sb.dir, 'home-file-named-gitseal');
    mkdirSync(join(home2, '.config'), { recursive: true });
    writeFileSync(join(home2, '.config', 'gitseal'), '');
    const r2 = sb.gitseal(['init', '--global'], { cwd: sb.dir, env: { HOME: home2 } });
    expect(oneLine(r2)).toBe(`gitseal: cannot create the directory ${join(home2, '.config', 'gitseal')}: a file of that name is in the way`);
  });

  it('permission errors read as words too (the mapping; tests run as root, which no mode stops)', () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/etc/x'"), { code: 'EACCES', syscall: 'open', path: '/etc/x' });
    expect(describeError(e)).toBe('cannot open /etc/x: permission denied');
    expect(fsReason(e)).toBe('permission denied');
    expect(fsReason(Object.assign(new Error('x'), { code: 'EROFS' }))).toBe('the file system is read-only');
  });
});

describe('trust-root failures name the root', () => {
  it("git's --verify path: which root was used and how to choose another", () => {
    const r = spawnSync('git', ['verify-commit', 'HEAD'], { cwd: repo, env: { ...env, GITSEAL_TRUSTED_ROOT: PUBLIC_GOOD }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `the log entry comes from an unknown transparency log (id `,
    );
    expect(r.stderr).toContain(`— trusted root used: env GITSEAL_TRUSTED_ROOT ${PUBLIC_GOOD}; point gitseal.trustedRoot or GITSEAL_TRUSTED_ROOT at another trusted_root.json`);
  });

  it('with the embedded public-good root, it says how to point at a private Sigstore', () => {
    const r = spawnSync('git', ['verify-commit', 'HEAD'], { cwd: repo, env: { ...env, GITSEAL_TRUSTED_ROOT: '' }, encoding: 'utf8' });
    expect(r.stderr).toMatch(/— trusted root used: embedded public-good root; for a private Sigstore point gitseal\.trustedRoot or GITSEAL_TRUSTED_ROOT at its trusted_root\.json/);
  });

  it('signing: the certificate Fulcio returned does not chain to the root used, which is named', () => {
    const r = gpgSign({ GITSEAL_TRUSTED_ROOT: PUBLIC_GOOD, SIGSTORE_ID_TOKEN: sbx.token('errors@example.test'), GITSEAL_AGENT: 'off' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gitseal: Fulcio returned a certificate that does not check out against the trusted root: the certificate does not chain to a trusted Fulcio CA — trusted root used: env GITSEAL_TRUSTED_ROOT /);
  });
});

describe('an expired token in the environment', () => {
  const expired = () => execFileSync(process.execPath, [SANDBOX_BIN, 'token', '--dir', sbx.dir, '--email', 'errors@example.test', '--ttl=-120'], { encoding: 'utf8' }).trim();

  for (const agent of ['off', 'auto']) {
    it(`names the variable and what to do (agent ${agent}), and nothing else`, async () => {
      await agentStop({ env }).catch(() => undefined);
      for (const variable of ['SIGSTORE_ID_TOKEN', 'GITSEAL_ID_TOKEN']) {
        const r = gpgSign({ [variable]: expired(), GITSEAL_AGENT: agent });
        expect(r.status).toBe(1);
        expect(r.stdout).toBe('');
        expect(oneLine(r)).toMatch(
          new RegExp(`^gitseal: the identity token in ${variable} expired at \\S+Z \\(2 min ago\\): put a fresh token in ${variable}, or unset ${variable} to log in with the browser instead$`),
        );
      }
    });
  }

  it('in CI the advice fits CI', () => {
    const r = gpgSign({ SIGSTORE_ID_TOKEN: expired(), GITSEAL_AGENT: 'off', GITLAB_CI: 'true', CI: 'true' });
    expect(oneLine(r)).toMatch(/^gitseal: the identity token in SIGSTORE_ID_TOKEN expired at .*: GitLab CI's id_tokens last only as long as the job's token/);
  });

  it('doctor fails the login check and says what to do (it showed ✓)', () => {
    const r = gitseal(['doctor', '--offline'], { SIGSTORE_ID_TOKEN: expired() });
    expect(r.status).toBe(1);
    const i = r.stdout.split('\n').findIndex((l) => l.includes(' login '));
    const [line, fix] = r.stdout.split('\n').slice(i, i + 2);
    expect(line).toMatch(/^✗ login +the identity token in SIGSTORE_ID_TOKEN \(errors@example\.test, http:\/\/127\.0\.0\.1:\d+\) expired 2m \d+s ago: signing will fail$/);
    expect(fix).toMatch(/fix: put a fresh token in SIGSTORE_ID_TOKEN, or unset SIGSTORE_ID_TOKEN to log in with the browser instead$/);
    const j = JSON.parse(gitseal(['doctor', '--offline', '--json'], { SIGSTORE_ID_TOKEN: sbx.token('errors@example.test') }).stdout) as { checks: Array<{ id: string; status: string; summary: string }> };
    expect(j.checks.find((c) => c.id === 'login')).toMatchObject({ status: 'ok', summary: expect.stringMatching(/^errors@example\.test \(http:\/\/127\.0\.0\.1:\d+\) from SIGSTORE_ID_TOKEN, \d+m \d+s left; the token is not shown$/) });
  });
});

/**
 * gitseal.logPath / GITSEAL_LOG / GITSIGN_LOG through the real binary: every line carries the
 * time and the process id, the file is 0600, it is rotated to `<path>.1` once it reaches the cap
 * (1 MiB), and a log that cannot be written is said on the terminal without stopping the signature.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_BYTES } from '../../src/gpg/log-file.js';
import { BIN, Sandbox } from '../cli/helpers.js';
import { runInPty } from '../cli/pty.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';

const ENTRY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[\d+\] /;

describe('the terminal log (gitseal.logPath)', () => {
  const sb = new Sandbox('gitseal-log-');
  let sbx: RunningSandbox;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  const log = () => join(sb.dir, 'gitseal.log');

  beforeAll(async () => {
    sbx = await startSandbox(join(sb.dir, 'sbx'));
    env = { ...sb.env, ...sbx.env, GITSEAL_AGENT: 'off' };
    repo = sb.repo();
  }, 120_000);
  afterAll(async () => {
    await sbx?.stop();
    sb.cleanup();
  });

  const sign = (extra: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [BIN, '--status-fd=2', '-bsau', 'x'], { cwd: repo, env: { ...env, ...extra }, input: 'tree 0\n\nmsg\n', encoding: 'utf8' });

  it('time-stamps every line of a signature and of a failure, with the process id', () => {
    const ok = sign({ GITSIGN_LOG: log(), SIGSTORE_ID_TOKEN: sbx.token('log@example.test') });
    expect(ok.status, ok.stderr).toBe(0);
    const failed = sign({ GITSIGN_LOG: log() }); // no token, no terminal
    expect(failed.status).toBe(1);
    const lines = readFileSync(log(), 'utf8').trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(ENTRY);
    const text = lines.map((l) => l.replace(ENTRY, ''));
    expect(text).toEqual([
      expect.stringMatching(/^Requesting a certificate from http:\/\/127\.0\.0\.1:\d+…$/),
      expect.stringMatching(/^Logging the signature to Rekor \(http:\/\/127\.0\.0\.1:\d+\)…$/),
      expect.stringMatching(/^Logged to Rekor at index \d+$/),
      expect.stringMatching(/^gitseal: no identity token and no terminal to log in from/),
    ]);
    // Two processes: two pids.
    expect(new Set(lines.map((l) => /\[(\d+)\]/.exec(l)![1])).size).toBe(2);
    expect(statSync(log()).mode & 0o777).toBe(0o600);
  });

  it('rotates to <path>.1 at the cap, so the log stays bounded', () => {
    const big = 'x'.repeat(99) + '\n';
    writeFileSync(log(), big.repeat(Math.ceil(MAX_LOG_BYTES / big.length)), { mode: 0o600 });
    const r = sign({ GITSEAL_LOG: log() });
    expect(r.status).toBe(1);
    expect(statSync(`${log()}.1`).size).toBeGreaterThanOrEqual(MAX_LOG_BYTES);
    const fresh = readFileSync(log(), 'utf8').trimEnd().split('\n');
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatch(ENTRY);
    // The next rotation replaces .1: never more than two generations.
    writeFileSync(log(), big.repeat(Math.ceil(MAX_LOG_BYTES / big.length)));
    sign({ GITSEAL_LOG: log() });
    expect(readFileSync(`${log()}.1`, 'utf8').startsWith(big)).toBe(true);
    expect(readFileSync(log(), 'utf8').trimEnd().split('\n')).toHaveLength(1);
  });

  it('a log that cannot be written is said on the terminal, and the signature is still made', async () => {
    const dir = join(sb.dir, 'a-directory');
    mkdirSync(dir);
    execFileSync('git', ['config', 'gpg.format', 'x509'], { cwd: repo, env });
    execFileSync('git', ['config', 'gpg.x509.program', join(sb.dir, 'gs')], { cwd: repo, env });
    writeFileSync(join(sb.dir, 'gs'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const run = runInPty(['git', 'commit', '-q', '-S', '--allow-empty', '-m', 'logged nowhere'], {
      cwd: repo,
      env: { ...env, GITSEAL_LOG: dir, SIGSTORE_ID_TOKEN: sbx.token('log@example.test') },
    });
    expect(await run.exited).toBe(0);
    expect(run.text).toMatch(new RegExp(`gitseal: warning: cannot write the log ${dir}: it is a directory \\(gitseal\\.logPath / GITSEAL_LOG\\)`));
    expect(run.text).toMatch(/Logged to Rekor at index \d+/);
  });
});

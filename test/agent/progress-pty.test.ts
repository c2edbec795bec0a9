/**
 * What a person sees while a warm agent works: the same progress lines as the direct path, on
 * the terminal, as the work happens. git runs gitseal on a real pseudo-terminal (test/cli/pty.ts)
 * against the sandbox; the sandbox's fault injection holds Rekor (or Fulcio) for 8 s, and the test
 * reads the terminal while the request is still held: the line must already be there, with
 * the commit not yet written and the log entry not yet made (counted on the sandbox's side).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStatus, agentStop } from '../../src/agent/client.js';
import { BIN, cleanEnv } from '../cli/helpers.js';
import { runInPty } from '../cli/pty.js';
import { SANDBOX_BIN, startSandbox, type RunningSandbox } from '../cli/sandbox.js';
import { privateTmp, removeTempDirs } from './helpers.js';

let home: string;
let sbx: RunningSandbox;
let env: NodeJS.ProcessEnv;

const sandboxCli = (...args: string[]) => execFileSync(process.execPath, [SANDBOX_BIN, ...args, '--dir', sbx.dir], { encoding: 'utf8' });
const stats = () => JSON.parse(sandboxCli('stats')) as { rekor: { treeSize: number }; fulcio: { signingCert: number } };
const git = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => execFileSync('git', args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' }).trim();

function newRepo(name: string, email: string): string {
  const dir = join(home, name);
  git(home, ['init', '-q', dir]);
  git(dir, ['config', 'user.email', email]);
  return dir;
}

beforeAll(async () => {
  home = privateTmp('gsp-');
  mkdirSync(join(home, 'sbx'), { mode: 0o700 });
  sbx = await startSandbox(join(home, 'sbx'));
  const program = join(home, 'gitseal');
  writeFileSync(program, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  env = {
    ...cleanEnv(home),
    GITSEAL_AGENT_SOCK: join(home, 'run', 'agent.sock'),
    XDG_CACHE_HOME: join(home, 'cache'),
    ...sbx.env,
  };
  writeFileSync(
    join(home, '.gitconfig'),
    `[gpg]\n\tformat = x509\n[gpg "x509"]\n\tprogram = ${program}\n[commit]\n\tgpgsign = true\n[user]\n\tname = Progress Test\n`,
  );
}, 120_000);

afterAll(async () => {
  if (env) await agentStop({ env }).catch(() => undefined);
  sandboxCli('fault', 'clear');
  await sbx?.stop();
  removeTempDirs();
});

describe('progress from a warm agent', () => {
  it('"Logging the signature to Rekor…" is on the terminal while Rekor still holds the entry', async () => {
    const email = 'warm@example.test';
    const repo = newRepo('warm', email);
    // Warm the agent: the first signature starts it and leaves a certificate in it.
    git(repo, ['commit', '-q', '--allow-empty', '-m', 'first'], { SIGSTORE_ID_TOKEN: sbx.token(email) });
    expect((await agentStatus({ env }))!.identities.map((i) => i.subject)).toEqual([email]);
    const head = git(repo, ['rev-parse', 'HEAD']);
    const before = stats().rekor.treeSize;

    sandboxCli('fault', 'rekor=delay:8000x1');
    // No token in the environment: only the agent can sign this one.
    const run = runInPty(['git', 'commit', '-q', '--allow-empty', '-m', 'slow Rekor'], { cwd: repo, env });
    await run.waitFor(/Logging the signature to Rekor \(http:\/\/127\.0\.0\.1:\d+\)…/);
    // Rekor is still holding the request: no entry, no commit, git still waiting.
    expect(run.done).toBe(false);
    expect(stats().rekor.treeSize).toBe(before);
    expect(git(repo, ['rev-parse', 'HEAD'])).toBe(head);

    expect(await run.exited).toBe(0);
    const lines = run.text.split('\n').filter(Boolean);
    expect(lines).toEqual([expect.stringMatching(/^Logging the signature to Rekor \(/), `Logged to Rekor at index ${before}`]);
    expect(git(repo, ['rev-parse', 'HEAD'])).not.toBe(head);
    expect(git(repo, ['log', '-1', '--format=%G? %GS'])).toBe(`U ${email}`);
    // The agent made it (a whole signature, git's fast path), not a one-time credential.
    const log = readFileSync(join(home, 'cache', 'gitseal', 'agent.log'), 'utf8');
    expect(log).toContain(`whole signature, logged to Rekor at index ${before}`);
  }, 120_000);

  it('the agent\'s certificate request shows too ("Requesting a certificate from …") while Fulcio holds it', async () => {
    const email = 'second@example.test';
    const repo = newRepo('second', email);
    const certs = stats().fulcio.signingCert;
    sandboxCli('fault', 'fulcio=delay:8000x1');
    // A new identity: the agent (running, without a certificate for it) asks Fulcio with the token.
    const run = runInPty(['git', 'commit', '-q', '--allow-empty', '-m', 'slow Fulcio'], { cwd: repo, env: { ...env, SIGSTORE_ID_TOKEN: sbx.token(email) } });
    await run.waitFor(/Requesting a certificate from http:\/\/127\.0\.0\.1:\d+…/);
    expect(run.done).toBe(false);
    expect(stats().fulcio.signingCert).toBe(certs);
    expect(await run.exited).toBe(0);
    expect(run.text).toMatch(/Requesting a certificate from .*\nLogging the signature to Rekor .*\nLogged to Rekor at index \d+\n/);
    expect(run.text).not.toMatch(/one-time credential/);
    expect((await agentStatus({ env }))!.identities.map((i) => i.subject).sort()).toEqual([email, 'warm@example.test'].sort());
  }, 120_000);

  it('an agent that refuses to log (Rekor down) shows the line once, then the error; nothing is committed', async () => {
    const repo = join(home, 'warm');
    const head = git(repo, ['rev-parse', 'HEAD']);
    sandboxCli('fault', 'rekor=400');
    try {
      const run = runInPty(['git', 'commit', '-q', '--allow-empty', '-m', 'Rekor refuses'], { cwd: repo, env });
      expect(await run.exited).not.toBe(0);
      expect(run.text.match(/Logging the signature to Rekor/g)).toHaveLength(1);
      expect(run.text).toMatch(/gitseal: .*Rekor/);
    } finally {
      sandboxCli('fault', 'clear');
    }
    expect(spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repo, env, encoding: 'utf8' }).stdout.trim()).toBe(head);
  }, 120_000);
});

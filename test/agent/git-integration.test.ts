/**
 * The agent end to end: the real git binary signs through gitseal (gpg.format x509) against
 * the local Sigstore sandbox (real OIDC provider, Fulcio, Rekor on 127.0.0.1), with the agent
 * auto-started by the first gitseal process. git runs the project's bin/gitseal (the build
 * `npm test` makes): the first commit of a run takes the full path (which starts the agent and
 * has it sign the signed attributes), the following ones the fast path (dist/fast-sign.cjs),
 * where the agent makes the whole signature (protocol.ts, signPayload). Counts are read from the sandbox side
 * (`gitseal-sandbox stats`), verdicts from git itself (%G?) and from openssl.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStatus, agentStop } from '../../src/agent/client.js';
import { storeToken } from '../../src/oidc/token-cache.js';
import { buildPrivateDist, privateTmp, removeTempDirs } from './helpers.js';
import { needs } from '../helpers/tools.js';

const BIN = fileURLToPath(new URL('../../bin/gitseal', import.meta.url));
/** Agent log lines of whole signatures (signPayload) for `repo`. */
const wholeSignatures = (log: string, repo: string) =>
  log.split('\n').filter((l) => l.includes(`repo="${repo}"`) && l.includes('outcome="signed"') && l.includes('whole signature, logged to Rekor at index')).length;

const run = promisify(execFile);
let root: string; // private build: root/dist/{main,agent/main}.js and the sandbox package's build in root/dist/sandbox
let home: string;
let sandboxDir: string;
let sandbox: ChildProcess;
let baseEnv: NodeJS.ProcessEnv;

function sandboxCli(...args: string[]): string {
  return execFileSync(process.execPath, [join(root, 'dist', 'sandbox', 'main.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Stats {
  requests: Record<string, Record<string, number>>;
  oidc: { logins: number; tokensIssued: number };
  fulcio: { signingCert: number };
  rekor: { treeSize: number };
}
const stats = (): Stats => JSON.parse(sandboxCli('stats', '--dir', sandboxDir));
const token = (email: string) => sandboxCli('token', '--dir', sandboxDir, '--email', email).trim();

beforeAll(async () => {
  root = await buildPrivateDist({ sandbox: true });
  home = privateTmp('gsa-git-');
  sandboxDir = join(home, 'sandbox');
  mkdirSync(sandboxDir, { mode: 0o700 });
  sandbox = spawn(process.execPath, [join(root, 'dist', 'sandbox', 'main.js'), 'start', '--dir', sandboxDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    sandbox.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    sandbox.once('exit', (c) => reject(new Error(`sandbox exited ${c}`)));
  });
  const vars = Object.fromEntries(
    [...readFileSync(join(sandboxDir, 'env'), 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
  );
  const program = join(home, 'gitseal');
  writeFileSync(program, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  baseEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
    ...vars,
  };
  // Who may sign (gitseal.allowedSignersFile: "<identity> <issuer>"), so git reports G, not U.
  const allowed = join(home, 'allowed_signers');
  writeFileSync(allowed, ['rebase@example.com', 'cache@example.com', 'alice@example.com', 'bob@example.com'].map((e) => `${e} ${vars.GITSEAL_OIDC_ISSUER}\n`).join(''));
  writeFileSync(
    join(home, '.gitconfig'),
    `[gpg]\n\tformat = x509\n[gpg "x509"]\n\tprogram = ${program}\n[init]\n\tdefaultBranch = main\n[user]\n\tname = Agent Test\n` +
      `[gitseal]\n\tallowedSignersFile = ${allowed}\n`,
  );
}, 120_000);

afterAll(async () => {
  if (baseEnv) await agentStop({ env: baseEnv }).catch(() => undefined);
  if (sandbox && sandbox.exitCode === null) {
    sandbox.kill('SIGTERM');
    await new Promise((r) => sandbox.once('exit', r));
  }
  removeTempDirs();
});

async function git(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const r = await run('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  return r.stdout;
}

function newRepo(name: string, email: string): string {
  const dir = join(home, name);
  execFileSync('git', ['init', '-q', dir], { env: baseEnv });
  execFileSync('git', ['config', 'user.email', email], { cwd: dir, env: baseEnv });
  return dir;
}

/** The e-mail SAN of the certificate inside a commit's gpgsig, read by openssl. */
function signerOf(repo: string, rev: string): string {
  const raw = execFileSync('git', ['cat-file', 'commit', rev], { cwd: repo, env: baseEnv, encoding: 'utf8' });
  const m = raw.match(/^gpgsig (-----BEGIN SIGNED MESSAGE-----\n(?: .*\n)*? -----END SIGNED MESSAGE-----)$/m);
  if (!m) throw new Error(`${rev} has no gpgsig`);
  const pem = m[1].replace(/\n /g, '\n').replace('SIGNED MESSAGE', 'PKCS7').replace('SIGNED MESSAGE', 'PKCS7') + '\n';
  const certs = execFileSync('openssl', ['pkcs7', '-print_certs'], { input: pem, encoding: 'utf8' });
  const san = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: certs, encoding: 'utf8' });
  return san.match(/email:(\S+)/)![1];
}

needs('openssl').describe('signing through the agent with git and the sandbox', () => {
  it('rebases 100 commits with one token, one Fulcio certificate and 100 Rekor entries; all verify', async () => {
    const email = 'rebase@example.com';
    const repo = newRepo('rebase', email);
    const plain = { ...baseEnv, GITSEAL_AGENT: 'on' };
    // 100 unsigned commits, quickly (fast-import), then re-sign them all with a rebase.
    let stream = '';
    for (let i = 1; i <= 100; i++) {
      stream += `commit refs/heads/main\ncommitter Agent Test <${email}> ${1767225600 + i} +0000\ndata <<EOM\ncommit ${i}\nEOM\n`;
      stream += `M 644 inline file.txt\ndata <<EOD\nline ${i}\nEOD\n\n`;
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, env: plain, input: stream });
    execFileSync('git', ['checkout', '-q', 'main'], { cwd: repo, env: plain });
    expect((await git(repo, plain, 'log', '--format=%G?')).trim().split('\n')).toEqual(Array(100).fill('N'));

    const before = stats();
    const env = { ...plain, SIGSTORE_ID_TOKEN: token(email) }; // the one token of this run
    const t0 = Date.now();
    await git(repo, env, 'rebase', '-q', '--force-rebase', '--gpg-sign', '--root');
    const seconds = (Date.now() - t0) / 1000;
    const after = stats();

    expect(after.fulcio.signingCert - before.fulcio.signingCert).toBe(1);
    expect(after.rekor.treeSize - before.rekor.treeSize).toBe(100);
    // gitseal itself never went back to the OpenID provider for another token or login.
    expect(after.oidc.logins - before.oidc.logins).toBe(0);
    expect(after.oidc.tokensIssued - before.oidc.tokensIssued).toBe(0);

    // git's own verdict (gitseal --verify via gpg.x509.program), without the token around.
    const verdicts = (await git(repo, baseEnv, 'log', '--format=%G? %GS')).trim().split('\n');
    expect(verdicts.length).toBe(100);
    for (const v of verdicts) expect(v).toBe(`G ${email}`);
    await git(repo, baseEnv, 'verify-commit', 'HEAD');
    await git(repo, baseEnv, 'verify-commit', 'HEAD~99');
    expect(signerOf(repo, 'HEAD~50')).toBe(email);

    // The agent served them all: one identity, 100 signatures, logged with the repository.
    const st = await agentStatus({ env: baseEnv });
    expect(st!.identities.map((i) => [i.subject, i.signatures])).toEqual([[email, 100]]);
    const log = readFileSync(join(home, 'cache', 'gitseal', 'agent.log'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes(' sign ') && l.includes(`repo="${repo}"`) && l.includes('outcome="signed"')).length).toBe(100);
    // The first started the agent through the full path; the other 99 were whole signatures.
    expect(wholeSignatures(log, repo)).toBe(99);
    expect(log).not.toContain(env.SIGSTORE_ID_TOKEN!.split('.')[1]);
    console.log(`agent: rebase of 100 signed commits took ${seconds.toFixed(1)} s`);
  }, 600_000);

  it('without a token in the environment: the client hands the agent its cached login once', async () => {
    await agentStop({ env: baseEnv });
    const email = 'cache@example.com';
    const repo = newRepo('cached', email);
    const env: NodeJS.ProcessEnv = { ...baseEnv, GITSEAL_KEYRING: 'off' };
    // What "gitseal login" leaves behind: the token in the encrypted file cache (src/oidc).
    await storeToken({ issuer: env.GITSEAL_OIDC_ISSUER!, clientID: env.GITSEAL_OIDC_CLIENT_ID!, connectorID: undefined }, token(email), { env, now: Date.now(), keyring: null });
    const before = stats();
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(repo, 'f.txt'), `${i}\n`);
      await git(repo, env, 'add', 'f.txt');
      await git(repo, env, 'commit', '-q', '-S', '-m', `cached ${i}`);
    }
    const after = stats();
    expect(after.fulcio.signingCert - before.fulcio.signingCert).toBe(1);
    expect(after.oidc.logins - before.oidc.logins).toBe(0);
    expect((await git(repo, baseEnv, 'log', '--format=%G? %GS')).trim().split('\n')).toEqual(Array(5).fill(`G ${email}`));
    const log = readFileSync(join(home, 'cache', 'gitseal', 'agent.log'), 'utf8').split('\n').filter((l) => l.includes(`repo="${repo}"`));
    // First request: the agent had nothing and asked; the client read its cache and asked again.
    expect(log.filter((l) => l.includes('outcome="need-token"')).length).toBe(1);
    expect(log.filter((l) => l.includes('outcome="signed"')).length).toBe(5);
    expect(wholeSignatures(log.join('\n'), repo)).toBe(4);
  }, 300_000);

  it('50 concurrent git commit -S in 10 repositories, two identities, one agent: no cross-talk', async () => {
    await agentStop({ env: baseEnv });
    const emails = ['alice@example.com', 'bob@example.com'];
    const tokens = Object.fromEntries(emails.map((e) => [e, token(e)]));
    const repos = Array.from({ length: 10 }, (_, i) => ({ email: emails[i % 2], dir: newRepo(`multi-${i}`, emails[i % 2]) }));
    // Five worktrees per repository, so all 50 commits really run at once (one index each).
    for (const r of repos) {
      execFileSync('git', ['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'base'], { cwd: r.dir, env: baseEnv });
      for (let w = 0; w < 5; w++) execFileSync('git', ['worktree', 'add', '-q', '-b', `w${w}`, join(r.dir, `.wt${w}`)], { cwd: r.dir, env: baseEnv });
    }
    const before = stats();
    const jobs = repos.flatMap((r) =>
      Array.from({ length: 5 }, async (_, w) => {
        const wt = join(r.dir, `.wt${w}`);
        writeFileSync(join(wt, 'f.txt'), `${r.email} ${w}\n`);
        const env = { ...baseEnv, SIGSTORE_ID_TOKEN: tokens[r.email] };
        await git(wt, env, 'add', 'f.txt');
        await git(wt, env, 'commit', '-q', '-S', '-m', `worktree ${w}`);
        return { ...r, wt };
      }),
    );
    const done = await Promise.all(jobs);
    const after = stats();

    expect(done.length).toBe(50);
    // One certificate per identity, however many processes asked at once.
    expect(after.fulcio.signingCert - before.fulcio.signingCert).toBe(2);
    expect(after.rekor.treeSize - before.rekor.treeSize).toBe(50);
    for (const d of done) {
      expect((await git(d.wt, baseEnv, 'log', '-1', '--format=%G? %GS')).trim()).toBe(`G ${d.email}`);
      expect(signerOf(d.wt, 'HEAD')).toBe(d.email);
    }
    const st = await agentStatus({ env: baseEnv });
    expect(st!.identities.map((i) => [i.subject, i.signatures]).sort()).toEqual([
      ['alice@example.com', 25],
      ['bob@example.com', 25],
    ]);
    // Exactly one agent process was started by the 50 concurrent gitseal processes.
    const log = readFileSync(join(home, 'cache', 'gitseal', 'agent.log'), 'utf8');
    const starts = log.split('\n').filter((l) => / start /.test(l));
    expect(starts.length).toBe(3); // the rebase test's agent, the cached-login test's, and this one
    expect(readdirSync(join(home, 'run', 'gitseal')).filter((f) => f.endsWith('.sock'))).toEqual(['agent.sock']);
  }, 600_000);
});

/**
 * The signing e2e suite, run against any Fulcio/Rekor provider (the project's
 * sandbox, @sigstore/mock): git → bin/gitseal with gpg.format=x509 in temp
 * repositories — commit -S, tag -s, --amend, a signed merge, a SHA-256
 * repository — each signature checked by openssl, gpgsm, @sigstore/verify and
 * git's own verify path; and a broken Fulcio or Rekor leaves no commit.
 * git runs asynchronously: an in-process provider must keep serving meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeTle } from '../../src/rekor/tle.js';
import { cmsPieces, gpgsmVerify, makeGpgsmHome, messageDigestMatches, opensslVerify, pemToDer, sigstoreVerify, splitCommit, splitTag } from './sign-helpers.js';
import { needs } from '../helpers/tools.js';

const execFileP = promisify(execFile);
export const GITSEAL = resolve(__dirname, '..', '..', 'bin', 'gitseal');
const EMAIL = 'dev@example.test';

export interface Provider {
  /** GITSEAL_* settings and an identity token. */
  env: NodeJS.ProcessEnv;
  trustedRootPath: string;
  /** The Fulcio root (trust anchor) and any intermediates, PEM. */
  rootPem: string;
  intermediatesPem: string;
  /** SAN the certificate carries for EMAIL. */
  identity: string;
  /** OIDC issuer recorded in the certificate, when the provider sets it like Fulcio. */
  issuer?: string;
  /** Make `service` fail for the next signing attempt; returns env overrides and an undo. */
  breakService(service: 'Fulcio' | 'Rekor'): Promise<{ env: NodeJS.ProcessEnv; expect: RegExp; undo(): Promise<void> }>;
  /** RFC 3161 timestamp authority URL, when the provider has one. */
  tsaURL?: string;
  /** Rekor v2 (rekor-tiles) base URL, when the provider has one. */
  rekorV2URL?: string;
  /** Make `service` fail `times` times, then recover (for retries); undefined when unsupported. */
  flaky?(service: 'Fulcio' | 'Rekor', times: number): Promise<void>;
  close(): Promise<void>;
}

export function signingSuite(name: string, start: (dir: string) => Promise<Provider>): void {
  let root: string;
  let p: Provider;
  let gpgsm: { home: string; close(): void };
  let env: NodeJS.ProcessEnv;

  async function git(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    const { stdout } = await execFileP('git', args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
    return stdout;
  }
  async function gitRun(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    try {
      const { stdout, stderr } = await execFileP('git', args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
      return { status: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { status: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
    }
  }
  async function catFile(cwd: string, type: string, rev: string): Promise<Buffer> {
    return (await execFileP('git', ['cat-file', type, rev], { cwd, env, encoding: 'buffer' })).stdout;
  }
  async function newRepo(dirName: string, initArgs: string[] = []): Promise<string> {
    const dir = join(root, dirName);
    mkdirSync(dir);
    await git(dir, ['init', '-q', '-b', 'main', ...initArgs]);
    await git(dir, ['config', 'gpg.format', 'x509']);
    await git(dir, ['config', 'gpg.x509.program', GITSEAL]);
    await git(dir, ['config', 'user.email', EMAIL]);
    await git(dir, ['config', 'user.name', 'Dev']);
    return dir;
  }
  function checkSignature(payload: Buffer, signature: string): void {
    const der = pemToDer(signature);
    expect(messageDigestMatches(der, payload)).toBe(true);
    expect(cmsPieces(der).certCount).toBe(1);
    opensslVerify(root, der, payload, p.rootPem, p.intermediatesPem);
    gpgsmVerify(gpgsm.home, root, der, payload);
    sigstoreVerify(der, p.trustedRootPath, { identity: p.identity, issuer: p.issuer });
  }

  needs('openssl', 'gpgsm').describe(`git signing through gitseal (${name})`, () => {
    beforeAll(async () => {
      if (!existsSync(resolve(__dirname, '..', '..', 'dist', 'main.js'))) throw new Error('run `npm run build` first: bin/gitseal needs dist/main.js');
      root = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-e2e-sign-')));
      mkdirSync(join(root, 'home'));
      p = await start(root);
      gpgsm = makeGpgsmHome(p.rootPem, p.intermediatesPem);
      env = { PATH: process.env.PATH, HOME: join(root, 'home'), GIT_CONFIG_NOSYSTEM: '1', GITSEAL_AGENT: 'off', ...p.env };
    });
    afterAll(async () => {
      await p?.close();
      gpgsm?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('signs a commit that openssl, gpgsm, @sigstore/verify and git accept', async () => {
      const repo = await newRepo('commit');
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'first signed commit']);
      const { payload, signature, header } = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      expect(header).toBe('gpgsig');
      expect(signature.startsWith('-----BEGIN SIGNED MESSAGE-----\n')).toBe(true);
      checkSignature(payload, signature);
      const v = await gitRun(repo, ['verify-commit', '--raw', 'HEAD']);
      expect(v.stderr).toContain('[GNUPG:] GOODSIG ');
      expect(v.status).toBe(0);
    });

    it('signs an annotated tag', async () => {
      const repo = await newRepo('tag');
      await git(repo, ['commit', '-q', '--allow-empty', '-m', 'unsigned base']);
      await git(repo, ['tag', '-s', 'v1.0.0', '-m', 'release 1.0.0']);
      const { payload, signature } = splitTag(await catFile(repo, 'tag', 'v1.0.0'));
      expect(payload.toString()).toContain('tag v1.0.0\n');
      checkSignature(payload, signature);
      expect((await gitRun(repo, ['verify-tag', 'v1.0.0'])).status).toBe(0);
    });

    it('re-signs an amended commit and signs a merge', async () => {
      const repo = await newRepo('amend-merge');
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'base']);
      const before = (await git(repo, ['rev-parse', 'HEAD'])).trim();
      await git(repo, ['commit', '-q', '--amend', '--allow-empty', '-S', '-m', 'base, amended']);
      expect((await git(repo, ['rev-parse', 'HEAD'])).trim()).not.toBe(before);
      let s = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      expect(s.payload.toString()).toContain('base, amended');
      checkSignature(s.payload, s.signature);

      await git(repo, ['checkout', '-q', '-b', 'topic']);
      await git(repo, ['commit', '-q', '--allow-empty', '-m', 'on topic']);
      await git(repo, ['checkout', '-q', 'main']);
      await git(repo, ['commit', '-q', '--allow-empty', '-m', 'on main']);
      await git(repo, ['merge', '-q', '--no-ff', '-S', '-m', 'merge topic', 'topic']);
      const merge = await catFile(repo, 'commit', 'HEAD');
      expect(merge.toString().match(/^parent /gm)).toHaveLength(2);
      s = splitCommit(merge);
      checkSignature(s.payload, s.signature);
      expect(await git(repo, ['log', '-1', '--format=%G?'])).toMatch(/^[GU]\n$/);
    });

    it('signs in a SHA-256 repository (gpgsig-sha256)', async () => {
      const repo = await newRepo('sha256', ['--object-format=sha256']);
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'sha256 commit']);
      expect((await git(repo, ['rev-parse', 'HEAD'])).trim()).toHaveLength(64);
      const { payload, signature, header } = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      expect(header).toBe('gpgsig-sha256');
      checkSignature(payload, signature);
      expect((await gitRun(repo, ['verify-commit', 'HEAD'])).status).toBe(0);
    });

    it('takes its settings from git config (gitseal.*, gitsign.*, git -c) when the environment has none', async () => {
      const repo = await newRepo('gitconfig');
      const none = { GITSEAL_FULCIO_URL: '', GITSEAL_REKOR_URL: '', GITSEAL_TRUSTED_ROOT: '' };
      await git(repo, ['config', 'gitsign.rekor', String(p.env.GITSEAL_REKOR_URL)]);
      await git(repo, ['config', 'gitseal.trustedRoot', p.trustedRootPath]);
      await git(repo, ['config', 'gitseal.fulcio', 'http://127.0.0.1:1/wrong-one-overridden-below']);
      await git(repo, ['-c', `gitseal.fulcio=${p.env.GITSEAL_FULCIO_URL}`, 'commit', '-q', '--allow-empty', '-S', '-m', 'configured by git config'], none);
      const s = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      checkSignature(s.payload, s.signature);
      expect((await gitRun(repo, ['verify-commit', 'HEAD'], none)).status).toBe(0);
    });

    it('embeds an RFC 3161 timestamp when gitseal.timestampServerURL is set', async (ctx) => {
      if (!p.tsaURL) return ctx.skip(`${name} has no timestamp authority`);
      const repo = await newRepo('tsa');
      await git(repo, ['config', 'gitseal.timestampServerURL', p.tsaURL]);
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'timestamped']);
      const s = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      const pieces = cmsPieces(pemToDer(s.signature));
      expect(pieces.tst).toBeDefined();
      expect(decodeTle(pieces.tle).version).toBe('0.0.1');
      checkSignature(s.payload, s.signature);
      expect((await gitRun(repo, ['verify-commit', 'HEAD'])).status).toBe(0);
    });

    it('signs through Rekor v2 with a timestamp (gitseal.rekorVersion 2)', async (ctx) => {
      if (!p.tsaURL || !p.rekorV2URL) return ctx.skip(`${name} has no Rekor v2 and timestamp authority`);
      const repo = await newRepo('rekor-v2');
      const v2 = { GITSEAL_REKOR_URL: p.rekorV2URL, GITSEAL_REKOR_VERSION: '2', GITSEAL_TIMESTAMP_SERVER_URL: p.tsaURL };
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'logged in rekor v2'], v2);
      const s = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      const pieces = cmsPieces(pemToDer(s.signature));
      const e = decodeTle(pieces.tle);
      expect(e.version).toBe('0.0.2');
      expect(e.integratedTime).toBe(0n);
      expect(pieces.tst).toBeDefined();
      checkSignature(s.payload, s.signature);
      expect((await gitRun(repo, ['verify-commit', 'HEAD'])).status).toBe(0);
      // without a timestamp authority, v2 is refused before anything is sent
      const r = await gitRun(repo, ['commit', '--allow-empty', '-S', '-m', 'no tsa'], { ...v2, GITSEAL_TIMESTAMP_SERVER_URL: '', GITSEAL_LOG: join(root, 'v2-no-tsa.log') });
      expect(r.status).not.toBe(0);
      expect(readFileSync(join(root, 'v2-no-tsa.log'), 'utf8')).toContain('gitseal: Rekor v2 needs a timestamp authority');
    });

    it('signs through the signing agent, which reuses one certificate', async () => {
      const repo = await newRepo('agent');
      // A private socket for this run (its directory must be 0700); the agent is stopped again below.
      mkdirSync(join(root, 'agent-sock'), { mode: 0o700 });
      const agentEnv = { GITSEAL_AGENT: 'on', GITSEAL_AGENT_SOCK: join(root, 'agent-sock', 'a.sock') };
      try {
        await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'agent 1'], agentEnv);
        const first = splitCommit(await catFile(repo, 'commit', 'HEAD'));
        await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'agent 2'], agentEnv);
        const second = splitCommit(await catFile(repo, 'commit', 'HEAD'));
        checkSignature(first.payload, first.signature);
        checkSignature(second.payload, second.signature);
        // one certificate for both: the agent signed, not a fresh one-time key
        expect(cmsPieces(pemToDer(second.signature)).leaf.equals(cmsPieces(pemToDer(first.signature)).leaf)).toBe(true);
      } finally {
        await execFileP(GITSEAL, ['agent', 'stop'], { env: { ...env, ...agentEnv } }).catch(() => undefined);
      }
    });

    it('rides out a service that fails twice and recovers', async (ctx) => {
      if (!p.flaky) return ctx.skip(`${name} cannot inject transient faults`);
      const repo = await newRepo('flaky');
      await p.flaky('Rekor', 2);
      await git(repo, ['commit', '-q', '--allow-empty', '-S', '-m', 'despite a flaky Rekor']);
      const s = splitCommit(await catFile(repo, 'commit', 'HEAD'));
      checkSignature(s.payload, s.signature);
    });

    for (const service of ['Fulcio', 'Rekor'] as const) {
      it(`leaves no commit when ${service} fails, and keeps the message`, async () => {
        const repo = await newRepo(`down-${service}`);
        await git(repo, ['commit', '-q', '--allow-empty', '-m', 'unsigned base']);
        const head = (await git(repo, ['rev-parse', 'HEAD'])).trim();
        const broken = await p.breakService(service);
        const log = join(root, `gitseal-${service}.log`);
        let r;
        try {
          r = await gitRun(repo, ['commit', '--allow-empty', '-S', '-m', `message that must survive ${service}`], { ...broken.env, GITSEAL_LOG: log });
        } finally {
          await broken.undo();
        }
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain('gpg failed to sign the data');
        // git 2.39 does not show the program's stderr; the log file (and a terminal) get the reason
        const said = readFileSync(log, 'utf8');
        expect(said).toMatch(broken.expect);
        const token = String(env.SIGSTORE_ID_TOKEN ?? '');
        expect(said + r.stderr).not.toContain(token.split('.')[1]);
        expect((await git(repo, ['rev-parse', 'HEAD'])).trim()).toBe(head);
        expect(readFileSync(join(repo, '.git', 'COMMIT_EDITMSG'), 'utf8')).toContain(`message that must survive ${service}`);
      });
    }
  });
}

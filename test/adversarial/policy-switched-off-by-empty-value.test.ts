/**
 * An empty policy value must not turn the policy off (issue 14, item 2). In CI an unset
 * variable becomes `--certificate-identity ""`; before this was fixed that dropped the
 * configured gitseal.allowedSignersFile and then ignored the empty value, so every signer
 * passed with exit 0. Now an empty value is a usage error (exit 2, one line naming the flag or
 * key) on every path; an identity needs an issuer (and an issuer or claim an identity), as
 * cosign and gitsign require; and the policy sources combine by intersection, printed.
 * Attacker: a hostile signer (anyone with a Fulcio identity) exploiting a mis-set verifier.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/lib.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import {
  ensureBuilt,
  forgedWorld,
  GITSEAL,
  gitsealRepo,
  isolatedEnv,
  leaf,
  removeSnapshot,
  runGit,
  runGitseal,
  signedCommit,
  signWith,
  tempDir,
  type ForgedWorld,
} from './helpers.js';

const ISSUER = 'https://accounts.example.com';
const ROOT = join(__dirname, '../..');
let work: string;
let w: ForgedWorld;
let repo: string;
let env: NodeJS.ProcessEnv;
let onlyBob: string;
let alice: ReturnType<typeof leaf>;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-empty-');
  w = forgedWorld(work);
  env = isolatedEnv(join(work, 'home'), { GITSEAL_OFFLINE: 'true' });
  onlyBob = join(work, 'only-bob');
  writeFileSync(onlyBob, `bob@example.com ${ISSUER}\n`);
  // The repository's policy allows only bob; alice signs.
  repo = gitsealRepo(join(work, 'repo'), [
    ['gitseal.trustedRoot', w.trustFile],
    ['gitseal.allowedSignersFile', onlyBob],
  ]);
  alice = leaf(w, { email: 'alice@example.com' });
  signedCommit(repo, w, alice);
});
afterAll(() => removeSnapshot());

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

describe('gitseal verify: an empty flag value is a usage error naming the flag', () => {
  it('the repository policy refuses alice (the baseline)', () => {
    const r = runGitseal(repo, ['verify', 'main'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/not in the allowed signers/);
  });

  it.each([
    [['--certificate-identity', ''], '--certificate-identity'],
    [['--certificate-identity='], '--certificate-identity'],
    [['--certificate-identity-regexp', ''], '--certificate-identity-regexp'],
    [['--certificate-oidc-issuer', '', '--certificate-identity', 'alice@example.com'], '--certificate-oidc-issuer'],
    [['--certificate-oidc-issuer-regexp='], '--certificate-oidc-issuer-regexp'],
    [['--certificate-github-workflow-ref', ''], '--certificate-github-workflow-ref'],
    [['--certificate-github-workflow-repository='], '--certificate-github-workflow-repository'],
    [['--allowed-signers', ''], '--allowed-signers'],
    [['--allowed-signers='], '--allowed-signers'],
  ])('%j', (flags, name) => {
    const r = runGitseal(repo, ['verify', 'main', ...flags], env);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^gitseal: ${name} is empty`));
  });
});

describe('gitseal verify: an identity needs its issuer (as in cosign and gitsign)', () => {
  it.each([
    [['--certificate-identity', 'alice@example.com'], /--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with --certificate-identity/],
    [['--certificate-identity-regexp', '.*'], /--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with --certificate-identity-regexp/],
    [['--certificate-oidc-issuer', ISSUER], /--certificate-identity or --certificate-identity-regexp is required with --certificate-oidc-issuer/],
    [['--certificate-github-workflow-ref', 'refs/heads/main'], /--certificate-identity or --certificate-identity-regexp is required with --certificate-github-workflow-ref/],
    [['--certificate-identity-regexp', '(', '--certificate-oidc-issuer', ISSUER], /invalid regular expression for --certificate-identity-regexp/],
  ])('%j', (flags, message) => {
    const r = runGitseal(repo, ['verify', 'main', ...flags], env);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(oneLine(r.stderr)).toMatch(message);
  });
});

describe('configuration keys and environment variables', () => {
  it('an empty gitseal.allowedSignersFile / matchCommitter is a usage error naming the key', () => {
    const r1 = gitsealRepo(join(work, 'cfg-empty'), [['gitseal.trustedRoot', w.trustFile], ['gitseal.allowedSignersFile', '']]);
    signedCommit(r1, w, alice);
    const a = runGitseal(r1, ['verify', 'main'], env);
    expect(a.status, a.stdout).toBe(2);
    expect(oneLine(a.stderr)).toMatch(/^gitseal: gitseal\.allowedSignersFile \(.*config\) is set but empty/);

    const r2 = gitsealRepo(join(work, 'cfg-empty-mc'), [['gitseal.trustedRoot', w.trustFile], ['gitseal.matchCommitter', '']]);
    signedCommit(r2, w, alice);
    const b = runGitseal(r2, ['verify', 'main'], env);
    expect(b.status, b.stdout).toBe(2);
    expect(oneLine(b.stderr)).toMatch(/gitseal\.matchCommitter .* is set but empty/);
  });

  it('an empty GITSEAL_ALLOWED_SIGNERS / GITSEAL_MATCH_COMMITTER is a usage error, on gitseal verify and on git\'s path', () => {
    const open = gitsealRepo(join(work, 'env-empty'), [['gitseal.trustedRoot', w.trustFile]]);
    signedCommit(open, w, alice);
    for (const name of ['GITSEAL_ALLOWED_SIGNERS', 'GITSEAL_MATCH_COMMITTER', 'GITSIGN_MATCH_COMMITTER']) {
      const e = { ...env, [name]: '' };
      const r = runGitseal(open, ['verify', 'main'], e);
      expect(r.status, `${name}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(oneLine(r.stderr)).toMatch(new RegExp(`^gitseal: ${name} is set but empty`));
      // git verify-commit: ERRSIG, so git fails instead of reporting a good signature
      const v = runGit(open, ['verify-commit', 'main'], e);
      expect(v.status, v.stderr).not.toBe(0);
      expect(v.stderr).toMatch(new RegExp(`gitseal: signature not verified: ${name} is set but empty`));
      expect(runGit(open, ['log', '-1', '--format=%G?', 'main'], e).stdout.trim()).toBe('E');
    }
  });
});

describe('how the policy sources combine: every one applies, and gitseal verify says which', () => {
  it('identity flags narrow the configured allowed-signers file; they do not replace it', () => {
    const r = runGitseal(repo, ['verify', 'main', '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', ISSUER], env);
    expect(r.status, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/alice@example\.com from https:\/\/accounts\.example\.com is not in the allowed signers/);
    expect(r.stdout).toContain(`policy: identity alice@example.com, issuer ${ISSUER} (command line); allowed signers from ${onlyBob} (git config gitseal.allowedSignersFile)`);
  });

  it('--allowed-signers replaces the configured file, and the output says so', () => {
    const both = join(work, 'alice-and-bob');
    writeFileSync(both, `alice@example.com ${ISSUER}\nbob@example.com ${ISSUER}\n`);
    const r = runGitseal(repo, ['verify', 'main', '--allowed-signers', both], env);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`policy: allowed signers from ${both} (--allowed-signers; replaces ${onlyBob} from git config gitseal.allowedSignersFile)`);
    // and flags still narrow it: the right identity from the wrong issuer fails
    const n = runGitseal(repo, ['verify', 'main', '--allowed-signers', both, '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', 'https://other.example'], env);
    expect(n.status).toBe(1);
    expect(n.stdout).toMatch(/issuer https:\/\/accounts\.example\.com is not https:\/\/other\.example/);
  });

  it('--json says which policy applied', () => {
    const r = runGitseal(repo, ['verify', 'main', '--json'], env);
    const j = JSON.parse(r.stdout) as { policy: boolean; appliedPolicy: string[] };
    expect(j).toMatchObject({ policy: true, appliedPolicy: [`allowed signers from ${onlyBob} (git config gitseal.allowedSignersFile)`] });
  });
});

describe('the library and the pipeline', () => {
  const payload = () => Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <alice@example.com> 1 +0000\ncommitter A <alice@example.com> 1 +0000\n\nm\n');

  it.each([
    [{ certificateIdentity: '' }, /policy\.certificateIdentity is empty/],
    [{ certificateIdentity: 'alice@example.com', certificateOidcIssuer: '' }, /policy\.certificateOidcIssuer is empty/],
    [{ githubWorkflowRef: '' }, /policy\.githubWorkflowRef is empty/],
    [{ certificateIdentity: 'alice@example.com' }, /policy\.certificateOidcIssuer or policy\.certificateOidcIssuerRegexp is required/],
    [{ certificateOidcIssuer: ISSUER }, /policy\.certificateIdentity or policy\.certificateIdentityRegexp is required/],
    [{ certIdentity: 'alice@example.com' }, /unknown policy field "certIdentity"/],
    [{ matchCommitter: 'yes' }, /policy\.matchCommitter must be true or false/],
  ])('verifyPayload refuses %j', async (policy, message) => {
    const p = payload();
    const signature = signWith(w, alice, p);
    await expect(lib.verifyPayload({ payload: p, signature, trust: w.trust, policy: policy as lib.Policy })).rejects.toThrow(message);
    // the pipeline itself fails closed on such a policy: an error verdict, never "good, no policy"
    const r = await verifySignature({ signature, payload: p, trust: w.trust, policy: policy as lib.Policy, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'policy' });
  });
});

describe('the pre-receive hook', () => {
  it('an empty gitseal.allowedSignersFile on the server refuses the push (not: fall back to the branch file)', () => {
    const server = join(work, 'server.git');
    runGit(work, ['init', '-q', '--bare', server], env);
    copyFileSync(join(ROOT, 'hooks', 'pre-receive'), join(server, 'hooks', 'pre-receive'));
    chmodSync(join(server, 'hooks', 'pre-receive'), 0o755);
    for (const [k, v] of [['gitseal.hookProgram', GITSEAL], ['gitseal.trustedRoot', w.trustFile]]) runGit(server, ['config', k, v], env);
    // main on the server carries a .gitseal/allowed_signers that allows alice
    const src = gitsealRepo(join(work, 'hook-src'), [['gitseal.trustedRoot', w.trustFile]]);
    mkdirSync(join(src, '.gitseal'));
    writeFileSync(join(src, '.gitseal', 'allowed_signers'), `alice@example.com ${ISSUER}\n`);
    runGit(src, ['add', '.gitseal'], env);
    const tree = runGit(src, ['write-tree'], env).stdout.trim();
    const base = runGit(src, ['commit-tree', tree, '-m', 'policy'], { ...env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' }).stdout.trim();
    runGit(src, ['update-ref', 'refs/heads/base', base], env);
    // the server's main is that commit (fetched: no hook runs for a fetch)
    expect(runGit(server, ['fetch', '-q', src, 'refs/heads/base:refs/heads/main'], env).status).toBe(0);
    const signed = signedCommit(src, w, alice, { parent: base, branch: 'work' });
    runGit(server, ['config', 'gitseal.allowedSignersFile', ''], env);
    const r = runGit(src, ['push', server, `${signed}:refs/heads/main`], env);
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/gitseal\.allowedSignersFile is set but empty.*push refused/);
    // with the key unset, the branch's file (as it was before the push) decides: alice may push
    runGit(server, ['config', '--unset', 'gitseal.allowedSignersFile'], env);
    const ok = runGit(src, ['push', server, `${signed}:refs/heads/main`], env);
    expect(ok.status, ok.stderr).toBe(0);
  });
});

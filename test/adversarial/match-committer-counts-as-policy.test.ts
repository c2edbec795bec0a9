/**
 * matchCommitter alone is not a policy (issue 14, item 4). Anyone can get a Fulcio certificate
 * for their own e-mail and write that e-mail as the committer, so "the signer is the committer"
 * proves nothing about who is allowed. Before the fix, gitseal.matchCommitter=true alone gave
 * such a signature TRUST_FULLY (git: %G? = G) and no "any identity would have passed" warning.
 * Now it narrows a policy: checked (a mismatch is still refused), but without an identity
 * policy the verdict is TRUST_UNDEFINED (%G? = U) with the warning, on every path.
 * Attacker: a hostile signer with any Fulcio identity.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/verify/pipeline.js';
import { ensureBuilt, forgedWorld, gitsealRepo, isolatedEnv, leaf, removeSnapshot, runGit, runGitseal, signedCommit, signWith, tempDir, type ForgedWorld } from './helpers.js';

let work: string;
let w: ForgedWorld;
let repo: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-mc-');
  w = forgedWorld(work);
  env = isolatedEnv(join(work, 'home'), { GITSEAL_OFFLINE: 'true' });
  repo = gitsealRepo(join(work, 'repo'), [['gitseal.trustedRoot', w.trustFile], ['gitseal.matchCommitter', 'true']]);
  // mallory signs as herself and names herself as the committer
  signedCommit(repo, w, leaf(w, { email: 'mallory@evil.example' }), { committer: 'Mallory <mallory@evil.example>' });
  signedCommit(repo, w, leaf(w, { email: 'mallory@evil.example' }), { committer: 'Alice <alice@example.com>', branch: 'claims-alice' });
});
afterAll(() => removeSnapshot());

describe('gitseal.matchCommitter alone', () => {
  it("git's path: the signature is U (TRUST_UNDEFINED) with the warning, not G", () => {
    expect(runGit(repo, ['log', '-1', '--format=%G?', 'main'], env).stdout.trim()).toBe('U');
    const v = runGit(repo, ['verify-commit', '--raw', 'main'], env);
    expect(v.stderr).toMatch(/\[GNUPG:\] TRUST_UNDEFINED/);
    expect(v.stderr).not.toMatch(/TRUST_FULLY/);
    expect(runGit(repo, ['verify-commit', 'main'], env).stderr).toMatch(/no signer policy is configured, so any Fulcio identity would have passed \(gitseal\.matchCommitter held/);
    // with git's own minimum trust level a U signature does not pass
    expect(runGit(repo, ['-c', 'gpg.minTrustLevel=fully', 'verify-commit', 'main'], env).status).not.toBe(0);
  });

  it('still refuses a signer who is not the committer (TRUST_NEVER)', () => {
    expect(runGit(repo, ['log', '-1', '--format=%G?', 'claims-alice'], env).stdout.trim()).toBe('U');
    const v = runGit(repo, ['verify-commit', '--raw', 'claims-alice'], env);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/\[GNUPG:\] TRUST_NEVER/);
    expect(runGit(repo, ['verify-commit', 'claims-alice'], env).stderr).toMatch(/signer mallory@evil\.example is not the committer\/tagger alice@example\.com/);
  });

  it('gitseal verify: "no policy", the note, policyMatched absent in --json', () => {
    const r = runGitseal(repo, ['verify', 'main'], env);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no policy/);
    expect(r.stdout).not.toMatch(/policy ok/);
    expect(r.stderr).toMatch(/no identity policy was given: any valid Sigstore identity passes \(the committer check only narrows a policy\)/);
    const j = JSON.parse(runGitseal(repo, ['verify', 'main', '--json'], env).stdout) as { policy: boolean; results: Array<{ policyMatched?: boolean }> };
    expect(j.policy).toBe(false);
    expect(j.results[0]!.policyMatched).toBeUndefined();
    // --match-committer on the command line is the same
    const f = runGitseal(repo, ['verify', 'main', '--match-committer', '--json'], { ...env });
    expect((JSON.parse(f.stdout) as { policy: boolean }).policy).toBe(false);
  });

  it('with an identity policy it narrows it, and the verdict is G', () => {
    const allowed = join(work, 'allowed');
    writeFileSync(allowed, 'mallory@evil.example https://accounts.example.com\n');
    const e = { ...env, GITSEAL_ALLOWED_SIGNERS: allowed };
    expect(runGit(repo, ['log', '-1', '--format=%G?', 'main'], e).stdout.trim()).toBe('G');
    expect(runGit(repo, ['verify-commit', '--raw', 'claims-alice'], e).stderr).toMatch(/TRUST_NEVER/);
  });

  it('the library: policyMatched stays undefined for { matchCommitter: true }', async () => {
    const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor M <mallory@evil.example> 1 +0000\ncommitter M <mallory@evil.example> 1 +0000\n\nm\n');
    const r = await verifySignature({ signature: signWith(w, leaf(w, { email: 'mallory@evil.example' }), payload), payload, trust: w.trust, policy: { matchCommitter: true }, offline: true });
    expect(r).toMatchObject({ ok: true, kind: 'good' });
    expect(r.policyMatched).toBeUndefined();
  });
});

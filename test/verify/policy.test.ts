import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { committerEmail, evaluatePolicy, hasPolicy, parseAllowedSigners, type Policy } from '../../src/verify/policy.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { EXT, makeLeaf, makeWorld, PAYLOAD, signPayload } from './helpers/forge.js';

const CORPUS = join(__dirname, '../fixtures/gitsign-corpus');
// a real offline-mode commit: billy@chainguard.dev via https://accounts.google.com
const DIR = 'sigstore_gitsign_commit_7550db4cf96b';
const sig = readFileSync(join(CORPUS, DIR, 'signature.pem'), 'utf8');
const payload = readFileSync(join(CORPUS, DIR, 'payload.bin'));
const trust = embeddedTrustedRoot();

const run = (policy: Policy, p = payload) => verifySignature({ signature: sig, payload: p, trust, policy, offline: true });

describe('identity policy on a real signature', () => {
  test('exact identity and issuer match', async () => {
    const r = await run({ certificateIdentity: 'billy@chainguard.dev', certificateOidcIssuer: 'https://accounts.google.com' });
    expect(r).toMatchObject({ ok: true, kind: 'good', policyMatched: true });
    expect(r.policy).toContain('billy@chainguard.dev');
  });

  test('exact identity mismatch: good signature, policy not matched, not ok', async () => {
    const r = await run({ certificateIdentity: 'mallory@chainguard.dev', certificateOidcIssuer: 'https://accounts.google.com' });
    expect(r).toMatchObject({ ok: false, kind: 'good', policyMatched: false, failedCheck: 'policy', code: 'POLICY' });
    expect(r.message).toContain('billy@chainguard.dev');
  });

  test('regexp is anchored to the whole value', async () => {
    expect(await run({ certificateIdentityRegexp: '.*@chainguard\\.dev', certificateOidcIssuer: 'https://accounts.google.com' })).toMatchObject({ ok: true });
    // a prefix or substring match is not enough
    expect(await run({ certificateIdentityRegexp: 'billy', certificateOidcIssuer: 'https://accounts.google.com' })).toMatchObject({ ok: false, policyMatched: false });
    expect(await run({ certificateIdentityRegexp: 'billy@chainguard', certificateOidcIssuer: 'https://accounts.google.com' })).toMatchObject({ ok: false, policyMatched: false });
    const id = { certificateIdentity: 'billy@chainguard.dev' };
    expect(await run({ ...id, certificateOidcIssuerRegexp: 'https://accounts\\.google\\.com' })).toMatchObject({ ok: true });
    expect(await run({ ...id, certificateOidcIssuerRegexp: 'https://accounts\\.google' })).toMatchObject({ ok: false });
  });

  test('issuer mismatch fails even when the identity matches', async () => {
    const r = await run({ certificateIdentity: 'billy@chainguard.dev', certificateOidcIssuer: 'https://github.com/login/oauth' });
    expect(r).toMatchObject({ ok: false, policyMatched: false });
    expect(r.message).toMatch(/issuer https:\/\/accounts\.google\.com is not https:\/\/github\.com\/login\/oauth/);
  });

  test('matchCommitter: the committer of this commit is the signer — which narrows a policy but is none', async () => {
    expect(committerEmail(payload)).toBe('billy@chainguard.dev');
    const alone = await run({ matchCommitter: true });
    expect(alone).toMatchObject({ ok: true, kind: 'good' });
    expect(alone.policyMatched).toBeUndefined();
    expect(alone.policy).toBeUndefined();
    expect(await run({ matchCommitter: true, certificateIdentity: 'billy@chainguard.dev', certificateOidcIssuer: 'https://accounts.google.com' })).toMatchObject({ ok: true, policyMatched: true });
  });

  test('no policy: policyMatched is undefined', async () => {
    const r = await run({});
    expect(r.ok).toBe(true);
    expect(r.policyMatched).toBeUndefined();
    expect(hasPolicy({})).toBe(false);
    expect(hasPolicy({ allowedSigners: [] })).toBe(true);
  });
});

describe('allowed-signers file', () => {
  test('parses exact and re: rules, comments and blank lines', () => {
    const rules = parseAllowedSigners(
      ['# team', '', 'billy@chainguard.dev https://accounts.google.com', 're:.*@example\\.com  re:https://(a|b)\\.example', '  # end'].join('\n'),
    );
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatchObject({ identity: 'billy@chainguard.dev', issuer: 'https://accounts.google.com', line: 3 });
    expect((rules[1].identity as RegExp).test('x@example.com')).toBe(true);
    expect((rules[1].identity as RegExp).test('x@example.com.evil')).toBe(false);
  });

  test('rejects malformed lines and bad regexps with the line number', () => {
    expect(() => parseAllowedSigners('only-one-field')).toThrow(/line 1/);
    expect(() => parseAllowedSigners('\nre:( https://x')).toThrow(/line 2/);
  });

  test('on a real signature: listed signer passes, unlisted fails, issuer must match', async () => {
    expect(await run({ allowedSigners: parseAllowedSigners('billy@chainguard.dev https://accounts.google.com') })).toMatchObject({ ok: true });
    expect(await run({ allowedSigners: parseAllowedSigners('alice@chainguard.dev https://accounts.google.com') })).toMatchObject({ ok: false, policyMatched: false });
    expect(await run({ allowedSigners: parseAllowedSigners('billy@chainguard.dev https://github.com/login/oauth') })).toMatchObject({ ok: false });
    expect(await run({ allowedSigners: parseAllowedSigners('re:[a-z]+@chainguard\\.dev https://accounts.google.com') })).toMatchObject({ ok: true });
    expect(await run({ allowedSigners: [] })).toMatchObject({ ok: false, policyMatched: false });
  });
});

describe('matchCommitter and workflow claims (forged world)', () => {
  const w = makeWorld();

  test('signer e-mail differs from committer: policy fails', async () => {
    const leaf = makeLeaf(w, { email: 'mallory@example.com' });
    const r = await verifySignature({ signature: signPayload(w, leaf, PAYLOAD).pem, payload: PAYLOAD, trust: w.trust, policy: { matchCommitter: true }, offline: true });
    expect(r).toMatchObject({ ok: false, kind: 'good', policyMatched: false });
    expect(r.message).toMatch(/not the committer\/tagger alice@example.com/);
  });

  test('tagger e-mail is used for tags', () => {
    const tag = Buffer.from('object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag v1\ntagger Bob B <bob@example.com> 1 +0000\n\nmsg\n');
    expect(committerEmail(tag)).toBe('bob@example.com');
    const commitLike = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1 +0000\n\nmessage mentions <evil@x>\n');
    expect(committerEmail(commitLike)).toBe('c@x');
  });

  test('GitHub workflow claims (…1.2–1.6) are matched exactly', async () => {
    const leaf = makeLeaf(w, {
      uri: 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      extra: [EXT.raw('1.3.6.1.4.1.57264.1.2', 'push'), EXT.raw('1.3.6.1.4.1.57264.1.5', 'org/repo'), EXT.raw('1.3.6.1.4.1.57264.1.6', 'refs/heads/main')],
    });
    const s = signPayload(w, leaf, PAYLOAD).pem;
    const go = (policy: Policy) => verifySignature({ signature: s, payload: PAYLOAD, trust: w.trust, policy, offline: true });
    const who = { certificateIdentityRegexp: 'https://github\\.com/org/repo/.*', certificateOidcIssuer: 'https://token.actions.githubusercontent.com' };
    expect(await go({ ...who, githubWorkflowTrigger: 'push', githubWorkflowRepository: 'org/repo', githubWorkflowRef: 'refs/heads/main' })).toMatchObject({ ok: true });
    expect(await go({ ...who, githubWorkflowRepository: 'org/other' })).toMatchObject({ ok: false, policyMatched: false });
    expect(await go({ ...who, githubWorkflowSha: 'abc' })).toMatchObject({ ok: false, policyMatched: false });
    const r = await go(who);
    expect(r).toMatchObject({ ok: true, identity: 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main' });
  });

  test('evaluatePolicy describes what is allowed', () => {
    const out = evaluatePolicy({ certificateIdentity: 'a@b.c', certificateOidcIssuer: 'i' }, { identity: 'x@b.c', issuer: 'i', claims: {}, payload: PAYLOAD });
    expect(out).toMatchObject({ matched: false, identityPolicy: true, description: 'identity a@b.c, issuer i' });
  });
});

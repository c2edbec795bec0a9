/**
 * A policy regexp is text someone else may write: a repository's `.gitseal/allowed_signers`
 * (what the pre-receive hook reads from the pushed-to branch), a configured allowed-signers
 * file, a CI variable passed as `--certificate-identity-regexp`. On V8's backtracking engine a
 * catastrophic pattern such as `(a+)+@good\.example` against a SAN of forty `a`s never
 * returned: one line of a file hung git's `--verify` call (`git log --show-signature`),
 * `gitseal verify`, the library and the pre-receive hook (a push stalled the server).
 *
 * Now policy regexps run on V8's linear-time engine (the `l` flag, src/util/linear-regexp.ts),
 * in worker threads too; a pattern it cannot run (backreferences, lookahead) is refused with
 * one line naming it, and pattern and matched-value lengths are bounded. Work is not timed:
 * the compiled regexp is checked to be the linear kind, and every path must come back with the
 * right verdict on an input the backtracking engine would not finish.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { verifyPayload } from '../../src/lib.js';
import { isLinear } from '../../src/util/linear-regexp.js';
import { verifyRange, type ObjectResult } from '../../src/verify/batch.js';
import { evaluatePolicy, MAX_MATCHED_LENGTH, MAX_REGEXP_LENGTH, parseAllowedSigners, validatePolicy, wholeRegexp } from '../../src/verify/policy.js';
import { ROOT } from '../cli/helpers.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const ISSUER = 'https://accounts.example.com';
/** Exponential on a backtracking engine: every split of the a-run is tried before '@' fails to meet 'good'. */
const CATASTROPHIC = '(a+)+@good\\.example';
const LONG_A = `${'a'.repeat(40)}@evil.example`;

const forged = useForgedWorld('gitseal-adv-redos-');

function commitBy(email: string): { raw: Buffer; payload: Buffer; pem: string } {
  const payload = commitPayload([`author M <${email}> 1748779200 +0000`, `committer M <${email}> 1748779200 +0000`]);
  const pem = signPayload(forged.w, makeLeaf(forged.w, { email }), payload).pem;
  return { raw: signedCommit(payload, pem), payload, pem };
}

describe('policy regexps run on the linear-time engine', () => {
  test('every way a policy regexp is compiled gives a linear regexp', () => {
    expect(isLinear(wholeRegexp(CATASTROPHIC, 'identity'))).toBe(true);
    const [line] = parseAllowedSigners(`re:${CATASTROPHIC} re:https://accounts\\.example\\.(com|org)\n`);
    expect(isLinear(line.identity as RegExp)).toBe(true);
    expect(isLinear(line.issuer as RegExp)).toBe(true);
  });

  test('the catastrophic pattern returns the right answers', () => {
    const re = wholeRegexp(CATASTROPHIC, 'identity');
    expect(re.test(LONG_A)).toBe(false);
    expect(re.test(`${'a'.repeat(40)}@good.example`)).toBe(true);
    const subject = (identity: string) => ({ identity, issuer: ISSUER, claims: {}, payload: Buffer.alloc(0) });
    const p = { certificateIdentityRegexp: CATASTROPHIC, certificateOidcIssuer: ISSUER };
    expect(evaluatePolicy(p, subject(`${'a'.repeat(5000)}@evil.example`)).matched).toBe(false);
    expect(evaluatePolicy(p, subject('aaa@good.example')).matched).toBe(true);
  });

  test('patterns the linear engine cannot run are refused, naming the pattern escaped', () => {
    for (const src of ['(a)\\1@x', '(?=a)a@x', '(?!b)a@x']) {
      expect(() => wholeRegexp(src, '--certificate-identity-regexp', 'USAGE')).toThrow(/invalid regular expression for --certificate-identity-regexp: .*backreferences and lookaround are not supported/);
    }
    expect(() => wholeRegexp('\x1b(a)\\1', 'identity')).toThrow(/: \\x1B\(a\)\\1: backreferences/);
    expect(() => validatePolicy({ certificateIdentityRegexp: '(a)\\1', certificateOidcIssuer: ISSUER })).toThrow(/policy\.certificateIdentityRegexp: \(a\)\\1: backreferences/);
  });

  test('pattern length and matched length are bounded', () => {
    expect(() => wholeRegexp('a'.repeat(MAX_REGEXP_LENGTH + 1), 'identity')).toThrow(/longer than 1024 characters/);
    expect(isLinear(wholeRegexp('a'.repeat(MAX_REGEXP_LENGTH), 'identity'))).toBe(true);
    const p = { certificateIdentityRegexp: 'a+', certificateOidcIssuer: ISSUER };
    const subject = (n: number) => ({ identity: 'a'.repeat(n), issuer: ISSUER, claims: {}, payload: Buffer.alloc(0) });
    expect(evaluatePolicy(p, subject(MAX_MATCHED_LENGTH)).matched).toBe(true);
    expect(evaluatePolicy(p, subject(MAX_MATCHED_LENGTH + 1)).matched).toBe(false);
    // and a file cannot hold more than 64 KiB of regexp source in all
    const many = Array.from({ length: 70 }, () => `re:${'b'.repeat(1000)} ${ISSUER}`).join('\n');
    expect(() => parseAllowedSigners(many, 'big')).toThrow(/big line 66: more than 64 KiB of regular expressions/);
  });
});

describe('a catastrophic allowed-signers line on every path', () => {
  test('git, gitseal verify, the library and the hook all come back: the long SAN is refused, a matching one is good', async () => {
    const file = join(forged.paths.sb.dir, 'allowed_signers');
    writeFileSync(file, `re:${CATASTROPHIC} ${ISSUER}\n`);
    forged.paths.set('gitseal.allowedSignersFile', file);
    try {
      // A good signature by someone the policy does not allow: never G, refused everywhere.
      const bad = forged.paths.store(commitBy(LONG_A).raw);
      const git = forged.paths.git(bad);
      expect(git.statusLines).toMatch(/^\[GNUPG:\] TRUST_NEVER/m);
      expect(git.status).not.toBe(0);
      const cli = forged.paths.cli(bad);
      expect(cli.status).not.toBe(0);
      expect(cli.result).toMatchObject({ policyMatched: false });
      const lib = await forged.paths.lib(bad);
      expect(lib.letter).not.toBe('disagree');
      expect(lib.result).toMatchObject({ ok: false, policyMatched: false, failedCheck: 'policy' });
      expect(forged.paths.hook(bad, {}).accepted).toBe(false);

      const good = forged.paths.store(commitBy('aaaa@good.example').raw);
      expect(forged.paths.git(good).letter).toBe('G');
      expect(forged.paths.cli(good).letter).toBe('G');
      expect((await forged.paths.lib(good)).letter).toBe('G');
      expect(forged.paths.hook(good, {}).accepted).toBe(true);
    } finally {
      for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });

  test('as --certificate-identity-regexp: gitseal verify and verifyPayload come back with the right verdict', async () => {
    const c = commitBy(LONG_A);
    const oid = forged.paths.store(c.raw);
    const r = forged.paths.cli(oid, ['--certificate-identity-regexp', CATASTROPHIC, '--certificate-oidc-issuer', ISSUER]);
    expect(r.status).not.toBe(0);
    expect(r.result).toMatchObject({ policyMatched: false });
    const lib = await verifyPayload({ payload: c.payload, signature: c.pem, trust: forged.w.trust, policy: { certificateIdentityRegexp: CATASTROPHIC, certificateOidcIssuer: ISSUER } });
    expect(lib).toMatchObject({ ok: false, policyMatched: false, failedCheck: 'policy' });
  });

  test('a backreference in a flag is a usage error naming the flag and the pattern', () => {
    const oid = forged.paths.store(commitBy('a@good.example').raw);
    const r = forged.paths.cli(oid, ['--certificate-identity-regexp', '(a)\\1@good\\.example', '--certificate-oidc-issuer', ISSUER]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/invalid regular expression for --certificate-identity-regexp: \(a\)\\1@good\\\.example: backreferences and lookaround are not supported/);
  });

  test('in range verification the worker threads run the linear engine too', async () => {
    const out = join(forged.paths.sb.dir, 'worker-build');
    await build({ entryPoints: [join(ROOT, 'src/verify/worker.ts')], outdir: out, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
    const objects = [forged.paths.store(commitBy(LONG_A).raw), forged.paths.store(commitBy('aa@good.example').raw)];
    const policy = { allowedSigners: parseAllowedSigners(`re:${CATASTROPHIC} ${ISSUER}\n`) };
    const results: ObjectResult[] = [];
    for await (const r of verifyRange({ repoDir: forged.paths.repo, objects, trust: forged.w.trust, policy, offline: true, workers: 1, minForWorkers: 1, cache: false, workerUrl: pathToFileURL(join(out, 'worker.js')) })) results.push(r);
    expect(results.map((r) => r.status)).toEqual(['error', 'good']);
    expect(results.map((r) => r.result?.policyMatched)).toEqual([false, true]);
  });
});

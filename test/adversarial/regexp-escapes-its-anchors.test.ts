/**
 * Policy regular expressions must match the WHOLE identity or issuer: gitseal compiles
 * `^(?:<regexp>)$`. A regexp that is not one on its own can close that group itself:
 * `alice@example\.com)|(.*` becomes `^(?:alice@example\.com)|(.*)$`, whose second branch is
 * anchored at neither end and matches anyone — in an allowed-signers file it reads like "alice
 * only" to a reviewer and let mallory in, on git's path, `gitseal verify`, the library and the hook.
 * Now each regexp must compile by itself first; one that does not is an invalid policy (git's
 * path: ERRSIG; gitseal verify: an error; the library: it throws; the hook: refused).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyPayload } from '../../src/lib.js';
import { evaluatePolicy, parseAllowedSigners, validatePolicy, wholeRegexp } from '../../src/verify/policy.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const ISSUER = 'https://accounts.example.com';
const ESCAPE = 'alice@example\\.com)|(.*';

const forged = useForgedWorld();

function mallorysCommit(): { raw: Buffer; payload: Buffer; pem: string } {
  const payload = commitPayload(['author M <mallory@evil.example> 1748779200 +0000', 'committer M <mallory@evil.example> 1748779200 +0000']);
  const pem = signPayload(forged.w, makeLeaf(forged.w, { email: 'mallory@evil.example' }), payload).pem;
  return { raw: signedCommit(payload, pem), payload, pem };
}

describe('a regexp that closes its own anchoring group', () => {
  test('is not a regular expression gitseal accepts', () => {
    expect(() => wholeRegexp(ESCAPE, 'identity')).toThrow(/invalid regular expression/);
    expect(() => parseAllowedSigners(`re:${ESCAPE} ${ISSUER}\n`)).toThrow(/invalid regular expression/);
    expect(() => validatePolicy({ certificateIdentityRegexp: ESCAPE, certificateOidcIssuer: ISSUER })).toThrow(/invalid regular expression/);
    // what it used to allow
    expect(() => evaluatePolicy({ certificateIdentityRegexp: ESCAPE, certificateOidcIssuer: ISSUER }, { identity: 'mallory@evil.example', issuer: ISSUER, claims: {}, payload: Buffer.alloc(0) })).toThrow();
  });

  test('well-formed alternations stay whole-value matches', () => {
    const re = wholeRegexp('alice@example\\.com|bob@example\\.com', 'identity');
    expect(['alice@example.com', 'bob@example.com', 'xalice@example.com', 'bob@example.comx'].map((s) => re.test(s))).toEqual([true, true, false, false]);
    // groups still work; backreferences do not run on the linear engine (policy-regexp-backtracks-forever.test.ts)
    expect(wholeRegexp('(a|b)+@x', 'identity').test('abba@x')).toBe(true);
    expect(() => wholeRegexp('(a)\\1', 'identity')).toThrow(/backreferences and lookaround are not supported/);
  });

  test('in an allowed-signers file: refused on every path, mallory is never good', async () => {
    const file = join(forged.paths.sb.dir, 'allowed_signers');
    writeFileSync(file, `re:${ESCAPE} ${ISSUER}\n`);
    forged.paths.set('gitseal.allowedSignersFile', file);
    try {
      const c = mallorysCommit();
      const oid = forged.paths.store(c.raw);
      expect(forged.paths.git(oid).letter).toBe('E');
      const cli = forged.paths.cli(oid);
      expect(cli.status).not.toBe(0);
      expect(cli.stderr).toMatch(/invalid regular expression/);
      await expect(verifyPayload({ payload: c.payload, signature: c.pem, trust: forged.w.trust, cwd: forged.paths.repo, env: forged.paths.sb.env })).rejects.toThrow(/invalid regular expression/);
      expect(forged.paths.hook(oid, {}).accepted).toBe(false);
    } finally {
      for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });

  test('as --certificate-identity-regexp: a usage error', () => {
    const oid = forged.paths.store(mallorysCommit().raw);
    const r = forged.paths.cli(oid, ['--certificate-identity-regexp', ESCAPE, '--certificate-oidc-issuer', ISSUER]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid regular expression for --certificate-identity-regexp/);
  });
});

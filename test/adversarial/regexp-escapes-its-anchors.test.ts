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
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyPayload } from '../../src/lib.js';
import { evaluatePolicy, parseAllowedSigners, validatePolicy, wholeRegexp } from '../../src/verify/policy.js';
import { commitPayload, makeLeaf, makeWorld, signedCommit, signPayload, type World } from '../verify/helpers/forge.js';
import { AllPaths } from './helpers/paths.js';

const ISSUER = 'https://accounts.example.com';
const ESCAPE = 'alice@example\\.com)|(.*';

let w: World;
let paths: AllPaths;
beforeAll(() => {
  w = makeWorld();
  paths = new AllPaths(w.trustJson);
});
afterAll(() => paths?.cleanup());

function mallorysCommit(): { raw: Buffer; payload: Buffer; pem: string } {
  const payload = commitPayload(['author M <mallory@evil.example> 1748779200 +0000', 'committer M <mallory@evil.example> 1748779200 +0000']);
  const pem = signPayload(w, makeLeaf(w, { email: 'mallory@evil.example' }), payload).pem;
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
    const file = join(paths.sb.dir, 'allowed_signers');
    writeFileSync(file, `re:${ESCAPE} ${ISSUER}\n`);
    paths.set('gitseal.allowedSignersFile', file);
    try {
      const c = mallorysCommit();
      const oid = paths.store(c.raw);
      expect(paths.git(oid).letter).toBe('E');
      const cli = paths.cli(oid);
      expect(cli.status).not.toBe(0);
      expect(cli.stderr).toMatch(/invalid regular expression/);
      await expect(verifyPayload({ payload: c.payload, signature: c.pem, trust: w.trust, cwd: paths.repo, env: paths.sb.env })).rejects.toThrow(/invalid regular expression/);
      expect(paths.hook(oid, {}).accepted).toBe(false);
    } finally {
      for (const r of [paths.repo, paths.server]) paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });

  test('as --certificate-identity-regexp: a usage error', () => {
    const oid = paths.store(mallorysCommit().raw);
    const r = paths.cli(oid, ['--certificate-identity-regexp', ESCAPE, '--certificate-oidc-issuer', ISSUER]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid regular expression for --certificate-identity-regexp/);
  });
});

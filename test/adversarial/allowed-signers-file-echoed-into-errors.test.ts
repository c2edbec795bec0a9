/**
 * The allowed-signers file is whatever a configuration names, and a repository's config names
 * it: `gitseal.allowedSignersFile=/proc/self/environ`, or any file holding a secret, made the
 * parse error quote the offending line — `expected "<identity> <issuer>", got "GITHUB_TOKEN=…"`
 * — into `git log --show-signature`'s stderr, `gitseal verify`'s error, the library's thrown
 * message and the pre-receive hook's refusal (which a pusher reads). Now an error names the
 * file, the line number and the problem, never the line's text; a NUL byte (no text file has
 * one; /proc/self/environ is NUL-separated) is refused as such.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyPayload } from '../../src/lib.js';
import { parseAllowedSigners } from '../../src/verify/policy.js';
import { checkPolicy } from '../../src/cli/doctor-policy.js';
import type { GitsealConfig } from '../../src/config/types.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const SECRET = 'ghp_s3cr3tT0kenThatMustNeverBePrinted';
const ISSUER = 'https://accounts.example.com';

const forged = useForgedWorld('gitseal-adv-echo-');

function commit(): { raw: Buffer; payload: Buffer; pem: string } {
  const payload = commitPayload(['author A <alice@example.com> 1748779200 +0000', 'committer A <alice@example.com> 1748779200 +0000']);
  const pem = signPayload(forged.w, makeLeaf(forged.w, { email: 'alice@example.com' }), payload).pem;
  return { raw: signedCommit(payload, pem), payload, pem };
}

const files: Array<[string, string, RegExp]> = [
  ['a line with one field (an environment dump, a token file)', `alice@example.com ${ISSUER}\nTOKEN=${SECRET}\n`, /line 2: expected "<identity> <issuer>" \(two fields\), found 1/],
  ['a line with three fields', `alice@example.com ${ISSUER}\nexport TOKEN = ${SECRET}\n`, /line 2: expected "<identity> <issuer>" \(two fields\), found 4/],
  ['a bad regexp holding the secret', `re:(${SECRET} ${ISSUER}\n`, /invalid regular expression for identity on .* line 1$/m],
  ['NUL-separated variables, as /proc/self/environ', `HOME=/root\0TOKEN=${SECRET}\0`, /line 1: a NUL byte; an allowed-signers file is text/],
];

describe('an allowed-signers line never reaches an error message', () => {
  test.each(files)('parser: %s', (_name, text, reason) => {
    let message = '';
    try {
      parseAllowedSigners(text, 'F');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(reason);
    expect(message).not.toContain(SECRET);
  });

  test.each(files)('every path: %s', async (name, text, reason) => {
    const file = join(forged.paths.sb.dir, `signers-${name.replace(/\W+/g, '-')}`);
    writeFileSync(file, text);
    forged.paths.set('gitseal.allowedSignersFile', file);
    try {
      const c = commit();
      const oid = forged.paths.store(c.raw);
      const git = forged.paths.git(oid);
      expect(git.letter).toBe('E');
      expect(git.stderr).toMatch(reason);
      const cli = forged.paths.cli(oid);
      expect(cli.status).not.toBe(0);
      expect(cli.stderr).toMatch(reason);
      let lib = '';
      await verifyPayload({ payload: c.payload, signature: c.pem, trust: forged.w.trust, cwd: forged.paths.repo, env: forged.paths.sb.env }).catch((e: Error) => (lib = e.message));
      expect(lib).toMatch(reason);
      const hook = forged.paths.hook(oid, {});
      expect(hook.accepted).toBe(false);
      const cfg = { allowedSignersFile: file, sources: { allowedSignersFile: 'git config gitseal.allowedSignersFile' } } as unknown as GitsealConfig;
      const doctor = checkPolicy(cfg, forged.paths.repo);
      expect(doctor.status).toBe('fail');
      for (const out of [git.stderr, git.statusLines, cli.stdout, cli.stderr, lib, hook.stderr, JSON.stringify(doctor)]) expect(out).not.toContain(SECRET);
    } finally {
      for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], r);
    }
  });
});

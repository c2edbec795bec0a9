/**
 * In a repository whose gitseal.allowedSignersFile says only bob may sign, a commit signed by
 * mallory is refused by `git verify-commit` (NOT ALLOWED, exit 1), by `gitseal verify` and by
 * the pre-receive hook — but the library's verifyCommit and onVerify, which read the same
 * repository and its config (its trusted root included), ignored its policy and returned
 * ok: true. A program that gates on `(await verifyCommit({ dir })).ok` accepted anyone with a
 * Fulcio certificate, although README promises "onVerify and git verify-commit give the same
 * verdict on every object".
 *
 * Now the library applies the repository's policy (gitseal.allowedSignersFile,
 * gitseal.matchCommitter) together with the caller's, by the rule `gitseal verify` uses
 * (src/verify/policy-sources.ts): the caller's identity fields narrow it, the caller's
 * allowedSigners / matchCommitter replace the configured ones, and nothing configured widens
 * what the caller asked for.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { onVerify, verifyCommit, verifyPayload } from '../../src/lib.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { parseAllowedSigners } from '../../src/verify/policy.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const ISSUER = 'https://accounts.example.com';
const forged = useForgedWorld();
let signers: string;

beforeAll(() => {
  signers = join(forged.paths.sb.dir, 'allowed_signers');
  writeFileSync(signers, `bob@example.com ${ISSUER}\n`);
  forged.paths.set('gitseal.allowedSignersFile', signers);
});

function commitBy(email: string, committer = email): { raw: Buffer; payload: Buffer; pem: string } {
  const payload = commitPayload([`author X <${committer}> 1748779200 +0000`, `committer X <${committer}> 1748779200 +0000`]);
  const pem = signPayload(forged.w, makeLeaf(forged.w, { email }), payload).pem;
  return { raw: signedCommit(payload, pem), payload, pem };
}

const trust = () => parseTrustedRoot(readFileSync(forged.paths.trustFile, 'utf8'));

describe('the repository’s allowed-signers file', () => {
  test('a signer outside it: git, gitseal verify and the hook refuse — and so does the library, both ways in', async () => {
    const v = await forged.paths.all(commitBy('mallory@example.com').raw);
    expect(v.git.status).toBe(1);
    expect(v.git.stderr).toMatch(/NOT ALLOWED/);
    expect(v.cli.status).toBe(1);
    expect(v.hook.accepted).toBe(false);
    expect(v.lib.letter).not.toBe('disagree');
    for (const r of [v.lib.result, v.lib.iso]) {
      expect(r).toMatchObject({ ok: false, kind: 'good', policyMatched: false, failedCheck: 'policy', code: 'POLICY' });
      expect(r.message).toMatch(/mallory@example\.com .* is not in the allowed signers/);
    }
  });

  test('the signer it names is G on every path', async () => {
    const v = await forged.paths.all(commitBy('bob@example.com').raw);
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['G', 'G', 'G']);
    expect(v.lib.result).toMatchObject({ ok: true, policyMatched: true });
  });

  test('verifyPayload in the repository (cwd) applies it too; without a repository it is bytes only', async () => {
    const c = commitBy('mallory@example.com');
    const inRepo = await verifyPayload({ payload: c.payload, signature: c.pem, trust: trust(), cwd: forged.paths.repo, env: forged.paths.sb.env });
    expect(inRepo).toMatchObject({ ok: false, failedCheck: 'policy' });
    const bare = await verifyPayload({ payload: c.payload, signature: c.pem, trust: trust() });
    expect(bare).toMatchObject({ ok: true, kind: 'good' });
  });

  test('the caller’s identity narrows it and cannot widen it', async () => {
    const oid = forged.paths.store(commitBy('mallory@example.com').raw);
    const r = await verifyCommit({ dir: forged.paths.repo, rev: oid, trust: trust(), env: forged.paths.sb.env, policy: { certificateIdentity: 'mallory@example.com', certificateOidcIssuer: ISSUER } });
    expect(r).toMatchObject({ ok: false, policyMatched: false });
    expect(r.message).toMatch(/not in the allowed signers/);
  });

  test('the caller’s allowedSigners replace the configured file, as --allowed-signers does', async () => {
    const oid = forged.paths.store(commitBy('mallory@example.com').raw);
    const policy = { allowedSigners: parseAllowedSigners(`mallory@example.com ${ISSUER}\n`) };
    const r = await verifyCommit({ dir: forged.paths.repo, rev: oid, trust: trust(), env: forged.paths.sb.env, policy });
    expect(r).toMatchObject({ ok: true, policyMatched: true });
    const cli = forged.paths.cli(oid, ['--allowed-signers', writeSigners(`mallory@example.com ${ISSUER}\n`)]);
    expect(cli.letter).toBe('G');
  });

  test('a configured file that cannot be read is an error, not "no policy"', async () => {
    const oid = forged.paths.store(commitBy('bob@example.com').raw);
    forged.paths.set('gitseal.allowedSignersFile', join(forged.paths.sb.dir, 'missing'));
    try {
      await expect(verifyCommit({ dir: forged.paths.repo, rev: oid, trust: trust(), env: forged.paths.sb.env })).rejects.toThrow(/cannot read the allowed signers file/);
      expect(forged.paths.git(oid).letter).toBe('E');
    } finally {
      forged.paths.set('gitseal.allowedSignersFile', signers);
    }
  });
});

describe('the repository’s committer check', () => {
  test('gitseal.matchCommitter refuses a signer who is not the committer in the library as in git', async () => {
    forged.paths.set('gitseal.matchCommitter', 'true');
    try {
      const v = await forged.paths.all(commitBy('bob@example.com', 'alice@example.com').raw);
      expect(v.git.status).toBe(1);
      for (const r of [v.lib.result, v.lib.iso]) expect(r).toMatchObject({ ok: false, policyMatched: false, failedCheck: 'policy' });
      // matchCommitter: false from the caller turns it off, as --no-match-committer does.
      const r = await verifyCommit({ dir: forged.paths.repo, rev: v.oid, trust: trust(), env: forged.paths.sb.env, policy: { matchCommitter: false } });
      expect(r).toMatchObject({ ok: true, policyMatched: true });
    } finally {
      forged.paths.set('gitseal.matchCommitter', 'false');
    }
  });
});

let nSigners = 0;
function writeSigners(text: string): string {
  const f = join(forged.paths.sb.dir, `signers-${++nSigners}`);
  writeFileSync(f, text);
  return f;
}

test('onVerify loads the configuration and the allowed-signers file once, not per object', async () => {
  const fs = await import('node:fs');
  const oids = [commitBy('bob@example.com'), commitBy('mallory@example.com')].map((c) => forged.paths.store(c.raw));
  const verify = onVerify({ fs, dir: forged.paths.repo, trust: trust(), env: forged.paths.sb.env });
  const first = await verify(oids[0]);
  // The file changes after the first object: the verifier keeps the policy it started with.
  writeFileSync(signers, `mallory@example.com ${ISSUER}\n`);
  try {
    const second = await verify(oids[1]);
    expect([first.ok, second.ok]).toEqual([true, false]);
  } finally {
    writeFileSync(signers, `bob@example.com ${ISSUER}\n`);
  }
});

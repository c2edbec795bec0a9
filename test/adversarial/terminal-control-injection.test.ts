/**
 * Hostile signer (and hostile repository, hostile pusher): terminal control sequences in what
 * gitseal prints for people. A certificate the attacker shaped carries ESC (ANSI colours, OSC
 * window titles, a screen clear), CR (overwrite the line: "Good signature" over "BAD"), BEL, a
 * C1 CSI (U+009B, an 8-bit escape introducer) and bidi overrides/isolates (Trojan Source) in its
 * SAN, issuer and claims; a repository names a trusted root with ESC in the path; a pusher names
 * a branch with a bidi override. Every human-readable path must print them escaped
 * (src/util/terminal-text.ts): `gitseal verify`, `verify-tag`, `show` (text and JSON), git's
 * --verify stderr (`git log --show-signature`, `git verify-commit`), `doctor`, one-line errors,
 * and the pre-receive hook. All through the real binary and the real git.
 */
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT } from '../verify/helpers/forge.js';
import {
  ensureBuilt,
  firstUnsafe,
  forgedWorld,
  GITSEAL,
  gitsealRepo,
  isolatedEnv,
  leaf,
  otherNameLeaf,
  removeSnapshot,
  runGit,
  runGitseal,
  signedCommit,
  signedTag,
  tempDir,
  type ForgedWorld,
} from './helpers.js';

// SAN bytes as UTF-8; the certificate's rfc822Name is read as Latin-1, so U+009B (C1 CSI) arrives
// as itself and U+202E as "â\x80®" (with another C1 in it).
const EVIL_EMAIL = 'ev\x1b[31mil\r\x07\x9b\u202e@example.com';
const EVIL_ISSUER = 'https://iss\u202e\x1b]0;pwned\x07.example';
const EVIL_CLAIM = 'org/\x1b[2Jrepo';
// otherName SANs are UTF8String: a real right-to-left override and isolates in the identity.
const BIDI_IDENTITY = 'user\u202egnp.exe\u2066\u2069';
const ROOT = join(__dirname, '../..');

let work: string;
let w: ForgedWorld;
let repo: string;
let env: NodeJS.ProcessEnv;
let evil: string;
let bidi: string;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-esc-');
  w = forgedWorld(work);
  env = isolatedEnv(join(work, 'home'), { GITSEAL_OFFLINE: 'true' });
  repo = gitsealRepo(join(work, 'repo'), [['gitseal.trustedRoot', w.trustFile]]);
  const l = leaf(w, { email: EVIL_EMAIL, issuer: EVIL_ISSUER, extra: [EXT.raw('1.3.6.1.4.1.57264.1.5', EVIL_CLAIM)] });
  evil = signedCommit(repo, w, l);
  bidi = signedCommit(repo, w, otherNameLeaf(w, BIDI_IDENTITY), { branch: 'bidi', parent: evil });
  signedTag(repo, w, l, evil, 'v1');
});
afterAll(() => removeSnapshot());

/** No raw control/format code point anywhere in what a person would see. */
function expectClean(...texts: string[]): void {
  for (const t of texts) expect(firstUnsafe(t), t).toBeUndefined();
}

describe('a forged certificate full of terminal controls', () => {
  it('gitseal verify prints its identity, issuer and message escaped', () => {
    const r = runGitseal(repo, ['verify', 'main', 'bidi'], env);
    expect(r.status, r.stderr).toBe(0); // good signatures; no policy given
    expectClean(r.stdout, r.stderr);
    expect(r.stdout).toContain('ev\\x1B[31mil\\r\\x07');
    expect(r.stdout).toContain('\\x9B');
    expect(r.stdout).toContain('https://iss\\u{202E}\\x1B]0;pwned\\x07.example');
    expect(r.stdout).toContain('user\\u{202E}gnp.exe\\u{2066}\\u{2069}');

    // a failing verdict's message quotes the identity too (policy not matched)
    const allowed = join(work, 'allowed');
    writeFileSync(allowed, 'nobody@example.com https://accounts.example.com\n');
    const f = runGitseal(repo, ['verify', 'main', '--allowed-signers', allowed], env);
    expect(f.status).toBe(1);
    expectClean(f.stdout, f.stderr);
    expect(f.stdout).toMatch(/not in the allowed signers/);
  });

  it('gitseal verify-tag prints it escaped', () => {
    const r = runGitseal(repo, ['verify-tag', 'v1'], env);
    expect(r.status, r.stderr).toBe(0);
    expectClean(r.stdout, r.stderr);
    expect(r.stdout).toContain('ev\\x1B[31mil');
  });

  it('gitseal show prints it escaped, and --json keeps the value while escaping C1 and bidi', () => {
    const r = runGitseal(repo, ['show', 'main'], env);
    expect(r.status, r.stderr).toBe(0);
    expectClean(r.stdout, r.stderr);
    expect(r.stdout).toContain('org/\\x1B[2Jrepo');

    for (const args of [['show', 'bidi', '--json'], ['show', 'main', '--format=json'], ['show', 'main', '--format=in-toto'], ['verify', 'bidi', '--json']]) {
      const j = runGitseal(repo, args, env);
      expect(j.status, j.stderr).toBe(0);
      expectClean(j.stdout.replace(/\n/g, ''), j.stderr);
      JSON.parse(j.stdout); // still JSON
    }
    const parsed = JSON.parse(runGitseal(repo, ['show', 'bidi', '--json'], env).stdout) as { certificate: { identity: string } };
    expect(parsed.certificate.identity).toBe(BIDI_IDENTITY); // the value, not its escape
  });

  it("git's --verify path (git log --show-signature, git verify-commit) prints it escaped", () => {
    const log = runGit(repo, ['log', '--show-signature', '-1', 'main'], env);
    expect(log.status, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/gitseal: Good signature from/);
    expectClean(log.stdout, log.stderr);
    expect(log.stdout).toContain('ev\\x1B[31mil');

    const vc = runGit(repo, ['verify-commit', 'bidi'], env);
    expect(vc.status).toBe(0);
    expectClean(vc.stdout, vc.stderr);
    expect(vc.stderr).toContain('user\\u{202E}gnp.exe');
  });

  it('one-line errors escape names given on the command line or read from a repository', () => {
    const r = runGitseal(repo, ['verify', 'no-such\u202e\x1b[1m'], env);
    expect(r.status).toBe(2);
    expectClean(r.stdout, r.stderr);
    expect(r.stderr).toMatch(/^gitseal: .*no-such\\u\{202E\}\\x1B\[1m/);
  });

  it('gitseal doctor escapes configuration values a repository sets', () => {
    const hostile = gitsealRepo(join(work, 'doctor-repo'), [['gitseal.trustedRoot', join(work, 'x\x1b]0;pwned\x07', 'root.json')]]);
    const r = runGitseal(hostile, ['doctor', '--offline'], env);
    expect(r.stdout).toMatch(/trusted root/);
    expectClean(r.stdout, r.stderr);
    expect(r.stdout).toContain('x\\x1B]0;pwned\\x07');
  });
});

describe('the pre-receive hook', () => {
  it('prints a pushed ref name and the refused signer escaped', () => {
    const server = join(work, 'server.git');
    runGit(work, ['init', '-q', '--bare', server], env);
    copyFileSync(join(ROOT, 'hooks', 'pre-receive'), join(server, 'hooks', 'pre-receive'));
    chmodSync(join(server, 'hooks', 'pre-receive'), 0o755);
    const allowed = join(work, 'server-allowed');
    writeFileSync(allowed, 'nobody@example.com https://accounts.example.com\n');
    for (const [k, v] of [['gitseal.hookProgram', GITSEAL], ['gitseal.trustedRoot', w.trustFile], ['gitseal.allowedSignersFile', allowed]]) {
      expect(runGit(server, ['config', k, v], env).status).toBe(0);
    }
    const r = runGit(repo, ['push', server, 'main:refs/heads/caf\u202e\u2067'], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/push refused/);
    expect(r.stderr).toContain('refs/heads/caf\\xE2\\x80\\xAE\\xE2\\x81\\xA7');
    expect(r.stderr).toContain('ev\\x1B[31mil');
    expectClean(r.stdout, r.stderr.split('\n').filter((l) => !l.startsWith(' ! [remote rejected]') && !l.startsWith('To ')).join('\n'));
  });
});

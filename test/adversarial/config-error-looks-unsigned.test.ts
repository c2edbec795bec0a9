/**
 * A configuration gitseal cannot use must not look like "no signature" to git (issue 14,
 * item 13). Before the fix a missing or malformed allowed-signers file, a bad regular
 * expression or an unreadable trusted root made `gitseal --verify` exit without a status line,
 * which git shows as %G? = N — the same as an unsigned commit, so a policy typo silently
 * disabled `git log --format=%G?` checks. Now git gets ERRSIG (%G? = E) and stderr one line
 * saying why. Attacker: a hostile repository or signer counting on a broken verifier to look
 * harmless; the guarantee is that a broken policy fails loudly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, forgedWorld, gitsealRepo, isolatedEnv, leaf, removeSnapshot, runGit, signedCommit, tempDir, type ForgedWorld } from './helpers.js';

let work: string;
let w: ForgedWorld;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-adv-errsig-');
  w = forgedWorld(work);
  env = isolatedEnv(join(work, 'home'), { GITSEAL_OFFLINE: 'true' });
});
afterAll(() => removeSnapshot());

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

const cases: Array<[string, () => Array<[string, string]>, RegExp]> = [
  ['a missing allowed-signers file', () => [['gitseal.allowedSignersFile', join(work, 'no-such-file')]], /cannot read the allowed signers file .*no-such-file .*no such file or directory/],
  ['a malformed allowed-signers file', () => [['gitseal.allowedSignersFile', file('malformed', 'alice@example.com\n')]], /malformed line 1: expected "<identity> <issuer>"/],
  ['a bad regular expression in it', () => [['gitseal.allowedSignersFile', file('bad-re', 're:( https://accounts.example.com\n')]], /invalid regular expression for identity on .*bad-re line 1/],
  ['an endless allowed-signers file (read bounded, not to the end)', () => [['gitseal.allowedSignersFile', '/dev/zero']], /allowed signers file \/dev\/zero .* is larger than 1 MiB/],
  ['a directory as the allowed-signers file', () => [['gitseal.allowedSignersFile', work]], /cannot read the allowed signers file .*is a directory/],
  ['an unreadable trusted root', () => [['gitseal.trustedRoot', join(work, 'no-root.json')]], /no-root\.json/],
  ['a trusted root that is not JSON', () => [['gitseal.trustedRoot', file('root.json', '{ not json')]], /root\.json/],
  ['a bad configuration value', () => [['gitseal.rekorVersion', '7']], /gitseal\.rekorVersion must be 1 or 2/],
];

describe("config errors on git's verify path are ERRSIG, with one line saying why", () => {
  it.each(cases)('%s', (name, config, reason) => {
    const repo = gitsealRepo(join(work, name.replace(/\W+/g, '-')), [['gitseal.trustedRoot', w.trustFile], ...config()]);
    signedCommit(repo, w, leaf(w, { email: 'alice@example.com' }));
    expect(runGit(repo, ['log', '-1', '--format=%G?', 'main'], env).stdout.trim()).toBe('E');
    const raw = runGit(repo, ['verify-commit', '--raw', 'main'], env);
    expect(raw.status).not.toBe(0);
    expect(raw.stderr).toMatch(/^\[GNUPG:\] ERRSIG /m);
    const v = runGit(repo, ['verify-commit', 'main'], env);
    expect(v.status).not.toBe(0);
    const lines = v.stderr.split('\n').filter((l) => l.startsWith('gitseal:'));
    expect(lines, v.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^gitseal: signature not verified: /);
    expect(lines[0]).toMatch(reason);
  });

  it('the same repository with the configuration fixed verifies (the signature itself is good)', () => {
    const repo = gitsealRepo(join(work, 'fixed'), [['gitseal.trustedRoot', w.trustFile], ['gitseal.allowedSignersFile', file('ok', 'alice@example.com https://accounts.example.com\n')]]);
    signedCommit(repo, w, leaf(w, { email: 'alice@example.com' }));
    expect(runGit(repo, ['log', '-1', '--format=%G?', 'main'], env).stdout.trim()).toBe('G');
  });
});

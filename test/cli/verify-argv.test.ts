/**
 * The fast entry's argument parser for `gitseal verify` (src/cli/verify-argv.ts) against oclif's,
 * on the command's own flag definitions: for every command line it takes, the flags and
 * revisions equal oclif's; what it declines, oclif decides (and there the usage errors are).
 */
import { Flags, Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import Verify, { argsAsTyped } from '../../src/cli/commands/verify.js';
import { parseVerifyArgv, VERIFY_FLAGS } from '../../src/cli/verify-argv.js';

/** What `gitseal verify` gets from oclif: its flags plus --json (enableJsonFlag). */
const oclifFlags = { ...Verify.flags, json: Flags.boolean({}) };

async function viaOclif(argv: string[]): Promise<{ revs: string[]; flags: Record<string, unknown> } | { error: string }> {
  try {
    const r = await Parser.parse(argv, { flags: oclifFlags, args: Verify.args, strict: Verify.strict });
    // As Verify.run reads them: in the order typed (oclif's argv regroups repeated tokens).
    const given = argsAsTyped(r.raw);
    const flags = r.flags as Record<string, unknown>;
    return { revs: flags.all ? [...given, '--all'] : given.length ? given : ['HEAD'], flags };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const TAKEN: string[][] = [
  [],
  ['HEAD'],
  ['HEAD', 'main', 'v1.0'],
  ['main~20..main'],
  ['--all'],
  ['--all', 'main'],
  ['--offline'],
  ['--no-offline'],
  ['--no-cache', '--json'],
  ['--json-lines', '--jobs', '0'],
  ['--jobs=03', '--all'],
  ['--jobs', '256'],
  ['--offline', '--', '--max-count=5', 'main'],
  ['a', '--', 'b', '--json'],
  ['--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer=https://accounts.google.com'],
  ['--certificate-identity=a=b', 'HEAD'],
  ['--certificate-identity-regexp', '.*@example\\.com', '--certificate-oidc-issuer-regexp', 'https://.*'],
  ['--certificate-github-workflow-trigger', 'push', '--certificate-github-workflow-sha', 'abc', '--certificate-github-workflow-name', 'n', '--certificate-github-workflow-repository', 'o/r', '--certificate-github-workflow-ref', 'refs/heads/main'],
  ['--allowed-signers', 'signers.txt', '--match-committer'],
  ['--no-match-committer', '--insecure-ignore-sct'],
  ['HEAD', '--json', 'main'],
  ['A', 'B', 'A'],
  ['--', 'c3', '--not', 'c2', 'c3'],
  ['--certificate-identity', 'x', 'x'],
];

const DECLINED: string[][] = [
  ['--help'],
  ['-h'],
  ['HEAD', '--help'],
  ['--first-parent', 'main'],
  ['--offline', '--offline'],
  ['--certificate-identity', 'a', '--certificate-identity', 'b'],
  ['--certificate-identity'],
  ['--certificate-identity='],
  ['--certificate-identity', '-x'],
  ['--certificate-identity', '--offline'],
  ['--jobs', '-1'],
  ['--jobs', '257'],
  ['--jobs', 'two'],
  ['--jobs', '1.5'],
  ['--all=true'],
  ['--offline=false'],
  ['--no-all'],
  ['--no-json'],
  ['--json', '--json-lines'],
  ['-'],
  ['--cache=false'],
  ['--json-line'],
  ['a', '--', 'b', '--', '--json'],
  ['--', '--'],
];

describe('gitseal verify: the fast argument parser', () => {
  it('knows exactly the flags the command defines, each with the same kind', () => {
    expect(Object.keys(VERIFY_FLAGS).sort()).toEqual(Object.keys(oclifFlags).sort());
    for (const [name, kind] of Object.entries(VERIFY_FLAGS)) {
      const f = oclifFlags[name as keyof typeof oclifFlags] as { type: string; allowNo?: boolean };
      expect({ name, type: f.type, allowNo: f.allowNo === true }).toEqual({
        name,
        type: kind === 'string' || kind === 'integer' ? 'option' : 'boolean',
        allowNo: kind === 'negatable',
      });
    }
  });

  it.each(TAKEN.map((a) => [a.join(' ') || '(nothing)', a]))('takes %s as oclif does', async (_, argv) => {
    const fast = parseVerifyArgv(argv as string[], {});
    expect(fast).toBeDefined();
    const slow = await viaOclif(argv as string[]);
    expect(slow).not.toHaveProperty('error');
    expect({ revs: fast!.revs, flags: fast!.flags }).toEqual(slow);
    const passThrough = argv.indexOf('--');
    expect(fast!.json).toBe(argv.includes('--json') && (passThrough === -1 || argv.indexOf('--json') < passThrough));
  });

  it.each(DECLINED.map((a) => [a.join(' '), a]))('leaves %s to oclif', (_, argv) => {
    expect(parseVerifyArgv(argv as string[], {})).toBeUndefined();
  });

  it('leaves every call to oclif while GITSEAL_CONTENT_TYPE is set (oclif reads it as --json)', () => {
    expect(parseVerifyArgv(['HEAD'], { GITSEAL_CONTENT_TYPE: 'json' })).toBeUndefined();
    expect(parseVerifyArgv(['HEAD'], { GITSEAL_CONTENT_TYPE: '' })).toBeUndefined();
  });
});

/** The gpg-style argv parser, on the exact argument lists git and gpg users pass. */
import { describe, expect, it } from 'vitest';
import { parseGpgArgs } from '../../src/gpg/args.js';
import { GitsealError } from '../../src/errors.js';

describe('parseGpgArgs', () => {
  it("parses git's sign call (--status-fd=2 -bsau KEY)", () => {
    const a = parseGpgArgs(['--status-fd=2', '-bsau', 'Dev <dev@example.test>']);
    expect(a).toMatchObject({ mode: 'sign', statusFd: 2, detach: true, armor: true, localUser: 'Dev <dev@example.test>', notes: [] });
    expect(a.payloadFile).toBeUndefined();
  });

  it("parses git's verify call (--status-fd=1 --verify FILE -)", () => {
    const a = parseGpgArgs(['--status-fd=1', '--verify', '/tmp/.git_vtag_tmpAbc', '-']);
    expect(a).toMatchObject({ mode: 'verify', statusFd: 1, signatureFile: '/tmp/.git_vtag_tmpAbc', dataFile: '-' });
  });

  it('accepts separate values, long names and aliases', () => {
    expect(parseGpgArgs(['--status-fd', '5', '--sign', '--detached-sign', '--armor', '--local-user', 'K'])).toMatchObject({
      mode: 'sign',
      statusFd: 5,
      detach: true,
      armor: true,
      localUser: 'K',
    });
    expect(parseGpgArgs(['--detach-sign', '-a', 'payload.txt'])).toMatchObject({ mode: 'sign', detach: true, payloadFile: 'payload.txt' });
    expect(parseGpgArgs(['-bsauKEY'])).toMatchObject({ mode: 'sign', localUser: 'KEY' });
    expect(parseGpgArgs(['-v', 'sig.pem', 'data.bin'])).toMatchObject({ mode: 'verify', signatureFile: 'sig.pem', dataFile: 'data.bin' });
    expect(parseGpgArgs(['--verify', 'sig.pem']).dataFile).toBeUndefined();
    expect(parseGpgArgs(['--status-fd=-1', '-s']).statusFd).toBe(-1);
  });

  it('accepts --include-certs and skips unknown gpg options with a note', () => {
    const a = parseGpgArgs(['--keyid-format=long', '--include-certs', '-2', '--status-fd=1', '--keyid-format', 'long', '--verify', 'sig', '-', '-q']);
    expect(a.mode).toBe('verify');
    expect(a.includeCerts).toBe(-2);
    expect(a.signatureFile).toBe('sig');
    expect(a.dataFile).toBe('-');
    expect(a.notes).toEqual(['ignoring unsupported option --keyid-format', 'ignoring unsupported option --keyid-format', 'ignoring unsupported option -q']);
  });

  it('treats everything after -- as files', () => {
    expect(parseGpgArgs(['-bsa', '--', '-odd-name'])).toMatchObject({ mode: 'sign', payloadFile: '-odd-name' });
  });

  it('rejects contradictions and missing values', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--status-fd'], /--status-fd needs a value/],
      [['--status-fd=x', '-s'], /needs a number/],
      [['-s', '--verify', 'f'], /cannot sign and verify/],
      [['--verify'], /needs a signature file/],
      [['--verify', 'a', 'b', 'c'], /at most one data file/],
      [['-bsa', 'a', 'b'], /at most one payload file/],
      [['-u'], /-u needs a key/],
    ];
    for (const [argv, re] of bad) {
      expect(() => parseGpgArgs(argv)).toThrow(GitsealError);
      expect(() => parseGpgArgs(argv)).toThrow(re);
    }
  });

  it('reports no mode for a bare status fd and the version flag', () => {
    expect(parseGpgArgs(['--status-fd=2']).mode).toBe('none');
    expect(parseGpgArgs(['--version']).mode).toBe('version');
  });
});

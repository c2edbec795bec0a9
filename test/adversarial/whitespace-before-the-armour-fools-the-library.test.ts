/**
 * git decides what a commit signature is by the armour line it STARTS with
 * (gpg-interface.c get_format_by_sig): a gpgsig header whose value begins with a space or a
 * blank line before "-----BEGIN SIGNED MESSAGE-----" is no x509 signature to git — `git
 * verify-commit` dies ("bad/incompatible signature"), `gitseal verify` and the pre-receive hook
 * refused it — but the library's verifyCommit and onVerify handed it to verifyPayload, whose PEM
 * reader allows whitespace around the block, and said GOOD. One object, a good verdict from the
 * library only: a program trusting gitseal's library accepted what git and the hook refuse.
 */
import { describe, expect, test } from 'vitest';
import { signatureKind } from '../../src/git/object.js';
import { makeLeaf, PAYLOAD, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const forged = useForgedWorld();

/** A commit whose gpgsig header value is `lead` followed by a genuine gitsign-layout signature. */
function commitWithLead(lead: string, pem = signPayload(forged.w, makeLeaf(forged.w), PAYLOAD).pem): Buffer {
  const text = PAYLOAD.toString('latin1');
  const end = text.indexOf('\n\n');
  const lines = (lead + pem).replace(/\n$/, '').split('\n');
  const header = lines.map((l, i) => (i === 0 ? `gpgsig ${l}` : ` ${l}`)).join('\n') + '\n';
  return Buffer.from(text.slice(0, end + 1) + header + text.slice(end + 1), 'latin1');
}

describe('a signature that does not start with the x509 armour line', () => {
  test('the genuine signature is good on every path (control)', async () => {
    const v = await forged.paths.all(commitWithLead(''));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['U', 'U', 'U']);
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });

  for (const [what, lead] of [
    ['a space', ' '],
    ['a blank line', '\n'],
  ] as const) {
    test(`${what} before the armour: git refuses, and so do gitseal verify, the library and the hook`, async () => {
      const v = await forged.paths.all(commitWithLead(lead));
      expect(v.git.status).not.toBe(0);
      expect(v.git.stderr).toMatch(/bad\/incompatible signature/);
      expect(v.cli.letter).toBe('E');
      expect(v.lib.letter).toBe('E'); // verifyCommit and onVerify agree (else 'disagree')
      expect(v.lib.result).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_CMS' });
      expect(v.lib.result.message).toMatch(/not a gitsign\/x509 signature \(unknown\)/);
      expect(v.hook.accepted).toBe(false);
    });
  }

  test('the kinds are told apart as git tells them', () => {
    expect(signatureKind(Buffer.from('-----BEGIN SIGNED MESSAGE-----\n'))).toBe('x509');
    expect(signatureKind(Buffer.from(' -----BEGIN SIGNED MESSAGE-----\n'))).toBe('unknown');
    expect(signatureKind(Buffer.from('\n-----BEGIN SIGNED MESSAGE-----\n'))).toBe('unknown');
    expect(signatureKind(Buffer.from('-----BEGIN PGP SIGNATURE-----\n'))).toBe('openpgp');
    expect(signatureKind(Buffer.from('-----BEGIN PGP MESSAGE-----\n'))).toBe('openpgp');
    expect(signatureKind(Buffer.from('-----BEGIN SSH SIGNATURE-----\n'))).toBe('ssh');
    expect(signatureKind(Buffer.from([0x30, 0x82, 0x06, 0x27]))).toBe('unknown'); // raw DER
  });
});

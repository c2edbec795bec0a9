/**
 * checkSigningChain (src/sign/credential.ts): what Fulcio hands back is checked before any
 * signature is made with it — the leaf must hold our key, chain to the trusted root by key and
 * carry an SCT from a trusted CT log. A hostile or confused server (or a network in between)
 * cannot make gitseal sign under a certificate for another key or from another CA.
 */
import { describe, expect, it } from 'vitest';
import { checkSigningChain } from '../../src/sign/credential.js';
import { ecKey, makeLeaf, makeWorld } from '../verify/helpers/forge.js';

const w = makeWorld();
const at = new Date('2025-06-01T12:01:00Z');

function refusal(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('accepted');
}

describe('checkSigningChain', () => {
  it('accepts a chain for our key from the trusted CA, and names its identity', () => {
    const leaf = makeLeaf(w, { email: 'dev@example.test' });
    expect(checkSigningChain([leaf.der, w.interCert], w.trust, at, leaf.key.spki)).toMatchObject({ identity: 'dev@example.test', issuer: 'https://accounts.example.com' });
  });

  it('refuses a certificate for a different key', () => {
    const leaf = makeLeaf(w);
    const r = refusal(() => checkSigningChain([leaf.der, w.interCert], w.trust, at, ecKey().spki));
    expect(r).toMatchObject({ code: 'FULCIO', message: 'Fulcio returned a certificate for a different key' });
  });

  it('refuses a certificate from a CA the trusted root does not list', () => {
    const other = makeWorld();
    const leaf = makeLeaf(other);
    const r = refusal(() => checkSigningChain([leaf.der, other.interCert], w.trust, at, leaf.key.spki));
    expect(r.code).toBe('CHAIN');
    expect(r.message).toMatch(/^Fulcio returned a certificate that does not check out against the trusted root: /);
  });

  it('refuses a certificate whose SCT is not from a trusted CT log', () => {
    const leaf = makeLeaf(w, { ctKey: ecKey() });
    const r = refusal(() => checkSigningChain([leaf.der, w.interCert], w.trust, at, leaf.key.spki));
    expect(r.message).toMatch(/^Fulcio returned a certificate that does not check out against the trusted root: .*SCT/i);
  });

  it('refuses an empty answer', () => {
    expect(refusal(() => checkSigningChain([], w.trust, at))).toMatchObject({ code: 'FULCIO', message: 'Fulcio returned no certificate' });
  });
});

import { describe, expect, it } from 'vitest';
import { parseDer } from '../../src/util/der.js';
import { challengeClaimFor, ClaimError, identityFromClaims, sanExtension } from '../../packages/sandbox/src/fulcio/leaf-profile.js';
import { openssl } from './fulcio-helpers.js';

const ISS = 'http://127.0.0.1:5556/op';
const oids = (id: ReturnType<typeof identityFromClaims>) => id.extensions.map((e) => e.oid.split('.').pop());

describe('Fulcio leaf profile from token claims', () => {
  it('e-mail issuers: rfc822Name SAN, issuer as raw .1 and UTF8String .8, proof over the e-mail', () => {
    const id = identityFromClaims('email', { iss: ISS, sub: 'opaque-123', email: 'dev@example.test', email_verified: true });
    expect(id.san).toEqual({ type: 'email', value: 'dev@example.test' });
    expect(id.challenge).toBe('dev@example.test');
    expect(challengeClaimFor('email')).toBe('email');
    expect(oids(id)).toEqual(['1', '8']);
    expect(id.extensions[0].value.toString()).toBe(ISS);
    const v2 = parseDer(id.extensions[1].value);
    expect([v2.tag, v2.value.toString()]).toEqual([0x0c, ISS]);
    // openssl decodes the SAN extension value as one critical-ready GeneralNames entry.
    const san = sanExtension(id);
    expect(san.critical).toBe(true);
    expect(openssl(['asn1parse', '-inform', 'DER'], san.value)).toMatch(/cons: SEQUENCE[\s\S]*prim: cont \[ 1 \]/);
  });

  it('e-mail issuers need a verified e-mail claim', () => {
    expect(() => identityFromClaims('email', { iss: ISS, sub: 's', email: 'a@b.test' })).toThrow(ClaimError);
    expect(() => identityFromClaims('email', { iss: ISS, sub: 's', email: 'a@b.test', email_verified: 'true' })).toThrow(/not verified/);
    expect(() => identityFromClaims('email', { iss: ISS, sub: 's', email_verified: true })).toThrow(/no "email" claim/);
    expect(() => identityFromClaims('email', { sub: 's', email: 'a@b.test', email_verified: true })).toThrow(/no "iss" claim/);
  });

  it('uri issuers: URI SAN = sub, optionally pinned to the subject domain, proof over sub', () => {
    const id = identityFromClaims('uri', { iss: ISS, sub: 'https://ci.example.test/builds/7' });
    expect(id.san).toEqual({ type: 'uri', value: 'https://ci.example.test/builds/7' });
    expect(id.challenge).toBe('https://ci.example.test/builds/7');
    expect(challengeClaimFor('uri')).toBe('sub');
    expect(identityFromClaims('uri', { iss: ISS, sub: 'https://ci.example.test/x' }, { subjectDomain: 'ci.example.test' }).san.value).toBe(
      'https://ci.example.test/x',
    );
    expect(() => identityFromClaims('uri', { iss: ISS, sub: 'https://evil.test/x' }, { subjectDomain: 'ci.example.test' })).toThrow(/subject domain/);
    expect(() => identityFromClaims('uri', { iss: ISS, sub: 'not a uri' })).toThrow(/not a URI/);
  });

  it('github-workflow issuers: extensions only for the claims that exist, in OID order', () => {
    const minimal = identityFromClaims('github-workflow', { iss: ISS, sub: 'repo:o/r:ref:refs/heads/main', job_workflow_ref: 'o/r/.github/workflows/w.yml@refs/heads/main' });
    expect(minimal.san).toEqual({ type: 'uri', value: 'https://github.com/o/r/.github/workflows/w.yml@refs/heads/main' });
    expect(minimal.challenge).toBe('repo:o/r:ref:refs/heads/main');
    expect(oids(minimal)).toEqual(['1', '8', '9', '24']);
    const full = identityFromClaims('github-workflow', {
      iss: ISS,
      sub: 'repo:o/r:environment:prod',
      job_workflow_ref: 'o/r/.github/workflows/w.yml@refs/tags/v1',
      server_url: 'https://ghe.example.test/',
      environment: 'prod',
      run_id: 42,
      run_attempt: '2',
      repository: 'o/r',
      event_name: 'release',
    });
    expect(full.san.value).toBe('https://ghe.example.test/o/r/.github/workflows/w.yml@refs/tags/v1');
    expect(oids(full)).toEqual(['1', '2', '5', '8', '9', '12', '20', '21', '23', '24']);
    const byOid = Object.fromEntries(full.extensions.map((e) => [e.oid.split('.').pop(), e.value]));
    expect(parseDer(byOid['21']).value.toString()).toBe('https://ghe.example.test/o/r/actions/runs/42/attempts/2');
    expect(parseDer(byOid['23']).value.toString()).toBe('prod');
    expect(byOid['2'].toString()).toBe('release');
    expect(() => identityFromClaims('github-workflow', { iss: ISS, sub: 'x' })).toThrow(/job_workflow_ref/);
  });
});

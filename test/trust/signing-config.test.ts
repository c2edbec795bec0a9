import { describe, expect, it } from 'vitest';
import { parseSigningConfig, selectServices } from '../../src/trust/signing-config.js';

// Shape of the public-good signing_config.v0.2.json (sigstore/root-signing).
const publicGood = {
  mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
  caUrls: [{ url: 'https://fulcio.sigstore.dev', majorApiVersion: 1, validFor: { start: '2022-04-13T20:06:15.000Z' }, operator: 'sigstore.dev' }],
  oidcUrls: [{ url: 'https://oauth2.sigstore.dev/auth', majorApiVersion: 1, validFor: { start: '2022-04-13T20:06:15.000Z' }, operator: 'sigstore.dev' }],
  rekorTlogUrls: [
    { url: 'https://log2025-1.rekor.sigstore.dev', majorApiVersion: 2, validFor: { start: '2025-10-06T00:00:00Z' }, operator: 'sigstore.dev' },
    { url: 'https://rekor.sigstore.dev', majorApiVersion: 1, validFor: { start: '2021-01-12T11:53:27.000Z' }, operator: 'sigstore.dev' },
  ],
  tsaUrls: [{ url: 'https://timestamp.sigstore.dev/api/v1/timestamp', majorApiVersion: 1, validFor: { start: '2025-07-04T00:00:00Z' }, operator: 'sigstore.dev' }],
  rekorTlogConfig: { selector: 'ANY' },
  tsaConfig: { selector: 'ANY' },
};

describe('signing config', () => {
  const sc = parseSigningConfig(JSON.stringify(publicGood));

  it('prefers the highest supported Rekor version valid now', () => {
    const s = selectServices(sc, new Date('2026-11-01T00:00:00Z'));
    expect(s.rekor).toEqual({ url: 'https://log2025-1.rekor.sigstore.dev', version: 2 });
    expect(s.fulcioURL).toBe('https://fulcio.sigstore.dev');
    expect(s.issuer).toBe('https://oauth2.sigstore.dev/auth');
    expect(s.tsaURL).toBe('https://timestamp.sigstore.dev/api/v1/timestamp');
  });

  it('falls back to v1 before the v2 log starts, and when pinned to v1', () => {
    expect(selectServices(sc, new Date('2025-01-01T00:00:00Z')).rekor).toEqual({ url: 'https://rekor.sigstore.dev', version: 1 });
    expect(selectServices(sc, new Date('2026-11-01T00:00:00Z'), 1).rekor?.version).toBe(1);
  });

  it('ignores services outside their validity window', () => {
    const ended = parseSigningConfig(JSON.stringify({ ...publicGood, caUrls: [{ ...publicGood.caUrls[0], validFor: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }] }));
    expect(selectServices(ended, new Date('2026-01-01T00:00:00Z')).fulcioURL).toBeUndefined();
  });

  it('rejects malformed files with a clear message', () => {
    expect(() => parseSigningConfig('{')).toThrow(/signing config: not valid JSON/);
    expect(() => parseSigningConfig(JSON.stringify({ mediaType: 'x' }))).toThrow(/unsupported mediaType/);
    expect(() => parseSigningConfig(JSON.stringify({ caUrls: [{ url: 'ftp://x' }] }))).toThrow(/http\(s\) URL/);
  });
});

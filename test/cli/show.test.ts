import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers.js';

/** Real gitsign-signed objects (see test/fixtures/gitsign-corpus/README.md). */
const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');

interface Meta {
  oid: string;
  type: 'commit' | 'tag';
  signer_identity: string;
  oidc_issuer: string;
  has_embedded_tlog: boolean;
}

const entries = readdirSync(CORPUS)
  .filter((d) => /^sigstore_/.test(d))
  .map((d) => ({ dir: join(CORPUS, d), meta: JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as Meta }))
  .filter((e) => e.meta.signer_identity);
const sample = [
  ...entries.filter((e) => e.meta.type === 'commit' && e.meta.has_embedded_tlog).slice(0, 2),
  ...entries.filter((e) => e.meta.type === 'commit' && !e.meta.has_embedded_tlog).slice(0, 1),
  ...entries.filter((e) => e.meta.type === 'tag').slice(0, 1),
];

const sb = new Sandbox();
let repo: string;
beforeAll(() => {
  repo = sb.repo('show');
  for (const e of sample) {
    const oid = sb.git(['hash-object', '-t', e.meta.type, '-w', '--literally', join(e.dir, 'object.raw')], repo).trim();
    expect(oid).toBe(e.meta.oid);
  }
  sb.git(['remote', 'add', 'origin', 'https://example.test/org/repo.git'], repo);
});
afterAll(() => sb.cleanup());

describe('gitseal show', () => {
  it.each(sample.map((e) => [e.meta.oid.slice(0, 12), e] as const))('%s: identity, issuer and log entry as in the corpus', (_n, e) => {
    const r = sb.gitseal(['show', e.meta.oid, '--json'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.oid).toBe(e.meta.oid);
    expect(j.type).toBe(e.meta.type);
    expect(j.signed).toBe(true);
    expect(j.certificate.identity).toBe(e.meta.signer_identity);
    expect(j.certificate.oidcIssuer).toBe(e.meta.oidc_issuer);
    expect(j.certificate.pem).toBe(readFileSync(join(e.dir, 'leaf.pem'), 'utf8'));
    expect(j.messageDigestMatches).toBe(true);
    expect(j.tlog !== null).toBe(e.meta.has_embedded_tlog);
    if (e.meta.has_embedded_tlog) expect(j.tlog.kind).toBe('hashedrekord 0.0.1');

    const t = sb.gitseal(['show', e.meta.oid], { cwd: repo });
    expect(t.status).toBe(0);
    expect(t.stdout).toContain(e.meta.signer_identity);
    expect(t.stdout).toContain(e.meta.oidc_issuer);
    expect(t.stdout).toContain(e.meta.has_embedded_tlog ? `Log index:  ${j.tlog?.logIndex}` : 'no log entry embedded');
    expect(t.stdout).toContain('Not verified');
  });

  it('an unsigned commit says so; a missing revision is a usage error', () => {
    const r2 = sb.repo('show-unsigned');
    sb.git(['commit', '-q', '--allow-empty', '-m', 'unsigned'], r2);
    const r = sb.gitseal(['show', '--json'], { cwd: r2 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ signed: false, certificate: null, tlog: null });
    expect(sb.gitseal(['show'], { cwd: r2 }).stdout).toContain('not signed');
    const m = sb.gitseal(['show', 'nope'], { cwd: r2 });
    expect(m.status).toBe(2);
    expect(m.stderr).toBe('gitseal: no such revision: "nope"\n');
  });
});

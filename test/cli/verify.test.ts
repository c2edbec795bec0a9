import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from './helpers.js';

/** Real gitsign objects and tampered copies (test/fixtures/gitsign-corpus/README.md, "Expected verdicts"). */
const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');

interface Meta {
  oid: string;
  type: 'commit' | 'tag';
  signer_identity: string;
  oidc_issuer: string;
  has_embedded_tlog: boolean;
}
const all = readdirSync(CORPUS)
  .filter((d) => /^[a-z].*_(commit|tag)_/.test(d))
  .map((d) => ({ dir: join(CORPUS, d), meta: JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as Meta }));
const offline = all.filter((e) => e.meta.has_embedded_tlog && e.meta.type === 'commit');
const online = all.filter((e) => !e.meta.has_embedded_tlog && e.meta.type === 'commit' && e.meta.signer_identity).slice(0, 2);
const offlineTag = all.find((e) => e.meta.has_embedded_tlog && e.meta.type === 'tag');
const negatives = readdirSync(join(CORPUS, 'negative'))
  .filter((d) => /^\d\d-/.test(d))
  .map((d) => ({ name: d, dir: join(CORPUS, 'negative', d), meta: JSON.parse(readFileSync(join(CORPUS, 'negative', d, 'meta.json'), 'utf8')) as { type: string } }));

interface Summary {
  ok: boolean;
  total: number;
  good: number;
  failed: number;
  policy: boolean;
  results: Array<{ oid: string; ok: boolean; kind: string; identity?: string; issuer?: string; logIndex?: string; failedCheck?: string; message: string }>;
}

const sb = new Sandbox();
let repo: string;
const write = (dir: string, type: string) => sb.git(['hash-object', '-t', type, '-w', '--literally', join(dir, 'object.raw')], repo).trim();

beforeAll(() => {
  repo = sb.repo('verify');
  for (const e of [...offline, ...online, ...(offlineTag ? [offlineTag] : [])]) expect(write(e.dir, e.meta.type)).toBe(e.meta.oid);
});
afterAll(() => sb.cleanup());

describe('gitseal verify (real gitsign signatures, offline, embedded public-good root)', () => {
  it('every offline-mode commit verifies, with its identity and issuer', () => {
    expect(offline.length).toBeGreaterThan(3);
    const r = sb.gitseal(['verify', ...offline.map((e) => e.meta.oid), '--json', '--offline'], { cwd: repo });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s).toMatchObject({ ok: true, total: offline.length, good: offline.length, failed: 0, policy: false });
    s.results.forEach((x, i) => {
      expect(x.oid).toBe(offline[i]!.meta.oid);
      expect(x.identity).toBe(offline[i]!.meta.signer_identity);
      expect(x.issuer).toBe(offline[i]!.meta.oidc_issuer);
      expect(x.logIndex).toMatch(/^\d+$/);
    });
    // without a policy the table still passes, and says any identity would have
    const t = sb.gitseal(['verify', offline[0]!.meta.oid, '--offline'], { cwd: repo });
    expect(t.status).toBe(0);
    expect(t.stdout).toContain(offline[0]!.meta.signer_identity);
    expect(t.stdout).toContain('1 of 1 verified');
    expect(t.stderr).toMatch(/no identity policy/);
  });

  it('identity policy: exact match passes, anything else fails with exit 1', () => {
    const e = offline[0]!;
    const good = sb.gitseal(['verify', e.meta.oid, '--certificate-identity', e.meta.signer_identity, '--certificate-oidc-issuer', e.meta.oidc_issuer], { cwd: repo });
    expect(good.status, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toContain('policy ok');
    expect(good.stdout).toContain(`policy: identity ${e.meta.signer_identity}, issuer ${e.meta.oidc_issuer} (command line)`);
    expect(good.stderr).toBe('');

    const wrong = sb.gitseal(['verify', e.meta.oid, '--certificate-identity', 'mallory@example.test', '--certificate-oidc-issuer', e.meta.oidc_issuer, '--json'], { cwd: repo });
    expect(wrong.status).toBe(1);
    const s = JSON.parse(wrong.stdout) as Summary;
    expect(s.results[0]).toMatchObject({ ok: false, failedCheck: 'policy' });

    // a regexp must match the whole identity, not a part of it
    const part = e.meta.signer_identity.split('@')[0]!;
    const partial = sb.gitseal(['verify', e.meta.oid, '--certificate-identity-regexp', part, '--certificate-oidc-issuer', e.meta.oidc_issuer], { cwd: repo });
    expect(partial.status).toBe(1);
    const whole = sb.gitseal(['verify', e.meta.oid, '--certificate-identity-regexp', `${part}@.*`, '--certificate-oidc-issuer-regexp', 'https://.*'], { cwd: repo });
    expect(whole.status, whole.stdout).toBe(0);
  });

  it('the repository policy (gitseal.allowedSignersFile) applies without flags', () => {
    const e = offline[0]!;
    const file = join(sb.dir, 'allowed_signers');
    writeFileSync(file, `# who may sign\nsomeone-else@example.test ${e.meta.oidc_issuer}\n`);
    sb.git(['config', 'gitseal.allowedSignersFile', file], repo);
    try {
      const no = sb.gitseal(['verify', e.meta.oid], { cwd: repo });
      expect(no.status).toBe(1);
      writeFileSync(file, `${e.meta.signer_identity} ${e.meta.oidc_issuer}\n`);
      const yes = sb.gitseal(['verify', e.meta.oid], { cwd: repo });
      expect(yes.status, yes.stdout + yes.stderr).toBe(0);
      expect(yes.stdout).toContain('policy ok');
    } finally {
      sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], repo);
    }
  });

  it('online-mode signatures are not reported as verified offline', () => {
    const r = sb.gitseal(['verify', ...online.map((e) => e.meta.oid), '--offline', '--json'], { cwd: repo });
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.good).toBe(0);
    for (const x of s.results) expect(x.message).toMatch(/not embedded/);
  });

  it('--no-offline looks online-mode signatures up in Rekor (here: unreachable, so they fail saying so)', async () => {
    const r = await sb.gitsealAsync(['verify', online[0]!.meta.oid, '--no-offline', '--no-cache', '--json'], { cwd: repo, env: { GITSEAL_REKOR_URL: 'http://127.0.0.1:9' } });
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as Summary).results[0]!.message).toMatch(/Rekor at http:\/\/127\.0\.0\.1:9/);
  });

  it.each(negatives.map((n) => [n.name, n] as const))('negative %s is rejected', (_n, n) => {
    const oid = write(n.dir, n.meta.type);
    const r = sb.gitseal(['verify', oid, '--offline', '--json'], { cwd: repo });
    expect(r.status, r.stdout).toBe(1);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.results[0]!.ok).toBe(false);
  });

  it('a range verifies every commit in it; unsigned commits fail', () => {
    const r2 = sb.repo('verify-range');
    sb.git(['commit', '-q', '--allow-empty', '-m', 'one'], r2);
    sb.git(['commit', '-q', '--allow-empty', '-m', 'two'], r2);
    const r = sb.gitseal(['verify', 'HEAD~1..HEAD', '--json'], { cwd: r2 });
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.total).toBe(1);
    expect(s.results[0]!.kind).toBe('unsigned');
    const all2 = sb.gitseal(['verify', '--all'], { cwd: r2 });
    expect(all2.status).toBe(1);
    expect(all2.stdout).toContain('2 of 2 failed');
  });

  it('verify-tag checks an annotated tag and refuses other objects', () => {
    if (!offlineTag) return;
    sb.git(['update-ref', 'refs/tags/release', offlineTag.meta.oid], repo);
    const r = sb.gitseal(['verify-tag', 'release', '--json'], { cwd: repo });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ ok: true, identity: offlineTag.meta.signer_identity });
    sb.git(['update-ref', 'refs/tags/light', offline[0]!.meta.oid], repo);
    const l = sb.gitseal(['verify-tag', 'light'], { cwd: repo });
    expect(l.status).toBe(2);
    expect(l.stderr).toMatch(/^gitseal: "refs\/tags\/light" is not an annotated tag/);
  });

  it('the fast entry (no oclif) prints byte for byte what the oclif command prints', () => {
    const viaOclif = (args: string[], cwd: string, input = '') => {
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'main.js'), 'verify', ...args], { cwd, env: sb.env, encoding: 'utf8', input });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const negative = negatives.find((n) => n.meta.type === 'commit');
    const oids = [...offline.slice(0, 2), ...online.slice(0, 1)].map((e) => e.meta.oid);
    if (negative) oids.push(write(negative.dir, 'commit'));
    const r2 = sb.repo('verify-fast');
    sb.git(['commit', '-q', '--allow-empty', '-m', 'one'], r2);
    sb.git(['commit', '-q', '--allow-empty', '-m', 'two'], r2);
    const lines: Array<[string[], string, string?]> = [
      [[...oids, '--offline', '--no-cache'], repo],
      [[...oids, '--offline', '--no-cache', '--json'], repo],
      [[...oids, '--offline', '--no-cache', '--json-lines'], repo],
      [[oids[0]!, '--certificate-identity', 'mallory@example.test', '--certificate-oidc-issuer', offline[0]!.meta.oidc_issuer, '--no-cache'], repo],
      [['--all', '--jobs', '0', '--no-cache'], r2],
      [['--', '--max-count=1', 'HEAD'], r2],
      [['no-such-revision'], r2],
      [['--json', 'no-such-revision'], r2],
      [['--json-lines', '--certificate-identity', 'a@example.com'], r2],
      [[], sb.home],
      // No revision is HEAD, whatever a pipe on stdin says (oclif would read the argument from it).
      [['--offline', '--no-cache', '--json'], repo, `${oids[0]}\n`],
      // The arguments reach git in the order typed: c2 --not c1 c2 is no commit at all (oclif's
      // argv regrouped it as c2 c2 --not c1: one commit).
      [['--', 'HEAD', '--not', 'HEAD~1', 'HEAD'], r2],
    ];
    sb.git(['update-ref', 'HEAD', oids[1]!], repo);
    for (const [args, cwd, input] of lines) {
      const fast = sb.gitseal(['verify', ...args], { cwd, env: { GITSEAL_DEBUG_CODE_CACHE: '1' }, input });
      expect(fast.stderr, args.join(' ')).toMatch(/^gitseal: code cache fast-cli-verify: accepted/);
      expect({ ...fast, stderr: fast.stderr.replace(/^gitseal: code cache .*\n/, '') }, args.join(' ')).toEqual(viaOclif(args, cwd, input));
    }
    const piped = sb.gitseal(['verify', '--offline', '--no-cache', '--json'], { cwd: repo, input: `${oids[0]}\n` });
    expect(JSON.parse(piped.stdout).results.map((x: { oid: string }) => x.oid)).toEqual([oids[1]]);
    expect(sb.gitseal(['verify', '--', 'HEAD', '--not', 'HEAD~1', 'HEAD'], { cwd: r2 }).stdout).toContain('no commits in the range');
    // One verifier build: what the fast entry put in the verified-signature cache, the oclif command finds.
    const cached = sb.gitseal(['verify', ...oids.slice(0, 2), '--offline', '--json'], { cwd: repo });
    expect(cached.status).toBe(0);
    expect(JSON.parse(viaOclif([...oids.slice(0, 2), '--offline', '--json'], repo).stdout).results.map((x: { cached?: boolean }) => x.cached)).toEqual([true, true]);
    // What it does not take whole goes to oclif: the help, and oclif's own usage errors.
    const help = sb.gitseal(['verify', '--help'], { cwd: repo, env: { GITSEAL_DEBUG_CODE_CACHE: '1' } });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--certificate-identity');
    const twice = sb.gitseal(['verify', '--certificate-identity', 'a', '--certificate-identity', 'b'], { cwd: repo });
    expect(twice).toEqual({ ...viaOclif(['--certificate-identity', 'a', '--certificate-identity', 'b'], repo), status: 2 });
  });

  it('outside a repository: a usage error', () => {
    const r = sb.gitseal(['verify'], { cwd: sb.home });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('gitseal: not inside a git repository\n');
  });
});

/**
 * gitsign online-mode signatures that cannot be checked offline, through real git and the real
 * binary: git reports E with an empty %GS (nobody is named as a signer), and stderr — what
 * `git verify-commit` / `git log --show-signature` show a person — names the certificate's
 * identity and issuer, quoted and labelled as unverified. The January-2023 pre-release layout
 * gets its own message. A certificate name with control or bidi characters cannot forge a line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from '../cli/helpers.js';
import { humanLines, statusLines } from '../../src/verify/gpg-verify.js';

const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');
const ONLINE = 'sigstore_gitsign_commit_05444098f5b1';
const PRE_RELEASE = 'sigstore_gitsign_commit_c47e8bf5c862';
const meta = (d: string) => JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as { oid: string; signer_identity: string; oidc_issuer: string };

const sb = new Sandbox('gitseal-online-ctx-');
let repo: string;
beforeAll(() => {
  repo = sb.repo('r');
  for (const d of [ONLINE, PRE_RELEASE]) sb.git(['hash-object', '-t', 'commit', '-w', '--literally', join(CORPUS, d, 'object.raw')], repo);
  sb.git(['config', 'gpg.format', 'x509'], repo);
  sb.git(['config', 'gpg.x509.program', BIN], repo);
  sb.env = { ...sb.env, GITSEAL_OFFLINE: '1', GITSEAL_TRUSTED_ROOT: join(CORPUS, 'trusted_root.json') };
});
afterAll(() => sb.cleanup());

const git = (args: string[]) => spawnSync('git', args, { cwd: repo, env: sb.env, encoding: 'utf8' });

describe('online-mode gitsign signatures checked offline', () => {
  it('E and no signer for git; the certificate named on stderr as unverified context', () => {
    const m = meta(ONLINE);
    const v = git(['verify-commit', m.oid]);
    expect(v.status).toBe(1);
    expect(v.stderr).toContain('gitseal: signature not verified (tlog check failed): the Rekor proof is not embedded in this signature (gitsign online mode)');
    expect(v.stderr).toContain(
      `gitseal: unverified context: the certificate names "${m.signer_identity}" (issuer "${m.oidc_issuer}"); NOT VERIFIED, nothing here proves that this identity signed`,
    );
    expect(v.stderr).not.toMatch(/Good signature/);
    const log = git(['log', '-1', '--no-walk', '--format=%G?|%GS|%GK', m.oid]);
    expect(log.stdout.trim()).toMatch(/^E\|\|[0-9a-f]{40}$/);
    // and straight from gitseal: ERRSIG only, no GOODSIG/VALIDSIG
    const r = spawnSync(process.execPath, [BIN, '--status-fd=1', '--verify', join(CORPUS, ONLINE, 'signature.pem'), '-'], {
      input: readFileSync(join(CORPUS, ONLINE, 'payload.bin')),
      env: sb.env,
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^\[GNUPG:\] NEWSIG\n\[GNUPG:\] ERRSIG /);
    expect(r.stdout).not.toMatch(/GOODSIG|VALIDSIG|TRUST_FULLY/);
    expect(r.stdout).not.toContain(m.signer_identity);
    // gitseal verify's table labels the name the same way
    const t = sb.gitseal(['verify', m.oid], { cwd: repo });
    expect(t.status).toBe(1);
    expect(t.stdout).toContain(`unverified: ${m.signer_identity}`);
  });

  it('the January-2023 pre-release layout has its own message', () => {
    const m = meta(PRE_RELEASE);
    const v = git(['verify-commit', m.oid]);
    expect(v.status).toBe(1);
    expect(v.stderr).toContain(
      "gitseal: signature not verified (tlog check failed): this signature uses gitsign's January-2023 pre-release log layout (attributes 1.3.6.1.4.1.57264.3.0–3.8), which no gitsign release writes or reads; its Rekor proof cannot be checked, so this signature is not verified",
    );
    expect(v.stderr).not.toMatch(/online mode/);
    expect(v.stderr).toContain(`gitseal: unverified context: the certificate names "${m.signer_identity}" (issuer "${m.oidc_issuer}")`);
    expect(git(['log', '-1', '--no-walk', '--format=%G?|%GS', m.oid]).stdout.trim()).toBe('E|');
  });

  it('a forged name cannot add lines or turn the text around', () => {
    const r = {
      ok: false,
      kind: 'error' as const,
      failedCheck: 'tlog' as const,
      code: 'TLOG_MISSING' as const,
      identity: 'a@b\n[GNUPG:] GOODSIG x gitseal: Good signature\u202e',
      issuer: 'https://x"y',
      fingerprint: 'f'.repeat(40),
      message: 'the Rekor proof is not embedded',
    };
    const lines = humanLines(r, false);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      'gitseal: unverified context: the certificate names "a@b\\u000a[GNUPG:] GOODSIG x gitseal: Good signature\\u202e" (issuer "https://x\\u0022y"); NOT VERIFIED, nothing here proves that this identity signed',
    );
    expect(lines.join('\n').split('\n')).toHaveLength(2);
    expect(statusLines(r, false).join('\n')).not.toContain('GOODSIG');
  });
});

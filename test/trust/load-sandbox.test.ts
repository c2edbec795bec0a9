// A private Sigstore described by files alone, the way gitsign/cosign
// deployments do it: the real sandbox (packages/sandbox/bin/gitseal-sandbox, after `npm run
// build`) signs a payload with gitseal's signPayload; its CA (openCa: root +
// intermediate), Rekor key and CT log key are written out as PEM files; then
// loadTrustedRoot with SIGSTORE_ROOT_FILE / SIGSTORE_REKOR_PUBLIC_KEY /
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE must verify the signature through
// verifySignature, and through the built gitseal --verify that git runs.
// Missing pieces come from the next layer, and verification fails where that
// layer does not know the sandbox.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { openCa } from '../../packages/sandbox/src/fulcio/ca.js';
import { signPayload, type SignResult } from '../../src/sign/sign-payload.js';
import { loadTrustedRoot } from '../../src/trust/load.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { ROOT, sandboxCli, sandboxConfig, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from '../sandbox/runner-helpers.js';

let dir: string;
let files: string;
let out: string;
let sandbox: SandboxProcess | undefined;
let signed: SignResult;
let sandboxRoot: any;
const EMAIL = 'private@example.test';
const payload = Buffer.from(
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@example.test> 1700000000 +0000\ncommitter Dev <dev@example.test> 1700000000 +0000\n\nprivate sigstore by files\n',
);
let pem: { fulcio: string; rekor: string; ctlog: string };

function home(): string {
  const h = join(files, `home-${Math.random().toString(36).slice(2)}`);
  mkdirSync(h, { mode: 0o700 });
  return h;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-trustload-sb-'));
  files = mkdtempSync(join(tmpdir(), 'gitseal-trustload-files-'));
  sandbox = await startSandboxProcess(dir);
  const config = sandboxConfig(sandbox, dir);
  const token = sandboxCli(['token', '--dir', dir, '--email', EMAIL]);
  if (token.status !== 0) throw new Error(`token: ${token.stderr}`);
  signed = await signPayload(payload, { config, tokenSource: async () => toIdentityToken(token.stdout.trim(), 'sandbox'), ui: { say: () => {} }, env: {} });

  // What an operator hands out for a private instance: PEM files.
  sandboxRoot = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
  const ca = openCa({ dir });
  const rekorV1 = sandboxRoot.tlogs.find((t: any) => t.publicKey.keyDetails === 'PKIX_ECDSA_P256_SHA_256');
  pem = {
    fulcio: join(files, 'fulcio-chain.pem'),
    rekor: join(files, 'rekor.pub'),
    ctlog: join(files, 'ctfe.pub'),
  };
  writeFileSync(pem.fulcio, encodePem('CERTIFICATE', ca.intermediate) + encodePem('CERTIFICATE', ca.root), { mode: 0o600 });
  writeFileSync(pem.rekor, encodePem('PUBLIC KEY', Buffer.from(rekorV1.publicKey.rawBytes, 'base64')), { mode: 0o600 });
  writeFileSync(pem.ctlog, encodePem('PUBLIC KEY', Buffer.from(sandboxRoot.ctlogs[0].publicKey.rawBytes, 'base64')), { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await stopSandboxProcess(dir, sandbox);
  rmSync(dir, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
  if (out) rmSync(out, { recursive: true, force: true });
});

const allThree = () => ({ SIGSTORE_ROOT_FILE: pem.fulcio, SIGSTORE_REKOR_PUBLIC_KEY: pem.rekor, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: pem.ctlog });

describe('a private Sigstore from PEM files (gitsign/cosign variable names)', () => {
  it('the sandbox CA bundle, Rekor key and CT key verify a sandbox-made signature', async () => {
    const t = loadTrustedRoot({ env: { HOME: home(), ...allThree() } });
    expect(t.layer).toBe('overrides');
    expect(t.source).toBe(
      `SIGSTORE_ROOT_FILE ${pem.fulcio} (Fulcio CAs), SIGSTORE_REKOR_PUBLIC_KEY ${pem.rekor} (Rekor keys), SIGSTORE_CT_LOG_PUBLIC_KEY_FILE ${pem.ctlog} (CT log keys); timestamp authorities from the embedded public-good root`,
    );
    expect(t.root.certificateAuthorities.map((c) => c.certChain.length)).toEqual([2]);
    expect(t.root.tlogs[0].logId.toString('base64')).toBe(sandboxRoot.tlogs[0].logId.keyId);
    expect(t.root.ctlogs[0].logId.toString('base64')).toBe(sandboxRoot.ctlogs[0].logId.keyId);
    const r = await verifySignature({ signature: signed.pem, payload, trust: t.root, offline: true });
    expect(r.message).toMatch(new RegExp(`good signature from ${EMAIL.replace('.', '\\.')}`));
    expect(r.ok).toBe(true);
    expect(r.identity).toBe(EMAIL);
  });

  it('the CA bundle alone: the logs come from the public-good root, which does not know the sandbox log', async () => {
    const t = loadTrustedRoot({ env: { HOME: home(), SIGSTORE_ROOT_FILE: pem.fulcio } });
    expect(t.source).toMatch(/from the embedded public-good root$/);
    const r = await verifySignature({ signature: signed.pem, payload, trust: t.root, offline: true });
    expect(r.ok).toBe(false);
    // The Rekor keys are public-good ones: the log entry (checked first, it gives the time) is unknown.
    expect(r.failedCheck).toBe('tlog');
  });

  it('the CA bundle on top of a TUF cache that lacks the CA: merged, it verifies; the cache alone does not', async () => {
    const h = home();
    const cache = join(h, '.cache', 'gitseal');
    mkdirSync(cache, { recursive: true, mode: 0o700 });
    writeFileSync(join(cache, 'trusted_root.json'), JSON.stringify({ ...sandboxRoot, certificateAuthorities: [] }), { mode: 0o600 });
    const merged = loadTrustedRoot({ env: { HOME: h, GITSIGN_FULCIO_ROOT: pem.fulcio } });
    expect(merged.source).toMatch(/^GITSIGN_FULCIO_ROOT .* \(Fulcio CAs\); Rekor keys, CT log keys, timestamp authorities from the TUF cache ~\/\.cache\/gitseal\/trusted_root\.json \(refreshed /);
    const good = await verifySignature({ signature: signed.pem, payload, trust: merged.root, offline: true });
    expect(good.ok).toBe(true);
    const cacheOnly = loadTrustedRoot({ env: { HOME: h } });
    expect(cacheOnly.layer).toBe('cache');
    const bad = await verifySignature({ signature: signed.pem, payload, trust: cacheOnly.root, offline: true });
    expect(bad.ok).toBe(false);
    expect(bad.failedCheck).toBe('chain');
  });

  it('with no configuration the public-good root is used and the sandbox signature is rejected', async () => {
    const t = loadTrustedRoot({ env: { HOME: home() } });
    expect(t.layer).toBe('embedded');
    const r = await verifySignature({ signature: signed.pem, payload, trust: t.root, offline: true });
    expect(r.ok).toBe(false);
    expect(r.failedCheck).toBe('tlog');
  });
});

describe('the built gitseal --verify (what git runs) honours the same files', () => {
  beforeAll(() => {
    // The real build script, into a private directory (dist/ belongs to everyone).
    out = mkdtempSync(join(tmpdir(), 'gitseal-trustload-build-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: { ...process.env, GITSEAL_OUTDIR: out } });
  }, 120_000);

  function gitsealVerify(extra: Record<string, string>) {
    const sig = join(files, 'sig.pem');
    writeFileSync(sig, signed.pem);
    const h = home();
    return spawnSync(process.execPath, [join(out, 'main.js'), '--status-fd=1', '--verify', sig, '-'], {
      input: payload,
      env: { PATH: process.env.PATH, HOME: h, GIT_CONFIG_NOSYSTEM: '1', GITSEAL_OFFLINE: 'true', ...extra },
      cwd: h,
      encoding: 'utf8',
    });
  }

  it('GOODSIG with the three PEM files', () => {
    const r = gitsealVerify(allThree());
    expect(r.status, r.stderr).toBe(0);
    expect('\n' + r.stdout).toMatch(/\n\[GNUPG:\] GOODSIG [0-9a-f]{40} /);
  });

  it('a missing configured file is a one-line error, not a fallback to public-good', () => {
    const r = gitsealVerify({ ...allThree(), SIGSTORE_REKOR_PUBLIC_KEY: join(files, 'nope.pub') });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toMatch(/GOODSIG/);
    // git gets ERRSIG (%G? E), and the one line says why
    expect('\n' + r.stdout).toMatch(/\n\[GNUPG:\] ERRSIG /);
    expect(r.stderr).toContain(`gitseal: signature not verified: cannot read the Rekor keys file ${join(files, 'nope.pub')} (SIGSTORE_REKOR_PUBLIC_KEY): no such file or directory\n`);
  });
});

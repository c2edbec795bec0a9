/**
 * git's --verify contract, end to end with the real git binary: a small
 * program around runGpgVerify is bundled with esbuild and configured as
 * gpg.x509.program; git parses its status lines into %G?, %GK, %GS, %GF, %GP, %GT.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, test } from 'vitest';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { runGpgVerify, statusLines } from '../../src/verify/gpg-verify.js';
import { parseAllowedSigners } from '../../src/verify/policy.js';
import { needs } from '../helpers/tools.js';

const CORPUS = resolve(__dirname, '../fixtures/gitsign-corpus');
const SRC = resolve(__dirname, '../../src');
const OFFLINE_COMMIT = 'sigstore_gitsign_commit_7550db4cf96b';
const OFFLINE_TAG = 'sigstore_gitsign_tag_138f9d7cb309';
const ONLINE_COMMIT = 'sigstore_policy-controller_commit_2f70e8b093b5';

let dir: string;
let repo: string;
let program: string;

const ENTRY = `
import { readFileSync } from 'node:fs';
import { runGpgVerify } from ${JSON.stringify(join(SRC, 'verify/gpg-verify.ts'))};
import { parseAllowedSigners } from ${JSON.stringify(join(SRC, 'verify/policy.ts'))};
import { embeddedTrustedRoot } from ${JSON.stringify(join(SRC, 'trust/embedded.ts'))};
const args = process.argv.slice(2);
if (!args.includes('--status-fd=1')) { process.stderr.write('unexpected args ' + args.join(' ') + '\\n'); process.exit(2); }
const sigfile = args[args.indexOf('--verify') + 1];
const pf = process.env.TEST_ALLOWED_SIGNERS;
const policy = pf ? { allowedSigners: parseAllowedSigners(readFileSync(pf, 'utf8')) } : undefined;
process.exitCode = await runGpgVerify({
  sigfile, payload: readFileSync(0), trust: embeddedTrustedRoot(), policy, offline: true,
  statusOut: (l) => process.stdout.write(l + '\\n'), humanOut: (l) => process.stderr.write(l + '\\n'),
});
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-gpgverify-'));
  const out = join(dir, 'verify.mjs');
  const res = await build({
    stdin: { contents: ENTRY, resolveDir: SRC, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile: out,
    metafile: true,
    logLevel: 'silent',
  });
  // Hot path: nothing from node_modules may be bundled or imported.
  expect(Object.keys(res.metafile.inputs).filter((f) => f.includes('node_modules'))).toEqual([]);
  const imports = res.metafile.outputs[Object.keys(res.metafile.outputs)[0]].imports.map((i) => i.path);
  expect(imports.every((p) => p.startsWith('node:'))).toBe(true);
  program = join(dir, 'gitseal-verify');
  writeFileSync(program, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(out)} "$@"\n`);
  chmodSync(program, 0o755);
  repo = join(dir, 'repo');
  execFileSync('git', ['init', '-q', repo]);
  for (const d of [OFFLINE_COMMIT, ONLINE_COMMIT, 'negative/01-commit-payload-byte-flip', 'negative/11-real-non-fulcio-smime-commit']) {
    execFileSync('git', ['-C', repo, 'hash-object', '-t', 'commit', '-w', join(CORPUS, d, 'object.raw')]);
  }
  execFileSync('git', ['-C', repo, 'hash-object', '-t', 'tag', '-w', join(CORPUS, OFFLINE_TAG, 'object.raw')]);
});

function oidOf(d: string): string {
  return execFileSync('git', ['hash-object', '-t', d.includes('_tag_') ? 'tag' : 'commit', join(CORPUS, d, 'object.raw')]).toString().trim();
}

function git(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('git', ['-C', repo, '-c', `gpg.x509.program=${program}`, ...args], { env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** %G?|%GK|%GS|%GF|%GP|%GT as git computes them. */
function fmt(oid: string, env: Record<string, string> = {}): string[] {
  // rev-list does not read gpg.* config; log --no-walk does, and needs neither parents nor trees.
  const out = git(['log', '--no-walk', '--format=%G?|%GK|%GS|%GF|%GP|%GT', oid], env).stdout.trim();
  return out.split('|');
}

function policyFile(text: string): string {
  const f = join(dir, `allowed-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, text);
  return f;
}

const fpr = (d: string) => execFileSync('openssl', ['x509', '-in', join(CORPUS, d, 'leaf.pem'), '-noout', '-fingerprint', '-sha1']).toString().split('=')[1].trim().replace(/:/g, '').toLowerCase();

needs('openssl').describe('git verify-commit / verify-tag with the real git binary', () => {
  test('good signature, no policy: accepted with TRUST_UNDEFINED and a warning', () => {
    const oid = oidOf(OFFLINE_COMMIT);
    const v = git(['verify-commit', oid]);
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/Good signature from billy@chainguard.dev \(issuer https:\/\/accounts.google.com\)/);
    expect(v.stderr).toMatch(/Rekor log index \d+, integrated time 20/);
    expect(v.stderr).toMatch(/any Fulcio identity would have passed.*gitseal.allowedSignersFile/);
    const f = fpr(OFFLINE_COMMIT);
    expect(fmt(oid)).toEqual(['U', f, 'billy@chainguard.dev', f, f, 'undefined']);
  });

  test('good signature allowed by the policy: G, TRUST_FULLY', () => {
    const env = { TEST_ALLOWED_SIGNERS: policyFile('billy@chainguard.dev https://accounts.google.com\n') };
    const oid = oidOf(OFFLINE_COMMIT);
    const v = git(['verify-commit', oid], env);
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/policy matched: allowed signers: billy@chainguard.dev from https:\/\/accounts.google.com/);
    expect(fmt(oid, env)[0]).toBe('G');
    expect(fmt(oid, env)[5]).toBe('fully');
  });

  test('good signature outside the policy: verify-commit fails, TRUST_NEVER, stderr names the signer and the policy', () => {
    const env = { TEST_ALLOWED_SIGNERS: policyFile('alice@example.com https://accounts.google.com\n') };
    const oid = oidOf(OFFLINE_COMMIT);
    const v = git(['verify-commit', oid], env);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/NOT ALLOWED: billy@chainguard.dev from https:\/\/accounts.google.com .*alice@example.com/);
    expect(fmt(oid, env)[5]).toBe('never');
  });

  test('signed tag verifies with verify-tag', () => {
    const v = git(['verify-tag', oidOf(OFFLINE_TAG)]);
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/Good signature from billy@chainguard.dev/);
  });

  test('tampered payload: B (BADSIG), one failure line', () => {
    const d = 'negative/01-commit-payload-byte-flip';
    const oid = oidOf(d);
    const v = git(['verify-commit', oid]);
    expect(v.status).not.toBe(0);
    expect(v.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gitseal: BAD signature \(message-digest check failed\): /)]);
    // %GT too: git 2.39 aborts on it when no TRUST_ line was printed
    expect(fmt(oid)).toEqual(['B', fpr(ONLINE_COMMIT) /* same signature, untampered source */, 'kleung@chainguard.dev', '', '', 'undefined']);
  });

  test('online-mode signature verified offline: E (ERRSIG) saying the proof is missing', () => {
    const oid = oidOf(ONLINE_COMMIT);
    const v = git(['verify-commit', oid]);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/signature not verified \(tlog check failed\): the Rekor proof is not embedded/);
    expect(fmt(oid)[0]).toBe('E');
  });

  test('non-Fulcio S/MIME signature: E, chain check named', () => {
    const oid = oidOf('negative/11-real-non-fulcio-smime-commit');
    const v = git(['verify-commit', oid]);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/\(chain check failed\): the certificate does not chain to a trusted Fulcio CA/);
    expect(fmt(oid)[0]).toBe('E');
  });
});

needs('openssl').describe('status lines', () => {
  const load = (d: string) => ({ signature: readFileSync(join(CORPUS, d, 'signature.pem')), payload: readFileSync(join(CORPUS, d, 'payload.bin')) });

  async function collect(d: string, policy?: ReturnType<typeof parseAllowedSigners>) {
    const status: string[] = [];
    const human: string[] = [];
    const code = await runGpgVerify({
      ...load(d),
      trust: embeddedTrustedRoot(),
      policy: policy ? { allowedSigners: policy } : undefined,
      offline: true,
      statusOut: (l) => status.push(l),
      humanOut: (l) => human.push(l),
    });
    return { code, status, human };
  }

  test('NEWSIG first; GOODSIG, VALIDSIG with the primary fingerprint in field 10, TRUST_FULLY', async () => {
    const r = await collect(OFFLINE_COMMIT, parseAllowedSigners('billy@chainguard.dev https://accounts.google.com'));
    const f = fpr(OFFLINE_COMMIT);
    expect(r.code).toBe(0);
    expect(r.status[0]).toBe('[GNUPG:] NEWSIG');
    expect(r.status[1]).toBe(`[GNUPG:] GOODSIG ${f} billy@chainguard.dev`);
    const v = r.status[2].split(' ');
    expect(v.slice(0, 3)).toEqual(['[GNUPG:]', 'VALIDSIG', f]);
    expect(v[3]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(Number(v[4]) * 1000).toISOString().slice(0, 10)).toBe(v[3]);
    expect(v.slice(5)).toEqual(['0', '-', '-', '-', '-', '-', f]);
    expect(r.status[3]).toBe('[GNUPG:] TRUST_FULLY 0 shell');
    expect(r.status).toHaveLength(4);
  });

  test('ERRSIG carries the fingerprint when the certificate was found, 0 otherwise', async () => {
    const r = await collect(ONLINE_COMMIT);
    expect(r.code).toBe(1);
    expect(r.status[1]).toMatch(new RegExp(`^\\[GNUPG:\\] ERRSIG ${fpr(ONLINE_COMMIT)} 19 8 00 \\d+ 4 ${fpr(ONLINE_COMMIT)}$`));
    expect(statusLines({ ok: false, kind: 'error', message: 'x' }, false)).toEqual([
      '[GNUPG:] NEWSIG',
      '[GNUPG:] ERRSIG 0 19 8 00 0 4 -',
      '[GNUPG:] TRUST_UNDEFINED 0 shell',
    ]);
  });

  test('an unreadable signature file is an ERRSIG, not a crash', async () => {
    const status: string[] = [];
    const code = await runGpgVerify({
      sigfile: join(dir, 'does-not-exist'),
      payload: Buffer.from(''),
      trust: embeddedTrustedRoot(),
      offline: true,
      statusOut: (l) => status.push(l),
      humanOut: () => {},
    });
    expect(code).toBe(1);
    expect(status[1]).toMatch(/^\[GNUPG:\] ERRSIG 0 /);
  });
});

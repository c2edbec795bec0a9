/**
 * `gitseal verify --insecure-ignore-sct` (cosign's and gitsign's flag): skips the embedded-SCT
 * check and only that, with a warning, never through the verified-signature cache — and
 * nothing makes git's own --verify path skip it: not the flag on gitseal's command line as git
 * would pass it, not a git config key, not an environment variable.
 *
 * A commit is signed by the real binary through git against the sandbox; it is then verified
 * with a trusted root whose CT log key is someone else's, so the SCT (and nothing else) fails.
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './helpers.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';

const sb = new Sandbox('gitseal-ignore-sct-');
let sigstore: RunningSandbox;
let repo: string;
let wrongCt: string;
let rightRoot: string;
const withWrongCt = { GITSEAL_TRUSTED_ROOT: '' };

beforeAll(async () => {
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off', SIGSTORE_ID_TOKEN: sigstore.token('dev@example.test'), XDG_CACHE_HOME: join(sb.home, '.cache') };
  rightRoot = sigstore.env.GITSEAL_TRUSTED_ROOT!;
  repo = sb.repo('r');
  for (const [k, v] of [
    ['user.email', 'dev@example.test'],
    ['user.name', 'Dev'],
    ['gpg.format', 'x509'],
    ['gpg.x509.program', BIN],
  ]) sb.git(['config', k, v], repo);
  sb.git(['commit', '-S', '-q', '--allow-empty', '-m', 'signed'], repo);

  // The same trusted root, but its CT log key replaced: every SCT now fails, nothing else does.
  const root = JSON.parse(readFileSync(rightRoot, 'utf8'));
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
  for (const ct of root.ctlogs) {
    ct.publicKey.rawBytes = spki.toString('base64');
    ct.logId.keyId = createHash('sha256').update(spki).digest('base64');
  }
  wrongCt = join(sb.dir, 'wrong-ct-root.json');
  writeFileSync(wrongCt, JSON.stringify(root));
  withWrongCt.GITSEAL_TRUSTED_ROOT = wrongCt;
}, 120_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('gitseal verify --insecure-ignore-sct', () => {
  it('the commit verifies with the right root, and fails only the SCT check with the wrong CT key', () => {
    const good = sb.gitseal(['verify', '--json'], { cwd: repo });
    expect(good.status, good.stderr).toBe(0);
    const bad = sb.gitseal(['verify', '--json'], { cwd: repo, env: withWrongCt });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).results[0]).toMatchObject({ ok: false, kind: 'error', failedCheck: 'sct' });
  });

  it('skips the SCT check only, says so on stderr (also with --json), and marks the result', () => {
    const r = sb.gitseal(['verify', '--insecure-ignore-sct', '--json'], { cwd: repo, env: withWrongCt });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^gitseal: WARNING: --insecure-ignore-sct: the signing certificates' SCTs are not checked/);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, sctChecked: false });
    expect(j.results[0]).toMatchObject({ ok: true, kind: 'good', identity: 'dev@example.test', sctSkipped: true, cached: false });
    const t = sb.gitseal(['verify', '--insecure-ignore-sct'], { cwd: repo, env: withWrongCt });
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/SCT not checked/);
    // verify-tag takes it too (gitsign verify-tag does)
    expect(sb.gitseal(['verify-tag', '--help'], { cwd: repo }).stdout).toContain('--insecure-ignore-sct');
  });

  it('every other check still runs: a tampered commit still fails', () => {
    const raw = sb.git(['cat-file', 'commit', 'HEAD'], repo);
    const tampered = raw.replace('\n\nsigned\n', '\n\nsigned, then changed\n');
    const id = sb.git(['hash-object', '-t', 'commit', '-w', '--stdin'], repo, tampered).trim();
    const r = sb.gitseal(['verify', id, '--insecure-ignore-sct', '--json'], { cwd: repo, env: withWrongCt });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ ok: false, kind: 'bad', failedCheck: 'message-digest' });
  });

  it('the skipped verdict is not cached: the next run without the flag fails again', () => {
    const r = sb.gitseal(['verify', '--json'], { cwd: repo, env: withWrongCt });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ ok: false, failedCheck: 'sct', cached: false });
  });

  it("nothing reaches git's --verify path: not the flag, not a config key, not a variable", () => {
    sb.git(['config', 'gitseal.insecureIgnoreSct', 'true'], repo);
    sb.git(['config', 'gitsign.insecureIgnoreSct', 'true'], repo);
    const env = { ...sb.env, ...withWrongCt, GITSEAL_INSECURE_IGNORE_SCT: '1', GITSIGN_INSECURE_IGNORE_SCT: '1', COSIGN_INSECURE_IGNORE_SCT: '1' };
    const v = spawnSync('git', ['verify-commit', 'HEAD'], { cwd: repo, env, encoding: 'utf8' });
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/signature not verified \(sct check failed\)/);
    expect(spawnSync('git', ['log', '-1', '--format=%G?'], { cwd: repo, env, encoding: 'utf8' }).stdout.trim()).toBe('E');

    // gitseal called the way git calls it, with the flag added: ignored, SCT still checked.
    const raw = sb.git(['cat-file', 'commit', 'HEAD'], repo);
    const sig = /^gpgsig (-----BEGIN SIGNED MESSAGE-----\n(?: .*\n)+?) -----END SIGNED MESSAGE-----\n/m.exec(raw)!;
    const pem = sig[1]!.replace(/\n /g, '\n') + '-----END SIGNED MESSAGE-----\n';
    const payload = raw.replace(/^gpgsig [^\n]*\n(?: [^\n]*\n)*/m, '');
    const sigfile = join(sb.dir, 'sig.pem');
    writeFileSync(sigfile, pem);
    const direct = spawnSync(process.execPath, [BIN, '--status-fd=1', '--insecure-ignore-sct', '--verify', sigfile, '-'], { cwd: repo, input: payload, env, encoding: 'utf8' });
    expect(direct.status).toBe(1);
    expect(direct.stdout).toMatch(/\[GNUPG:\] ERRSIG /);
    expect(direct.stdout).not.toMatch(/GOODSIG/);
    expect(direct.stderr).toMatch(/sct check failed/);
    // while the right root still gives G-less but good (no policy) for the same call
    const ok = spawnSync(process.execPath, [BIN, '--status-fd=1', '--verify', sigfile, '-'], { cwd: repo, input: payload, env: sb.env, encoding: 'utf8' });
    expect(ok.stdout).toMatch(/\[GNUPG:\] GOODSIG /);
  });
});

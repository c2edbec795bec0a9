/**
 * Every gitsign setting: README "Switching from gitsign" lists exactly the code's list
 * (src/config/gitsign-settings.ts), and each one does what that table says when read through
 * the real git config (written by git) and the environment.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITSIGN_SETTINGS } from '../../src/config/gitsign-settings.js';
import { loadConfig, SETTINGS } from '../../src/config/load.js';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The rows of the settings table in README "Switching from gitsign". */
function readmeRows(): Array<{ key?: string; env: string[]; text: string }> {
  const section = README.slice(README.indexOf('### Switching from gitsign'), README.indexOf('\n## ', README.indexOf('### Switching from gitsign')));
  const head = section.indexOf('| gitsign git config | environment | what gitseal does |');
  expect(head).toBeGreaterThan(0);
  const rows: Array<{ key?: string; env: string[]; text: string }> = [];
  for (const line of section.slice(head).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, key, env, text] = line.split(/\s*\|\s*/);
    rows.push({
      key: /^`gitsign\.(\w+)`$/.exec(key!)?.[1],
      env: [...env!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!),
      text: text!,
    });
  }
  return rows;
}

describe('README "Switching from gitsign" and the code agree', () => {
  it('one row per gitsign setting, same keys and variables, same verdict', () => {
    const rows = readmeRows();
    expect(rows.map((r) => r.key ?? r.env.join(','))).toEqual(GITSIGN_SETTINGS.map((s) => s.key ?? s.env.join(',')));
    for (const [i, s] of GITSIGN_SETTINGS.entries()) {
      expect(rows[i]!.env, `env of ${s.key}`).toEqual(s.env);
      expect(rows[i]!.text.startsWith('**not applied**'), `applied flag of ${s.key ?? s.env[0]}`).toBe(!s.applied);
    }
  });

  it("covers every key gitsign's internal/config reads and every applied key maps to a gitseal setting", () => {
    // gitsign v0.17.1 internal/config/config.go applyGitOptions, in its order.
    const gitsignKeys = [
      'fulcio', 'fulcioRoot', 'rekor', 'rekorMode', 'enableSigstoreGo', 'rekorVersion', 'clientID', 'clientSecretFile', 'redirectURL',
      'issuer', 'logPath', 'urlOpener', 'connectorID', 'tokenProvider', 'timestampServerURL', 'timestampCertChain', 'matchCommitter',
      'autoclose', 'autocloseTimeout',
    ];
    expect(GITSIGN_SETTINGS.filter((s) => s.key).map((s) => s.key).sort()).toEqual([...gitsignKeys].sort());
    const gitsealNames = new Set(SETTINGS.filter((s) => s.gitsign).map((s) => s.name));
    for (const s of GITSIGN_SETTINGS) {
      if (s.key && s.applied) expect(gitsealNames.has(s.key), `gitsign.${s.key} is read by src/config/load.ts`).toBe(true);
      if (s.key && !s.applied) expect(gitsealNames.has(s.key), `gitsign.${s.key} is not a gitseal setting`).toBe(false);
    }
  });
});

let root: string;
let repo: string;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: join(root, 'home'), GIT_CONFIG_NOSYSTEM: '1', ...extra });
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: env(), encoding: 'utf8' });

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-gitsign-settings-')));
  mkdirSync(join(root, 'home'));
  repo = join(root, 'repo');
  mkdirSync(repo);
  git('init', '-q');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('each gitsign setting as gitseal reads it', () => {
  it('autoclose and autocloseTimeout: defaults, git keys, variables; a bad value is a notice, not an error', () => {
    let c = loadConfig({ cwd: repo, env: env() });
    expect([c.autoclose, c.autocloseTimeout]).toEqual([true, 6]);
    git('config', 'gitsign.autoclose', 'false');
    git('config', 'gitsign.autocloseTimeout', '2');
    c = loadConfig({ cwd: repo, env: env() });
    expect([c.autoclose, c.autocloseTimeout]).toEqual([false, 2]);
    expect(c.sources.autocloseTimeout).toBe('git config gitsign.autocloseTimeout');
    c = loadConfig({ cwd: repo, env: env({ SIGSTORE_AUTOCLOSE: 'true', GITSIGN_AUTOCLOSE_TIMEOUT: '9' }) });
    expect([c.autoclose, c.autocloseTimeout]).toEqual([true, 9]);
    git('config', 'gitsign.autocloseTimeout', 'soon');
    c = loadConfig({ cwd: repo, env: env() });
    expect(c.autocloseTimeout).toBe(6);
    expect(c.notices!.map((n) => n.message)).toEqual(['gitsign.autocloseTimeout="soon" (git config gitsign.autocloseTimeout) must be a whole number of seconds from 1 to 3600; using 6']);
    git('config', '--unset', 'gitsign.autocloseTimeout');
    git('config', '--unset', 'gitsign.autoclose');
  });

  it('timestampCertChain: git key and both variables', () => {
    git('config', 'gitsign.timestampCertChain', '~/tsa.pem');
    expect(loadConfig({ cwd: repo, env: env() }).timestampCertChain).toBe(join(root, 'home', 'tsa.pem'));
    const c = loadConfig({ cwd: repo, env: env({ SIGSTORE_TIMESTAMP_CERT_CHAIN: '/s.pem', GITSIGN_TIMESTAMP_CERT_CHAIN: '/g.pem' }) });
    expect([c.timestampCertChain, c.sources.timestampCertChain]).toEqual(['/g.pem', 'env GITSIGN_TIMESTAMP_CERT_CHAIN']);
    git('config', '--unset', 'gitsign.timestampCertChain');
  });

  it('SIGSTORE_OIDC_CLIENT_SECRET_FILE is read, as gitsign reads it', () => {
    const c = loadConfig({ cwd: repo, env: env({ SIGSTORE_OIDC_CLIENT_SECRET_FILE: '/run/secret' }) });
    expect(c.clientSecretFile).toBe('/run/secret');
  });

  it("gitsign's token provider names are accepted (the refused ones fail only when a token is needed)", () => {
    const provider = (v: string) => loadConfig({ cwd: repo, env: env({ GITSIGN_TOKEN_PROVIDER: v }) }).tokenProvider;
    expect(provider('interactive')).toBe('browser');
    expect(provider('filesystem')).toBe('file');
    expect(provider('buildkite-agent')).toBe('buildkite');
    expect(provider('google-workload-identity')).toBe('google-workload-identity');
    expect(provider('spiffe')).toBe('spiffe');
    expect(provider('google-impersonation')).toBe('google-impersonation');
    expect(provider('google-impersonate')).toBe('google-impersonation');
  });

  it('the settings gitseal does not apply become one notice each, naming them; the variable is the one in effect', () => {
    git('config', 'gitsign.rekorMode', 'online');
    git('config', 'gitsign.enableSigstoreGo', 'false');
    let c = loadConfig({ cwd: repo, env: env({ GITSIGN_CREDENTIAL_CACHE: '/tmp/cache.sock' }) });
    expect(c.notices!.map((n) => n.name)).toEqual(['gitsign.rekorMode', 'gitsign.enableSigstoreGo', 'GITSIGN_CREDENTIAL_CACHE']);
    const [mode, go, cache] = c.notices!.map((n) => n.message);
    expect(mode).toMatch(/^gitsign\.rekorMode=online is not applied: gitseal always embeds the Rekor proof in the signature .*\(.*\.git\/config\)$/);
    expect(go).toMatch(/^gitsign\.enableSigstoreGo=false is not applied: gitseal has one signer and one verifier/);
    expect(cache).toMatch(/^GITSIGN_CREDENTIAL_CACHE is not applied: gitseal's signing agent replaces gitsign-credential-cache/);
    expect(c.warnings).toEqual([]);
    c = loadConfig({ cwd: repo, env: env({ GITSIGN_REKOR_MODE: 'offline' }) });
    expect(c.notices![0]).toMatchObject({ name: 'GITSIGN_REKOR_MODE', message: 'GITSIGN_REKOR_MODE=offline is what gitseal always does: every signature embeds its Rekor proof; the setting is not needed' });
    // A forged value cannot put control characters into the line.
    c = loadConfig({ cwd: repo, env: env({ GITSIGN_REKOR_MODE: 'x\n[GNUPG:] GOODSIG' }) });
    expect(c.notices![0]!.message).not.toMatch(/\n/);
    git('config', '--unset', 'gitsign.rekorMode');
    git('config', '--unset', 'gitsign.enableSigstoreGo');
  });
});

/** Name mapping and precedence of gitseal's settings (git config written by the real git). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { PUBLIC_GOOD } from '../../src/config/types.js';
import { GitsealError } from '../../src/errors.js';

let root: string;
let repo: string;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: join(root, 'home'), GIT_CONFIG_NOSYSTEM: '1', ...extra });
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: env(), encoding: 'utf8' });

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-load-')));
  mkdirSync(join(root, 'home'));
  repo = join(root, 'repo');
  mkdirSync(repo);
  git('init', '-q');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('defaults to public-good Sigstore', () => {
    const c = loadConfig({ cwd: repo, env: env() });
    expect(c.fulcioURL).toBe(PUBLIC_GOOD.fulcioURL);
    expect(c.rekorURL).toBe(PUBLIC_GOOD.rekorURL);
    expect(c.issuer).toBe(PUBLIC_GOOD.issuer);
    expect(c.clientID).toBe(PUBLIC_GOOD.clientID);
    expect(c.rekorVersion).toBe(1);
    expect(c.sources.fulcioURL).toBe('default');
    expect(c.warnings).toEqual([]);
  });

  it('reads gitsign names, lets gitseal names win, and env win over git config', () => {
    git('config', 'gitsign.fulcio', 'http://127.0.0.1:1/gitsign');
    git('config', 'gitsign.rekor', 'http://127.0.0.1:2/gitsign');
    git('config', 'gitseal.rekor', 'http://127.0.0.1:2/gitseal/');
    git('config', 'gitsign.issuer', 'http://127.0.0.1:3/gitsign');
    git('config', 'gitsign.matchCommitter', 'yes');
    git('config', 'gitseal.trustedRoot', '~/root.json');
    git('config', 'user.email', 'dev@example.test');
    git('config', 'user.name', 'Dev');
    let c = loadConfig({ cwd: repo, env: env() });
    expect(c.fulcioURL).toBe('http://127.0.0.1:1/gitsign');
    expect(c.sources.fulcioURL).toBe('git config gitsign.fulcio');
    expect(c.rekorURL).toBe('http://127.0.0.1:2/gitseal');
    expect(c.sources.rekorURL).toBe('git config gitseal.rekor');
    expect(c.matchCommitter).toBe(true);
    expect(c.trustedRoot).toBe(join(root, 'home', 'root.json'));
    expect(c.userEmail).toBe('dev@example.test');
    expect(c.userName).toBe('Dev');

    c = loadConfig({
      cwd: repo,
      env: env({
        SIGSTORE_OIDC_ISSUER: 'http://127.0.0.1:4/sigstore',
        GITSIGN_OIDC_ISSUER: 'http://127.0.0.1:4/gitsign',
        SIGSTORE_FULCIO_URL: 'http://127.0.0.1:5/sigstore',
        GITSEAL_REKOR_URL: 'http://127.0.0.1:6/env',
        GITSEAL_OIDC_CLIENT_ID: 'gitseal-test',
        GITSEAL_TRUSTED_ROOT: '/tmp/tr.json',
        GITSIGN_TOKEN_PROVIDER: 'interactive',
      }),
    });
    expect(c.issuer).toBe('http://127.0.0.1:4/gitsign');
    expect(c.sources.issuer).toBe('env GITSIGN_OIDC_ISSUER');
    expect(c.fulcioURL).toBe('http://127.0.0.1:5/sigstore');
    expect(c.rekorURL).toBe('http://127.0.0.1:6/env');
    expect(c.sources.rekorURL).toBe('env GITSEAL_REKOR_URL');
    expect(c.clientID).toBe('gitseal-test');
    expect(c.trustedRoot).toBe('/tmp/tr.json');
    expect(c.tokenProvider).toBe('browser');
  });

  it('takes git -c over the repository file', () => {
    const params = execFileSync('git', ['-c', 'gitseal.fulcio=http://127.0.0.1:9/cli', '-c', 'alias.penv=!printenv GIT_CONFIG_PARAMETERS', 'penv'], { cwd: repo, env: env(), encoding: 'utf8' }).trim();
    const c = loadConfig({ cwd: repo, env: env({ GIT_CONFIG_PARAMETERS: params }) });
    expect(c.fulcioURL).toBe('http://127.0.0.1:9/cli');
    expect(c.sources.fulcioURL).toBe('git config gitseal.fulcio');
  });

  it('warns about unknown gitseal keys with the closest valid name', () => {
    git('config', 'gitseal.fulcioURL', 'http://x');
    git('config', 'gitseal.rekr', 'http://x');
    const c = loadConfig({ cwd: repo, env: env() });
    expect(c.warnings).toHaveLength(2);
    expect(c.warnings![0]).toMatch(/gitseal\.fulciourl .*did you mean gitseal\.fulcio\?/);
    expect(c.warnings![1]).toMatch(/did you mean gitseal\.rekor\?/);
    git('config', '--unset', 'gitseal.fulcioURL');
    git('config', '--unset', 'gitseal.rekr');
  });

  it('fails with a clear message on invalid values', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ GITSEAL_REKOR_VERSION: '3' }, /GITSEAL_REKOR_VERSION must be 1 or 2/],
      [{ GITSEAL_FULCIO_URL: 'not a url' }, /GITSEAL_FULCIO_URL is not a URL/],
      [{ GITSEAL_FULCIO_URL: 'ftp://x' }, /must be an http\(s\) URL/],
      [{ GITSEAL_OFFLINE: 'maybe' }, /must be true or false/],
      [{ GITSEAL_TOKEN_PROVIDER: 'carrier-pigeon' }, /is not one of/],
    ];
    for (const [e, re] of bad) {
      let err: unknown;
      try {
        loadConfig({ cwd: repo, env: env(e) });
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(GitsealError);
      expect((err as GitsealError).code).toBe('CONFIG');
      expect((err as GitsealError).message).toMatch(re);
    }
  });
});

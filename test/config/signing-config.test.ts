/** gitseal.signingConfig: a Sigstore SigningConfig fills in the services not set one by one. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';

let root: string;
let repo: string;
let file: string;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: join(root, 'home'), GIT_CONFIG_NOSYSTEM: '1', ...extra });
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: env(), encoding: 'utf8' });
const entry = (url: string, v: number, start = '2025-01-01T00:00:00Z') => ({ url, majorApiVersion: v, validFor: { start }, operator: 'example' });

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-sc-')));
  mkdirSync(join(root, 'home'));
  repo = join(root, 'repo');
  mkdirSync(repo);
  git('init', '-q');
  file = join(root, 'signing_config.json');
  writeFileSync(
    file,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [entry('https://fulcio.example.com', 1)],
      oidcUrls: [entry('https://login.example.com', 1)],
      rekorTlogUrls: [entry('https://log2.example.com', 2, '2025-06-01T00:00:00Z'), entry('https://rekor.example.com', 1)],
      tsaUrls: [entry('https://tsa.example.com/api/v1/timestamp', 1)],
    }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('gitseal.signingConfig', () => {
  it('selects every service from the file, preferring the newest supported Rekor API', () => {
    const c = loadConfig({ cwd: repo, env: env({ GITSEAL_SIGNING_CONFIG: file }) });
    expect(c.fulcioURL).toBe('https://fulcio.example.com');
    expect(c.issuer).toBe('https://login.example.com');
    expect(c.rekorURL).toBe('https://log2.example.com');
    expect(c.rekorVersion).toBe(2);
    expect(c.timestampServerURL).toBe('https://tsa.example.com/api/v1/timestamp');
    expect(c.sources.rekorURL).toBe(`signing config ${file}`);
  });

  it('lets settings given one by one win, and an explicit rekorVersion cap the choice', () => {
    git('config', 'gitseal.signingConfig', file);
    git('config', 'gitseal.fulcio', 'https://my-fulcio.example.com');
    git('config', 'gitseal.rekorVersion', '1');
    const c = loadConfig({ cwd: repo, env: env() });
    expect(c.fulcioURL).toBe('https://my-fulcio.example.com');
    expect(c.sources.fulcioURL).toMatch(/gitseal\.fulcio/);
    expect(c.rekorURL).toBe('https://rekor.example.com');
    expect(c.rekorVersion).toBe(1);
  });

  it('fails with one clear line when the file is missing or malformed', () => {
    expect(() => loadConfig({ cwd: repo, env: env({ GITSEAL_SIGNING_CONFIG: join(root, 'nope.json') }) })).toThrow(/cannot read the signing config .*nope\.json/);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"caUrls": 3}');
    expect(() => loadConfig({ cwd: repo, env: env({ GITSEAL_SIGNING_CONFIG: bad }) })).toThrow(/signing config: caUrls must be a list/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintIdToken } from '../../packages/sandbox/src/oidc/index.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import { GitsealError } from '../../src/errors.js';
import { config, isolatedEnv, leakCheck } from './helpers.js';

const ISSUER = 'http://127.0.0.1:9/ambient-test';
let dir: string;
let tokenA: string; // e-mail identity
let tokenB: string; // workflow identity

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-ambient-'));
  tokenA = await mintIdToken({ dir, issuer: ISSUER, email: 'env@example.test' });
  tokenB = await mintIdToken({ dir, issuer: ISSUER, type: 'workflow', repository: 'acme/app' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (over = {}) => config(ISSUER, over);
const quiet = { say: () => {}, terminal: false };
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as GitsealError);

describe('environment and GitLab CI', () => {
  it('takes SIGSTORE_ID_TOKEN, with GITSEAL_ID_TOKEN first', async () => {
    const t = await getIdentityToken(cfg(), { ...quiet, env: isolatedEnv({ SIGSTORE_ID_TOKEN: `${tokenA}\n` }) });
    expect(t).toMatchObject({ raw: tokenA, issuer: ISSUER, email: 'env@example.test' });
    const both = await getIdentityToken(cfg(), { ...quiet, env: isolatedEnv({ SIGSTORE_ID_TOKEN: tokenA, GITSEAL_ID_TOKEN: tokenB }) });
    expect(both.subject).toBe('repo:acme/app:ref:refs/heads/main');
  });

  it('reads GitLab id_tokens from SIGSTORE_ID_TOKEN and explains the job setting when absent', async () => {
    const env = isolatedEnv({ GITLAB_CI: 'true', SIGSTORE_ID_TOKEN: tokenB });
    expect((await getIdentityToken(cfg({ tokenProvider: 'gitlab' }), { ...quiet, env })).raw).toBe(tokenB);
    const err = await failure(getIdentityToken(cfg({ tokenProvider: 'gitlab' }), { ...quiet, env: isolatedEnv({ GITLAB_CI: 'true' }) }));
    expect(err.code).toBe('NO_TOKEN');
    expect(err.message).toMatch(/id_tokens: SIGSTORE_ID_TOKEN/);
  });

  it('refuses a token that is not a JWT', async () => {
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: isolatedEnv({ SIGSTORE_ID_TOKEN: 'not-a-token' }) }));
    expect(err.code).toBe('BAD_TOKEN');
    expect(err.message).toBe('the identity token from SIGSTORE_ID_TOKEN is not a JWT');
  });
});

describe('GitHub Actions', () => {
  let server: Server;
  let url: string;
  const seen: { auth?: string; audience?: string | null; api?: string | null }[] = [];
  let script: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      seen.push({ auth: req.headers.authorization, audience: u.searchParams.get('audience'), api: u.searchParams.get('api-version') });
      const status = script.shift() ?? 200;
      if (req.headers.authorization !== 'bearer request-secret') res.writeHead(401).end();
      else if (status !== 200) res.writeHead(status).end('try later');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value: tokenB }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_apis/token?api-version=2.0`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const ghEnv = (extra = {}) => isolatedEnv({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret', ...extra });

  it('asks the runner with the bearer and audience=sigstore, keeping the URL query', async () => {
    seen.length = 0;
    const t = await getIdentityToken(cfg(), { ...quiet, env: ghEnv() });
    expect(t.raw).toBe(tokenB);
    expect(seen).toEqual([{ auth: 'bearer request-secret', audience: 'sigstore', api: '2.0' }]);
  });

  it('retries a failing token service a bounded number of times', async () => {
    seen.length = 0;
    script = [503, 502];
    expect((await getIdentityToken(cfg(), { ...quiet, env: ghEnv() })).raw).toBe(tokenB);
    expect(seen).toHaveLength(3);
    seen.length = 0;
    script = [500, 500, 500, 500];
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: ghEnv() }));
    expect(seen).toHaveLength(3);
    expect(err.code).toBe('OIDC');
    expect(err.message).toMatch(/^cannot get an identity token from GitHub Actions \(127\.0\.0\.1:\d+\): HTTP 500$/);
    script = [];
  });

  it('does not retry a refusal, and never shows the request token', async () => {
    seen.length = 0;
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: ghEnv({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong-secret' }) }));
    expect(seen).toHaveLength(1);
    expect(err.message).toMatch(/HTTP 401$/);
    expect(err.message).not.toContain('secret');
  });

  it('yields to an explicit token in the environment unless forced', async () => {
    const env = ghEnv({ SIGSTORE_ID_TOKEN: tokenA });
    expect((await getIdentityToken(cfg(), { ...quiet, env })).raw).toBe(tokenA);
    expect((await getIdentityToken(cfg({ tokenProvider: 'github-actions' }), { ...quiet, env })).raw).toBe(tokenB);
  });

  it('explains the missing permission when forced without the runner variables', async () => {
    const err = await failure(getIdentityToken(cfg({ tokenProvider: 'github-actions' }), { ...quiet, env: isolatedEnv() }));
    expect(err.message).toMatch(/id-token: write/);
  });
});

describe('Buildkite', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'gitseal-bk-'));
    writeFileSync(join(bin, 'token'), `${tokenB}\n`);
    const agent = join(bin, 'buildkite-agent');
    // A stand-in agent: records its argv, prints the token, or fails like the real one when told to.
    writeFileSync(
      agent,
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${bin}/args"\n` +
        `if [ -n "$FAKE_AGENT_FAIL" ]; then echo "fatal: $FAKE_AGENT_FAIL" >&2; exit 1; fi\ncat "${bin}/token"\n`,
    );
    chmodSync(agent, 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const bkEnv = (extra = {}) => isolatedEnv({ BUILDKITE: 'true', PATH: `${bin}:${process.env.PATH}`, ...extra });

  it('runs buildkite-agent oidc request-token --audience sigstore', async () => {
    const t = await getIdentityToken(cfg(), { ...quiet, env: bkEnv() });
    expect(t.raw).toBe(tokenB);
    expect(readFileSync(join(bin, 'args'), 'utf8').split('\n').filter(Boolean)).toEqual(['oidc', 'request-token', '--audience', 'sigstore']);
  });

  it('passes arguments without a shell', async () => {
    const marker = join(bin, 'pwned');
    await getIdentityToken(cfg({ clientID: `x;touch ${marker}` }), { ...quiet, env: bkEnv() });
    expect(readFileSync(join(bin, 'args'), 'utf8')).toContain(`--audience\nx;touch ${marker}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('reports the agent failure in one line', async () => {
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: bkEnv({ FAKE_AGENT_FAIL: 'OIDC not enabled for this pipeline' }) }));
    expect(err.code).toBe('OIDC');
    expect(err.message).toBe('buildkite-agent oidc request-token failed: fatal: OIDC not enabled for this pipeline');
  });

  it('says so when the agent is missing', async () => {
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: isolatedEnv({ BUILDKITE: 'true', PATH: '/nonexistent' }) }));
    expect(err.message).toBe('BUILDKITE=true but buildkite-agent is not on PATH');
  });
});

describe('token file', () => {
  it('reads the platform token file (path overridable) on every use', async () => {
    const env = isolatedEnv();
    writeFileSync(env.GITSEAL_TOKEN_FILE!, `${tokenA}\n`, { mode: 0o600 });
    expect((await getIdentityToken(cfg(), { ...quiet, env })).raw).toBe(tokenA);
    writeFileSync(env.GITSEAL_TOKEN_FILE!, tokenB);
    expect((await getIdentityToken(cfg(), { ...quiet, env })).raw).toBe(tokenB);
    writeFileSync(env.GITSEAL_TOKEN_FILE!, '');
    const err = await failure(getIdentityToken(cfg({ tokenProvider: 'file' }), { ...quiet, env }));
    expect(err.message).toBe(`the token file ${env.GITSEAL_TOKEN_FILE} is empty`);
  });

  it('without any ambient token and no terminal, says how to sign non-interactively', async () => {
    const err = await failure(getIdentityToken(cfg(), { ...quiet, env: isolatedEnv() }));
    expect(err.code).toBe('NO_TOKEN');
    expect(err.message).toMatch(/SIGSTORE_ID_TOKEN/);
    expect(err.message).toMatch(/Buildkite/);
    leakCheck(err.message, tokenA);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { mintIdToken, startOidcProvider, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';

let dir: string;
let op: RunningOidcProvider;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-op-'));
  op = await startOidcProvider({ dir, idTokenTTL: 120 });
});
afterAll(async () => {
  await op?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function discovery(issuer: string): Promise<Record<string, any>> {
  const r = await fetch(`${issuer}/.well-known/openid-configuration`);
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, any>;
}

function authURL(params: Record<string, string>): string {
  return `${op.issuer}/auth?${new URLSearchParams({ client_id: 'sigstore', response_type: 'code', scope: 'openid email', ...params })}`;
}

const challenge = (v: string) => createHash('sha256').update(v).digest('base64url');

describe('sandbox OpenID provider', () => {
  it('serves discovery for a public client with PKCE S256 and the device grant', async () => {
    const d = await discovery(op.issuer);
    expect(d.issuer).toBe(op.issuer);
    expect(op.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((op.server.address() as { port: number }).port).toBe(op.port);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
    expect(d.device_authorization_endpoint).toBe(`${op.issuer}/device/auth`);
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email']));
    expect(d.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('keeps its signing key in DIR/oidc (0600 in 0700) across restarts', async () => {
    const jwks1 = (await (await fetch(`${op.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks1.keys).toHaveLength(1);
    expect(jwks1.keys[0].d).toBeUndefined();
    expect(statSync(join(dir, 'oidc')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'oidc', 'keys.json')).mode & 0o777).toBe(0o600);
    const second = await startOidcProvider({ dir });
    try {
      const jwks2 = (await (await fetch(`${second.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(jwks2.keys[0].kid).toBe(jwks1.keys[0].kid);
      expect(second.port).not.toBe(op.port);
    } finally {
      await second.close();
    }
    const other = mkdtempSync(join(tmpdir(), 'gitseal-op-'));
    const third = await startOidcProvider({ dir: other });
    try {
      const jwks3 = (await (await fetch(`${third.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(jwks3.keys[0].kid).not.toBe(jwks1.keys[0].kid);
    } finally {
      await third.close();
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('mints e-mail tokens that verify against the running JWKS', async () => {
    const token = await mintIdToken({ dir, issuer: op.issuer, email: 'alice@example.test' });
    const jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: 'sigstore' });
    expect(payload.email).toBe('alice@example.test');
    expect(payload.email_verified).toBe(true);
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('mints GitHub-Actions-like workflow tokens', async () => {
    const token = await mintIdToken({ dir, issuer: op.issuer, type: 'workflow', repository: 'acme/app', ttl: 60 });
    const jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: 'sigstore' });
    expect(payload.sub).toBe('repo:acme/app:ref:refs/heads/main');
    expect(payload.job_workflow_ref).toBe('acme/app/.github/workflows/ci.yml@refs/heads/main');
    expect(payload.repository).toBe('acme/app');
    expect(payload.ref).toBe('refs/heads/main');
    expect(payload.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(payload.event_name).toBe('push');
    expect(payload.runner_environment).toBe('github-hosted');
    expect(payload.email).toBeUndefined();
  });

  it('refuses an expired minted token when verified', async () => {
    const token = await mintIdToken({ dir, issuer: op.issuer, ttl: -60 });
    const jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
    await expect(jwtVerify(token, jwks, { issuer: op.issuer, audience: 'sigstore' })).rejects.toThrow(/exp/);
  });

  it('requires PKCE: an authorization request without code_challenge is refused', async () => {
    const r = await fetch(authURL({ redirect_uri: 'http://127.0.0.1:5555/auth/callback', state: 's1' }), { redirect: 'manual' });
    expect(r.status).toBe(303);
    const loc = new URL(r.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe('http://127.0.0.1:5555/auth/callback');
    expect(loc.searchParams.get('error')).toBe('invalid_request');
    expect(loc.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('accepts loopback redirect URIs on any port and refuses other hosts', async () => {
    const c = challenge(randomBytes(32).toString('base64url'));
    for (const redirect of ['http://127.0.0.1:41234/auth/callback', 'http://localhost:9/auth/callback']) {
      const r = await fetch(authURL({ redirect_uri: redirect, code_challenge: c, code_challenge_method: 'S256', state: 's', nonce: 'n' }), { redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    }
    for (const redirect of ['http://evil.example:41234/auth/callback', 'http://127.0.0.1:41234/other']) {
      const r = await fetch(authURL({ redirect_uri: redirect, code_challenge: c, code_challenge_method: 'S256' }), { redirect: 'manual' });
      expect(r.status).toBe(400);
      expect(await r.text()).toMatch(/redirect_uri/);
    }
  });

  it('completes the authorization code flow with a plain HTML form and counts it', async () => {
    const before = op.stats();
    const verifier = randomBytes(32).toString('base64url');
    const redirect = 'http://127.0.0.1:40001/auth/callback';
    const jar = new Map<string, string>();
    const get = async (url: string, init: RequestInit = {}) => {
      const r = await fetch(new URL(url, op.issuer), {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of r.headers.getSetCookie()) {
        const [kv] = c.split(';');
        const i = kv.indexOf('=');
        jar.set(kv.slice(0, i), kv.slice(i + 1));
      }
      return r;
    };
    let r = await get(authURL({ redirect_uri: redirect, code_challenge: challenge(verifier), code_challenge_method: 'S256', state: 'st', nonce: 'nn' }));
    const interaction = r.headers.get('location')!;
    r = await get(interaction);
    const html = await r.text();
    expect(html).toMatch(/<input id="email" name="email" type="email"/);
    expect(html.match(/<input /g)).toHaveLength(1);
    expect(html.match(/<button /g)).toHaveLength(1);
    r = await get(`${interaction}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=bob%40example.test',
    });
    expect(r.status).toBe(303);
    r = await get(r.headers.get('location')!);
    const cb = new URL(r.headers.get('location')!);
    expect(cb.origin).toBe('http://127.0.0.1:40001');
    expect(cb.searchParams.get('state')).toBe('st');
    const code = cb.searchParams.get('code')!;
    const token = (body: Record<string, string>) =>
      fetch(`${op.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'sigstore', redirect_uri: redirect, code, ...body }),
      });
    // A wrong verifier is refused (RFC 7636 §4.6) …
    const bad = await token({ code_verifier: randomBytes(32).toString('base64url') });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_grant');
    // … and the right one then gets the ID token.
    const ok = await token({ code_verifier: verifier });
    const body = (await ok.json()) as { id_token?: string; error?: string };
    expect(ok.status, JSON.stringify(body.error)).toBe(200);
    const claims = decodeJwt(body.id_token!);
    expect(claims).toMatchObject({ iss: op.issuer, aud: 'sigstore', sub: 'bob@example.test', email: 'bob@example.test', email_verified: true, nonce: 'nn' });
    expect(claims.exp! - claims.iat!).toBe(120);
    const after = op.stats();
    expect(after.logins).toBe(before.logins + 1);
    expect(after.authorizations).toBe(before.authorizations + 1);
    // Only the exchange that succeeded counts as an issued token.
    expect(after.tokensIssued).toBe(before.tokensIssued + 1);
    expect(after.deviceCodes).toBe(before.deviceCodes);
  });
});

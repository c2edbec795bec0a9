/**
 * A token endpoint that lies. A proxy in front of the real sandbox provider
 * (it becomes the issuer as far as gitseal knows) re-signs the ID token of an
 * honest login with exactly one thing wrong; gitseal must refuse each one with
 * a clear message and cache nothing. The untampered control proves the proxy
 * itself is transparent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { startOidcProvider, type RunningOidcProvider } from '../../packages/sandbox/src/oidc/index.js';
import { getIdentityToken } from '../../src/oidc/get-token.js';
import { whoami } from '../../src/oidc/session.js';
import { GitsealError } from '../../src/errors.js';
import { capturingOpener, config, isolatedEnv, launchChromium, leakCheck, signIn } from './helpers.js';
import { needs } from '../helpers/tools.js';

type Tamper = 'none' | 'foreign-key' | 'audience' | 'nonce' | 'expired';

needs('chromium').describe('forged ID tokens are refused', () => {
  let dir: string;
  let op: RunningOidcProvider;
  let proxy: Server;
  let proxyOrigin: string;
  let browser: BrowserContext;
  let tamper: Tamper = 'none';
  const forged: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gitseal-op-'));
    op = await startOidcProvider({ dir });
    const opKey = JSON.parse(readFileSync(join(dir, 'oidc', 'keys.json'), 'utf8')).signingKey as JWK & { kid: string };
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as JWK;

    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const up = await fetch(`${op.issuer}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
        redirect: 'manual',
      });
      const swap = (s: string) =>
        s.split(op.issuer).join(proxyOrigin).split(encodeURIComponent(op.issuer)).join(encodeURIComponent(proxyOrigin));
      let body = swap(await up.text());
      if (req.url === '/token' && up.ok) {
        const json = JSON.parse(body) as { id_token?: string };
        if (json.id_token) {
          const claims: Record<string, unknown> = { ...decodeJwt(json.id_token), iss: proxyOrigin };
          const now = Math.floor(Date.now() / 1000);
          if (tamper === 'audience') claims.aud = 'someone-else';
          if (tamper === 'nonce') claims.nonce = 'not-the-nonce-gitseal-sent';
          if (tamper === 'expired') Object.assign(claims, { iat: now - 900, exp: now - 600 });
          const signer = tamper === 'foreign-key' ? foreign : opKey;
          json.id_token = await new SignJWT(claims)
            .setProtectedHeader({ alg: 'RS256', kid: opKey.kid })
            .sign(await importJWK(signer, 'RS256'));
          if (tamper !== 'none') forged.push(json.id_token);
          body = JSON.stringify(json);
        }
      }
      const out: Record<string, string | string[]> = {};
      up.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'set-cookie', 'connection', 'keep-alive'].includes(k)) out[k] = swap(v);
      });
      const cookies = up.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      res.writeHead(up.status, out);
      res.end(body);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await op?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function attempt(t: Tamper) {
    tamper = t;
    const env = isolatedEnv();
    const opener = capturingOpener();
    const cfg = config(proxyOrigin, { urlOpener: opener.template });
    const said: string[] = [];
    const pending = getIdentityToken(cfg, { env, say: (l) => said.push(l), terminal: true }).catch((e: unknown) => e);
    const page = await browser.newPage();
    const shown = await signIn(page, await opener.next(), 'mallory@example.test');
    const result = await pending;
    // The browser is told too.
    expect(shown).toBe(t === 'none' ? 'Signed in' : 'Sign-in failed');
    await page.close();
    return { result, env, cfg, said };
  }

  it('accepts the untampered control through the proxy', async () => {
    const { result } = await attempt('none');
    expect(result).not.toBeInstanceOf(Error);
    expect((result as { email: string }).email).toBe('mallory@example.test');
  });

  const cases: [Tamper, RegExp][] = [
    ['foreign-key', /signature does not verify/],
    ['audience', /audience \(aud\) is not this client/],
    ['nonce', /nonce does not match this login/],
    ['expired', /it has expired$/],
  ];
  for (const [t, why] of cases) {
    it(`refuses a token with ${t === 'foreign-key' ? 'a signature from another key' : `a wrong ${t === 'expired' ? 'expiry' : t}`}`, async () => {
      const { result, env, cfg, said } = await attempt(t);
      expect(result).toBeInstanceOf(GitsealError);
      const err = result as GitsealError;
      expect(err.code).toBe('BAD_TOKEN');
      expect(err.message).toMatch(new RegExp(`^the ID token from ${proxyOrigin} was refused: `));
      expect(err.message).toMatch(why);
      expect(err.message).not.toContain('\n');
      const token = forged.at(-1)!;
      leakCheck(`${err.message}\n${said.join('\n')}`, token);
      // Nothing was cached.
      expect(await whoami(cfg, { env })).toBeUndefined();
    });
  }
});

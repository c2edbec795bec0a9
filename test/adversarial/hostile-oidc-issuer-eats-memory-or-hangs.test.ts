/**
 * A hostile (or broken) OpenID provider, and CI token service, answering without end: every
 * answer gitseal reads while getting a token must be bounded in size and in time — discovery,
 * the device-authorization endpoint, the token endpoint, the JWKS the ID token is checked with
 * (openid-client fetches them all through src/oidc/client.ts limitedFetch, each request under
 * openid-client's deadline, whose signal also ends a body that drips), and the GitHub Actions
 * token service, which read `res.json()` of whatever came within 10 s: a fast endless body is
 * gigabytes of memory by then.
 *
 * The servers count what they sent; the bound is on bytes, never on elapsed time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GitsealError } from '../../src/errors.js';
import { connect, MAX_OIDC_RESPONSE_BYTES } from '../../src/oidc/client.js';
import { deviceLogin } from '../../src/oidc/device-flow.js';
import { githubActionsToken } from '../../src/oidc/github-actions.js';
import { googleMetadataToken } from '../../src/oidc/google-metadata.js';

type Mode = 'fine' | 'endless' | 'drip' | 'deny';
/** Which endpoint misbehaves, and how. */
let misbehave: { path: string; mode: Mode } = { path: '', mode: 'fine' };
let sent = 0;
let deviceExpiresIn = 600;
let server: Server;
let base: string;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** An ID token that passes openid-client's claim checks; its signature is only looked at with the JWKS. */
function idToken(): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${b64({ iss: base, aud: 'sigstore', sub: 's', email: 'a@example.com', email_verified: true, iat: now, exp: now + 300 })}.${'A'.repeat(86)}`;
}

function answer(path: string): unknown {
  switch (path) {
    case '/.well-known/openid-configuration':
      return {
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        device_authorization_endpoint: `${base}/device`,
        jwks_uri: `${base}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
      };
    case '/device':
      return { device_code: 'dc', user_code: 'UC', verification_uri: `${base}/verify`, expires_in: deviceExpiresIn, interval: 1 };
    case '/token':
      return { access_token: 'at', token_type: 'Bearer', id_token: idToken(), expires_in: 300 };
    case '/jwks':
      return { keys: [] };
    case '/gha':
      return { value: idToken() };
    default:
      return {};
  }
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const path = (req.url ?? '/').split('?')[0];
  if (path.startsWith('/computeMetadata/')) {
    // The Google metadata server: its token answer is plain text, with Metadata-Flavor: Google.
    res.writeHead(200, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' });
    if (misbehave.path !== '/computeMetadata') return void res.end(idToken());
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = (): void => {
      while (!res.destroyed && sent < 256 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (path !== misbehave.path || misbehave.mode === 'fine') {
    const body = Buffer.from(JSON.stringify(answer(path)));
    sent += body.length;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).end(body);
    return;
  }
  if (misbehave.mode === 'deny') {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'access_denied' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"pad":"');
  if (misbehave.mode === 'drip') {
    // Well under any size limit, and never finished: only a deadline ends it.
    const t = setInterval(() => {
      if (res.destroyed) return clearInterval(t);
      sent += 1;
      res.write(' ');
    }, 100);
    res.on('close', () => clearInterval(t));
    return;
  }
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    while (!res.destroyed && sent < 256 * 1024 * 1024) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** A device login against the hostile issuer, with openid-client's per-request deadline at `timeoutSeconds`. */
async function login(timeoutSeconds?: number): Promise<string> {
  const client = await connect({ issuer: base, clientID: 'sigstore' }, { timeoutSeconds });
  return deviceLogin(client, { say: () => {}, now: () => Date.now(), timeoutMs: 120_000 });
}

describe('every answer of an OpenID provider is size-limited', () => {
  for (const path of ['/.well-known/openid-configuration', '/device', '/token', '/jwks']) {
    test(`an endless ${path} answer is one clear error, read only up to the limit`, async () => {
      misbehave = { path, mode: 'endless' };
      sent = 0;
      const e = await failure(login());
      expect(e).toBeInstanceOf(GitsealError);
      expect(e.message).not.toMatch(/\n/);
      expect(e.message).toMatch(/^the OIDC issuer's answer from http:\/\/127\.0\.0\.1:\d+ is too large \(over 1048576 bytes\)$/);
      expect(sent).toBeLessThan(16 * MAX_OIDC_RESPONSE_BYTES);
    });
  }

  test('control: the same provider answering normally gets as far as the ID token’s signature', async () => {
    misbehave = { path: '', mode: 'fine' };
    const e = await failure(login());
    // No key in the JWKS can have signed the made-up token: refused, but every answer was read.
    expect(e).toBeInstanceOf(GitsealError);
    expect(e.message).not.toMatch(/too large|aborted|timed? ?out/i);
  });
});

describe('every answer of an OpenID provider has a deadline', () => {
  for (const path of ['/.well-known/openid-configuration', '/token', '/jwks']) {
    test(`a ${path} answer that drips forever ends at the per-request deadline`, async () => {
      misbehave = { path, mode: 'drip' };
      sent = 0;
      const e = await failure(login(1));
      expect(e).toBeInstanceOf(GitsealError);
      expect(e.message).not.toMatch(/\n/);
      expect(e.message).toMatch(/abort|time/i);
    });
  }
});

describe('the device code’s lifetime is the issuer’s word, bounded', () => {
  for (const expires of [1e12, 0.0001]) {
    test(`expires_in ${expires}: a login that ends, with one clear line (it was a RangeError)`, async () => {
      // The person refuses at the first poll: the login ends there, if it gets that far.
      misbehave = { path: '/token', mode: 'deny' };
      deviceExpiresIn = expires;
      try {
        const client = await connect({ issuer: base, clientID: 'sigstore' });
        const e = await failure(deviceLogin(client, { say: () => {}, now: () => Date.now() }));
        expect(e).toBeInstanceOf(GitsealError);
        expect(e.message).not.toMatch(/\n|RangeError|internal|delay/);
      } finally {
        deviceExpiresIn = 600;
      }
    });
  }
});

describe('the GitHub Actions token service', () => {
  const env = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/gha?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'bearer-secret' });

  test('an answer is read (control)', async () => {
    misbehave = { path: '', mode: 'fine' };
    await expect(githubActionsToken(env(), 'sigstore')).resolves.toMatch(/^ey/);
  });

  test('an endless answer is one clear error, read only up to the limit (it was buffered whole)', async () => {
    misbehave = { path: '/gha', mode: 'endless' };
    sent = 0;
    const e = await failure(githubActionsToken(env(), 'sigstore', async () => {}));
    expect(e).toBeInstanceOf(GitsealError);
    expect(e.message).toMatch(/GitHub Actions token service's answer .* too large/);
    expect(e.message).not.toContain('bearer-secret');
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('the Google metadata server (tokenProvider google-workload-identity)', () => {
  const env = () => ({ GCE_METADATA_HOST: new URL(base).host });

  test('an answer is read (control)', async () => {
    misbehave = { path: '', mode: 'fine' };
    await expect(googleMetadataToken(env(), 'sigstore')).resolves.toMatch(/^ey/);
  });

  test('an endless answer is one clear error, read only up to 64 KiB', async () => {
    misbehave = { path: '/computeMetadata', mode: 'endless' };
    sent = 0;
    const e = await failure(googleMetadataToken(env(), 'sigstore'));
    expect(e).toBeInstanceOf(GitsealError);
    expect(e.message).not.toMatch(/\n/);
    expect(e.message).toMatch(/too large/);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });
});

/**
 * The sandbox's OpenID provider: the certified `oidc-provider` package, set up
 * like Sigstore's Dex for the native public client `sigstore` —
 *  - authorization code with PKCE S256 required (RFC 7636; OAuth 2.0 for native apps, RFC 8252),
 *  - loopback redirects on any port (RFC 8252 §7.3),
 *  - device authorization grant (RFC 8628),
 *  - ID tokens with aud = client id, `email` and `email_verified`, living a few minutes.
 * Beside it a confidential client `sigstore-confidential` (client_secret_basic), as a private
 * Dex may require: its secret is written to DIR/oidc/client-secret (0600) for
 * gitseal.clientSecretFile / GITSIGN_OIDC_CLIENT_SECRET_FILE.
 * Keys persist in DIR/oidc/ (see keys.ts); everything else is in memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaLikeContext } from 'oidc-provider';
import { createHmac, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateKeys, oidcDir } from './keys.js';
import { MemoryStore } from './memory-adapter.js';
import {
  deviceSuccessPage,
  errorPage,
  loginPage,
  userCodeConfirmPage,
  userCodeInputPage,
} from './pages.js';

export const SANDBOX_CLIENT_ID = 'sigstore';
export const SANDBOX_CONFIDENTIAL_CLIENT_ID = 'sigstore-confidential';

/** Where the confidential client's secret is written (stable across restarts: derived from the provider's keys). */
export function clientSecretPath(dir: string): string {
  return join(oidcDir(dir), 'client-secret');
}
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface OidcProviderOptions {
  /** Sandbox state directory; keys go to DIR/oidc/. */
  dir: string;
  host?: string;
  port?: number;
  /** ID token lifetime in seconds. */
  idTokenTTL?: number;
}

export interface OidcProviderStats {
  /** Logins completed on the sign-in page (browser or device). */
  logins: number;
  /** Successful token endpoint responses (authorization code and device code grants). */
  tokensIssued: number;
  /** Device authorizations started (RFC 8628 §3.1). */
  deviceCodes: number;
  /** Authorization requests that redirected back with a code. */
  authorizations: number;
}

export interface RunningOidcProvider {
  issuer: string;
  port: number;
  /** The listening server (the runner puts fault injection in front of its 'request' listeners). */
  server: Server;
  close(): Promise<void>;
  stats(): OidcProviderStats;
}

const MAX_FORM = 8 * 1024;
// Deliberately loose: the sandbox accepts any address-looking string.
const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+$/;

export async function startOidcProvider(opts: OidcProviderOptions): Promise<RunningOidcProvider> {
  const host = opts.host ?? '127.0.0.1';
  const idTokenTTL = opts.idTokenTTL ?? 300;
  const keys = await loadOrCreateKeys(opts.dir);
  const clientSecret = createHmac('sha256', keys.cookieKeys[0]).update('sandbox confidential client secret').digest('base64url');
  const secretTmp = `${clientSecretPath(opts.dir)}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(secretTmp, clientSecret + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(secretTmp, clientSecretPath(opts.dir));
  const counters: OidcProviderStats = { logins: 0, tokensIssued: 0, deviceCodes: 0, authorizations: 0 };

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const store = new MemoryStore();
  // What both clients share: a native app with loopback redirects and the device grant.
  const nativeClient = {
    application_type: 'native',
    // Registered without a port: a native client may use any port (RFC 8252 §7.3).
    redirect_uris: ['http://127.0.0.1/auth/callback', 'http://localhost/auth/callback'],
    grant_types: ['authorization_code', DEVICE_CODE_GRANT],
    response_types: ['code'],
  };
  const provider = new Provider(issuer, {
    adapter: (model: string) => store.adapterFor(model),
    clients: [
      { ...nativeClient, client_id: SANDBOX_CLIENT_ID, client_name: 'sigstore', token_endpoint_auth_method: 'none' },
      {
        ...nativeClient,
        client_id: SANDBOX_CONFIDENTIAL_CLIENT_ID,
        client_secret: clientSecret,
        client_name: 'sigstore (confidential)',
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [keys.signingKey] },
    cookies: { keys: keys.cookieKeys },
    scopes: ['openid', 'email'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // Put email in the ID token even though an access token is also issued (Fulcio reads the ID token).
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: KoaLikeContext, form: string, _out: unknown, err?: { name?: string; userCode?: unknown }) => {
          ctx.type = 'html';
          ctx.body = userCodeInputPage(form, err);
        },
        userCodeConfirmSource: async (ctx: KoaLikeContext, form: string, client: { clientId: string }, _info: unknown, userCode: string) => {
          ctx.type = 'html';
          ctx.body = userCodeConfirmPage(form, client.clientId, userCode);
        },
        successSource: async (ctx: KoaLikeContext) => {
          ctx.type = 'html';
          ctx.body = deviceSuccessPage();
        },
      },
    },
    ttl: {
      IdToken: idTokenTTL,
      AccessToken: idTokenTTL,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // The account id is the e-mail address the person typed; Fulcio takes the identity from `email`.
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub, email_verified: true }),
    }),
    renderError: async (ctx: KoaLikeContext, out: { error?: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error ?? 'error', out.error_description);
    },
    clientBasedCORS: () => false,
  });

  provider.on('grant.success', () => counters.tokensIssued++);
  provider.on('device_authorization.success', () => counters.deviceCodes++);
  provider.on('authorization.success', () => counters.authorizations++);

  const oidc = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!m) return oidc(req, res);
    handleInteraction(req, res, m[1], Boolean(m[2])).catch((e: unknown) => {
      if (!res.headersSent) sendHtml(res, 400, errorPage('interaction failed', e instanceof Error ? e.message : String(e)));
      else res.end();
    });
  });

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, uid: string, submit: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('this sign-in page belongs to another request');
    const clientId = details.params.client_id ?? SANDBOX_CLIENT_ID;
    if (!submit || req.method !== 'POST') {
      sendHtml(res, 200, loginPage(uid, clientId));
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const email = (form.get('email') ?? '').trim();
    if (!EMAIL.test(email)) {
      sendHtml(res, 400, loginPage(uid, clientId, 'Enter an e-mail address.'));
      return;
    }
    // Login and consent in one step: the sandbox grants exactly the requested OIDC scopes.
    const grant = new provider.Grant({ accountId: email, clientId });
    grant.addOIDCScope(details.params.scope ?? 'openid email');
    const grantId = await grant.save();
    counters.logins++;
    await provider.interactionFinished(req, res, { login: { accountId: email }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  return {
    issuer,
    port,
    server,
    stats: () => ({ ...counters }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

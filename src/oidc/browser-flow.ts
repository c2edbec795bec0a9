/**
 * Browser login: authorization code with PKCE S256 (RFC 7636), `state` and
 * `nonce`, redirect to a loopback listener (RFC 8252 §7.3, §8.3). The listener
 * binds 127.0.0.1 only, takes exactly one callback carrying our `state`, answers
 * the browser once the code has been exchanged, then closes.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitsealError, fsReason } from '../errors.js';
import { acceptIdToken, loginError, type OidcClient } from './client.js';
import { openUrl } from './opener.js';

export interface BrowserLoginOptions {
  env: NodeJS.ProcessEnv;
  say(line: string): void;
  now(): number;
  timeoutMs: number;
  urlOpener?: string;
  connectorID?: string;
  /** e.g. http://localhost:0/auth/callback (gitsign's default); port 0 picks a free port. */
  redirectURL?: string;
  /** The success page closes itself after `autocloseTimeout` seconds (gitsign's autoclose; default true). */
  autoclose?: boolean;
  /** Seconds, 1–3600 (default 6, as gitsign). */
  autocloseTimeout?: number;
}

/** The countdown shown on the success page, or undefined when it should stay open. */
function autocloseSeconds(o: BrowserLoginOptions): number | undefined {
  if (o.autoclose === false) return undefined;
  const n = o.autocloseTimeout ?? 6;
  return Number.isSafeInteger(n) && n >= 1 && n <= 3600 ? n : 6;
}

interface Redirect {
  host: string;
  port: number;
  path: string;
}

export function parseRedirect(redirectURL: string | undefined): Redirect {
  if (!redirectURL) return { host: 'localhost', port: 0, path: '/auth/callback' };
  let u: URL;
  try {
    u = new URL(redirectURL);
  } catch {
    throw new GitsealError('CONFIG', `redirectURL "${redirectURL}" is not a URL`);
  }
  if (u.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(u.hostname)) {
    throw new GitsealError('CONFIG', `redirectURL must be http://localhost:PORT/… or http://127.0.0.1:PORT/… (got ${redirectURL})`);
  }
  return { host: u.hostname, port: u.port ? Number(u.port) : 0, path: u.pathname || '/auth/callback' };
}

export async function browserLogin(client: OidcClient, o: BrowserLoginOptions): Promise<string> {
  const { oc, config } = client;
  const redirect = parseRedirect(o.redirectURL);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new GitsealError('LOGIN_FAILED', `cannot listen on 127.0.0.1:${redirect.port} for the login callback: ${fsReason(e) ?? e.message}`)),
    );
    server.listen(redirect.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://${redirect.host}:${port}${redirect.path}`;

  const verifier = oc.randomPKCECodeVerifier();
  const state = oc.randomState();
  const nonce = oc.randomNonce();
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await oc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  // Dex: skip the connector chooser (gitsign's connectorID).
  if (o.connectorID) params.connector_id = o.connectorID;
  const authURL = oc.buildAuthorizationUrl(config, params).href;

  let timer: NodeJS.Timeout | undefined;
  try {
    const result = new Promise<string>((resolve, reject) => {
      let done = false;
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const here = new URL(req.url ?? '/', redirectUri);
        if (req.method !== 'GET' || here.pathname !== redirect.path) return reply(res, 404, 'Not found', 'Nothing here.');
        if (done || here.searchParams.get('state') !== state) {
          return reply(res, 400, 'Sign-in not accepted', 'This response does not belong to the login gitseal is waiting for.');
        }
        done = true;
        const error = here.searchParams.get('error');
        if (error) {
          const desc = here.searchParams.get('error_description');
          reply(res, 400, 'Sign-in failed', `The identity provider said: ${error}${desc ? ` (${desc})` : ''}.`);
          return reject(new GitsealError('LOGIN_FAILED', `login at ${client.issuer} failed: ${error}${desc ? `: ${desc}` : ''}`));
        }
        // RFC 6749 §4.1.3 with RFC 7636 §4.5; openid-client checks state, nonce, iss, aud, exp and the signature.
        oc.authorizationCodeGrant(config, here, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
          .then((tokens) => {
            const raw = acceptIdToken(client, tokens, nonce, o.now());
            reply(res, 200, 'Signed in', 'gitseal has your identity token.', autocloseSeconds(o));
            resolve(raw);
          })
          .catch((e: unknown) => {
            const err = loginError(e, client.issuer);
            reply(res, 400, 'Sign-in failed', err.message);
            reject(err);
          });
      });
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GitsealError(
              'LOGIN_TIMEOUT',
              `no sign-in came back from the browser within ${Math.round(o.timeoutMs / 1000)} s; run the command again, or set SIGSTORE_ID_TOKEN to sign without a browser`,
            ),
          ),
        o.timeoutMs,
      );
    });
    o.say(`Sign in at ${client.issuer} in your browser. If it does not open, visit this URL:`);
    o.say(`  ${authURL}`);
    await openUrl(authURL, o.urlOpener, o.env);
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
    server.close();
    // Give the success page a moment to leave before dropping keep-alive sockets.
    setTimeout(() => server.closeAllConnections(), 200).unref();
  }
}

/**
 * The page the browser lands on. With `closeAfter` (gitsign's autoclose/autocloseTimeout) it
 * counts down and closes itself. Browsers let a script close only a window a script opened, or
 * one whose history holds a single page — so after a sign-in form the close may be refused; the
 * page then says to close it (gitsign skips the countdown without a connectorID for that reason).
 */
function reply(res: ServerResponse, status: number, title: string, text: string, closeAfter?: number): void {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const script =
    closeAfter === undefined
      ? ''
      : '(function(){var n=' +
        String(closeAfter) +
        ",c=document.getElementById('countdown'),p=document.getElementById('closing');" +
        'var t=setInterval(function(){n--;if(n>0){c.textContent=String(n);return}clearInterval(t);window.close();' +
        "setTimeout(function(){p.textContent='You can close this window.'},500)},1000)})();";
  const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' };
  // Nothing but this page's own inline script runs here.
  headers['content-security-policy'] = `default-src 'none'; style-src 'unsafe-inline'${script ? `; script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'` : ''}`;
  res.writeHead(status, headers);
  const closing =
    closeAfter === undefined
      ? '<p id="closing">You can close this window.</p>'
      : `<p id="closing">This window closes in <span id="countdown">${closeAfter}</span> second${closeAfter === 1 ? '' : 's'}.</p>`;
  res.end(
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>gitseal: ${esc(title)}</title></head>` +
      `<body style="font-family:system-ui,sans-serif;max-width:32em;margin:3em auto"><h1 id="result">${esc(title)}</h1><p>${esc(text)}</p>` +
      (status === 200 ? closing : '') +
      (script ? `<script>${script}</script>` : '') +
      '</body></html>',
  );
}

/**
 * Where the signing path gets its OIDC identity token. Providers, first that
 * applies wins (cfg.tokenProvider forces one):
 *   env (SIGSTORE_ID_TOKEN / GITSEAL_ID_TOKEN; also GitLab CI `id_tokens:`),
 *   github-actions, buildkite, file (cosign's token path),
 *   (google-workload-identity only when forced: on a Cloud VM a person is not the VM),
 *   then a cached login, then an interactive login (browser, else device code).
 * Interactive code (openid-client) and the keyring are loaded only when needed.
 */
import type { GitsealConfig, TokenProviderName } from '../config/types.js';
import type { IdentityToken } from '../sign/types.js';
import { GitsealError } from '../errors.js';
import { parseJwtClaims } from './jwt.js';
import { envTokenSource, expiredEnvTokenError } from './env-token.js';
import { githubActionsApplies, githubActionsToken } from './github-actions.js';
import { buildkiteApplies, buildkiteToken } from './buildkite.js';
import { tokenFileApplies, tokenFilePath, tokenFromFile } from './token-file.js';
import { hasBrowser, hasControllingTerminal } from './terminal.js';

export interface TokenContext {
  env: NodeJS.ProcessEnv;
  /** Human output (the controlling terminal when there is one). */
  say(line: string): void;
  /** Whether a person can see `say` and answer a login; default: /dev/tty can be opened. */
  terminal?: boolean;
  /** Give up on an interactive login after this long; default GITSEAL_LOGIN_TIMEOUT seconds, else 120 s. */
  loginTimeoutMs?: number;
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
  /** Neither read nor write the token cache. */
  noCache?: boolean;
}

const DEFAULT_LOGIN_TIMEOUT_MS = 120_000;

export async function getIdentityToken(cfg: GitsealConfig, ctx: TokenContext): Promise<IdentityToken> {
  const forced = cfg.tokenProvider ?? 'auto';
  const env = ctx.env;
  if (forced !== 'auto') return fromProvider(forced, cfg, ctx);

  if (envToken(env)) return fromProvider('env', cfg, ctx);
  if (githubActionsApplies(env)) return fromProvider('github-actions', cfg, ctx);
  if (buildkiteApplies(env)) return fromProvider('buildkite', cfg, ctx);
  if (tokenFileApplies(env)) return fromProvider('file', cfg, ctx);

  const cached = await fromCache(cfg, ctx);
  if (cached) return cached;
  const terminal = ctx.terminal ?? hasControllingTerminal();
  if (!terminal) {
    throw new GitsealError(
      'NO_TOKEN',
      'no identity token and no terminal to log in from: set SIGSTORE_ID_TOKEN, run in GitHub Actions ' +
        '(permissions: id-token: write), GitLab CI (id_tokens: SIGSTORE_ID_TOKEN) or Buildkite, or run "gitseal login" first',
    );
  }
  return interactive(hasBrowser(env, cfg.urlOpener) ? 'browser' : 'device', cfg, ctx);
}

async function fromProvider(name: TokenProviderName, cfg: GitsealConfig, ctx: TokenContext): Promise<IdentityToken> {
  const env = ctx.env;
  switch (name) {
    case 'env':
    case 'gitlab': {
      const raw = envToken(env);
      if (!raw) {
        throw new GitsealError(
          'NO_TOKEN',
          name === 'gitlab'
            ? 'GitLab CI gave no identity token: add "id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore" to the job'
            : 'tokenProvider is "env" but neither SIGSTORE_ID_TOKEN nor GITSEAL_ID_TOKEN is set',
        );
      }
      // GitLab CI hands its `id_tokens:` token over in the same variable.
      const variable = envTokenSource(env)!.variable;
      const token = toIdentityToken(raw, env.GITLAB_CI === 'true' ? `GitLab CI (${variable})` : variable);
      const now = (ctx.now ?? Date.now)();
      if (token.expiresAt.getTime() <= now) throw expiredEnvTokenError(variable, token.expiresAt, now, env);
      return token;
    }
    case 'github-actions':
      return toIdentityToken(await githubActionsToken(env, cfg.clientID), 'GitHub Actions');
    case 'buildkite':
      return toIdentityToken(await buildkiteToken(env, cfg.clientID), 'buildkite-agent');
    case 'file':
      return toIdentityToken(tokenFromFile(env), `the token file ${tokenFilePath(env)}`);
    case 'google-workload-identity': {
      const { googleMetadataToken } = await import('./google-metadata.js');
      return toIdentityToken(await googleMetadataToken(env, cfg.clientID), 'the Google metadata server');
    }
    // gitsign's providers gitseal does not implement: say what works instead.
    case 'spiffe':
      throw new GitsealError(
        'NO_TOKEN',
        `tokenProvider "spiffe" is not implemented by gitseal: have the SPIRE agent (or spiffe-helper) write a JWT-SVID for audience "${cfg.clientID}" ` +
          'to a file and set GITSEAL_TOKEN_FILE to it with tokenProvider "file", or pass the JWT-SVID in SIGSTORE_ID_TOKEN',
      );
    case 'google-impersonation':
      throw new GitsealError(
        'NO_TOKEN',
        `tokenProvider "google-impersonation" is not implemented by gitseal: get the service account's token with ` +
          `SIGSTORE_ID_TOKEN=$(gcloud auth print-identity-token --impersonate-service-account="$GOOGLE_SERVICE_ACCOUNT_NAME" --audiences=${cfg.clientID} --include-email), ` +
          'or on Google Cloud use tokenProvider "google-workload-identity"',
      );
    case 'browser':
    case 'device': {
      const cached = await fromCache(cfg, ctx);
      if (cached) return cached;
      if (!(ctx.terminal ?? hasControllingTerminal())) {
        throw new GitsealError(
          'NO_TOKEN',
          `tokenProvider is "${name}" but there is no terminal to log in from: set SIGSTORE_ID_TOKEN or run "gitseal login" first`,
        );
      }
      return interactive(name, cfg, ctx);
    }
    default:
      throw new GitsealError('CONFIG', `unknown token provider "${String(name)}"`);
  }
}

function envToken(env: NodeJS.ProcessEnv): string | undefined {
  return envTokenSource(env)?.raw;
}

async function fromCache(cfg: GitsealConfig, ctx: TokenContext): Promise<IdentityToken | undefined> {
  if (ctx.noCache) return undefined;
  const { readCachedToken } = await import('./token-cache.js');
  const warn = (m: string) => ctx.say(`gitseal: warning: ${m}`);
  try {
    const hit = await readCachedToken(cacheKey(cfg), { env: ctx.env, now: (ctx.now ?? Date.now)(), warn });
    return hit ? toIdentityToken(hit.raw, 'the token cache') : undefined;
  } catch (e) {
    // A broken cache must never stop a signature; the login below replaces it — but say so.
    warn(`the token cache cannot be used (${e instanceof GitsealError ? e.message : 'error'}); logging in again`);
    return undefined;
  }
}

export function cacheKey(cfg: Pick<GitsealConfig, 'issuer' | 'clientID' | 'connectorID'>) {
  return { issuer: cfg.issuer, clientID: cfg.clientID, connectorID: cfg.connectorID };
}

export function loginTimeoutMs(ctx: Pick<TokenContext, 'env' | 'loginTimeoutMs'>): number {
  if (ctx.loginTimeoutMs) return ctx.loginTimeoutMs;
  const s = Number(ctx.env.GITSEAL_LOGIN_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_LOGIN_TIMEOUT_MS;
}

/** Run a browser or device login, validate the token, cache it. */
export async function interactive(flow: 'browser' | 'device', cfg: GitsealConfig, ctx: TokenContext): Promise<IdentityToken> {
  const now = ctx.now ?? Date.now;
  const { connect } = await import('./client.js');
  const client = await connect(cfg);
  let raw: string;
  if (flow === 'browser') {
    const { browserLogin } = await import('./browser-flow.js');
    raw = await browserLogin(client, {
      env: ctx.env,
      say: ctx.say,
      now,
      timeoutMs: loginTimeoutMs(ctx),
      urlOpener: cfg.urlOpener,
      connectorID: cfg.connectorID,
      redirectURL: cfg.redirectURL,
      autoclose: cfg.autoclose,
      autocloseTimeout: cfg.autocloseTimeout,
    });
  } else {
    const { deviceLogin } = await import('./device-flow.js');
    raw = await deviceLogin(client, {
      say: ctx.say,
      now,
      timeoutMs: ctx.loginTimeoutMs ?? (ctx.env.GITSEAL_LOGIN_TIMEOUT ? loginTimeoutMs(ctx) : undefined),
      connectorID: cfg.connectorID,
    });
  }
  const token = toIdentityToken(raw, client.issuer);
  if (!ctx.noCache) {
    const { storeToken } = await import('./token-cache.js');
    try {
      await storeToken(cacheKey(cfg), raw, { env: ctx.env, now: now() });
    } catch (e) {
      ctx.say(`gitseal: could not cache the login (${e instanceof GitsealError ? e.message : 'error'}); the next signature will ask again`);
    }
  }
  return token;
}

export function toIdentityToken(raw: string, from: string): IdentityToken {
  const c = parseJwtClaims(raw, from);
  if (typeof c.iss !== 'string' || typeof c.sub !== 'string' || typeof c.exp !== 'number') {
    throw new GitsealError('BAD_TOKEN', `the identity token from ${from} lacks iss, sub or exp`);
  }
  return {
    raw,
    issuer: c.iss,
    subject: c.sub,
    email: typeof c.email === 'string' ? c.email : undefined,
    expiresAt: new Date(c.exp * 1000),
  };
}

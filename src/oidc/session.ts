/**
 * `gitseal login`, `logout` and `whoami` as plain functions; the CLI wraps them
 * in oclif commands. None of them ever returns or prints the token itself.
 */
import type { GitsealConfig } from '../config/types.js';
import { GitsealError } from '../errors.js';
import { cacheKey, interactive, type TokenContext } from './get-token.js';
import { parseJwtClaims } from './jwt.js';
import { hasBrowser, hasControllingTerminal } from './terminal.js';
import { cacheDir, clearTokenCache, readCachedToken, tokenCachePlace } from './token-cache.js';

export interface SessionInfo {
  /** The e-mail claim, else the subject: what Fulcio will put in the certificate. */
  identity: string;
  subject: string;
  email?: string;
  issuer: string;
  clientID: string;
  expiresAt: Date;
  secondsLeft: number;
  storedIn: 'keyring' | 'file';
}

export interface LoginOptions {
  /** Default: browser when one can be shown, else device code. */
  flow?: 'browser' | 'device';
}

/** Log in interactively (even when a cached token exists) and cache the new token. */
export async function login(cfg: GitsealConfig, ctx: TokenContext, opts: LoginOptions = {}): Promise<SessionInfo> {
  // A login kept nowhere is pointless: say so before asking the person to log in.
  const place = await tokenCachePlace({ env: ctx.env });
  if (place.where === 'none') {
    throw new GitsealError('CONFIG', `a login cannot be kept here: ${place.why}, and the token is never stored beside its key; each signature logs in (or set SIGSTORE_ID_TOKEN)`);
  }
  if (!(ctx.terminal ?? hasControllingTerminal())) {
    throw new GitsealError('NO_TOKEN', 'login needs a terminal; in CI set SIGSTORE_ID_TOKEN or use the CI provider instead');
  }
  const flow = opts.flow ?? (hasBrowser(ctx.env, cfg.urlOpener) ? 'browser' : 'device');
  await interactive(flow, cfg, { ...ctx, noCache: false });
  const info = await whoami(cfg, ctx);
  if (!info) throw new GitsealError('LOGIN_FAILED', `logged in, but the token could not be cached in ${cacheDir(ctx.env)}`);
  return info;
}

/** The cached identity for this issuer/client, or undefined when not logged in (or the token is about to expire). */
export async function whoami(cfg: GitsealConfig, ctx: Pick<TokenContext, 'env' | 'now'> & { warn?(message: string): void }): Promise<SessionInfo | undefined> {
  const now = (ctx.now ?? Date.now)();
  const hit = await readCachedToken(cacheKey(cfg), { env: ctx.env, now, warn: ctx.warn });
  if (!hit) return undefined;
  const c = parseJwtClaims(hit.raw, 'the token cache');
  const email = typeof c.email === 'string' ? c.email : undefined;
  const expiresAt = new Date((c.exp as number) * 1000);
  return {
    identity: email ?? String(c.sub),
    subject: String(c.sub),
    email,
    issuer: hit.issuer,
    clientID: hit.clientID,
    expiresAt,
    secondsLeft: Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000)),
    storedIn: hit.storedIn,
  };
}

/** Forget every cached login (keyring entries and cache files); returns how many items were removed. */
export async function logout(ctx: Pick<TokenContext, 'env'>): Promise<number> {
  return clearTokenCache({ env: ctx.env });
}

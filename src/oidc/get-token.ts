/**
 * Where the signing path gets its OIDC identity token. This first version knows
 * only SIGSTORE_ID_TOKEN / GITSEAL_ID_TOKEN; src/oidc grows the other providers
 * (CI ambient, browser, device code, cache) behind this same function.
 */
import type { GitsealConfig } from '../config/types.js';
import type { IdentityToken } from '../sign/types.js';
import { GitsealError } from '../errors.js';
import { parseJwtClaims } from './jwt.js';

export interface TokenContext {
  env: NodeJS.ProcessEnv;
  /** Human output (the controlling terminal when there is one). */
  say(line: string): void;
}

export async function getIdentityToken(cfg: GitsealConfig, ctx: TokenContext): Promise<IdentityToken> {
  const raw = ctx.env.GITSEAL_ID_TOKEN || ctx.env.SIGSTORE_ID_TOKEN;
  if (raw) return toIdentityToken(raw.trim(), 'environment');
  throw new GitsealError(
    'NO_TOKEN',
    `no identity token: set SIGSTORE_ID_TOKEN (issuer ${cfg.issuer}) or log in with "gitseal login"`,
  );
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

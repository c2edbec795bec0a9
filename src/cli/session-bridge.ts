/** The login-cache check of `gitseal doctor` (src/oidc/session.ts whoami; never the token). */
import type { GitsealConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import { envTokenSource, expiredEnvTokenAdvice } from '../oidc/env-token.js';
import { parseJwtClaims } from '../oidc/jwt.js';
import { whoami } from '../oidc/session.js';
import { tokenCachePlace } from '../oidc/token-cache.js';
import type { Check } from './doctor-checks.js';
import { humanDuration } from './output.js';

export async function tokenCheck(cfg: GitsealConfig, env: NodeJS.ProcessEnv): Promise<Check> {
  const title = 'login';
  const fromEnv = envTokenSource(env);
  if (fromEnv && ['auto', 'env', 'gitlab', undefined].includes(cfg.tokenProvider)) return envTokenCheck(fromEnv.variable, fromEnv.raw, env, Date.now());
  try {
    const place = await tokenCachePlace({ env });
    if (place.where === 'none') {
      // No keyring and no private runtime directory: a key beside the cache would protect nothing.
      return {
        id: 'login',
        title,
        status: 'warn',
        summary: `logins are not cached: ${place.why}, and gitseal never keeps the token cache key beside the cache; every signature logs in`,
        fix: 'run a Secret Service (e.g. gnome-keyring) or set XDG_RUNTIME_DIR to a private (0700) directory outside ~/.cache, or sign with SIGSTORE_ID_TOKEN',
        details: { loggedIn: false, cache: 'none' },
      };
    }
    const damaged: string[] = [];
    const s = await whoami(cfg, { env, warn: (m) => damaged.push(m) });
    if (damaged.length) {
      return { id: 'login', title, status: 'warn', summary: damaged.join('; '), fix: 'gitseal login', details: { loggedIn: false, discarded: damaged } };
    }
    const where = place.where === 'keyring' ? place.name : `an encrypted file, key in ${place.keyFile}`;
    if (!s) {
      return {
        id: 'login',
        title,
        status: 'ok',
        summary: `not logged in to ${cfg.issuer}: the next signature opens a login (cached in ${where})`,
        details: { loggedIn: false, cache: place.where },
      };
    }
    return {
      id: 'login',
      title,
      status: 'ok',
      summary: `${s.identity} (${s.issuer}), ${humanDuration(s.secondsLeft)} left, in the ${s.storedIn === 'file' ? 'encrypted cache file' : 'OS keyring'}`,
      details: { loggedIn: true, identity: s.identity, secondsLeft: s.secondsLeft },
    };
  } catch (e) {
    return { id: 'login', title, status: 'warn', summary: `the login cache cannot be read: ${describeError(e)}`, fix: 'gitseal logout && gitseal login' };
  }
}

/** The token in SIGSTORE_ID_TOKEN / GITSEAL_ID_TOKEN: whose, and for how long (its claims, unverified; never the token). */
function envTokenCheck(variable: string, raw: string, env: NodeJS.ProcessEnv, now: number): Check {
  const title = 'login';
  let claims: Record<string, unknown>;
  try {
    claims = parseJwtClaims(raw, variable);
  } catch (e) {
    return { id: 'login', title, status: 'fail', summary: describeError(e), fix: `put a valid identity token (a JWT) in ${variable}, or unset it to log in instead` };
  }
  const who = typeof claims.email === 'string' ? claims.email : typeof claims.sub === 'string' ? claims.sub : '(no subject)';
  const issuer = typeof claims.iss === 'string' ? claims.iss : '(no issuer)';
  if (typeof claims.exp !== 'number') {
    return { id: 'login', title, status: 'fail', summary: `the identity token in ${variable} has no expiry (exp)`, fix: `put a valid identity token in ${variable}, or unset it` };
  }
  const left = claims.exp - now / 1000;
  const details = { loggedIn: true, source: variable, identity: who, issuer, secondsLeft: Math.max(0, Math.floor(left)) };
  if (left <= 0) {
    return {
      id: 'login',
      title,
      status: 'fail',
      summary: `the identity token in ${variable} (${who}, ${issuer}) expired ${humanDuration(-left)} ago: signing will fail`,
      fix: expiredEnvTokenAdvice(variable, env),
      details,
    };
  }
  return {
    id: 'login',
    title,
    status: left < 60 ? 'warn' : 'ok',
    summary: `${who} (${issuer}) from ${variable}, ${humanDuration(left)} left; the token is not shown`,
    fix: left < 60 ? `the token in ${variable} is about to expire: ${expiredEnvTokenAdvice(variable, env)}` : undefined,
    details,
  };
}

/** The login-cache check of `gitseal doctor` (src/oidc/session.ts whoami; never the token). */
import type { GitsealConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import { whoami } from '../oidc/session.js';
import { tokenCachePlace } from '../oidc/token-cache.js';
import type { Check } from './doctor-checks.js';
import { humanDuration } from './output.js';

export async function tokenCheck(cfg: GitsealConfig, env: NodeJS.ProcessEnv): Promise<Check> {
  const title = 'login';
  if (env.SIGSTORE_ID_TOKEN || env.GITSEAL_ID_TOKEN) {
    return { id: 'login', title, status: 'ok', summary: 'identity token from the environment (SIGSTORE_ID_TOKEN); the token is not shown' };
  }
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

/** The login-cache check of `gitseal doctor` (src/oidc/session.ts whoami; never the token). */
import type { GitsealConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import { whoami } from '../oidc/session.js';
import type { Check } from './doctor-checks.js';
import { humanDuration } from './output.js';

export async function tokenCheck(cfg: GitsealConfig, env: NodeJS.ProcessEnv): Promise<Check> {
  const title = 'login';
  if (env.SIGSTORE_ID_TOKEN || env.GITSEAL_ID_TOKEN) {
    return { id: 'login', title, status: 'ok', summary: 'identity token from the environment (SIGSTORE_ID_TOKEN); the token is not shown' };
  }
  try {
    const s = await whoami(cfg, { env });
    if (!s) {
      return {
        id: 'login',
        title,
        status: 'ok',
        summary: `not logged in to ${cfg.issuer}: the next signature opens a login`,
        details: { loggedIn: false },
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

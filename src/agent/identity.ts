/**
 * What a signing client tells the agent about itself: the identity key a credential is filed
 * under, the config subset the agent needs, a token held without asking anyone, and the
 * repository path for the agent's log, and the trust variables of its environment. Pure; node:path only (git's per-commit path loads it).
 */
import { resolve } from 'node:path';
import type { GitsealConfig } from '../config/types.js';
import type { AgentConfig, IdentityKey } from './protocol.js';

/** The identity key and config subset the agent files a credential under. */
export function agentIdentity(c: GitsealConfig): { identity: IdentityKey; config: AgentConfig } {
  return {
    identity: { fulcioURL: c.fulcioURL, issuer: c.issuer, clientID: c.clientID, connectorID: c.connectorID, email: c.userEmail },
    config: {
      fulcioURL: c.fulcioURL,
      rekorURL: c.rekorURL,
      issuer: c.issuer,
      clientID: c.clientID,
      connectorID: c.connectorID,
      redirectURL: c.redirectURL,
      // The agent runs elsewhere (cwd /): a relative path means the client's working directory.
      trustedRoot: c.trustedRoot ? resolve(c.trustedRoot) : undefined,
      userEmail: c.userEmail,
    },
  };
}

/**
 * A token this process holds without asking anyone: the variables src/oidc reads for the `env`
 * provider, when that provider may be used. Anything costlier (CI requests, the token cache,
 * a login) waits until the agent says it needs a token.
 */
export function ambientToken(c: GitsealConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (c.tokenProvider !== 'auto' && c.tokenProvider !== 'env' && c.tokenProvider !== 'gitlab') return undefined;
  const t = (env.GITSEAL_ID_TOKEN || env.SIGSTORE_ID_TOKEN || '').trim();
  return t || undefined;
}

/** The protocol refuses control characters and huge strings; the repo path is only for the log. */
export function logSafe(path: string): string {
  const p = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  return (p.length > 4000 ? '…' + p.slice(-3999) : p) || '?';
}

/**
 * The trust variables exactly as the client's environment holds them, relative paths made
 * absolute against `cwd` (the client's working directory; the agent runs in /).
 */
export function trustEnvFrom(env: NodeJS.ProcessEnv, names: readonly string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v) out[n] = resolve(cwd, v);
  }
  return out;
}

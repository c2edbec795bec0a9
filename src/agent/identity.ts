/**
 * What a signing client tells the agent about itself: the identity key a credential is filed
 * under, the config subset the agent needs, a token held without asking anyone, and the
 * repository path for the agent's log, and the trust variables of its environment. Pure but for
 * one stat(2) of the token file; node:path and node:fs only (git's per-commit path loads it).
 */
import { resolve } from 'node:path';
import type { GitsealConfig } from '../config/types.js';
import type { AgentConfig, IdentityKey } from './protocol.js';
import { buildkiteApplies } from '../oidc/buildkite.js';
import { githubActionsApplies } from '../oidc/github-actions.js';
import { tokenFileApplies } from '../oidc/token-file.js';

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
 * a login) waits until the agent says it needs a token — unless explicitTokenSource says the
 * identity is chosen explicitly, in which case the client fetches it first (agent-signer.ts).
 */
export function ambientToken(c: GitsealConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (c.tokenProvider !== 'auto' && c.tokenProvider !== 'env' && c.tokenProvider !== 'gitlab') return undefined;
  const t = (env.GITSEAL_ID_TOKEN || env.SIGSTORE_ID_TOKEN || '').trim();
  return t || undefined;
}

/**
 * The explicit token source that decides this signature's identity, if any: the order of
 * src/oidc/get-token.ts before the cache and interactive logins — a forced non-interactive
 * gitseal.tokenProvider, else SIGSTORE_ID_TOKEN/GITSEAL_ID_TOKEN, GitHub Actions, Buildkite, a
 * token file. When one applies, the agent must sign with a certificate for that token's
 * identity and never with one it holds for someone else (issue 14, item 11).
 */
export function explicitTokenSource(c: GitsealConfig, env: NodeJS.ProcessEnv): 'env' | 'gitlab' | 'github-actions' | 'buildkite' | 'file' | undefined {
  switch (c.tokenProvider) {
    case 'env':
    case 'gitlab':
    case 'github-actions':
    case 'buildkite':
    case 'file':
      return c.tokenProvider;
    case 'browser':
    case 'device':
      return undefined;
    default:
      if ((env.GITSEAL_ID_TOKEN || env.SIGSTORE_ID_TOKEN || '').trim()) return 'env';
      if (githubActionsApplies(env)) return 'github-actions';
      if (buildkiteApplies(env)) return 'buildkite';
      if (tokenFileApplies(env)) return 'file';
      return undefined;
  }
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

/**
 * How the agent obtains a credential for a client: the signing path's own obtainCredential
 * (ephemeral P-256 key, Fulcio v2 certificate, chain checked), fed the token the client sent.
 */
import type { GitsealConfig } from '../config/types.js';
import { obtainCredential } from '../sign/credential.js';
import type { Credential, IdentityToken } from '../sign/types.js';
import type { ObtainInput } from './credential-store.js';
import type { AgentConfig } from './protocol.js';

/** A full GitsealConfig from the subset a client sends; the agent itself never uses an agent. */
export function configFromAgentConfig(c: AgentConfig): GitsealConfig {
  return {
    fulcioURL: c.fulcioURL,
    rekorURL: c.rekorURL,
    rekorVersion: 1,
    issuer: c.issuer,
    clientID: c.clientID,
    connectorID: c.connectorID,
    redirectURL: c.redirectURL,
    tokenProvider: 'env',
    trustedRoot: c.trustedRoot,
    offline: false,
    matchCommitter: false,
    agent: 'off',
    userEmail: c.userEmail,
    sources: {},
  };
}

/**
 * One Fulcio certificate for the token's identity, chain and SCT checked against the trusted
 * root: the client's (`trust`, from a signPayload request), else the agent's environment's.
 */
export function obtainAgentCredential(config: AgentConfig, token: IdentityToken, trust?: ObtainInput['trust'], say?: ObtainInput['say']): Promise<Credential> {
  const full = { ...configFromAgentConfig(config), fulcioRoot: trust?.fulcioRoot };
  return obtainCredential(full, { getToken: async () => token, env: trust?.env ?? process.env, say });
}

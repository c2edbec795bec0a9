/**
 * An AttributeSigner backed by the gitseal agent, with a local one-shot fallback.
 *
 * Flow: make sure an agent runs (starting it when gitseal.agent is auto/on), ask it to sign,
 * forwarding an identity token only when this process already holds one cheaply (environment).
 * If the agent answers NEED_TOKEN, get a token here — this process owns the terminal, so a
 * browser or device login happens where the person is — and ask once more. If the agent cannot
 * be reached, dies mid-request, or fails, sign with a local credential instead and say so:
 * a commit is never lost because of the agent.
 */
import type { GitsealConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { FetchLike } from '../util/http.js';
import { obtainCredential } from './credential.js';
import { localSigner } from './local-signer.js';
import { AgentRefusedError, AgentUnavailableError, agentSign, agentSocketChecked, ensureAgent } from '../agent/client.js';
import { agentIdentity, ambientToken, explicitTokenSource, logSafe } from '../agent/identity.js';
import type { AttributeSigner, IdentityToken } from './types.js';

export interface AgentSignerOptions {
  config: GitsealConfig;
  env: NodeJS.ProcessEnv;
  /** The requesting repository (for the agent's log). */
  repo: string;
  /** Human output on the terminal. */
  say(line: string): void;
  /** An identity token (token cache, CI, browser, device flow): src/oidc getIdentityToken. */
  getToken(): Promise<IdentityToken>;
  /** Sign locally with a one-shot credential obtained with `getToken` (the non-agent path). */
  local(getToken: () => Promise<IdentityToken>): Promise<AttributeSigner>;
  /** dist/agent/main.js when not found beside the bundle. */
  agentMain?: string;
}

export interface AgentBackedSigner extends AttributeSigner {
  /** How the last signature was made (for logs and tests). */
  readonly lastMode: 'agent' | 'local' | undefined;
}

export function agentSigner(o: AgentSignerOptions): AgentBackedSigner {
  let lastMode: 'agent' | 'local' | undefined;
  // One token per process at most: the fallback reuses the one obtained for the agent.
  let tokenP: Promise<IdentityToken> | undefined;
  const getToken = () => (tokenP ??= o.getToken());

  /**
   * Sign with a one-time credential. Why the agent was not used is said only once that worked:
   * when the one-time path fails too, its error is the real one, and a line saying "signing with
   * a one-time credential" before it would only mislead.
   */
  async function viaLocal(signedAttrs: Buffer, why?: string) {
    const s = await o.local(getToken);
    const r = await s.sign(signedAttrs);
    lastMode = 'local';
    if (why) o.say(`gitseal: signed with a one-time credential: the signing agent ${why}`);
    return r;
  }

  return {
    get lastMode() {
      return lastMode;
    },
    async sign(signedAttrs: Buffer) {
      if (o.config.agent === 'off') return viaLocal(signedAttrs);
      const { identity, config } = agentIdentity(o.config);
      const unavailable = (e: unknown) => viaLocal(signedAttrs, `is unavailable (${describeError(e)})`);
      // A warm agent is asked at once (no probe connection first); ensureAgent, which probes and
      // starts one, runs only when nothing listens on the socket. The socket is checked
      // (checkSocketSafe) before anything is sent, as ensureAgent checks it.
      let socket: string | null;
      try {
        socket = agentSocketChecked({ env: o.env });
      } catch (e) {
        return unavailable(e);
      }
      let started = false;
      // An explicit token source (SIGSTORE_ID_TOKEN, CI, a token file) decides the identity: its
      // token goes with the first request, so the agent signs as that identity or not at all.
      const explicit = explicitTokenSource(o.config, o.env);
      let token = explicit === undefined ? undefined : explicit === 'env' || explicit === 'gitlab' ? ambientToken(o.config, o.env) : undefined;
      if (explicit !== undefined && token === undefined) token = (await getToken()).raw;
      for (let attempt = 0; attempt < 2; ) {
        try {
          // The agent's progress (a Fulcio request for a new certificate) shows as it happens.
          const r = await agentSign(socket, { identity, config, signedAttrs, repo: logSafe(o.repo), token }, undefined, o.say);
          lastMode = 'agent';
          return r;
        } catch (e) {
          if (e instanceof AgentUnavailableError && e.notListening && !started) {
            started = true;
            try {
              socket = await ensureAgent(o.config.agent, { env: o.env, agentMain: o.agentMain });
            } catch (e2) {
              return unavailable(e2);
            }
            if (!socket) return viaLocal(signedAttrs);
            continue;
          }
          if (e instanceof AgentRefusedError && e.agentError.code === 'NEED_TOKEN' && attempt === 0) {
            // The agent holds no certificate for this identity and no usable token: log in here.
            token = (await getToken()).raw;
            attempt++;
            continue;
          }
          return viaLocal(signedAttrs, `failed (${describeError(e)})`);
        }
      }
      return viaLocal(signedAttrs, 'did not accept the identity token it was given');
    },
  };
}

export interface SignerForConfigOptions {
  config: GitsealConfig;
  env: NodeJS.ProcessEnv;
  repo: string;
  say(line: string): void;
  getToken(): Promise<IdentityToken>;
  trust?: TrustedRoot;
  fetch?: FetchLike;
  agentMain?: string;
}

/**
 * What signPayload should sign with: undefined when gitseal.agent is off (signPayload then
 * obtains its own one-shot credential), else the agent signer whose fallback is exactly that
 * one-shot path (obtainCredential + localSigner).
 */
export function signerForConfig(o: SignerForConfigOptions): AgentBackedSigner | undefined {
  if (o.config.agent === 'off') return undefined;
  return agentSigner({
    config: o.config,
    env: o.env,
    repo: o.repo,
    say: o.say,
    getToken: o.getToken,
    agentMain: o.agentMain,
    local: async (getToken) =>
      localSigner(await obtainCredential(o.config, { getToken, env: o.env, say: o.say, trust: o.trust, fetch: o.fetch })),
  });
}

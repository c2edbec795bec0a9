/**
 * The agent's in-memory credentials: per identity key, one ephemeral key + certificate chain,
 * reused until the certificate has less than `marginMs` left, plus the last identity token
 * (memory only) so a renewal can skip the login while the token is still valid.
 *
 * Concurrent requests for the same identity share one in-flight credential request, so a burst
 * of signatures costs exactly one Fulcio request. Nothing here touches the network or the clock
 * directly: `obtain` and `now` come in as parameters.
 */
import type { Credential, IdentityToken } from '../sign/types.js';
import { GitsealError } from '../errors.js';
import { type AgentConfig, type IdentityKey, identityKeyString } from './protocol.js';

export interface ObtainInput {
  config: AgentConfig;
  token: IdentityToken;
  /**
   * The client's trust sources (signPayload): its trust variables and gitsign.fulcioRoot, so
   * the new chain is checked against the root the client verifies with. Absent (sign): the
   * agent's own environment.
   */
  trust?: { env: Record<string, string>; fulcioRoot?: string };
  /** Progress for the person waiting ("Requesting a certificate from …"). */
  say?: (line: string) => void;
}

export interface StoreDeps {
  /** Get a fresh certificate for the token's identity (Fulcio), with a new ephemeral key. */
  obtain(input: ObtainInput): Promise<Credential>;
  /** Decode a raw JWT the client forwarded (no signature check: Fulcio does that). */
  parseToken(raw: string): IdentityToken;
  now(): Date;
  /** A certificate with less than this left is not used (default 30 s). */
  marginMs?: number;
}

interface Entry {
  identity: IdentityKey;
  credential?: Credential;
  /** Whose token `credential` was obtained with (principalOf). */
  principal?: string;
  token?: IdentityToken;
  inflight?: Promise<Credential>;
  inflightPrincipal?: string;
  signatures: number;
}

/**
 * Who a token speaks for: issuer, subject and e-mail claim — what Fulcio puts in the certificate.
 * Two tokens with the same principal get certificates for the same identity.
 */
export function principalOf(t: IdentityToken): string {
  return JSON.stringify([t.issuer, t.subject, t.email ?? '']);
}

/** Thrown when the agent has neither a usable certificate nor a usable token for an identity. */
export class NeedTokenError extends GitsealError {
  constructor() {
    super('NO_TOKEN', 'the agent needs an identity token for this identity');
  }
}

export class CredentialStore {
  private readonly entries = new Map<string, Entry>();
  private readonly margin: number;

  constructor(private readonly deps: StoreDeps) {
    this.margin = deps.marginMs ?? 30_000;
  }

  private usable(c: Credential | undefined): c is Credential {
    return !!c && c.notAfter.getTime() - this.deps.now().getTime() >= this.margin;
  }

  private tokenUsable(t: IdentityToken | undefined): t is IdentityToken {
    return !!t && t.expiresAt.getTime() - this.deps.now().getTime() >= this.margin;
  }

  /**
   * A valid credential for `identity`: the cached one, the one being fetched right now, or a new
   * one obtained with `rawToken` (if given) or the remembered token. Throws NeedTokenError when
   * none of these exist.
   *
   * A token the client sends is an explicit choice of identity (SIGSTORE_ID_TOKEN, a CI token, a
   * fresh login): the credential used is then always one obtained with a token of the same
   * principal. A credential held for someone else is never substituted, and a token that cannot
   * be used is an error, never a reason to fall back to the remembered one.
   */
  async get(identity: IdentityKey, config: AgentConfig, rawToken?: string, trust?: ObtainInput['trust'], say?: ObtainInput['say']): Promise<Credential> {
    const key = identityKeyString(identity);
    let e = this.entries.get(key);
    if (!e) {
      e = { identity, signatures: 0 };
      this.entries.set(key, e);
    }
    const sent = rawToken !== undefined ? this.deps.parseToken(rawToken) : undefined;
    const want = sent ? principalOf(sent) : undefined;
    if (this.usable(e.credential) && (want === undefined || e.principal === want)) return e.credential;
    if (e.inflight && (want === undefined || e.inflightPrincipal === want)) return e.inflight;

    let token: IdentityToken | undefined;
    if (sent) {
      if (!this.tokenUsable(sent)) {
        throw new GitsealError('BAD_TOKEN', 'the identity token the client sent has expired (or expires within seconds); the agent does not sign with another identity instead');
      }
      token = sent;
    } else {
      if (!this.usable(e.credential)) e.credential = undefined;
      token = this.tokenUsable(e.token) ? e.token : undefined;
    }
    if (!token) {
      e.token = undefined;
      throw new NeedTokenError();
    }
    const entry = e;
    const used = token;
    const principal = principalOf(used);
    const self: { p?: Promise<Credential> } = {};
    const p = (self.p = (async () => {
      try {
        const c = await this.deps.obtain({ config, token: used, trust, say });
        if (!this.usable(c)) throw new GitsealError('FULCIO', 'Fulcio returned a certificate that is already (nearly) expired');
        entry.credential = c;
        entry.principal = principal;
        entry.token = used;
        return c;
      } catch (err) {
        // A token Fulcio refused is not worth remembering.
        if (entry.token === used) entry.token = undefined;
        throw err;
      } finally {
        // Another request may have started its own (another principal) meanwhile: leave it.
        if (entry.inflight === self.p) {
          entry.inflight = undefined;
          entry.inflightPrincipal = undefined;
        }
      }
    })());
    e.inflight = p;
    e.inflightPrincipal = principal;
    return p;
  }

  /** Count a signature made with the identity's credential (for status). */
  countSignature(identity: IdentityKey): void {
    const e = this.entries.get(identityKeyString(identity));
    if (e) e.signatures++;
  }

  /** Drop expired credentials and tokens; returns how many credentials remain valid. */
  prune(): number {
    let live = 0;
    for (const [k, e] of this.entries) {
      if (!this.usable(e.credential)) e.credential = undefined;
      if (!this.tokenUsable(e.token)) e.token = undefined;
      if (e.credential) live++;
      if (!e.credential && !e.token && !e.inflight) this.entries.delete(k);
    }
    return live;
  }

  /** What the agent holds, without key material. */
  held(): { identity: IdentityKey; credential: Credential; signatures: number }[] {
    const out = [];
    for (const e of this.entries.values()) {
      if (this.usable(e.credential)) out.push({ identity: e.identity, credential: e.credential, signatures: e.signatures });
    }
    return out;
  }

  /** Forget everything (on stop). */
  clear(): void {
    this.entries.clear();
  }
}

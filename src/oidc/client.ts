/**
 * openid-client 6 for the interactive flows, loaded only when one runs (the
 * environment and CI providers never pay for it). Discovery (OIDC Discovery
 * §4), then signature checks on every ID token via the issuer's JWKS: over
 * plain http on the loopback (the sandbox) there is no TLS to vouch for the
 * token endpoint, and a cached token should be one we checked end to end.
 */
import type * as OpenId from 'openid-client';
import { GitsealError } from '../errors.js';
import type { GitsealConfig } from '../config/types.js';
import { checkIdTokenClaims, redactTokens } from './jwt.js';

export type OpenIdModule = typeof OpenId;

export interface OidcClient {
  oc: OpenIdModule;
  config: OpenId.Configuration;
  issuer: string;
  clientID: string;
}

/** http is allowed only for loopback issuers (the local sandbox); anything else must be https. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export async function connect(cfg: Pick<GitsealConfig, 'issuer' | 'clientID'>): Promise<OidcClient> {
  let issuerURL: URL;
  try {
    issuerURL = new URL(cfg.issuer);
  } catch {
    throw new GitsealError('CONFIG', `the OIDC issuer "${cfg.issuer}" is not a URL`);
  }
  if (issuerURL.protocol !== 'https:' && !isLoopbackHttp(issuerURL)) {
    throw new GitsealError('CONFIG', `the OIDC issuer ${cfg.issuer} must use https`);
  }
  const oc = await import('openid-client');
  const execute = [oc.enableNonRepudiationChecks];
  if (isLoopbackHttp(issuerURL)) execute.push(oc.allowInsecureRequests);
  try {
    const config = await oc.discovery(issuerURL, cfg.clientID, undefined, oc.None(), { execute, timeout: 30, [oc.customFetch]: limitedFetch });
    // Every later request (JWKS, token, device endpoints) goes through the same limit.
    config[oc.customFetch] = limitedFetch;
    return { oc, config, issuer: config.serverMetadata().issuer, clientID: cfg.clientID };
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    const inner = e instanceof Error && e.cause instanceof GitsealError ? e.cause : undefined;
    if (inner) throw inner;
    throw new GitsealError('OIDC', `cannot reach the OIDC issuer ${cfg.issuer}: ${oidcReason(e)}`, e);
  }
}

/** Largest answer accepted from an OIDC issuer (discovery, JWKS, tokens are a few KB). */
export const MAX_OIDC_RESPONSE_BYTES = 1024 * 1024;

/**
 * fetch for openid-client that refuses answers over MAX_OIDC_RESPONSE_BYTES, declared or
 * streamed, so a hostile or broken issuer cannot make gitseal read without end.
 */
export async function limitedFetch(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  const tooLarge = () => new GitsealError('OIDC', `the OIDC issuer's answer from ${new URL(url).origin} is too large (over ${MAX_OIDC_RESPONSE_BYTES} bytes)`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_OIDC_RESPONSE_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body || [101, 204, 205, 304].includes(res.status)) return res;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_OIDC_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The ID token from a token response, with the claim checks repeated explicitly. */
export function acceptIdToken(
  client: OidcClient,
  tokens: { id_token?: string; claims(): Record<string, unknown> | undefined },
  nonce: string | undefined,
  now: number,
): string {
  const raw = tokens.id_token;
  const claims = tokens.claims();
  if (!raw || !claims) throw new GitsealError('BAD_TOKEN', `the issuer ${client.issuer} returned no ID token`);
  checkIdTokenClaims(claims, { issuer: client.issuer, audience: client.clientID, nonce, now }, client.issuer);
  return raw;
}

/** One line explaining an openid-client / oauth4webapi failure, without any token in it. */
export function oidcReason(e: unknown): string {
  if (!(e instanceof Error)) return redactTokens(String(e));
  const err = e as Error & { error?: string; error_description?: string };
  if (err.error) return redactTokens(`${err.error}${err.error_description ? `: ${err.error_description}` : ''}`.split('\n')[0]);
  const cause = err.cause instanceof Error ? err.cause.message : '';
  return redactTokens((cause ? `${err.message} (${cause})` : err.message).split('\n')[0]);
}

/**
 * Why an ID token was refused, in words, when the failure is one of the token
 * checks (OIDC Core §3.1.3.7); undefined for other failures.
 */
export function tokenRefusal(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const text = `${e.message} ${e.cause instanceof Error ? e.cause.message : ''}`;
  if (/signature verification failed/i.test(text)) return "its signature does not verify with the issuer's published keys";
  if (/"exp"/.test(text)) return 'it has expired';
  if (/"iat"|"nbf"/.test(text)) return 'it is not valid yet (check the clock)';
  if (/"aud"/.test(text)) return 'its audience (aud) is not this client';
  if (/"nonce"/.test(text)) return 'its nonce does not match this login';
  if (/"iss"/.test(text)) return 'it names another issuer';
  if (/"azp"|"sub"|ID Token|JWT/.test(text)) return oidcReason(e);
  return undefined;
}

/** Map a failure of the token exchange to a GitsealError: a refused token is BAD_TOKEN, the rest LOGIN_FAILED. */
export function loginError(e: unknown, issuer: string): GitsealError {
  if (e instanceof GitsealError) return e;
  const refused = tokenRefusal(e);
  return refused
    ? new GitsealError('BAD_TOKEN', `the ID token from ${issuer} was refused: ${refused}`, e)
    : new GitsealError('LOGIN_FAILED', `login at ${issuer} failed: ${oidcReason(e)}`, e);
}

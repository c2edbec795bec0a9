/**
 * openid-client 6 for the interactive flows, loaded only when one runs (the
 * environment and CI providers never pay for it). Discovery (OIDC Discovery
 * §4), then signature checks on every ID token via the issuer's JWKS: over
 * plain http on the loopback (the sandbox) there is no TLS to vouch for the
 * token endpoint, and a cached token should be one we checked end to end.
 */
import type * as OpenId from 'openid-client';
import { GitsealError, describeError, fsReason, networkReason } from '../errors.js';
import { readBounded } from '../util/read-bounded.js';
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

/** Largest client secret file accepted (a secret is a few dozen bytes). */
const MAX_CLIENT_SECRET_BYTES = 4096;

/**
 * The client secret in `path` (gitsign's clientSecretFile): the file's text without surrounding
 * white space. Errors name the file, never its content.
 */
export function readClientSecret(path: string): string {
  let bytes: Buffer;
  try {
    const b = readBounded(path, MAX_CLIENT_SECRET_BYTES);
    if (!b) throw new GitsealError('CONFIG', `the OIDC client secret file ${path} is larger than ${MAX_CLIENT_SECRET_BYTES} bytes`);
    bytes = b;
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    throw new GitsealError('CONFIG', `cannot read the OIDC client secret file ${path}: ${fsReason(e) ?? describeError(e)}`);
  }
  const secret = bytes.toString('utf8').trim();
  if (!secret || /[\u0000-\u001f\u007f]/.test(secret)) throw new GitsealError('CONFIG', `the OIDC client secret file ${path} holds no usable secret (one line of text expected)`);
  return secret;
}

/** openid-client's default: each request to the issuer, its whole answer included, within 30 s. */
export const OIDC_REQUEST_TIMEOUT_S = 30;

export async function connect(cfg: Pick<GitsealConfig, 'issuer' | 'clientID' | 'clientSecretFile'>, o: { timeoutSeconds?: number } = {}): Promise<OidcClient> {
  let issuerURL: URL;
  try {
    issuerURL = new URL(cfg.issuer);
  } catch {
    throw new GitsealError('CONFIG', `the OIDC issuer "${cfg.issuer}" is not a URL`);
  }
  if (issuerURL.protocol !== 'https:' && !isLoopbackHttp(issuerURL)) {
    throw new GitsealError('CONFIG', `the OIDC issuer ${cfg.issuer} must use https`);
  }
  // A confidential client authenticates at the token (and device) endpoint with HTTP Basic, the
  // method every OAuth server must support (RFC 6749 §2.3.1); a public one sends only its ID.
  const secret = cfg.clientSecretFile ? readClientSecret(cfg.clientSecretFile) : undefined;
  const oc = await import('openid-client');
  const execute = [oc.enableNonRepudiationChecks];
  if (isLoopbackHttp(issuerURL)) execute.push(oc.allowInsecureRequests);
  try {
    const auth = secret === undefined ? oc.None() : oc.ClientSecretBasic(secret);
    const timeout = o.timeoutSeconds ?? OIDC_REQUEST_TIMEOUT_S;
    const config = await oc.discovery(issuerURL, cfg.clientID, undefined, auth, { execute, timeout, [oc.customFetch]: limitedFetch });
    // Every later request (JWKS, token, device endpoints) goes through the same size limit and
    // the same per-request deadline (discovery keeps `timeout` in the configuration).
    config[oc.customFetch] = limitedFetch;
    config.timeout = timeout;
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
 * fetch for openid-client that refuses answers over `maxBytes`, declared or streamed, so a
 * hostile or broken issuer cannot make gitseal read without end. The time an answer may take is
 * openid-client's per-request timeout (connect's `timeoutSeconds`), whose signal `init` carries
 * and which also ends a body that drips.
 */
export async function limitedFetch(url: string, init: RequestInit, maxBytes = MAX_OIDC_RESPONSE_BYTES, what = "the OIDC issuer's answer"): Promise<Response> {
  const res = await fetch(url, init);
  const tooLarge = () => new GitsealError('OIDC', `${what} from ${new URL(url).origin} is too large (over ${maxBytes} bytes)`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
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
    if (total > maxBytes) {
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
  // A 401 with WWW-Authenticate (openid-client's WWWAuthenticateChallengeError): the OAuth error
  // is in the challenge parameters (RFC 6750 §3, RFC 6749 §5.2).
  const challenge = Array.isArray(err.cause)
    ? (err.cause as Array<{ parameters?: { error?: string; error_description?: string } }>).find((c) => c?.parameters?.error)?.parameters
    : undefined;
  const oauth = err.error ? { error: err.error, error_description: err.error_description } : challenge;
  if (oauth?.error) {
    const hint = oauth.error === 'invalid_client' ? ' (the issuer refused this client: check gitseal.clientID and gitseal.clientSecretFile)' : '';
    return redactTokens(`${oauth.error}${oauth.error_description ? `: ${oauth.error_description}` : ''}`.split('\n')[0] + hint);
  }
  // A socket failure in words ("connection refused"), never "fetch failed (connect ECONNREFUSED …)".
  const net = networkReason(err);
  const cause = net ?? (err.cause instanceof Error ? err.cause.message : '');
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
  // Our own refusal from inside openid-client (limitedFetch): say it, not "something went wrong".
  if (e instanceof Error && e.cause instanceof GitsealError) return e.cause;
  const refused = tokenRefusal(e);
  return refused
    ? new GitsealError('BAD_TOKEN', `the ID token from ${issuer} was refused: ${refused}`, e)
    : new GitsealError('LOGIN_FAILED', `login at ${issuer} failed: ${oidcReason(e)}`, e);
}

/**
 * OIDC identity token verification for the sandbox Fulcio, as real Fulcio does
 * it (go-oidc): the issuer must be configured, its keys come from OIDC
 * discovery (`{issuer}/.well-known/openid-configuration` → `jwks_uri`, OpenID
 * Connect Discovery 1.0 §4), and the JWT (RFC 7519) must verify with one of
 * them, be for audience `sigstore` and be inside its validity window.
 */
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { FulcioMessage, FulcioServiceError, GrpcCode } from './grpc-error.js';
import type { IssuerType } from './leaf-profile.js';

export interface IssuerConfig {
  issuerURL: string;
  /** The client ID(s) tokens must be for (Fulcio's ClientID; the sandbox also takes its confidential client). */
  audience: string | string[];
  type: IssuerType;
  /** Skip discovery and take the keys from here. */
  jwksURI?: string;
  /** For `uri` issuers: the host every `sub` must have. */
  subjectDomain?: string;
}

export interface VerifiedToken {
  issuer: IssuerConfig;
  claims: JWTPayload & Record<string, unknown>;
}

/** Small clock leeway for exp/nbf/iat, as OIDC libraries allow. */
const LEEWAY_SECONDS = 30;
const DISCOVERY_TIMEOUT_MS = 5000;

function tokenError(reason: string): FulcioServiceError {
  return new FulcioServiceError(GrpcCode.InvalidArgument, FulcioMessage.invalidIdentityToken, reason);
}

/** A short, token-free explanation of a jose failure. */
function describeJoseError(e: unknown, issuer: IssuerConfig): string {
  if (e instanceof errors.JWTExpired) return 'the token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return `the token audience is not ${[issuer.audience].flat().map((a) => `"${a}"`).join(' or ')}`;
    if (e.claim === 'nbf') return 'the token is not valid yet ("nbf" is in the future)';
    if (e.claim === 'iat') return 'the token "iat" claim is invalid';
    if (e.reason === 'missing') return `the token has no "${e.claim}" claim`;
    return `the token "${e.claim}" claim is invalid`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the token signature does not verify with the issuer's keys";
  if (e instanceof errors.JWKSNoMatchingKey) return "the token is not signed by any of the issuer's keys";
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return "the issuer's key set could not be fetched";
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return 'the token signature algorithm is not supported';
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'the token is not a well-formed JWT';
  if (e instanceof TypeError || (e instanceof Error && /fetch/i.test(e.message))) return "the issuer's key set could not be fetched";
  return 'the token could not be verified';
}

/** Build a verifier for `issuers`; keys are discovered lazily and cached per issuer. */
export function createTokenVerifier(opts: { issuers: IssuerConfig[]; now: () => Date }): (token: string) => Promise<VerifiedToken> {
  const keySets = new Map<string, Promise<ReturnType<typeof createRemoteJWKSet>>>();

  async function discover(issuer: IssuerConfig): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (issuer.jwksURI) return createRemoteJWKSet(new URL(issuer.jwksURI));
    const url = `${issuer.issuerURL.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw tokenError(`the issuer's OpenID configuration could not be fetched (HTTP ${res.status})`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery §4.3: the document's issuer must be exactly the one it was fetched for.
    if (doc.issuer !== issuer.issuerURL) throw tokenError("the issuer's OpenID configuration names a different issuer");
    if (typeof doc.jwks_uri !== 'string') throw tokenError("the issuer's OpenID configuration has no jwks_uri");
    return createRemoteJWKSet(new URL(doc.jwks_uri));
  }

  function keySetFor(issuer: IssuerConfig) {
    let p = keySets.get(issuer.issuerURL);
    if (!p) {
      p = discover(issuer);
      keySets.set(issuer.issuerURL, p);
      // A failed discovery is retried on the next request instead of being cached.
      p.catch(() => keySets.delete(issuer.issuerURL));
    }
    return p;
  }

  return async function verifyToken(token: string): Promise<VerifiedToken> {
    if (!token) throw tokenError('the request carries no identity token');
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw tokenError('the token is not a well-formed JWT');
    }
    const issuer = opts.issuers.find((i) => i.issuerURL === unverified.iss);
    if (!issuer) {
      const iss = typeof unverified.iss === 'string' ? unverified.iss.slice(0, 200) : '(none)';
      throw tokenError(`the token issuer ${JSON.stringify(iss)} is not configured`);
    }
    let keys: ReturnType<typeof createRemoteJWKSet>;
    try {
      keys = await keySetFor(issuer);
    } catch (e) {
      if (e instanceof FulcioServiceError) throw e;
      throw tokenError("the issuer's OpenID configuration could not be fetched");
    }
    const now = opts.now();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: issuer.issuerURL,
        audience: issuer.audience,
        currentDate: now,
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      }));
    } catch (e) {
      throw tokenError(describeJoseError(e, issuer));
    }
    // jose checks exp and nbf; a token issued in the future is refused too.
    if (typeof claims.iat !== 'number' || claims.iat > now.getTime() / 1000 + LEEWAY_SECONDS) {
      throw tokenError('the token was issued in the future ("iat")');
    }
    return { issuer, claims: claims as VerifiedToken['claims'] };
  };
}

/** JWT claim decoding (RFC 7519 §7.2 steps 1–8, without signature checking) and ID token claim checks. */
import { GitsealError } from '../errors.js';

const MAX_JWT = 64 * 1024;

export function parseJwtClaims(raw: string, from: string): Record<string, unknown> {
  if (raw.length > MAX_JWT) throw new GitsealError('BAD_TOKEN', `the identity token from ${from} is too large`);
  const parts = raw.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new GitsealError('BAD_TOKEN', `the identity token from ${from} is not a JWT`);
  }
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('not an object');
    return claims as Record<string, unknown>;
  } catch {
    throw new GitsealError('BAD_TOKEN', `the identity token from ${from} has unreadable claims`);
  }
}

export interface ExpectedIdToken {
  issuer: string;
  /** The client id (OIDC Core §2: aud must contain it). */
  audience: string;
  /** Required when the request carried one (OIDC Core §3.1.3.7 step 11). */
  nonce?: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** Allowed clock difference in seconds (default 60). */
  skew?: number;
}

/**
 * The claim checks of OIDC Core §3.1.3.7 (steps 2, 3, 9, 10, 11), spelled out
 * one per line. openid-client already runs them together with the signature
 * check; gitseal repeats them on every token it keeps or takes from its cache,
 * so a cached token for another issuer or client can never be used.
 */
export function checkIdTokenClaims(claims: Record<string, unknown>, want: ExpectedIdToken, from: string): void {
  const skew = want.skew ?? 60;
  const now = Math.floor(want.now / 1000);
  const bad = (why: string): never => {
    throw new GitsealError('BAD_TOKEN', `the identity token from ${from} was refused: ${why}`);
  };
  if (claims.iss !== want.issuer) bad(`it was issued by ${describeIssuer(claims.iss)}, not ${want.issuer}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(want.audience)) bad(`its audience is not ${want.audience}`);
  if (typeof claims.exp !== 'number') bad('it has no expiry');
  if ((claims.exp as number) <= now - skew) bad('it has expired');
  if (typeof claims.iat === 'number' && claims.iat > now + skew) bad('it was issued in the future');
  if (want.nonce !== undefined && claims.nonce !== want.nonce) bad('its nonce does not match this login');
  if (typeof claims.sub !== 'string' || claims.sub === '') bad('it has no subject');
}

/** The token's own `iss` for a message: any JSON value, quoted and bounded, never coerced (an object may have no toString). */
function describeIssuer(iss: unknown): string {
  if (iss === undefined) return 'no issuer';
  if (typeof iss !== 'string') return `a non-string issuer (${iss === null ? 'null' : Array.isArray(iss) ? 'array' : typeof iss})`;
  // JSON escaping without the quotes: control characters cannot reach a terminal.
  return JSON.stringify(iss.length > 200 ? `${iss.slice(0, 200)}…` : iss).slice(1, -1);
}

/** Whatever looks like a JWT is replaced, so no message or log line can carry a token. */
export function redactTokens(text: string): string {
  return text.replace(/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[token redacted]');
}

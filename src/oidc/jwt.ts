/** JWT claim decoding (RFC 7519 §7.2 steps 1–8, without signature checking). */
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

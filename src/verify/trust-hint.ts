/**
 * A failure that depends on which trusted root was used ("the log entry comes from an unknown
 * transparency log", "does not chain to a trusted Fulcio CA", an SCT or timestamp authority that
 * is not trusted) is half a message without that root: the signature may be fine and the person
 * verifying against the wrong Sigstore (public-good root for a private instance, or the reverse).
 * The edges that know where the root came from (src/trust/load.ts `source`) add it, and how to
 * choose another. Pure.
 */
import type { ErrorCode } from '../errors.js';

const TRUST_DEPENDENT: Partial<Record<ErrorCode, RegExp>> = {
  TLOG: /unknown transparency log|not trusted|trusted transparency log key/,
  CHAIN: /does not chain to a trusted|was not trusted at/,
  SCT: /not trusted/,
  TSA: /not signed by a trusted timestamp authority|not trusted/,
  TIMESTAMP: /not signed by a trusted timestamp authority|not trusted/,
};

/** Whether a failure with this code and message turns on the trusted root's contents. */
export function dependsOnTrustRoot(code: ErrorCode | undefined, message: string): boolean {
  const re = code ? TRUST_DEPENDENT[code] : undefined;
  return !!re && re.test(message);
}

/** The sentence to append: which root was used, and how to choose another. */
export function trustRootHint(source: string): string {
  const publicGood = source.startsWith('embedded public-good root') || source.startsWith('TUF cache');
  const choose = publicGood
    ? 'for a private Sigstore point gitseal.trustedRoot or GITSEAL_TRUSTED_ROOT at its trusted_root.json; if the public-good keys have rotated, run "gitseal initialize"'
    : 'point gitseal.trustedRoot or GITSEAL_TRUSTED_ROOT at another trusted_root.json, or unset them and the SIGSTORE_* root variables to use the public-good root';
  return `trusted root used: ${source}; ${choose}`;
}

/** `message`, with the trust-root hint when the failure depends on the root and the source is known. */
export function withTrustHint(code: ErrorCode | undefined, message: string, source: string | undefined): string {
  if (!source || !dependsOnTrustRoot(code, message) || message.includes('trusted root used: ')) return message;
  return `${message} — ${trustRootHint(source)}`;
}

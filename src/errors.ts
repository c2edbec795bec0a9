/**
 * One error family for the whole tool. Every expected failure carries a stable
 * `code` (for scripts, JSON output and tests) and a one-line human `message`.
 * The CLI prints `gitseal: <message>` and exits non-zero; stack traces are
 * reserved for bugs (errors that are not GitsealError).
 */
export type ErrorCode =
  // input and usage
  | 'USAGE'
  | 'INPUT_TOO_LARGE'
  | 'BAD_PEM'
  | 'BAD_DER'
  | 'BAD_CMS'
  | 'BAD_CERTIFICATE'
  | 'BAD_PROTOBUF'
  | 'BAD_GIT_OBJECT'
  | 'GIT'
  | 'BAD_JSON'
  | 'CONFIG'
  // identity
  | 'NO_TOKEN'
  | 'BAD_TOKEN'
  | 'LOGIN_FAILED'
  | 'LOGIN_TIMEOUT'
  // services
  | 'FULCIO'
  | 'REKOR'
  | 'TSA'
  | 'OIDC'
  | 'NETWORK'
  | 'TUF'
  // verification
  | 'SIGNATURE_MISMATCH'
  | 'CONTENT_MISMATCH'
  | 'CHAIN'
  | 'SCT'
  | 'TLOG'
  | 'TLOG_MISSING'
  | 'TIME'
  | 'TIMESTAMP'
  | 'POLICY'
  | 'TRUST_ROOT'
  // agent
  | 'AGENT'
  | 'INTERNAL';

export class GitsealError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;

  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(message);
    this.name = 'GitsealError';
    this.code = code;
    this.cause = cause;
  }
}

/** Throw a GitsealError; handy in expression position. */
export function fail(code: ErrorCode, message: string, cause?: unknown): never {
  throw new GitsealError(code, message, cause);
}

export function isGitsealError(e: unknown): e is GitsealError {
  return e instanceof GitsealError;
}

/** A one-line description of any thrown value, safe to show a person. */
export function describeError(e: unknown): string {
  if (e instanceof GitsealError) return e.message;
  if (e instanceof Error) return e.message.split('\n')[0] || e.name;
  return String(e);
}

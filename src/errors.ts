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
  /** A file or directory could not be read or written (the message names it and why). */
  | 'IO'
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

const ERRNO_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EBUSY: 'it is busy',
  ETXTBSY: 'it is busy',
  EXDEV: 'it is on another file system',
  ENOTEMPTY: 'the directory is not empty',
  EIO: 'input/output error',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'the other side closed the connection',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not available here',
  EAGAIN: 'temporarily unavailable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (the name server did not answer)',
  EAI_NONAME: 'host not found',
  EAI_FAIL: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
  ECONNABORTED: 'connection aborted',
  EPROTO: 'protocol error',
  ENOTCONN: 'not connected',
};

/** undici's (fetch's) and TLS error codes, in words. */
const NET_REASONS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the answer',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the answer',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
  UND_ERR_CLOSED: 'the connection closed unexpectedly',
  UND_ERR_ABORTED: 'aborted',
  UND_ERR_RESPONSE_STATUS_CODE: 'unexpected answer',
  UND_ERR_INVALID_ARG: 'invalid request',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'the request was cut short',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the answer was cut short',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'the answer is too large',
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  CERT_NOT_YET_VALID: "the server's TLS certificate is not valid yet",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate chain is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's TLS certificate is from an unknown authority",
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS there',
  ERR_INVALID_URL: 'not a valid URL',
};

function codeReason(code: string): string | undefined {
  return ERRNO_REASONS[code] ?? NET_REASONS[code];
}

/**
 * Why a connection failed, in words ("connection refused", "host not found", "timed out"):
 * the code of `e` or of any error in its cause chain (fetch wraps the socket error as the cause
 * of "fetch failed"; a connection to every address of a host is an AggregateError), never a
 * bare code like ECONNREFUSED. Undefined when no known code is found.
 */
export function networkReason(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (x: unknown): string | undefined => {
    if (!x || typeof x !== 'object' || seen.has(x)) return undefined;
    seen.add(x);
    const o = x as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (o.name === 'TimeoutError') return 'timed out';
    if (typeof o.code === 'string') {
      const r = codeReason(o.code);
      if (r) return r;
    }
    if (Array.isArray(o.errors)) for (const y of o.errors) {
      const r = walk(y);
      if (r) return r;
    }
    return walk(o.cause);
  };
  return walk(e);
}

const FS_VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  stat: 'read',
  lstat: 'read',
  mkdir: 'create the directory',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  chmod: 'change the permissions of',
  scandir: 'list',
  readlink: 'read',
  realpath: 'resolve',
  copyfile: 'copy',
  symlink: 'link',
  access: 'access',
};

/**
 * Why a file (or socket) operation failed, in words ("no such file or directory", "permission denied"),
 * never a bare errno name; undefined when `e` is not a Node system error.
 */
export function fsReason(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return ERRNO_REASONS[code] ?? (e instanceof Error ? e.message.replace(/^E[A-Z0-9]+: /, '').split(',')[0] : undefined) ?? code;
}

/** A Node system error of a file operation as "cannot open /x: permission denied". */
function describeFsError(e: NodeJS.ErrnoException): string | undefined {
  const reason = fsReason(e);
  if (!reason || typeof e.syscall !== 'string') return undefined;
  const verb = FS_VERBS[e.syscall] ?? e.syscall;
  // mkdir -p meets a file where a directory should be.
  if (e.code === 'EEXIST' && e.syscall === 'mkdir') return `cannot create the directory ${e.path}: a file of that name is in the way`;
  return e.path ? `cannot ${verb} ${e.path}: ${reason}` : `${verb} failed: ${reason}`;
}

/** A Node system error from the file system (errno code, syscall and path): not a bug. */
export function isFsError(e: unknown): boolean {
  const x = e as NodeJS.ErrnoException | undefined;
  return e instanceof Error && typeof x?.code === 'string' && typeof x.syscall === 'string' && typeof x.path === 'string';
}

/** A one-line description of any thrown value, safe to show a person. */
export function describeError(e: unknown): string {
  if (e instanceof GitsealError) return e.message;
  if (e instanceof Error) return (isFsError(e) && describeFsError(e)) || networkReason(e) || e.message.split('\n')[0] || e.name;
  return String(e);
}

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
};

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
  if (e instanceof Error) return (isFsError(e) && describeFsError(e)) || e.message.split('\n')[0] || e.name;
  return String(e);
}

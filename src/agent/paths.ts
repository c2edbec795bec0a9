/**
 * Where the agent's socket and log live, and the directory checks that make the socket safe.
 *
 * Peer credentials: Node.js exposes no SO_PEERCRED / getpeereid() API for unix sockets. The only
 * way to learn the peer from JavaScript would be matching the accepted socket's inode against
 * /proc/net/unix and then scanning /proc/<pid>/fd of every process — Linux-only, racy (the
 * peer can exit and its pid be reused between accept and scan) and blind to other users'
 * processes (their /proc/<pid>/fd is unreadable to us), so it cannot tell "another user" from
 * "gone". We therefore do not pretend to check peers. The real barrier is the file system: the
 * socket lives in a directory that must be owned by us with mode 0700, and the socket itself
 * is 0600, so the kernel refuses connect(2) from any other uid (root excepted, as for any
 * agent, ssh-agent and gpg-agent included).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { GitsealError } from '../errors.js';
import { homeDir } from '../util/home.js';

/** sun_path is 108 bytes on Linux (104 on macOS) including the terminating NUL. */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/** `$GITSEAL_AGENT_SOCK`, else `$XDG_RUNTIME_DIR/gitseal/agent.sock`, else `~/.cache/gitseal/agent.sock`. */
export function agentSocketPath(env: NodeJS.ProcessEnv): string {
  const override = env.GITSEAL_AGENT_SOCK;
  let p: string;
  if (override) p = override;
  else if (env.XDG_RUNTIME_DIR && isAbsolute(env.XDG_RUNTIME_DIR)) p = join(env.XDG_RUNTIME_DIR, 'gitseal', 'agent.sock');
  else p = join(cacheDir(env), 'agent.sock');
  if (!isAbsolute(p)) throw new GitsealError('CONFIG', `the agent socket path must be absolute: ${p}`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
    throw new GitsealError('CONFIG', `the agent socket path is longer than ${MAX_SOCKET_PATH} bytes (set GITSEAL_AGENT_SOCK to a shorter one): ${p}`);
  }
  return p;
}

/** `~/.cache/gitseal` (XDG_CACHE_HOME honoured). */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homeDir(env), '.cache');
  return join(base, 'gitseal');
}

/** `$GITSEAL_AGENT_LOG`, else `~/.cache/gitseal/agent.log`. */
export function agentLogPath(env: NodeJS.ProcessEnv): string {
  return env.GITSEAL_AGENT_LOG || join(cacheDir(env), 'agent.log');
}

/**
 * Create `dir` (mode 0700) if missing, then insist that it is a real directory, owned by us,
 * with no group or world permission bits. Refuses rather than repairs: a directory someone else
 * could write to may already hold their socket or symlink.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDir(dir);
}

export function checkPrivateDir(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new GitsealError('AGENT', `${dir} is not a directory (a symlink is not accepted)`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new GitsealError('AGENT', `refusing to use ${dir}: it is owned by uid ${st.uid}, not by you (uid ${uid})`);
  }
  if (st.mode & 0o077) {
    throw new GitsealError('AGENT', `refusing to use ${dir}: its mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}, it must be 0700 (run: chmod 700 ${dir})`);
  }
}

export function socketDir(socketPath: string): string {
  return dirname(socketPath);
}

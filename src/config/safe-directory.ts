/**
 * git's repository ownership rule (CVE-2022-24765): a repository discovered from the working
 * directory whose files belong to another user is not trusted, so its configuration — which
 * could name gitseal.trustedRoot, gitseal.allowedSignersFile, a program to run — is not read,
 * unless the user vouches for it with `safe.directory` in *protected* configuration (system,
 * global and command line, never the repository's own files).
 *
 * This follows git's setup.c exactly (ensure_valid_ownership, safe_directory_cb,
 * is_path_owned_by_current_uid in git-compat-util.h):
 *   - checked only for a repository found by discovery; an explicit GIT_DIR is trusted, as git
 *     trusts it (git discovers again for the programs it runs, so that is what it checked);
 *   - owned: lstat(2) of the `.git` file (if any), the work tree (if any) and the git directory
 *     each has st_uid == euid; for root, a root-owned path counts as owned, else euid is replaced
 *     by $SUDO_UID when that is a plain number (so `sudo git …` works on the user's repositories);
 *   - otherwise safe.directory entries are read in order from protected configuration: "*"
 *     allows every repository, an empty value resets the list, a path (`~/` expanded) allows
 *     the repository whose work tree (or git directory, when bare) is that path, compared after
 *     resolving symbolic links; "…/*" allows everything below "…/", and "." the current
 *     directory. Relative paths count for nothing. These path forms are git 2.46's; git 2.39
 *     compares the literal path and knows neither "/*" nor "." — every form gitseal accepts
 *     beyond that is one the user wrote into protected configuration.
 * On Windows git compares SIDs; there the check is left to git itself.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { homeDir } from '../util/home.js';
import type { ConfigEntry } from './git-config-syntax.js';

/** What discovery found, the paths git's ownership check looks at. */
export interface DiscoveredRepository {
  gitDir: string;
  /** The directory holding `.git` (absent for a bare repository). */
  worktree?: string;
  /** The `.git` file pointing elsewhere ("gitdir: …"), for linked worktrees and submodules. */
  gitfile?: string;
  /** GIT_DIR named it: no discovery, no ownership check (as in git). */
  explicit: boolean;
}

export interface OwnershipVerdict {
  trusted: boolean;
  /** The path that identifies the repository for safe.directory (work tree, else git dir). */
  path: string;
  /** First path not owned by the current user, and its owner, when untrusted. */
  notOwned?: { path: string; uid: number };
  /** Refused because it is a bare repository found by discovery and safe.bareRepository is "explicit". */
  bareRefused?: boolean;
}

/**
 * git's is_implicit_bare_repo (setup.c): a git directory found by discovery that is the `.git`
 * of a work tree, or one inside `.git/worktrees/` or `.git/modules/`, is not refused by
 * safe.bareRepository=explicit.
 */
function isImplicitBare(gitDir: string): boolean {
  // gitDir is physical (discoverRepository walks up from the real path, as git from getcwd()):
  // a symlink named `.git` to a bare repository elsewhere is not a work tree's .git.
  return /(^|\/)\.git\/?$/.test(gitDir) || gitDir.includes('/.git/worktrees/') || gitDir.includes('/.git/modules/');
}

/**
 * safe.bareRepository (git ≥ 2.38, setup.c get_allowed_bare_repo) from protected configuration:
 * "explicit" refuses a bare repository found by discovery — one that is not named by GIT_DIR or
 * --git-dir — so that a bare repository embedded in what you cloned (its config naming a
 * program, a trusted root) is not used because you cd'ed into it. git dies on a value other than
 * "all" or "explicit"; gitseal refuses the repository then (the same outcome for it).
 */
export function bareRepositoryRefused(repo: DiscoveredRepository, protectedEntries: () => ConfigEntry[]): boolean {
  if (repo.explicit || repo.worktree !== undefined || isImplicitBare(repo.gitDir)) return false;
  // As git: each protected value must be exactly "all" or "explicit" (git dies on any other,
  // even when a later one is good; it compares case-sensitively); the last one decides.
  let value: string | null | undefined;
  for (const e of protectedEntries()) {
    if (e.key !== 'safe.barerepository') continue;
    if (e.value !== 'all' && e.value !== 'explicit') return true;
    value = e.value;
  }
  return value === 'explicit';
}

/** uid the current user counts as for `path` (git's is_path_owned_by_current_uid), or undefined when not POSIX. */
function euid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

/** git's extract_id_from_env: strtoul over the whole value, else no change. */
function sudoUid(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.SUDO_UID;
  if (!v) return undefined;
  const m = /^\s*([+-]?)(\d+)$/.exec(v);
  if (!m) return undefined;
  let n = BigInt(m[2]);
  if (n > 0xffffffffffffffffn) return undefined; // ERANGE
  if (m[1] === '-') n = (0x10000000000000000n - n) & 0xffffffffffffffffn;
  return Number(n & 0xffffffffn); // uid_t is 32 bits
}

/** Owner of `path` when it is not owned by the current user; undefined when owned. lstat failure counts as not owned. */
function foreignOwner(path: string, env: NodeJS.ProcessEnv): number | undefined {
  const me = euid();
  if (me === undefined) return undefined;
  let uid: number;
  try {
    uid = lstatSync(path).uid;
  } catch {
    return -1;
  }
  let who = me;
  if (me === 0) {
    if (uid === 0) return undefined;
    who = sudoUid(env) ?? 0;
  }
  return uid === who ? undefined : uid;
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** git_config_pathname's `~/` and `~user/` expansion; undefined when it cannot be expanded. */
function expandPath(value: string, env: NodeJS.ProcessEnv): string | undefined {
  if (value === '~' || value.startsWith('~/')) return join(homeDir(env), value.slice(1));
  if (value.startsWith('~')) return undefined; // ~user: no getpwnam(3) in Node; such an entry allows nothing
  if (value.startsWith('%(prefix)/')) return undefined; // git's runtime prefix: unknown here
  return value;
}

/**
 * safe_directory_cb over protected config entries, for the repository identified by `repoPath`
 * (a real path). git ≥ 2.46 normalises each value with real_pathdup, which accepts a last
 * component that does not exist — so "/srv/*" becomes realpath("/srv") + "/*", a prefix.
 */
export function safeDirectoryAllows(entries: ConfigEntry[], repoPath: string, cwd: string, env: NodeJS.ProcessEnv): boolean {
  let safe = false;
  for (const e of entries) {
    if (e.key !== 'safe.directory') continue;
    const value = e.value;
    if (value === null || value === '') {
      safe = false;
      continue;
    }
    if (value === '*') {
      safe = true;
      continue;
    }
    const allowed = expandPath(value, env);
    if (allowed === undefined) continue;
    if (!isAbsolute(allowed) && allowed !== '.') continue; // git warns "not absolute" and skips it
    if (allowed.endsWith('/*')) {
      const base = realpathOrUndefined(allowed.slice(0, -2) || '/');
      if (!base) continue;
      if (repoPath.startsWith(base.endsWith('/') ? base : base + '/')) safe = true;
      continue;
    }
    const normalized = realpathOrUndefined(allowed === '.' ? cwd : allowed);
    if (normalized !== undefined && normalized === repoPath) safe = true;
  }
  return safe;
}

/**
 * ensure_valid_ownership for a discovered repository. `protectedEntries` is called only when
 * something is not owned (reading protected configuration costs a parse of the global files).
 */
export function repositoryOwnership(repo: DiscoveredRepository, cwd: string, env: NodeJS.ProcessEnv, protectedEntries: () => ConfigEntry[]): OwnershipVerdict {
  const key = repo.worktree ?? repo.gitDir;
  if (repo.explicit || euid() === undefined) return { trusted: true, path: key };
  let notOwned: OwnershipVerdict['notOwned'];
  if (/^(1|true|yes|on)$/i.test(env.GIT_TEST_ASSUME_DIFFERENT_OWNER ?? '')) notOwned = { path: key, uid: -1 };
  else {
    for (const p of [repo.gitfile, repo.worktree, repo.gitDir]) {
      const uid = p === undefined ? undefined : foreignOwner(p, env);
      if (uid !== undefined) {
        notOwned = { path: p!, uid };
        break;
      }
    }
  }
  if (!notOwned) return { trusted: true, path: key };
  // The path is unsafe when it cannot be normalised (git: "data.path = real_pathdup(…); if (!data.path) return 0").
  const real = realpathOrUndefined(key);
  return { trusted: real !== undefined && safeDirectoryAllows(protectedEntries(), real, cwd, env), path: key, notOwned };
}

/** git's message for a refused repository, on one line, with the command that trusts it. */
export function dubiousOwnershipMessage(v: OwnershipVerdict): string {
  if (v.bareRefused) return `cannot use bare repository '${v.path}' (safe.bareRepository is 'explicit'); to use it: name it with GIT_DIR or git --git-dir`;
  const who = v.notOwned && v.notOwned.uid >= 0 ? ` (${v.notOwned.path} is owned by uid ${v.notOwned.uid}, not by you)` : '';
  return `detected dubious ownership in repository at '${v.path}'${who}; to trust it: git config --global --add safe.directory '${v.path}'`;
}

/**
 * Reads git's configuration in-process, in git's order (git-config(1) FILES,
 * ENVIRONMENT): system, global, local (+ worktree), then command scope
 * (GIT_CONFIG_COUNT/KEY_n/VALUE_n, then `git -c` via GIT_CONFIG_PARAMETERS).
 * Later entries win. include.path and includeIf "gitdir:" / "gitdir/i:" /
 * "onbranch:" / "hasconfig:remote.*.url:" are followed as git does (config.c).
 * No `git config` subprocess: this runs every time git signs or verifies, and a
 * fork costs more than the whole read.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { GitsealError } from '../errors.js';
import { canonicalKey, parseGitBool, parseGitConfig, type ConfigEntry } from './git-config-syntax.js';
import { homeDir } from '../util/home.js';
import { bareRepositoryRefused, repositoryOwnership, type DiscoveredRepository, type OwnershipVerdict } from './safe-directory.js';

export interface GitConfig {
  /** Every entry in git's order; the last one of a key wins. */
  entries: ConfigEntry[];
  /** The repository's git dir, if cwd is inside one (and, unless `untrusted` is set, trusted). */
  gitDir?: string;
  /**
   * cwd is inside a repository git would refuse (dubious ownership, no safe.directory for it):
   * its configuration was not read, as git does not read it (src/config/safe-directory.ts).
   */
  untrusted?: OwnershipVerdict;
  /** Last value of a canonical key (see canonicalKey). */
  get(key: string): ConfigEntry | undefined;
}

export interface ReadGitConfigOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const MAX_INCLUDE_DEPTH = 10; // git's MAX_INCLUDE_DEPTH
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function readIfExists(path: string): string | undefined {
  try {
    // throwIfNoEntry: a missing file (the usual case for most of git's config paths) is no
    // exception; building one (stack trace included) costs more than the stat itself.
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st || (!st.isFile() && !st.isCharacterDevice())) return undefined;
    if (st.size > MAX_CONFIG_BYTES) throw new GitsealError('CONFIG', `config file ${path} is too large`);
    // At most MAX_CONFIG_BYTES + 1 bytes: a character device has no size to check first, and a
    // repository's `include.path = /dev/zero` never ends (git stops at "bad config line 1").
    const chunks: Buffer[] = [];
    let n = 0;
    const fd = openSync(path, 'r');
    try {
      // One read for a regular file (its size + 1 finds its end); 64 KiB steps for anything else.
      for (let size = st.isFile() ? st.size + 1 : 65536; n <= MAX_CONFIG_BYTES; size = 65536) {
        const b = Buffer.allocUnsafe(size);
        const k = readSync(fd, b, 0, size, null);
        if (k === 0) break;
        chunks.push(b.subarray(0, k));
        n += k;
      }
    } finally {
      closeSync(fd);
    }
    if (n > MAX_CONFIG_BYTES) throw new GitsealError('CONFIG', `config file ${path} is too large`);
    return Buffer.concat(chunks, n).toString('utf8');
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    return undefined; // missing or unreadable: git skips it too
  }
}

function home(env: NodeJS.ProcessEnv): string {
  return homeDir(env);
}

function expandTilde(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return home(env);
  if (p.startsWith('~/')) return join(home(env), p.slice(2));
  return p;
}

/** git's sysconfdir: /etc for a /usr prefix, else $(prefix)/etc, guessed from where git lives. */
function systemConfigPath(env: NodeJS.ProcessEnv): string {
  if (existsSync('/etc/gitconfig')) return '/etc/gitconfig';
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !existsSync(join(dir, 'git'))) continue;
    const prefix = dirname(dir);
    return prefix === '/usr' ? '/etc/gitconfig' : join(prefix, 'etc', 'gitconfig');
  }
  return '/etc/gitconfig';
}

function isGitDir(dir: string): boolean {
  return existsSync(join(dir, 'HEAD')) && (existsSync(join(dir, 'objects')) || existsSync(join(dir, 'commondir')));
}

/** Resolve a `.git` file ("gitdir: <path>") to its directory. */
function readGitFile(file: string): string | undefined {
  const text = readIfExists(file);
  const m = text?.match(/^gitdir: (.+?)\s*$/m);
  return m ? resolve(dirname(file), m[1]) : undefined;
}

/** The git dir for `cwd`, as git's setup_git_directory finds it (GIT_DIR, then walking up). */
export function findGitDir(cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  return discoverRepository(cwd, env)?.gitDir;
}

/** The repository for `cwd` with the paths git's ownership check looks at (src/config/safe-directory.ts). */
export function discoverRepository(cwd: string, env: NodeJS.ProcessEnv): DiscoveredRepository | undefined {
  if (env.GIT_DIR) {
    const p = resolve(cwd, env.GIT_DIR);
    try {
      if (statSync(p).isFile()) {
        const g = readGitFile(p);
        return g ? { gitDir: g, explicit: true } : undefined;
      }
    } catch {
      return undefined;
    }
    return { gitDir: p, explicit: true };
  }
  const ceilings = (env.GIT_CEILING_DIRECTORIES ?? '')
    .split(delimiter)
    .filter((d) => isAbsolute(d))
    .map((d) => resolve(d));
  // From the physical directory, as git walks up from getcwd(): a logical path through a symlink
  // must not find the repository the link sits in (git finds the one the link points into).
  let dir = resolve(cwd);
  try {
    dir = realpathSync(dir);
  } catch {
    /* walked as given */
  }
  for (;;) {
    const dotgit = join(dir, '.git');
    try {
      const st = statSync(dotgit, { throwIfNoEntry: false });
      if (st?.isDirectory() && isGitDir(dotgit)) return { gitDir: dotgit, worktree: dir, explicit: false };
      if (st?.isFile()) {
        const g = readGitFile(dotgit);
        if (g) return { gitDir: g, worktree: dir, gitfile: dotgit, explicit: false };
      }
    } catch {
      /* no .git here */
    }
    if (isGitDir(dir) && existsSync(join(dir, 'config'))) return { gitDir: dir, explicit: false }; // bare repository
    const parent = dirname(dir);
    if (parent === dir || ceilings.includes(parent)) return undefined;
    dir = parent;
  }
}

/** The common dir (shared by worktrees) of a git dir. */
function commonDir(gitDir: string): string {
  const c = readIfExists(join(gitDir, 'commondir'));
  return c ? resolve(gitDir, c.trim()) : gitDir;
}

/** wildmatch(3)-style glob with WM_PATHNAME, as git uses for includeIf (wildmatch.c). */
export function globToRegExp(pattern: string, icase: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const atStart = i === 0 || pattern[i - 1] === '/';
        const j = i + 2;
        if (atStart && pattern[j] === '/') {
          re += '(?:.*/)?';
          i = j;
        } else if (atStart && j === pattern.length) {
          re += '.*';
          i = j - 1;
        } else {
          re += '[^/]*'; // "**" not at a component boundary acts like "*"
          i = j - 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        let neg = false;
        if (body[0] === '!' || body[0] === '^') {
          neg = true;
          body = body.slice(1);
        }
        re += '[' + (neg ? '^' : '') + body.replace(/[\\\]]/g, '\\$&') + ']';
        i = close;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', icase ? 'i' : '');
}

interface Ctx {
  env: NodeJS.ProcessEnv;
  cwd: string;
  gitDir?: string;
  out: ConfigEntry[];
  /**
   * The pass that collects remote.*.url values for "hasconfig:remote.*.url:": git reads the whole
   * configuration once more with every hasconfig condition taken as true (unconditional_remote_url).
   */
  collectingUrls?: boolean;
  /** remote.*.url values of the whole configuration, read on the first hasconfig condition. */
  remoteUrls?: string[];
}

const HASCONFIG_URL = 'hasconfig:remote.*.url:';
const REMOTE_URL_KEY = /^remote\..+\.url$/;

/** git's at_least_one_url_matches_glob: wildmatch(glob, url, WM_PATHNAME) over every remote URL. */
function remoteUrlMatches(ctx: Ctx, glob: string): boolean {
  if (ctx.collectingUrls) return true;
  if (!ctx.remoteUrls) {
    const all: Ctx = { env: ctx.env, cwd: ctx.cwd, gitDir: ctx.gitDir, out: [], collectingUrls: true };
    readScopes(all);
    ctx.remoteUrls = all.out.filter((e) => REMOTE_URL_KEY.test(e.key) && e.value !== null).map((e) => e.value as string);
  }
  const re = globToRegExp(glob, false);
  return ctx.remoteUrls.some((u) => re.test(u));
}

function gitDirMatches(ctx: Ctx, cond: string, icase: boolean, file: string | undefined): boolean {
  if (!ctx.gitDir) return false;
  let pattern = expandTilde(cond, ctx.env);
  if (pattern.startsWith('./')) {
    if (!file) return false; // git: relative gitdir: only allowed in a file
    let base = dirname(file);
    try {
      base = realpathSync(base);
    } catch {
      /* keep as is */
    }
    pattern = base.replace(/[*?[\\]/g, '\\$&') + '/' + pattern.slice(2);
  }
  if (!isAbsolute(pattern)) pattern = '**/' + pattern;
  if (pattern.endsWith('/')) pattern += '**';
  const re = globToRegExp(pattern.split(sep).join('/'), icase);
  const candidates = [resolve(ctx.gitDir)];
  try {
    candidates.unshift(realpathSync(ctx.gitDir));
  } catch {
    /* not there */
  }
  return candidates.some((c) => re.test(c.split(sep).join('/')));
}

function onBranchMatches(ctx: Ctx, cond: string): boolean {
  if (!ctx.gitDir) return false;
  const head = readIfExists(join(ctx.gitDir, 'HEAD'));
  const m = head?.match(/^ref: refs\/heads\/(.+?)\s*$/m);
  if (!m) return false;
  const pattern = cond.endsWith('/') ? cond + '**' : cond;
  return globToRegExp(pattern, false).test(m[1]);
}

/** `underHasconfig`: included (directly or not) through a hasconfig:remote.*.url condition. */
function addFile(ctx: Ctx, path: string, depth: number, underHasconfig = false): void {
  const text = readIfExists(path);
  if (text === undefined) return;
  addText(ctx, text, path, depth, underHasconfig);
}

function addText(ctx: Ctx, text: string, origin: string, depth: number, underHasconfig = false): void {
  for (const e of parseGitConfig(text, origin)) {
    if (underHasconfig && REMOTE_URL_KEY.test(e.key)) {
      // git dies here too: such a URL could decide its own inclusion.
      throw new GitsealError('CONFIG', `remote URLs cannot be configured in file directly or indirectly included by includeIf.hasconfig:remote.*.url (${origin}:${e.line})`);
    }
    ctx.out.push(e);
    const file = origin;
    let includePath: string | undefined;
    let viaHasconfig = underHasconfig;
    if (e.key === 'include.path') includePath = e.value ?? undefined;
    else if (e.key.startsWith('includeif.') && e.key.endsWith('.path') && e.value) {
      const cond = e.key.slice('includeif.'.length, -'.path'.length);
      let ok = false;
      if (cond.startsWith('gitdir:')) ok = gitDirMatches(ctx, cond.slice(7), false, file);
      else if (cond.startsWith('gitdir/i:')) ok = gitDirMatches(ctx, cond.slice(9), true, file);
      else if (cond.startsWith('onbranch:')) ok = onBranchMatches(ctx, cond.slice(9));
      else if (cond.startsWith(HASCONFIG_URL)) {
        ok = remoteUrlMatches(ctx, cond.slice(HASCONFIG_URL.length));
        viaHasconfig = true;
      }
      if (ok) includePath = e.value;
    }
    if (includePath) {
      if (depth >= MAX_INCLUDE_DEPTH) {
        throw new GitsealError('CONFIG', `config includes nested more than ${MAX_INCLUDE_DEPTH} deep at ${origin}`);
      }
      let p = expandTilde(includePath, ctx.env);
      if (!isAbsolute(p)) p = resolve(dirname(file), p);
      addFile(ctx, p, depth + 1, viaHasconfig);
    }
  }
}

/** Split GIT_CONFIG_PARAMETERS: shell single-quoted words, `'key'='value'` or legacy `'key=value'`. */
export function parseConfigParameters(s: string): Array<{ key: string; value: string | null }> {
  const out: Array<{ key: string; value: string | null }> = [];
  let i = 0;
  const sq = (): string => {
    // sq_dequote: 'abc', with '\'' for a quote inside
    let v = '';
    for (;;) {
      if (s[i] !== "'") throw new GitsealError('CONFIG', 'bogus format in GIT_CONFIG_PARAMETERS');
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new GitsealError('CONFIG', 'bogus format in GIT_CONFIG_PARAMETERS');
      v += s.slice(i + 1, end);
      i = end + 1;
      // git's sq_quote writes ' as '\'' and ! as '\!'
      if (s[i] === '\\' && (s[i + 1] === "'" || s[i + 1] === '!') && s[i + 2] === "'") {
        v += s[i + 1];
        i += 2;
        continue;
      }
      return v;
    }
  };
  for (;;) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const first = sq();
    if (s[i] === '=') {
      i++;
      // "'key'=" followed by nothing: a key without a value (git -c key)
      if (i >= s.length || /\s/.test(s[i])) out.push({ key: first, value: null });
      else out.push({ key: first, value: sq() });
    } else {
      const eq = first.indexOf('=');
      out.push(eq < 0 ? { key: first, value: null } : { key: first.slice(0, eq), value: first.slice(eq + 1) });
    }
  }
  return out;
}

function addCommandScope(ctx: Ctx): void {
  const env = ctx.env;
  if (env.GIT_CONFIG_COUNT !== undefined && env.GIT_CONFIG_COUNT !== '') {
    const n = Number(env.GIT_CONFIG_COUNT);
    if (!Number.isInteger(n) || n < 0) throw new GitsealError('CONFIG', 'GIT_CONFIG_COUNT is not a number');
    for (let k = 0; k < n; k++) {
      const rawKey = env[`GIT_CONFIG_KEY_${k}`];
      const value = env[`GIT_CONFIG_VALUE_${k}`];
      if (rawKey === undefined) throw new GitsealError('CONFIG', `GIT_CONFIG_KEY_${k} is missing`);
      if (value === undefined) throw new GitsealError('CONFIG', `GIT_CONFIG_VALUE_${k} is missing`);
      const key = canonicalKey(rawKey);
      if (!key) throw new GitsealError('CONFIG', `invalid config key "${rawKey}" in GIT_CONFIG_KEY_${k}`);
      ctx.out.push({ key, value, origin: `env GIT_CONFIG_KEY_${k}`, line: 0 });
    }
  }
  if (env.GIT_CONFIG_PARAMETERS) {
    for (const { key: rawKey, value } of parseConfigParameters(env.GIT_CONFIG_PARAMETERS)) {
      const key = canonicalKey(rawKey);
      if (!key) throw new GitsealError('CONFIG', `invalid config key "${rawKey}" given with git -c`);
      ctx.out.push({ key, value, origin: 'command line', line: 0 });
    }
  }
}

/**
 * Whether git would use the repository `cwd` is in (ownership and safe.directory, see
 * src/config/safe-directory.ts); undefined outside a repository.
 */
export function repositoryTrust(opts: ReadGitConfigOptions, repo = discoverRepository(opts.cwd, opts.env)): OwnershipVerdict | undefined {
  if (!repo) return undefined;
  // Protected configuration (system, global, command line) as git reads it for safe.directory
  // and safe.bareRepository: outside any repository, so no includeIf "gitdir:"/"onbranch:" applies.
  let entries: ConfigEntry[] | undefined;
  const protectedEntries = () => {
    if (!entries) {
      const p: Ctx = { env: opts.env, cwd: opts.cwd, out: [] };
      readScopes(p);
      entries = p.out;
    }
    return entries;
  };
  // git checks safe.bareRepository before ownership (setup_git_directory_gently_1).
  if (bareRepositoryRefused(repo, protectedEntries)) return { trusted: false, path: repo.gitDir, bareRefused: true };
  return repositoryOwnership(repo, opts.cwd, opts.env, protectedEntries);
}

export function readGitConfig(opts: ReadGitConfigOptions): GitConfig {
  const repo = discoverRepository(opts.cwd, opts.env);
  const verdict = repositoryTrust(opts, repo);
  const untrusted = verdict && !verdict.trusted ? verdict : undefined;
  // A refused repository is read as no repository at all, which is what git does for commands
  // that may run outside one: neither its config nor includeIf conditions on it.
  const ctx: Ctx = { env: opts.env, cwd: opts.cwd, gitDir: untrusted ? undefined : repo?.gitDir, out: [] };
  readScopes(ctx);
  const last = new Map<string, ConfigEntry>();
  for (const e of ctx.out) last.set(e.key, e);
  return { entries: ctx.out, gitDir: ctx.gitDir, untrusted, get: (key) => last.get(canonicalKey(key) ?? key) };
}

/** Every scope in git's order into ctx.out. */
function readScopes(ctx: Ctx): void {
  const { env, gitDir } = ctx;

  // system
  const noSystem = parseGitBool(env.GIT_CONFIG_NOSYSTEM ?? 'false');
  if (!noSystem) addFile(ctx, env.GIT_CONFIG_SYSTEM ? resolve(ctx.cwd, env.GIT_CONFIG_SYSTEM) : systemConfigPath(env), 0);

  // global: $XDG_CONFIG_HOME/git/config, then ~/.gitconfig (or only GIT_CONFIG_GLOBAL)
  if (env.GIT_CONFIG_GLOBAL) addFile(ctx, resolve(ctx.cwd, expandTilde(env.GIT_CONFIG_GLOBAL, env)), 0);
  else {
    const xdg = env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, 'git', 'config') : join(home(env), '.config', 'git', 'config');
    addFile(ctx, xdg, 0);
    addFile(ctx, join(home(env), '.gitconfig'), 0);
  }

  // local, then worktree (extensions.worktreeConfig)
  if (gitDir) {
    const common = commonDir(gitDir);
    const before = ctx.out.length;
    addFile(ctx, join(common, 'config'), 0);
    const local = ctx.out.slice(before);
    const wt = [...local].reverse().find((e) => e.key === 'extensions.worktreeconfig');
    if (wt && parseGitBool(wt.value)) addFile(ctx, join(gitDir, 'config.worktree'), 0);
  }

  addCommandScope(ctx);
}

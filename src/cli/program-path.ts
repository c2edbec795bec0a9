/**
 * Which value of gpg.x509.program keeps working: what `gitseal init` writes and what `doctor`
 * judges. An absolute path into npx's cache (~/.npm/_npx/<hash>/…) disappears when npm cleans
 * it, and one into a Node version manager's tree (~/.nvm/versions/node/v22.1.0/…) stops working
 * on a version switch; plain `gitseal`, looked up on PATH by git, survives both — when the
 * `gitseal` on PATH is this program. The single-file executable (src/sea/) is its own program and
 * stable where it lies: it is written by its path.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isEmbedded } from '../sea/embedded.js';
import { gitsealProgram } from './root.js';

/** Where a program lies, when that place does not last. */
export type Transient = { kind: 'npx'; why: string } | { kind: 'version-manager'; why: string };

const VERSION_TREES: Array<[RegExp, string]> = [
  [/\/\.nvm\/versions\/node\/[^/]+\//, 'nvm'],
  [/\/fnm\/node-versions\/[^/]+\//, 'fnm'],
  [/\/\.volta\/tools\/image\/node\/[^/]+\//, 'Volta'],
  [/\/\.asdf\/installs\/nodejs\/[^/]+\//, 'asdf'],
  [/\/n\/versions\/node\/[^/]+\//, 'n'],
];

/** Whether `path` lies in npx's cache or in one Node version of a version manager. */
export function transientLocation(path: string): Transient | undefined {
  if (/\/_npx\/[^/]+\//.test(path)) return { kind: 'npx', why: "npx's cache, which npm clears" };
  for (const [re, name] of VERSION_TREES) {
    const m = re.exec(path);
    if (m) return { kind: 'version-manager', why: `one Node version of ${name} (${m[0].replace(/\/$/, '')}), which a version switch or upgrade leaves behind` };
  }
  return undefined;
}

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** The file git must run to reach this gitseal: the single-file executable, else bin/gitseal (cli/root.ts). */
export function thisProgram(): string {
  const p = gitsealProgram();
  return real(p) ?? p;
}

/** The first executable `name` on PATH, as execvp(3) finds it (real path); entries in npx's cache skipped when asked. */
export function onPath(name: string, env: NodeJS.ProcessEnv, skipNpx = false): { entry: string; real: string } | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || (skipNpx && transientLocation(join(dir, name))?.kind === 'npx')) continue;
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
    } catch {
      continue;
    }
    const r = real(p);
    if (r) return { entry: p, real: r };
  }
  return undefined;
}

export interface ProgramChoice {
  /** The value for gpg.x509.program. */
  value: string;
  /** Why it is not plain "gitseal", for the person (undefined when it is, or nothing to say). */
  note?: string;
  /** The value will stop working: say so loudly. */
  warning?: string;
}

/**
 * What `gitseal init` writes: "gitseal" when PATH's gitseal is this program (outside npx's
 * temporary PATH entry), else the absolute path — with a warning when that path does not last.
 */
export function chooseProgram(env: NodeJS.ProcessEnv, self = thisProgram()): ProgramChoice {
  const where = transientLocation(self);
  // The single-file executable is its own program, stable where it lies: git runs it by path.
  if (isEmbedded() && !where) return { value: self };
  const found = onPath('gitseal', env, true);
  if (found && found.real === self) return { value: 'gitseal' };
  const other = found ? ` (the gitseal on your PATH, ${found.entry}, is another installation)` : '';
  if (where?.kind === 'npx') {
    return {
      value: self,
      warning:
        `this gitseal runs from ${where.why}, so git will fail to sign once it is gone${other}. ` +
        'Install it for good (npm install -g gitseal, or npm install -D gitseal in the project) and run "gitseal init" again.',
    };
  }
  if (where) {
    return {
      value: self,
      warning: `${self} lies in ${where.why}${other}. Put that version's bin directory on PATH (so "gitseal" resolves to this program) and run "gitseal init" again.`,
    };
  }
  return {
    value: self,
    note: found
      ? `git will run this gitseal by its absolute path${other}.`
      : 'gitseal is not on your PATH, so git will run it by its absolute path; after moving or reinstalling it, run "gitseal init" again.',
  };
}

/**
 * Where the configuration notices (cfg.notices: gitsign settings gitseal does not apply, and
 * unusable values it replaced with a default) are shown. They concern signing and logging in,
 * and the person who can act on them is the one at the terminal when git signs:
 *   - the signing path (full and fast) shows each distinct notice once, then remembers it in
 *     <cache>/notices-shown — a 100-commit rebase or a git log --show-signature over a history
 *     must not print the same line a hundred times;
 *   - `gitseal doctor` and `gitseal version` list them every time;
 *   - git's --verify path never prints them (nothing there depends on them).
 * Changing a value (or where it is set) makes it a new notice, shown once again.
 *
 * Hot path (the fast signing entry): node:fs and node:path only, and only when there is a notice.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GitsealConfig } from './types.js';

/** Remembered ids at most (oldest forgotten first). */
const MAX_REMEMBERED = 200;

function noticesFile(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'gitseal') : env.HOME ? join(env.HOME, '.cache', 'gitseal') : undefined;
  return base ? join(base, 'notices-shown') : undefined;
}

/** Say each notice of `cfg` not shown before on this machine, and remember it. */
export function showNoticesOnce(cfg: Pick<GitsealConfig, 'notices'>, env: NodeJS.ProcessEnv, say: (line: string) => void): void {
  const list = cfg.notices ?? [];
  if (list.length === 0) return;
  const file = noticesFile(env);
  let seen: string[] = [];
  if (file) {
    try {
      seen = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      seen = [];
    }
  }
  const fresh = list.filter((n) => !seen.includes(n.id));
  if (fresh.length === 0) return;
  for (const n of fresh) say(`gitseal: note: ${n.message} (shown once; "gitseal doctor" lists it again)`);
  if (!file) return;
  const keep = [...seen, ...fresh.map((n) => n.id)].slice(-MAX_REMEMBERED);
  try {
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, keep.join('\n') + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Cannot remember: the notice comes again next time, which is better than never.
  }
}

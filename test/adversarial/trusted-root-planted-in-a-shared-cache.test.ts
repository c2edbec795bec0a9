/**
 * Without gitseal.trustedRoot or GITSEAL_TRUSTED_ROOT, every verify path — git's `--verify`
 * call included — takes its trusted root from `<cache>/gitseal/trusted_root.json`, the copy
 * `gitseal initialize` verified through TUF and left there; it is not verified again when read.
 * Nothing checked whose file it was. Another local user who created `gitseal/` first in a
 * shared cache home (`XDG_CACHE_HOME` on a shared disk, a group-writable `~/.cache`) put their
 * own trusted_root.json there — their own Fulcio CA and Rekor key — and `git verify-commit`,
 * `gitseal verify`, the pre-receive hook and the library said "Good signature" for whatever
 * they signed. `gitseal initialize` (run as root) even kept their file as "the last good copy".
 *
 * Now the cached root is used only when it and its directory are the user's own and writable by
 * no one else; otherwise it is ignored with a warning naming why, and the embedded public-good
 * root is used. `gitseal initialize` refuses such a directory.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { verifyCommit } from '../../src/lib.js';
import { loadTrustedRoot } from '../../src/trust/load.js';
import { refreshTrustedRoot } from '../../src/trust/tuf.js';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const OTHER = 4242;
const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

const forged = useForgedWorld();
let shared: string;
let cache: string;

beforeAll(() => {
  // No configured trusted root: the TUF cache decides, as on a machine after `gitseal initialize`.
  for (const r of [forged.paths.repo, forged.paths.server]) forged.paths.sb.git(['config', '--unset', 'gitseal.trustedRoot'], r);
  shared = join(forged.paths.sb.dir, 'shared-cache');
  mkdirSync(shared, { mode: 0o1777 });
  chmodSync(shared, 0o1777);
  cache = join(shared, 'gitseal');
  mkdirSync(cache, { mode: 0o755 });
  writeFileSync(join(cache, 'trusted_root.json'), forged.w.trustJson, { mode: 0o644 });
  forged.paths.sb.env = { ...forged.paths.sb.env, XDG_CACHE_HOME: shared };
});

/** The cache directory and its trusted root owned by `uid`, with `mode` on the file. */
function own(uid: number, mode = 0o644, dirMode = 0o755): void {
  chownSync(cache, uid, uid);
  chownSync(join(cache, 'trusted_root.json'), uid, uid);
  chmodSync(cache, dirMode);
  chmodSync(join(cache, 'trusted_root.json'), mode);
}

function forgedCommit(): Buffer {
  const payload = commitPayload(['author A <a@example.com> 1748779200 +0000', 'committer A <a@example.com> 1748779200 +0000'], `planted ${Math.random()}\n`);
  return signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), payload).pem);
}

async function everyPath() {
  const oid = forged.paths.store(forgedCommit());
  const lib = await verifyCommit({ dir: forged.paths.repo, rev: oid, env: forged.paths.sb.env });
  return { git: forged.paths.git(oid), cli: forged.paths.cli(oid), hook: forged.paths.hook(oid), lib };
}

describe.skipIf(!isRoot)('a trusted root another user put in the cache', () => {
  test('control: our own cached root is what every path trusts', async () => {
    own(process.geteuid!());
    const v = await everyPath();
    expect([v.git.letter, v.cli.letter]).toEqual(['U', 'U']);
    expect(v.lib).toMatchObject({ ok: true });
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });

  test('owned by another user: ignored with a warning on every path, nothing verifies under it', async () => {
    own(OTHER);
    const v = await everyPath();
    expect([v.git.letter, v.cli.letter]).toEqual(['E', 'E']);
    expect(v.git.stderr).toMatch(/ignoring the TUF cache .*trusted_root\.json: .*another user/);
    expect(v.lib).toMatchObject({ ok: false, kind: 'error' }); // the forged log and CA are not in the public-good root
    expect(v.hook.accepted).toBe(false);
    const loaded = loadTrustedRoot({ env: forged.paths.sb.env });
    expect(loaded.layer).toBe('embedded');
  });

  test('ours but writable by others (the file or its directory): ignored too', async () => {
    for (const [mode, dirMode] of [
      [0o666, 0o755],
      [0o644, 0o777],
    ]) {
      own(process.geteuid!(), mode, dirMode);
      const loaded = loadTrustedRoot({ env: forged.paths.sb.env });
      expect(loaded.layer).toBe('embedded');
      expect(loaded.warnings.join('\n')).toMatch(/writable by others/);
    }
    own(process.geteuid!());
    expect(loadTrustedRoot({ env: forged.paths.sb.env }).layer).toBe('cache');
  });

  test('gitseal initialize refuses a cache directory that is not ours (it kept the planted file as the last good copy)', async () => {
    own(OTHER);
    await expect(refreshTrustedRoot({ mirrorURL: 'http://127.0.0.1:9', cacheDir: cache, fetchTimeout: 500 })).rejects.toThrow(/owned by another user/);
    own(process.geteuid!());
  });
});

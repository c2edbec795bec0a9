/**
 * The token cache in a real OS keyring: GNOME Keyring's Secret Service on a
 * private D-Bus session (dbus-run-session + gnome-keyring-daemon, HOME in a
 * temporary directory so no real keyring is touched). Each step is its own
 * node process, as each git signature is.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintIdToken } from '../../packages/sandbox/src/oidc/index.js';
import { bundleScript, isolatedEnv } from './helpers.js';
import { needs } from '../helpers/tools.js';

const ISSUER = 'http://127.0.0.1:9/keyring-test';

needs('dbus', 'gnome-keyring').describe('token cache in the OS keyring (Secret Service)', () => {
  let child: string;
  let token: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-mint-'));
    token = await mintIdToken({ dir, issuer: ISSUER, email: 'keyring@example.test' });
    rmSync(dir, { recursive: true, force: true });
    child = await bundleScript(`
import { readCachedToken, storeToken, clearTokenCache } from '@src/oidc/token-cache.ts';
import { openKeyring, KEYRING_SERVICE } from '@src/oidc/keyring.ts';
import { whoami } from '@src/oidc/session.ts';
const env = process.env;
const key = { issuer: env.TEST_ISSUER!, clientID: 'sigstore' };
const out: Record<string, unknown> = {};
for (const step of process.argv.slice(2)) {
  if (step === 'store') out.store = await storeToken(key, env.TEST_TOKEN!, { env, now: Date.now() });
  if (step === 'read') {
    const hit = await readCachedToken(key, { env, now: Date.now() });
    out.read = hit ? { storedIn: hit.storedIn, same: hit.raw === env.TEST_TOKEN } : null;
  }
  if (step === 'whoami') out.whoami = (await whoami({ issuer: key.issuer, clientID: 'sigstore' } as never, { env }))?.identity ?? null;
  if (step === 'accounts') out.accounts = (await openKeyring(env))?.accounts() ?? null;
  if (step === 'clear') out.clear = await clearTokenCache({ env });
}
out.service = KEYRING_SERVICE;
process.stdout.write(JSON.stringify(out) + '\\n');
`);
  });

  it('stores, reads across processes, and forgets the token in the keyring; no file is written', () => {
    const env = isolatedEnv({ TEST_TOKEN: token, TEST_ISSUER: ISSUER });
    delete env.GITSEAL_KEYRING;
    // One D-Bus session and keyring daemon; several gitseal processes inside it.
    const script = [
      'echo -n sandbox-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1',
      `"${process.execPath}" "${child}" store`,
      `"${process.execPath}" "${child}" read whoami accounts`,
      `"${process.execPath}" "${child}" clear`,
      `"${process.execPath}" "${child}" read accounts`,
    ].join(' && ');
    const r = spawnSync('dbus-run-session', ['--', 'bash', '-c', script], { env, encoding: 'utf8', timeout: 60_000 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0].store).toBe('keyring');
    expect(lines[1].read).toEqual({ storedIn: 'keyring', same: true });
    expect(lines[1].whoami).toBe('keyring@example.test');
    expect(lines[1].accounts).toEqual([expect.stringMatching(/^id-token-[0-9a-f]{32}$/)]);
    expect(lines[2].clear).toBe(1);
    expect(lines[3].read).toBeNull();
    expect(lines[3].accounts).toEqual([]);
    // Nothing went to the file cache, and the token is not in the process output.
    const dir = join(env.XDG_CACHE_HOME!, 'gitseal');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(token.split('.')[2]);
  });
});

/**
 * `gitseal doctor`'s "token cache" line: where a login is cached and, for the encrypted file,
 * why (test/sea/executable.test.ts runs it inside the single-file executable).
 */
import { describe, expect, it } from 'vitest';
import { checkTokenStore } from '../../src/cli/doctor-checks.js';
import { probeKeyring, type SecretStore } from '../../src/oidc/keyring.js';

const store: SecretStore = { name: 'Secret Service', get: () => undefined, set: () => {}, delete: () => false, accounts: () => [] };
const dir = '/home/u/.cache/gitseal';

describe('doctor: token cache', () => {
  it('names the keyring when there is one', () => {
    expect(checkTokenStore({ store }, dir, false)).toMatchObject({ id: 'token-store', status: 'ok', summary: 'the OS keyring (Secret Service)', details: { store: 'keyring' } });
  });

  it('says why it is the encrypted file', () => {
    expect(checkTokenStore({ unavailable: 'off' }, dir, false).summary).toBe(`an AES-256-GCM encrypted file in ${dir} (the keyring is switched off: GITSEAL_KEYRING=off)`);
    expect(checkTokenStore({ unavailable: 'no-service' }, dir, false)).toMatchObject({ status: 'ok', details: { store: 'file', reason: 'no-service' } });
    const sea = checkTokenStore({ unavailable: 'no-addon' }, dir, true);
    expect(sea).toMatchObject({ status: 'ok', details: { store: 'file', reason: 'no-addon' } });
    expect(sea.summary).toContain("this single-file executable cannot load the keyring's native addon");
  });

  it('an npm install whose addon does not load is a warning with the fix', () => {
    const c = checkTokenStore({ unavailable: 'no-addon' }, dir, false);
    expect(c.status).toBe('warn');
    expect(c.fix).toMatch(/npm install -g gitseal/);
  });

  it('GITSEAL_KEYRING=off is seen as off, without touching the addon', async () => {
    expect(await probeKeyring({ GITSEAL_KEYRING: 'off' })).toEqual({ unavailable: 'off' });
  });
});

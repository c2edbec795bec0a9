/**
 * The OS keyring through @napi-rs/keyring (Keychain, Windows Credential
 * Manager, Secret Service), loaded only when a token is cached or read.
 * keytar was the usual choice but is archived (Dec 2022) and fetches its
 * binary from GitHub at install time: here `npm install keytar@7.9.0` failed
 * after 7.4 s (prebuild-install: ENOTFOUND github.com; the node-gyp fallback
 * needs libsecret-1-dev). @napi-rs/keyring 2.1.2 installed in 2.5 s from the
 * npm registry alone (68 KB + a 3.3 MB prebuilt binary, no install script);
 * it loads in 12–29 ms and, with no Secret Service, fails its probe in <1 ms.
 *
 * On Linux the entry is pinned to Secret Service: the kernel keyutils store,
 * the library's fallback, keeps secrets per login session (and, in containers,
 * sometimes per process), so a login would silently vanish.
 */
export const KEYRING_SERVICE = 'gitseal';

export interface SecretStore {
  readonly name: string;
  get(account: string): string | undefined;
  set(account: string, secret: string): void;
  delete(account: string): boolean;
  accounts(): string[];
}

/** Why there is no keyring: switched off, the native addon cannot load, or no keyring service answers. */
export type KeyringUnavailable = 'off' | 'no-addon' | 'no-service';

/** The keyring, or undefined when it is switched off (GITSEAL_KEYRING=off) or no keyring service answers. */
export async function openKeyring(env: NodeJS.ProcessEnv): Promise<SecretStore | undefined> {
  const k = await probeKeyring(env);
  return 'store' in k ? k.store : undefined;
}

/**
 * The keyring, or why there is none (`detail`: why the addon did not load; the single-file
 * executable loads it from a file it writes, src/sea/addon.ts).
 */
export async function probeKeyring(env: NodeJS.ProcessEnv): Promise<{ store: SecretStore } | { unavailable: KeyringUnavailable; detail?: string }> {
  if (/^(off|0|false|no)$/i.test(env.GITSEAL_KEYRING ?? '')) return { unavailable: 'off' };
  let mod: typeof import('@napi-rs/keyring');
  try {
    mod = await import('@napi-rs/keyring');
  } catch (e) {
    return { unavailable: 'no-addon', detail: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
  const options = process.platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
  const entry = (account: string) => new mod.Entry(KEYRING_SERVICE, account, options);
  try {
    entry('probe').getPassword();
  } catch {
    return { unavailable: 'no-service' };
  }
  return { store: secretStore(mod, entry) };
}

function secretStore(mod: typeof import('@napi-rs/keyring'), entry: (account: string) => import('@napi-rs/keyring').Entry): SecretStore {
  return {
    name: process.platform === 'darwin' ? 'macOS Keychain' : process.platform === 'win32' ? 'Windows Credential Manager' : 'Secret Service',
    get: (account) => entry(account).getPassword() ?? undefined,
    set: (account, secret) => entry(account).setPassword(secret),
    delete: (account) => {
      try {
        return entry(account).deletePassword();
      } catch {
        return false;
      }
    },
    accounts: () => {
      try {
        return mod.findCredentials(KEYRING_SERVICE).map((c) => c.account);
      } catch {
        return [];
      }
    },
  };
}

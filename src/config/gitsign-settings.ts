/**
 * Every setting gitsign v0.17.1 reads — its `gitsign.*` git config keys and its
 * environment variables (internal/config/config.go, internal/fulcio/identity.go,
 * README "Configuration") — and what gitseal does with each. README "Switching
 * from gitsign" is this list as a table (test/config/gitsign-settings.test.ts
 * holds the two together).
 *
 * Settings gitseal recognises but does not apply (`applied: false`) produce a
 * notice naming them (`gitsignNotices`); src/config/notices.ts decides where it
 * is shown (once on the signing path, always in `gitseal doctor` / `version`,
 * never on git's --verify path).
 *
 * Hot path: no imports.
 */

export interface GitsignSetting {
  /** gitsign's git config key, without the `gitsign.` section; undefined for a variable only. */
  key?: string;
  /** Environment variables gitsign reads for it (GITSIGN_ wins over SIGSTORE_ in gitsign, as in gitseal). */
  env: string[];
  /** True when gitseal honours the setting (under this name; gitseal's own names win). */
  applied: boolean;
  /** What gitseal does with it, one sentence (the README table's last column). */
  gitseal: string;
}

export const GITSIGN_SETTINGS: readonly GitsignSetting[] = [
  { key: 'fulcio', env: ['GITSIGN_FULCIO_URL', 'SIGSTORE_FULCIO_URL'], applied: true, gitseal: 'Fulcio URL (gitseal.fulcio)' },
  {
    key: 'fulcioRoot',
    env: ['GITSIGN_FULCIO_ROOT', 'SIGSTORE_FULCIO_ROOT', 'SIGSTORE_ROOT_FILE'],
    applied: true,
    gitseal: 'PEM bundle that replaces the trusted Fulcio CAs (trust layer 2)',
  },
  { key: 'rekor', env: ['GITSIGN_REKOR_URL', 'SIGSTORE_REKOR_URL'], applied: true, gitseal: 'Rekor URL (gitseal.rekor)' },
  {
    key: 'rekorMode',
    env: ['GITSIGN_REKOR_MODE'],
    applied: false,
    gitseal: 'not applied: gitseal always embeds the Rekor proof (gitsign\'s "offline" mode), so its signatures verify without the network; gitsign\'s online-mode signatures still verify',
  },
  { key: 'rekorVersion', env: ['GITSIGN_REKOR_VERSION', 'SIGSTORE_REKOR_VERSION'], applied: true, gitseal: '1 or 2 (gitseal.rekorVersion); 2 needs a timestamp authority' },
  {
    key: 'enableSigstoreGo',
    env: ['GITSIGN_ENABLE_SIGSTORE_GO'],
    applied: false,
    gitseal: 'not applied: gitseal has one signer and one verifier; rekorVersion works without it',
  },
  { key: 'clientID', env: ['GITSIGN_OIDC_CLIENT_ID', 'SIGSTORE_OIDC_CLIENT_ID'], applied: true, gitseal: 'OIDC client (gitseal.clientID)' },
  {
    key: 'clientSecretFile',
    env: ['GITSIGN_OIDC_CLIENT_SECRET_FILE', 'SIGSTORE_OIDC_CLIENT_SECRET_FILE'],
    applied: true,
    gitseal: 'file with the secret of a confidential OIDC client, read only for a login (gitseal.clientSecretFile)',
  },
  { key: 'redirectURL', env: ['GITSIGN_OIDC_REDIRECT_URL', 'SIGSTORE_OIDC_REDIRECT_URL'], applied: true, gitseal: 'browser-login callback on localhost/127.0.0.1 (gitseal.redirectURL)' },
  { key: 'issuer', env: ['GITSIGN_OIDC_ISSUER', 'SIGSTORE_OIDC_ISSUER'], applied: true, gitseal: 'OIDC issuer (gitseal.issuer)' },
  { key: 'connectorID', env: ['GITSIGN_CONNECTOR_ID', 'SIGSTORE_CONNECTOR_ID'], applied: true, gitseal: 'Dex connector to pre-select (gitseal.connectorID)' },
  {
    key: 'tokenProvider',
    env: ['GITSIGN_TOKEN_PROVIDER', 'SIGSTORE_TOKEN_PROVIDER'],
    applied: true,
    gitseal: 'forces a token provider (gitseal.tokenProvider); gitsign\'s names are accepted, spiffe and google-impersonation are refused with the way to do it instead (see "Token providers")',
  },
  {
    key: 'timestampServerURL',
    env: ['GITSIGN_TIMESTAMP_SERVER_URL', 'SIGSTORE_TIMESTAMP_SERVER_URL'],
    applied: true,
    gitseal: 'RFC 3161 timestamp authority to sign with (gitseal.timestampServerURL)',
  },
  {
    key: 'timestampCertChain',
    env: ['GITSIGN_TIMESTAMP_CERT_CHAIN', 'SIGSTORE_TIMESTAMP_CERT_CHAIN'],
    applied: true,
    gitseal: 'PEM chain of the timestamp authority, trusted for verification: replaces the timestamp authorities of the trusted root (trust layer 2)',
  },
  { key: 'logPath', env: ['GITSIGN_LOG'], applied: true, gitseal: 'copy of the terminal output (gitseal.logPath)' },
  { key: 'urlOpener', env: ['GITSIGN_URL_OPENER'], applied: true, gitseal: 'browser command, {{.URL}} substituted, run without a shell (gitseal.urlOpener)' },
  {
    key: 'matchCommitter',
    env: [],
    applied: true,
    gitseal: 'signing refuses, and verifying requires, a certificate for the committer\'s e-mail (gitseal.matchCommitter; gitseal also reads GITSIGN_MATCH_COMMITTER)',
  },
  {
    key: 'autoclose',
    env: ['GITSIGN_AUTOCLOSE', 'SIGSTORE_AUTOCLOSE'],
    applied: true,
    gitseal: 'the browser-login page closes itself after autocloseTimeout (default true; gitseal.autoclose)',
  },
  {
    key: 'autocloseTimeout',
    env: ['GITSIGN_AUTOCLOSE_TIMEOUT', 'SIGSTORE_AUTOCLOSE_TIMEOUT'],
    applied: true,
    gitseal: 'seconds the login page counts down before it closes (default 6; gitseal.autocloseTimeout)',
  },
  {
    env: ['GITSIGN_CREDENTIAL_CACHE'],
    applied: false,
    gitseal: 'not applied: gitseal\'s signing agent replaces gitsign-credential-cache (one login for a rebase, and it never hands out the key; gitseal.agent)',
  },
  {
    env: ['SIGSTORE_REKOR_PUBLIC_KEY'],
    applied: true,
    gitseal: 'PEM key(s) that replace the trusted Rekor keys (trust layer 2)',
  },
];

/** The gitsign settings gitseal does not apply, found in this configuration. */
export interface GitsignNotice {
  /** What is set, as a person would look for it: `gitsign.rekorMode` or `GITSIGN_CREDENTIAL_CACHE`. */
  name: string;
  /** Where: "git config gitsign.rekorMode" with the file, or "env GITSIGN_REKOR_MODE". */
  source: string;
  /** One line: what is set and what gitseal does instead. */
  message: string;
  /** Stable identity of the notice (name, value, source): shown once per distinct value. */
  id: string;
}

/** Printable form of a value from configuration (it may come from anyone who can write a config file). */
function shown(v: string): string {
  const clean = v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 77)}…` : clean;
}

function noticeText(name: string, value: string | null): string {
  const v = value === null ? '' : shown(value.trim());
  switch (name.replace(/^gitsign\./, '').toLowerCase()) {
    case 'rekormode':
    case 'gitsign_rekor_mode':
      return v.toLowerCase() === 'offline'
        ? `${name}=${v} is what gitseal always does: every signature embeds its Rekor proof; the setting is not needed`
        : `${name}=${v || '(empty)'} is not applied: gitseal always embeds the Rekor proof in the signature (gitsign's offline mode), so it verifies without the network`;
    case 'enablesigstorego':
    case 'gitsign_enable_sigstore_go':
      return `${name}=${v || '(empty)'} is not applied: gitseal has one signer and one verifier (rekorVersion works without it)`;
    case 'gitsign_credential_cache':
      return `${name} is not applied: gitseal's signing agent replaces gitsign-credential-cache (it keeps the key in memory and never hands it out; see "gitseal agent status", gitseal.agent)`;
    default:
      return `${name} is not applied by gitseal`;
  }
}

/** The entries of `git` and `env` that set a gitsign setting gitseal does not apply. */
export function gitsignNotices(get: (key: string) => { value: string | null; origin?: string } | undefined, env: NodeJS.ProcessEnv): GitsignNotice[] {
  const out: GitsignNotice[] = [];
  for (const s of GITSIGN_SETTINGS) {
    if (s.applied) continue;
    // Like gitsign: the variable wins over the git key, so only the one in effect is named.
    const v = s.env.find((e) => env[e] !== undefined);
    if (v !== undefined) {
      const name = v;
      out.push({ name, source: `env ${v}`, message: noticeText(name, env[v]!), id: `${name}=${shown(env[v]!)}` });
      continue;
    }
    if (!s.key) continue;
    const e = get(`gitsign.${s.key}`);
    if (!e) continue;
    const name = `gitsign.${s.key}`;
    const where = e.origin ? ` (${shown(e.origin)})` : '';
    out.push({ name, source: `git config ${name}${where}`, message: `${noticeText(name, e.value)}${where}`, id: `${name}=${shown(e.value ?? '')}${where}` });
  }
  return out;
}

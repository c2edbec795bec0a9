/**
 * Resolve GitsealConfig from git config and the environment.
 *
 * Precedence, highest first (gitseal's names over gitsign's, env over git config):
 *   GITSEAL_* env > GITSIGN_* env > SIGSTORE_* env > git config gitseal.* > git config gitsign.* > default
 * gitsign's names are its documented ones (gitsign-protocol.md §3.2), so an
 * existing gitsign setup keeps working. `sources` records where each value came from.
 */
import { join } from 'node:path';
import { GitsealError, describeError, fsReason } from '../errors.js';
import { homeDir } from '../util/home.js';
import { readBounded } from '../util/read-bounded.js';
import { parseGitBool } from './git-config-syntax.js';
import { readGitConfig, type GitConfig } from './git-config-read.js';
import { dubiousOwnershipMessage } from './safe-directory.js';
import { PUBLIC_GOOD, type GitsealConfig, type TokenProviderName } from './types.js';
import { parseSigningConfig, selectServices } from '../trust/signing-config.js';
import { gitsignNotices } from './gitsign-settings.js';

export interface LoadConfigOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

interface Setting {
  /** GitsealConfig field. */
  field: keyof GitsealConfig;
  /** Variable name under [gitseal] (also the name under [gitsign] when `gitsign` is true). */
  name: string;
  gitsign?: boolean;
  /** Env suffix after GITSEAL_/GITSIGN_/SIGSTORE_. */
  env?: string;
  /** Which prefixes the env suffix is read with (default all three). */
  envPrefixes?: Array<'GITSEAL_' | 'GITSIGN_' | 'SIGSTORE_'>;
  /** Extra env names, lowest precedence among env. */
  extraEnv?: string[];
  /**
   * A signer-policy setting: an empty value (an env variable set to "", `key =` in a config file)
   * is refused instead of read as unset or false, so an unset CI variable cannot switch the
   * policy off (issue 14, item 2).
   */
  policy?: true;
}

const ALL: Array<'GITSEAL_' | 'GITSIGN_' | 'SIGSTORE_'> = ['GITSEAL_', 'GITSIGN_', 'SIGSTORE_'];

export const SETTINGS: Setting[] = [
  { field: 'fulcioURL', name: 'fulcio', gitsign: true, env: 'FULCIO_URL' },
  { field: 'rekorURL', name: 'rekor', gitsign: true, env: 'REKOR_URL' },
  { field: 'rekorVersion', name: 'rekorVersion', gitsign: true, env: 'REKOR_VERSION' },
  { field: 'issuer', name: 'issuer', gitsign: true, env: 'OIDC_ISSUER' },
  { field: 'clientID', name: 'clientID', gitsign: true, env: 'OIDC_CLIENT_ID' },
  { field: 'connectorID', name: 'connectorID', gitsign: true, env: 'CONNECTOR_ID' },
  { field: 'redirectURL', name: 'redirectURL', gitsign: true, env: 'OIDC_REDIRECT_URL' },
  { field: 'clientSecretFile', name: 'clientSecretFile', gitsign: true, env: 'OIDC_CLIENT_SECRET_FILE' },
  { field: 'tokenProvider', name: 'tokenProvider', gitsign: true, env: 'TOKEN_PROVIDER' },
  { field: 'urlOpener', name: 'urlOpener', gitsign: true, env: 'URL_OPENER', envPrefixes: ['GITSEAL_', 'GITSIGN_'] },
  { field: 'trustedRoot', name: 'trustedRoot', env: 'TRUSTED_ROOT', envPrefixes: ['GITSEAL_'] },
  { field: 'signingConfig', name: 'signingConfig', env: 'SIGNING_CONFIG', envPrefixes: ['GITSEAL_'] },
  { field: 'fulcioRoot', name: 'fulcioRoot', gitsign: true, env: 'FULCIO_ROOT', envPrefixes: ['GITSEAL_'] },
  { field: 'timestampServerURL', name: 'timestampServerURL', gitsign: true, env: 'TIMESTAMP_SERVER_URL' },
  { field: 'timestampCertChain', name: 'timestampCertChain', gitsign: true, env: 'TIMESTAMP_CERT_CHAIN' },
  { field: 'autoclose', name: 'autoclose', gitsign: true, env: 'AUTOCLOSE' },
  { field: 'autocloseTimeout', name: 'autocloseTimeout', gitsign: true, env: 'AUTOCLOSE_TIMEOUT' },
  { field: 'offline', name: 'offline', env: 'OFFLINE', envPrefixes: ['GITSEAL_'] },
  { field: 'rekorSearchTimeoutMs', name: 'rekorSearchTimeout', env: 'REKOR_SEARCH_TIMEOUT', envPrefixes: ['GITSEAL_'] },
  { field: 'allowedSignersFile', name: 'allowedSignersFile', env: 'ALLOWED_SIGNERS', envPrefixes: ['GITSEAL_'], policy: true },
  { field: 'matchCommitter', name: 'matchCommitter', gitsign: true, env: 'MATCH_COMMITTER', envPrefixes: ['GITSEAL_', 'GITSIGN_'], policy: true },
  { field: 'agent', name: 'agent', env: 'AGENT', envPrefixes: ['GITSEAL_'] },
  { field: 'logPath', name: 'logPath', gitsign: true, env: 'LOG', envPrefixes: ['GITSEAL_', 'GITSIGN_'] },
];

const TOKEN_PROVIDERS: Record<string, TokenProviderName> = {
  auto: 'auto',
  env: 'env',
  envvar: 'env', // cosign/gitsign provider name
  'github-actions': 'github-actions',
  github: 'github-actions',
  gitlab: 'gitlab',
  buildkite: 'buildkite',
  'buildkite-agent': 'buildkite',
  file: 'file',
  filesystem: 'file',
  browser: 'browser',
  interactive: 'browser',
  device: 'device',
  'google-workload-identity': 'google-workload-identity',
  spiffe: 'spiffe',
  // gitsign documents "google-impersonation"; cosign registers the provider as "google-impersonate".
  'google-impersonation': 'google-impersonation',
  'google-impersonate': 'google-impersonation',
};

interface Raw {
  value: string | null;
  source: string;
  /** git config key as written in the source, for messages. */
  label: string;
}

function emptyPolicyValue(label: string): GitsealError {
  return new GitsealError('USAGE', `${label} is set but empty; an empty value would turn the signer policy off, so it is refused (unset it, or give it a value)`);
}

function lookup(s: Setting, git: GitConfig, env: NodeJS.ProcessEnv): Raw | undefined {
  if (s.env) {
    for (const p of s.envPrefixes ?? ALL) {
      const v = env[p + s.env];
      if (v === '' && s.policy) throw emptyPolicyValue(p + s.env);
      if (v !== undefined && v !== '') return { value: v, source: `env ${p + s.env}`, label: p + s.env };
    }
  }
  for (const e of s.extraEnv ?? []) {
    const v = env[e];
    if (v !== undefined && v !== '') return { value: v, source: `env ${e}`, label: e };
  }
  for (const section of s.gitsign ? ['gitseal', 'gitsign'] : ['gitseal']) {
    const e = git.get(`${section}.${s.name}`);
    if (e && s.policy && e.value !== null && e.value.trim() === '') throw emptyPolicyValue(`${section}.${s.name} (${e.origin})`);
    if (e) return { value: e.value, source: `git config ${section}.${s.name}`, label: `${section}.${s.name}` };
  }
  return undefined;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** The valid gitseal.* name closest to `name` (case-insensitive). */
export function closestSettingName(name: string): string {
  let best = SETTINGS[0].name;
  let bestD = Infinity;
  for (const s of SETTINGS) {
    const dist = levenshtein(name.toLowerCase(), s.name.toLowerCase());
    if (dist < bestD) {
      best = s.name;
      bestD = dist;
    }
  }
  return best;
}

function lenient(r: Raw, want: string, dflt: string): { name: string; message: string; id: string } {
  const v = (r.value ?? '').replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 80);
  return { name: r.label, message: `${r.label}="${v}" (${r.source}) must be ${want}; using ${dflt}`, id: `${r.label}=${v} (${r.source})` };
}

function str(r: Raw): string {
  if (r.value === null) throw new GitsealError('CONFIG', `${r.label} needs a value`);
  return r.value;
}

function url(r: Raw): string {
  const v = str(r).trim();
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new GitsealError('CONFIG', `${r.label} is not a URL: "${v}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new GitsealError('CONFIG', `${r.label} must be an http(s) URL, got "${v}"`);
  return v.replace(/\/+$/, '');
}

function bool(r: Raw): boolean {
  const b = parseGitBool(r.value);
  if (b === undefined) throw new GitsealError('CONFIG', `${r.label} must be true or false, got "${r.value}"`);
  return b;
}

function path(r: Raw, env: NodeJS.ProcessEnv): string {
  const v = str(r);
  if (v === '~' || v.startsWith('~/')) return join(homeDir(env), v.slice(1));
  return v;
}

export function loadConfig(opts: LoadConfigOptions): GitsealConfig {
  return configFromGit(readGitConfig(opts), opts.env);
}

/** Build the config from an already-read git config (for `gitseal doctor` and tests). */
export function configFromGit(git: GitConfig, env: NodeJS.ProcessEnv): GitsealConfig {
  const cfg: GitsealConfig = {
    fulcioURL: PUBLIC_GOOD.fulcioURL,
    rekorURL: PUBLIC_GOOD.rekorURL,
    rekorVersion: 1,
    issuer: PUBLIC_GOOD.issuer,
    clientID: PUBLIC_GOOD.clientID,
    tokenProvider: 'auto',
    // Signatures gitseal makes embed their log proof and verify offline. gitsign's
    // online-mode signatures need a Rekor search; that is allowed unless the user says
    // offline (gitseal.offline / GITSEAL_OFFLINE), and fails fast when Rekor is unreachable.
    offline: false,
    matchCommitter: false,
    agent: 'auto',
    autoclose: true,
    autocloseTimeout: 6,
    sources: {},
    warnings: [],
    notices: [],
  };
  const c = cfg as unknown as Record<string, unknown>;
  for (const s of SETTINGS) cfg.sources[s.field] = 'default';
  if (git.untrusted) {
    const message = dubiousOwnershipMessage(git.untrusted);
    cfg.untrustedRepository = { path: git.untrusted.path, message };
    cfg.warnings!.push(`ignoring the repository's configuration: ${message}`);
  }

  for (const s of SETTINGS) {
    const r = lookup(s, git, env);
    if (!r) continue;
    let v: unknown;
    switch (s.field) {
      case 'fulcioURL':
      case 'rekorURL':
      case 'issuer':
      case 'redirectURL':
      case 'timestampServerURL':
        v = url(r);
        break;
      case 'rekorVersion': {
        const n = str(r).trim();
        if (n !== '1' && n !== '2') throw new GitsealError('CONFIG', `${r.label} must be 1 or 2, got "${n}"`);
        v = Number(n);
        break;
      }
      case 'tokenProvider': {
        const n = str(r).trim().toLowerCase();
        v = TOKEN_PROVIDERS[n];
        if (!v) {
          const known = [...new Set(Object.values(TOKEN_PROVIDERS))].join(', ');
          throw new GitsealError('CONFIG', `${r.label} "${n}" is not one of ${known}`);
        }
        break;
      }
      case 'offline':
      case 'matchCommitter':
        v = bool(r);
        break;
      // Only the browser login reads these: a bad value must not stop git from verifying, so it
      // becomes a notice and the default (gitsign logs it and uses 6).
      case 'autoclose': {
        const b = r.value === null ? true : parseGitBool(r.value.trim());
        if (b === undefined) {
          cfg.notices!.push(lenient(r, 'true or false', 'true'));
          continue;
        }
        v = b;
        break;
      }
      case 'autocloseTimeout': {
        const n = Number((r.value ?? '').trim());
        if (!/^\s*\d+\s*$/.test(r.value ?? '') || !Number.isSafeInteger(n) || n < 1 || n > 3600) {
          cfg.notices!.push(lenient(r, 'a whole number of seconds from 1 to 3600', '6'));
          continue;
        }
        v = n;
        break;
      }
      case 'rekorSearchTimeoutMs': {
        // Seconds, as `gitseal doctor --timeout`; git waits on the lookup, so at most two minutes.
        const n = str(r).trim();
        const sec = /^\d+(\.\d+)?$/.test(n) ? Number(n) : NaN;
        if (!(sec > 0 && sec <= 120)) throw new GitsealError('CONFIG', `${r.label} must be a number of seconds above 0 and at most 120, got "${n.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 40)}"`);
        v = Math.round(sec * 1000);
        break;
      }
      case 'agent': {
        const n = str(r).trim().toLowerCase();
        if (n === 'auto') v = 'auto';
        else {
          const b = parseGitBool(n);
          if (b === undefined) throw new GitsealError('CONFIG', `${r.label} must be auto, on or off, got "${n}"`);
          v = b ? 'on' : 'off';
        }
        break;
      }
      case 'trustedRoot':
      case 'signingConfig':
      case 'fulcioRoot':
      case 'timestampCertChain':
      case 'clientSecretFile':
      case 'allowedSignersFile':
      case 'logPath':
        v = path(r, env);
        break;
      default:
        v = str(r);
    }
    c[s.field] = v;
    cfg.sources[s.field] = r.source;
  }

  if (cfg.signingConfig) applySigningConfig(cfg);

  const email = git.get('user.email');
  if (email?.value) {
    cfg.userEmail = email.value;
    cfg.sources.userEmail = 'git config user.email';
  }
  const name = git.get('user.name');
  if (name?.value) {
    cfg.userName = name.value;
    cfg.sources.userName = 'git config user.name';
  }

  for (const n of gitsignNotices((k) => git.get(k), env)) cfg.notices!.push(n);

  // Unknown [gitseal] keys are likely typos of a real one: say which.
  const known = new Set(SETTINGS.map((s) => s.name.toLowerCase()));
  const seen = new Set<string>();
  for (const e of git.entries) {
    if (!e.key.startsWith('gitseal.')) continue;
    const name = e.key.slice('gitseal.'.length);
    if (name.includes('.') || known.has(name) || seen.has(name)) continue;
    seen.add(name);
    cfg.warnings!.push(`unknown config key gitseal.${name} (${e.origin}); did you mean gitseal.${closestSettingName(name)}?`);
  }
  return cfg;
}

/**
 * A Sigstore SigningConfig (gitseal.signingConfig / GITSEAL_SIGNING_CONFIG) names the
 * services to sign with. It fills in what the user did not set one by one: explicit
 * gitseal.* / gitsign.* / env settings always win. An explicit rekorVersion caps the
 * Rekor API version chosen from it.
 */
/** A signing config names a few services: a few KB. */
const MAX_SIGNING_CONFIG_BYTES = 1024 * 1024;

function applySigningConfig(cfg: GitsealConfig): void {
  const file = cfg.signingConfig!;
  let text: string;
  try {
    const bytes = readBounded(file, MAX_SIGNING_CONFIG_BYTES);
    if (!bytes) throw new GitsealError('CONFIG', `the signing config ${file} (${cfg.sources.signingConfig}) is larger than 1 MiB`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    throw new GitsealError('CONFIG', `cannot read the signing config ${file} (${cfg.sources.signingConfig}): ${fsReason(e) ?? describeError(e)}`);
  }
  const explicitVersion = cfg.sources.rekorVersion !== 'default';
  const sel = selectServices(parseSigningConfig(text), new Date(), explicitVersion ? cfg.rekorVersion : 2);
  const from = `signing config ${file}`;
  const isDefault = (f: keyof GitsealConfig) => cfg.sources[f] === 'default' || cfg.sources[f] === undefined;
  if (sel.fulcioURL && isDefault('fulcioURL')) [cfg.fulcioURL, cfg.sources.fulcioURL] = [sel.fulcioURL, from];
  if (sel.issuer && isDefault('issuer')) [cfg.issuer, cfg.sources.issuer] = [sel.issuer, from];
  if (sel.rekor && isDefault('rekorURL')) {
    cfg.rekorURL = sel.rekor.url;
    cfg.sources.rekorURL = from;
    if (!explicitVersion) [cfg.rekorVersion, cfg.sources.rekorVersion] = [sel.rekor.version, from];
  }
  if (sel.tsaURL && isDefault('timestampServerURL')) [cfg.timestampServerURL, cfg.sources.timestampServerURL] = [sel.tsaURL, from];
}

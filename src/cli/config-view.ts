/**
 * The configuration in effect, shaped for people and --json: each value with
 * where it came from, and the relevant environment with credentials hidden
 * (gitsign's `version` prints SIGSTORE_ID_TOKEN in clear; gitseal never does).
 */
import type { GitsealConfig } from '../config/types.js';
import { describeSecret, isSecretEnvName, redactSecrets } from './redact.js';

export interface ConfigEntry {
  key: string;
  value: string | number | boolean | null;
  source: string;
}

const SKIP = new Set(['sources', 'warnings']);

export function configEntries(cfg: GitsealConfig): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const [key, value] of Object.entries(cfg)) {
    if (SKIP.has(key)) continue;
    if (value !== undefined && typeof value === 'object') continue;
    const v = value === undefined ? null : (value as string | number | boolean);
    out.push({ key, value: typeof v === 'string' ? redactSecrets(v) : v, source: cfg.sources[key] ?? (value === undefined ? 'unset' : 'default') });
  }
  return out;
}

/** GITSEAL_*, GITSIGN_*, SIGSTORE_*, TUF_* and CI token variables, credentials replaced by a description. */
export function relevantEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) {
    if (!/^(GITSEAL_|GITSIGN_|SIGSTORE_|TUF_|ACTIONS_ID_TOKEN_)/.test(k)) continue;
    const v = env[k] ?? '';
    out[k] = isSecretEnvName(k) ? describeSecret(v) : redactSecrets(v);
  }
  return out;
}

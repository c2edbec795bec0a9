/**
 * The checks behind `gitseal doctor`. Each returns a status, one line for a
 * person, and for every problem the command that fixes it.
 */
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { GitsealConfig } from '../config/types.js';
import { describeError, networkReason } from '../errors.js';
import type { KeyringUnavailable, SecretStore } from '../oidc/keyring.js';
import { humanDuration } from './output.js';
import { transientLocation } from './program-path.js';
import type { ResolvedTrust } from './trust.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  fix?: string;
  details?: Record<string, unknown>;
}

/** Resolve a program name the way git's run-command does (absolute/relative path, else PATH). */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  if (program.includes('/')) return real(isAbsolute(program) ? program : join(cwd, program));
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    if (existsSync(p)) return real(p);
  }
  return undefined;
}

export function checkProgram(
  format: { value: string; origin: string } | undefined,
  program: { value: string; origin: string } | undefined,
  self: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Check {
  const title = 'git → gitseal';
  if (format?.value !== 'x509') {
    return {
      id: 'git-format',
      title,
      status: 'fail',
      summary: `git signs with gpg.format=${format?.value ?? 'openpgp (default)'}, not x509`,
      fix: 'gitseal init   (or gitseal init --global)',
    };
  }
  if (!program) {
    return { id: 'git-program', title, status: 'fail', summary: 'gpg.x509.program is not set: git would run gpgsm', fix: 'gitseal init' };
  }
  const resolved = resolveProgram(program.value, env, cwd);
  let me: string;
  try {
    me = realpathSync(self);
  } catch {
    me = self;
  }
  const init = initCommandFor(program.origin);
  if (!resolved) {
    const gone = transientLocation(program.value);
    return {
      id: 'git-program',
      title,
      status: 'fail',
      summary: program.value.includes('/')
        ? `gpg.x509.program=${program.value} (${program.origin}) no longer exists${gone ? `: it lay in ${gone.why}` : ''}; git cannot sign or verify`
        : `gpg.x509.program=${program.value} (${program.origin}) is not on PATH; git cannot sign or verify`,
      fix: gone?.kind === 'npx' ? `npm install -g gitseal && ${init}` : init,
    };
  }
  const transient = transientLocation(resolved);
  if (transient) {
    return {
      id: 'git-program',
      title,
      status: 'warn',
      summary: `git runs ${resolved} (gpg.x509.program from ${program.origin}), which lies in ${transient.why}: signing breaks when it goes`,
      fix: transient.kind === 'npx' ? `npm install -g gitseal && ${init}` : `${init}   (from a shell whose PATH finds gitseal, so it writes plain "gitseal")`,
      details: { program: program.value, resolved, self: me },
    };
  }
  if (resolved !== me) {
    return {
      id: 'git-program',
      title,
      status: 'warn',
      summary: `git runs ${resolved} (gpg.x509.program from ${program.origin}), not this gitseal (${me})`,
      fix: `${init}   (if this is the gitseal you want git to use)`,
      details: { program: program.value, resolved, self: me },
    };
  }
  return { id: 'git-program', title, status: 'ok', summary: `git signs and verifies with this gitseal (${program.origin})`, details: { program: program.value, resolved } };
}

/** The init command that rewrites the config file a value came from ("file:.git/config" → local). */
function initCommandFor(origin: string): string {
  const local = /^file:(\.git\/)?config$|\/\.git\/config$|config\.worktree$/.test(origin);
  return local ? 'gitseal init' : 'gitseal init --global';
}

export function checkAutoSign(commit: string | undefined, tag: string | undefined): Check {
  const on = (v?: string) => v !== undefined && ['true', 'yes', 'on', '1'].includes(v.toLowerCase());
  const missing = [!on(commit) && 'commit.gpgsign', !on(tag) && 'tag.gpgsign'].filter(Boolean) as string[];
  if (missing.length === 0) return { id: 'auto-sign', title: 'automatic signing', status: 'ok', summary: 'commits and tags are signed automatically' };
  return {
    id: 'auto-sign',
    title: 'automatic signing',
    status: 'warn',
    summary: `${missing.join(' and ')} not true: sign with "git commit -S" / "git tag -s", or turn it on`,
    fix: 'gitseal init',
  };
}

export function checkConfigWarnings(cfg: GitsealConfig): Check {
  const w = cfg.warnings ?? [];
  if (w.length === 0) return { id: 'config', title: 'configuration', status: 'ok', summary: `Fulcio ${cfg.fulcioURL}, Rekor ${cfg.rekorURL}, issuer ${cfg.issuer}` };
  return { id: 'config', title: 'configuration', status: 'warn', summary: w.join('; '), fix: 'git config --unset <the misspelt key>, then set the right one' };
}

export function checkTrust(trust: ResolvedTrust | undefined, error: unknown, cfg: GitsealConfig, now: Date): Check {
  if (!trust) {
    return {
      id: 'trust-root',
      title: 'trusted root',
      status: 'fail',
      summary: `cannot load the trusted root: ${describeError(error)}`,
      fix: 'point gitseal.trustedRoot (or GITSEAL_TRUSTED_ROOT) at a valid trusted_root.json, or unset it',
    };
  }
  const root = trust.root;
  const age = trust.modified ? `, updated ${humanDuration((now.getTime() - trust.modified.getTime()) / 1000)} ago` : '';
  const details = {
    layer: trust.layer,
    source: trust.source,
    files: trust.files,
    digest: root.digest,
    certificateAuthorities: root.certificateAuthorities.length,
    tlogs: root.tlogs.length,
    ctlogs: root.ctlogs.length,
  };
  const norm = (u: string) => u.replace(/\/+$/, '');
  const rekorKnown = root.tlogs.some((t) => norm(t.baseUrl) === norm(cfg.rekorURL));
  const fulcioKnown = root.certificateAuthorities.some((c) => norm(c.uri) === norm(cfg.fulcioURL));
  const gaps = [!fulcioKnown && `Fulcio ${cfg.fulcioURL}`, !rekorKnown && `Rekor ${cfg.rekorURL}`].filter(Boolean);
  const notes = trust.warnings.length ? ` (${trust.warnings.join('; ')})` : '';
  if (gaps.length) {
    return {
      id: 'trust-root',
      title: 'trusted root',
      status: 'warn',
      summary: `${trust.source}${age}: does not list ${gaps.join(' or ')} — signatures from there will not verify${notes}`,
      fix: 'set gitseal.trustedRoot to the trusted_root.json of the Sigstore you sign with (or gitseal initialize --mirror … --root …)',
      details,
    };
  }
  const old = trust.layer === 'cache' && trust.modified !== undefined && now.getTime() - trust.modified.getTime() > 90 * 86400_000;
  return {
    id: 'trust-root',
    title: 'trusted root',
    status: old || trust.warnings.length ? 'warn' : 'ok',
    summary: `${trust.source}${age}: ${root.certificateAuthorities.length} CAs, ${root.tlogs.length} Rekor logs, ${root.ctlogs.length} CT logs${notes}`,
    fix: old || trust.warnings.length ? 'gitseal initialize' : undefined,
    details,
  };
}

/** GET url with a short timeout; ok on any HTTP answer below 500 (the service is there). */
export async function probe(name: string, url: string, timeoutMs: number): Promise<Check> {
  const started = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    const ms = Date.now() - started;
    if (res.status >= 500) {
      return { id: `net-${name.toLowerCase()}`, title: name, status: 'fail', summary: `${url} answered HTTP ${res.status}`, fix: `the ${name} service is failing; try again later or check its status page` };
    }
    return { id: `net-${name.toLowerCase()}`, title: name, status: 'ok', summary: `${url} reachable (HTTP ${res.status}, ${ms} ms)` };
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : networkReason(e) ?? describeError(e);
    return {
      id: `net-${name.toLowerCase()}`,
      title: name,
      status: 'fail',
      summary: `${url} unreachable (${why})`,
      fix: `check the network/proxy, or the ${name} URL (gitseal version shows where it is set)`,
    };
  }
}

/**
 * Where a login is cached: the OS keyring, else the encrypted file, and why (the single-file
 * executable, for one, loads the keyring's addon from a file it writes, which can fail).
 */
export function checkTokenStore(k: { store: SecretStore } | { unavailable: KeyringUnavailable; detail?: string }, cacheDir: string, embedded: boolean): Check {
  const id = 'token-store';
  const title = 'token cache';
  const file = `an AES-256-GCM encrypted file in ${cacheDir}`;
  if ('store' in k) return { id, title, status: 'ok', summary: `the OS keyring (${k.store.name})`, details: { store: 'keyring' } };
  const details = { store: 'file', reason: k.unavailable };
  if (k.unavailable === 'off') return { id, title, status: 'ok', summary: `${file} (the keyring is switched off: GITSEAL_KEYRING=off)`, details };
  if (k.unavailable === 'no-service') return { id, title, status: 'ok', summary: `${file} (no keyring service answers, e.g. no Secret Service on the session D-Bus)`, details };
  const why = 'detail' in k && k.detail ? ` (${k.detail})` : '';
  if (embedded) {
    return {
      id,
      title,
      status: 'ok',
      summary: `${file}: this single-file executable cannot load the keyring's native addon here${why}`,
      details,
    };
  }
  return {
    id,
    title,
    status: 'warn',
    summary: `${file}: the keyring addon (@napi-rs/keyring) does not load${why}`,
    fix: 'npm install -g gitseal   (reinstalls the addon for this platform)',
    details,
  };
}

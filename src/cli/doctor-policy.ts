/**
 * Two `gitseal doctor` checks for people coming from gitsign: whether a signer policy is set
 * (without one git shows every good signature as U, and `git merge --verify-signatures`
 * refuses it), and which gitsign settings gitseal does not apply here.
 */
import { execFileSync } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type { GitsealConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import { readBounded } from '../util/read-bounded.js';
import { parseAllowedSigners } from '../verify/policy.js';
import type { Check } from './doctor-checks.js';

const INIT_HINT = 'gitseal init --signer <your identity> --issuer <its OIDC issuer>   (writes .gitseal/allowed_signers)';

/**
 * The policy git's verification applies (gitseal.allowedSignersFile, gitseal.matchCommitter).
 * `topLevel`: the work tree root, where git runs the verify program, so relative paths are read
 * from there.
 */
export function checkPolicy(cfg: GitsealConfig, topLevel: string | undefined): Check {
  const title = 'signer policy';
  if (cfg.allowedSignersFile) {
    const file = isAbsolute(cfg.allowedSignersFile) || !topLevel ? cfg.allowedSignersFile : join(topLevel, cfg.allowedSignersFile);
    let n: number;
    try {
      // Bounded, as git's path reads it (a /dev/zero here ran doctor out of memory).
      const bytes = readBounded(file, 1024 * 1024);
      if (!bytes) throw new Error('larger than 1 MiB');
      n = parseAllowedSigners(bytes.toString('utf8'), file).length;
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeError(e);
      return {
        id: 'policy',
        title,
        status: 'fail',
        summary: `the allowed signers file ${file} (${cfg.sources.allowedSignersFile}) cannot be used: ${why}; git reports every signature as not verified`,
        fix: `create it (${INIT_HINT}), or git config --unset gitseal.allowedSignersFile`,
      };
    }
    if (n === 0) {
      return {
        id: 'policy',
        title,
        status: 'warn',
        summary: `${file} (${cfg.sources.allowedSignersFile}) lists nobody: no signature is allowed`,
        fix: INIT_HINT,
      };
    }
    return {
      id: 'policy',
      title,
      status: 'ok',
      summary: `${n} allowed signer${n === 1 ? '' : 's'} in ${file}${cfg.matchCommitter ? ', and the committer must be the signer' : ''}: git shows G for them`,
      details: { file, signers: n, matchCommitter: cfg.matchCommitter },
    };
  }
  if (cfg.matchCommitter) {
    return {
      id: 'policy',
      title,
      status: 'warn',
      summary: 'only gitseal.matchCommitter, which narrows a policy but is none: anyone can sign with their own e-mail as committer, so git shows such signatures as U (any Fulcio identity would pass); an allowed signers file says who',
      fix: INIT_HINT,
    };
  }
  return {
    id: 'policy',
    title,
    status: 'warn',
    summary:
      'none: git shows every good signature as U (any Fulcio identity would pass), so git merge --verify-signatures and gpg.minTrustLevel=fully refuse them',
    fix: INIT_HINT,
  };
}

/** gitsign settings gitseal recognises but does not apply, and values it replaced with a default. */
export function checkGitsignNotices(cfg: GitsealConfig): Check | undefined {
  const n = cfg.notices ?? [];
  if (n.length === 0) return undefined;
  return {
    id: 'gitsign-settings',
    title: 'gitsign settings',
    status: 'warn',
    summary: n.map((x) => x.message).join('; '),
    fix: `fix or remove: ${n.map((x) => (x.name.includes('.') ? `git config --unset ${x.name}` : `unset ${x.name}`)).join(', ')}`,
    details: { settings: n.map((x) => x.name) },
  };
}

/** The work tree's top directory (where git runs its signing program), or undefined. */
export function workTreeTop(cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a verification's signer policy comes from, and how the sources combine — one rule for
 * git's --verify path, `gitseal verify`/`verify-tag`, the pre-receive hook (which runs `gitseal
 * verify`) and, through validatePolicy, the library.
 *
 * Sources (each one given applies; a signature must satisfy ALL of them):
 *   1. identity flags: --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]
 *      (both required, as cosign and gitsign require them), --certificate-github-workflow-*;
 *   2. an allowed-signers file: --allowed-signers FILE, else gitseal.allowedSignersFile /
 *      GITSEAL_ALLOWED_SIGNERS (the flag names the same setting, so it replaces it);
 *   3. the committer check: --[no-]match-committer, else gitseal.matchCommitter.
 * Identity flags therefore narrow a configured allowed-signers file and never replace it; no
 * source can widen another. Every source in force is named in `applied`, which the CLI prints.
 * Empty values are refused (validatePolicy, src/config/load.ts), never read as "no policy".
 */
import type { GitsealConfig } from '../config/types.js';
import { describeError, fsReason, GitsealError } from '../errors.js';
import { readBounded } from '../util/read-bounded.js';
import { hasConstraints, parseAllowedSigners, validatePolicy, type AllowedSigner, type IdentityPolicy, type Policy, type PolicyFieldName } from './policy.js';

/** Largest allowed-signers file read (a policy, not a data set). */
const MAX_ALLOWED_SIGNERS_BYTES = 1024 * 1024;

/** Read and parse an allowed-signers file; `origin` says where its name came from, for messages. */
export function readAllowedSignersFile(file: string, origin: string): AllowedSigner[] {
  if (file === '') throw new GitsealError('USAGE', `${origin} is empty; an empty value would turn the signer policy off, so it is refused`);
  // Bounded whatever the file is: repository content (.gitseal/allowed_signers), a pipe
  // (`--allowed-signers <(…)`) or a device that never ends.
  let data: Buffer | undefined;
  try {
    data = readBounded(file, MAX_ALLOWED_SIGNERS_BYTES);
  } catch (e) {
    throw new GitsealError('POLICY', `cannot read the allowed signers file ${file} (${origin}): ${fsReason(e) ?? describeError(e)}`);
  }
  if (!data) throw new GitsealError('POLICY', `the allowed signers file ${file} (${origin}) is larger than 1 MiB`);
  return parseAllowedSigners(data.toString('utf8'), file);
}

export interface AppliedPolicy {
  /** undefined: nothing is checked beyond the signature itself. */
  policy?: Policy;
  /** One phrase per source in force, for people ("allowed signers from F (git config gitseal.allowedSignersFile)"). */
  applied: string[];
}

/** The repository's own policy, what `git verify-commit` applies: gitseal.allowedSignersFile and gitseal.matchCommitter. */
export function repositoryPolicy(cfg: GitsealConfig): AppliedPolicy {
  return combinePolicy({}, cfg);
}

/**
 * The library's policy (verifyPayload, verifyCommit, onVerify): the caller's `policy` combined
 * with the repository's, by the rule above — what `git verify-commit` and `gitseal verify` apply
 * in that repository. Identity fields narrow the configured allowed-signers file; the caller's
 * `allowedSigners` replaces it and the caller's `matchCommitter` (true or false) replaces
 * gitseal.matchCommitter, as --allowed-signers and --[no-]match-committer do. Nothing the
 * repository configures can widen the caller's policy.
 */
export function withRepositoryPolicy(explicit: Policy | undefined, cfg: Pick<GitsealConfig, 'allowedSignersFile' | 'matchCommitter' | 'sources'>): Policy | undefined {
  const p: Policy = { ...explicit };
  if (p.allowedSigners === undefined && cfg.allowedSignersFile !== undefined) {
    p.allowedSigners = readAllowedSignersFile(cfg.allowedSignersFile, cfg.sources.allowedSignersFile ?? 'gitseal.allowedSignersFile');
  }
  if (p.matchCommitter === undefined && cfg.matchCommitter) p.matchCommitter = true;
  validatePolicy(p);
  return hasConstraints(p) ? p : undefined;
}

export interface PolicyInput {
  identity?: IdentityPolicy;
  /** --allowed-signers FILE: replaces the configured file. */
  allowedSignersFile?: string;
  /** --match-committer / --no-match-committer: replaces gitseal.matchCommitter. */
  matchCommitter?: boolean;
  /** How identity fields are named in messages (command-line flags). */
  name?: PolicyFieldName;
}

/** The policy from explicit input (flags) and the configuration, by the rule above. */
export function combinePolicy(input: PolicyInput, cfg: Pick<GitsealConfig, 'allowedSignersFile' | 'matchCommitter' | 'sources'>): AppliedPolicy {
  const p: Policy = {};
  const applied: string[] = [];
  for (const [k, v] of Object.entries(input.identity ?? {}) as Array<[keyof IdentityPolicy, string | undefined]>) if (v !== undefined) p[k] = v;
  validatePolicy(p, input.name);
  const idParts = describeIdentityFlags(p);
  if (idParts) applied.push(`${idParts} (command line)`);

  const fromFlag = input.allowedSignersFile !== undefined;
  const file = fromFlag ? input.allowedSignersFile : cfg.allowedSignersFile;
  if (file !== undefined) {
    const origin = fromFlag ? '--allowed-signers' : (cfg.sources.allowedSignersFile ?? 'gitseal.allowedSignersFile');
    p.allowedSigners = readAllowedSignersFile(file, origin);
    const replaced = fromFlag && cfg.allowedSignersFile !== undefined && cfg.allowedSignersFile !== file ? `; replaces ${cfg.allowedSignersFile} from ${cfg.sources.allowedSignersFile}` : '';
    applied.push(`allowed signers from ${file} (${origin}${replaced})`);
  }

  const mcFlag = input.matchCommitter !== undefined;
  const mc = mcFlag ? input.matchCommitter! : cfg.matchCommitter;
  if (mc) {
    p.matchCommitter = true;
    applied.push(`signer must be the committer/tagger (${mcFlag ? '--match-committer' : (cfg.sources.matchCommitter ?? 'gitseal.matchCommitter')})`);
  } else if (mcFlag && cfg.matchCommitter) {
    applied.push(`committer check off (--no-match-committer; overrides ${cfg.sources.matchCommitter})`);
  }
  validatePolicy(p, input.name);
  return { policy: hasConstraints(p) ? p : undefined, applied };
}

function describeIdentityFlags(p: Policy): string | undefined {
  const parts: string[] = [];
  if (p.certificateIdentity !== undefined) parts.push(`identity ${p.certificateIdentity}`);
  if (p.certificateIdentityRegexp !== undefined) parts.push(`identity matching /${p.certificateIdentityRegexp}/`);
  if (p.certificateOidcIssuer !== undefined) parts.push(`issuer ${p.certificateOidcIssuer}`);
  if (p.certificateOidcIssuerRegexp !== undefined) parts.push(`issuer matching /${p.certificateOidcIssuerRegexp}/`);
  for (const k of ['githubWorkflowTrigger', 'githubWorkflowSha', 'githubWorkflowName', 'githubWorkflowRepository', 'githubWorkflowRef'] as const) {
    if (p[k] !== undefined) parts.push(`${k} ${p[k]}`);
  }
  return parts.length ? parts.join(', ') : undefined;
}

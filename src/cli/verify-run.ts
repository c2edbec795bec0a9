/**
 * Shared by `gitseal verify`, `gitseal verify-tag` and the pre-receive hook:
 * the policy from flags and configuration, which objects to verify, and the
 * per-object result in the shape the table and --json print.
 */
import type { GitsealConfig } from '../config/types.js';
import { GitsealError } from '../errors.js';
import { checkRevs } from '../git/reader.js';
import { verifyRange } from '../verify/batch.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { Policy } from '../verify/policy.js';
import { combinePolicy, type AppliedPolicy } from '../verify/policy-sources.js';
import type { VerifyResult } from '../verify/result.js';

export interface PolicyFlags {
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'certificate-github-workflow-trigger'?: string;
  'certificate-github-workflow-sha'?: string;
  'certificate-github-workflow-name'?: string;
  'certificate-github-workflow-repository'?: string;
  'certificate-github-workflow-ref'?: string;
  'allowed-signers'?: string;
  'match-committer'?: boolean;
}

const FLAG_NAMES: Record<string, string> = {
  certificateIdentity: '--certificate-identity',
  certificateIdentityRegexp: '--certificate-identity-regexp',
  certificateOidcIssuer: '--certificate-oidc-issuer',
  certificateOidcIssuerRegexp: '--certificate-oidc-issuer-regexp',
  githubWorkflowTrigger: '--certificate-github-workflow-trigger',
  githubWorkflowSha: '--certificate-github-workflow-sha',
  githubWorkflowName: '--certificate-github-workflow-name',
  githubWorkflowRepository: '--certificate-github-workflow-repository',
  githubWorkflowRef: '--certificate-github-workflow-ref',
  allowedSigners: '--allowed-signers',
  matchCommitter: '--match-committer',
};

/**
 * The policy of `gitseal verify`: the identity flags, the allowed-signers file (--allowed-signers,
 * else gitseal.allowedSignersFile) and the committer check (--[no-]match-committer, else
 * gitseal.matchCommitter), all applying together (src/verify/policy-sources.ts). An empty flag
 * value, or an identity without an issuer, is a usage error naming the flag.
 */
export function buildPolicy(f: PolicyFlags, cfg: GitsealConfig): AppliedPolicy {
  return combinePolicy(
    {
      identity: {
        certificateIdentity: f['certificate-identity'],
        certificateIdentityRegexp: f['certificate-identity-regexp'],
        certificateOidcIssuer: f['certificate-oidc-issuer'],
        certificateOidcIssuerRegexp: f['certificate-oidc-issuer-regexp'],
        githubWorkflowTrigger: f['certificate-github-workflow-trigger'],
        githubWorkflowSha: f['certificate-github-workflow-sha'],
        githubWorkflowName: f['certificate-github-workflow-name'],
        githubWorkflowRepository: f['certificate-github-workflow-repository'],
        githubWorkflowRef: f['certificate-github-workflow-ref'],
      },
      allowedSignersFile: f['allowed-signers'],
      matchCommitter: f['match-committer'],
      name: (k) => FLAG_NAMES[k] ?? k,
    },
    cfg,
  );
}

export interface ObjectResult {
  oid: string;
  type: string;
  /** The name the user gave, when one object was named. */
  ref?: string;
  ok: boolean;
  kind: 'good' | 'bad' | 'error' | 'unsigned';
  identity?: string;
  issuer?: string;
  fingerprint?: string;
  logIndex?: string;
  integratedTime?: string;
  policyMatched?: boolean;
  policy?: string;
  failedCheck?: string;
  code?: string;
  message: string;
  /** The verdict came from the verified-signature cache. */
  cached?: boolean;
  /** Verified without the SCT check (--insecure-ignore-sct). */
  sctSkipped?: boolean;
}

function fromResult(oid: string, type: string, r: VerifyResult): ObjectResult {
  return {
    oid,
    type,
    ok: r.ok,
    kind: r.kind,
    identity: r.identity,
    issuer: r.issuer,
    fingerprint: r.fingerprint,
    logIndex: r.logIndex?.toString(),
    integratedTime: r.integratedTime?.toISOString(),
    policyMatched: r.policyMatched,
    policy: r.policy,
    failedCheck: r.failedCheck,
    code: r.code,
    message: r.message,
    ...(r.sctSkipped ? { sctSkipped: true } : {}),
  };
}

/** Does this argument name a set of commits (rev-list syntax) rather than one object? */
export function isRangeArg(a: string): boolean {
  return a.includes('..') || a.startsWith('^') || a.startsWith('-');
}

export interface VerifyRun {
  repoDir: string;
  revs: string[];
  trust: TrustedRoot;
  policy?: Policy;
  offline: boolean;
  /** 'commit' or 'tag' when each argument must be of that type (verify-tag). */
  want?: 'commit' | 'tag';
  /** Use the verified-signature cache (default true). */
  cache?: boolean;
  /** Rekor v1 base URL, searched for signatures without an embedded proof when not offline. */
  rekorURL?: string;
  /** gitseal verify --insecure-ignore-sct: skip the SCT check only. */
  ignoreSct?: boolean;
  /** Time budget of one such lookup (gitseal.rekorSearchTimeout); default src/rekor/search.ts's. */
  rekorSearchTimeoutMs?: number;
  /** Worker threads (gitseal verify --jobs); 0 = this thread only; default batch.ts's. */
  workers?: number;
}

/**
 * Verify the named objects (each argument one object) or, when any argument
 * is a range, every commit of `git rev-list <args>` — through the batch
 * verifier (src/verify/batch.ts: bulk reads, worker threads, verified cache).
 * Yields in order.
 */
export async function* verifyObjects(run: VerifyRun): AsyncGenerator<ObjectResult> {
  checkRevs(run.revs);
  const ranged = run.revs.some(isRangeArg);
  // gitsign's online mode keeps the proof only in Rekor: look it up there unless offline.
  const rekorSearch = !run.offline && run.rekorURL ? (await import('../rekor/search.js')).createRekorSearch(run.rekorURL, { timeoutMs: run.rekorSearchTimeoutMs }) : undefined;
  const source = verifyRange({
    repoDir: run.repoDir,
    ...(ranged ? { revs: run.revs } : { objects: run.revs }),
    trust: run.trust,
    policy: run.policy,
    offline: run.offline,
    rekorSearch,
    ...(run.cache === false ? { cache: false as const } : {}),
    ...(run.ignoreSct ? { ignoreSct: true } : {}),
    ...(run.workers !== undefined ? { workers: run.workers } : {}),
  });
  for await (const o of source) {
    const ref = ranged ? undefined : run.revs[o.seq];
    if (o.status === 'missing') throw new GitsealError('USAGE', `no such ${run.want ?? 'revision'}: "${ref ?? o.oid}"`);
    if (run.want && o.type !== run.want) {
      throw new GitsealError(
        'USAGE',
        run.want === 'tag' ? `"${ref}" is not an annotated tag (it names a ${o.type}); lightweight tags carry no signature` : `"${ref}" is a ${o.type}, not a ${run.want}`,
      );
    }
    if (o.type !== 'commit' && o.type !== 'tag') throw new GitsealError('USAGE', `"${ref ?? o.oid}" is a ${o.type}; only commits and tags are signed`);
    if (o.status === 'unsigned' || !o.result) {
      yield { oid: o.oid, type: o.type, ref, ok: false, kind: 'unsigned', cached: false, message: `${o.type} is not signed` };
      continue;
    }
    const r = fromResult(o.oid, o.type, o.result);
    if (o.format && o.format !== 'x509') r.message = `${o.type} carries a${o.format === 'openpgp' ? 'n OpenPGP' : o.format === 'ssh' ? 'n SSH' : 'n unknown'} signature, not a Sigstore one`;
    yield { ...r, ref, cached: o.cached };
  }
}

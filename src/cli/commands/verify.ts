import { isAbsolute, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { loadConfig } from '../../config/load.js';
import type { ErrorCode } from '../../errors.js';
import { withTrustHint } from '../../verify/trust-hint.js';
import { GitsealCommand } from '../base.js';
import { requireRepo } from '../objects.js';
import { fitTable, terminalColumns } from '../fit-width.js';
import { out, withSpinner } from '../output.js';
import { resolveTrustedRoot } from '../trust.js';
import { hasPolicy } from '../../verify/policy.js';
import { terminalSafe } from '../../util/terminal-text.js';
import { buildPolicy, isRangeArg, verifyObjects, type ObjectResult, type PolicyFlags } from '../verify-run.js';

export const policyFlags = {
  'certificate-identity': Flags.string({ description: 'signer identity (certificate SAN: e-mail or URI) must equal this', helpGroup: 'POLICY', helpValue: 'IDENTITY' }),
  'certificate-identity-regexp': Flags.string({ description: 'signer identity must match this regular expression (whole value)', helpGroup: 'POLICY', helpValue: 'REGEXP' }),
  'certificate-oidc-issuer': Flags.string({ description: 'OpenID issuer in the certificate must equal this', helpGroup: 'POLICY', helpValue: 'URL' }),
  'certificate-oidc-issuer-regexp': Flags.string({ description: 'OpenID issuer must match this regular expression (whole value)', helpGroup: 'POLICY', helpValue: 'REGEXP' }),
  'certificate-github-workflow-trigger': Flags.string({ description: 'GitHub workflow trigger (event) claim', helpGroup: 'POLICY' }),
  'certificate-github-workflow-sha': Flags.string({ description: 'GitHub workflow commit SHA claim', helpGroup: 'POLICY' }),
  'certificate-github-workflow-name': Flags.string({ description: 'GitHub workflow name claim', helpGroup: 'POLICY' }),
  'certificate-github-workflow-repository': Flags.string({ description: 'GitHub workflow repository claim (owner/repo)', helpGroup: 'POLICY' }),
  'certificate-github-workflow-ref': Flags.string({ description: 'GitHub workflow ref claim (refs/heads/main)', helpGroup: 'POLICY' }),
  'allowed-signers': Flags.string({ description: 'allowed signers file ("<identity|re:regexp> <issuer|re:regexp>" per line); default gitseal.allowedSignersFile', helpGroup: 'POLICY', helpValue: 'FILE' }),
  'match-committer': Flags.boolean({ description: "signer e-mail must be the committer's (tagger's) e-mail; default gitseal.matchCommitter", helpGroup: 'POLICY', allowNo: true }),
  offline: Flags.boolean({ description: 'never use the network (default: gitseal.offline)', allowNo: true }),
  cache: Flags.boolean({ description: 'reuse earlier verdicts from the verified-signature cache (~/.cache/gitseal/verified)', default: true, allowNo: true }),
};

/**
 * cosign's and gitsign's flag, with the same meaning: skip the embedded-SCT check, nothing else.
 * Only here, on the command line, each time: no git config key, no environment variable, and
 * git's own --verify path ignores it (src/gpg/args.ts skips unknown options), so nothing in a
 * repository or an environment can weaken what `git verify-commit` checks.
 */
export const insecureFlags = {
  'insecure-ignore-sct': Flags.boolean({
    description: "INSECURE: do not check the certificates' embedded SCTs (proof that the certificate was logged to Certificate Transparency); every other check still runs",
    helpGroup: 'INSECURE',
  }),
};

const IGNORE_SCT_WARNING =
  'gitseal: WARNING: --insecure-ignore-sct: the signing certificates\' SCTs are not checked, so a certificate Fulcio never logged to Certificate Transparency passes; git verify-commit still checks them';

export interface VerifySummary {
  ok: boolean;
  total: number;
  good: number;
  failed: number;
  /** An identity policy (who may sign) was in force; matchCommitter alone is none. */
  policy: boolean;
  /** false with --insecure-ignore-sct (absent otherwise: the SCTs were checked). */
  sctChecked?: false;
  /** Every policy source in force, for people ("allowed signers from F (git config gitseal.allowedSignersFile)"). */
  appliedPolicy: string[];
  results: ObjectResult[];
}

/** The body shared by verify and verify-tag. */
export abstract class VerifyBase extends GitsealCommand {
  protected async verifyRevs(
    revs: string[],
    flags: PolicyFlags & { offline?: boolean; cache?: boolean; 'insecure-ignore-sct'?: boolean },
    want: 'commit' | 'tag' | undefined,
  ): Promise<VerifySummary> {
    const repo = requireRepo(this.cwd);
    const cfg = loadConfig({ cwd: repo, env: this.env });
    // git runs its verify program in the work tree's top directory: read a relative policy file from there too.
    if (cfg.allowedSignersFile && !isAbsolute(cfg.allowedSignersFile)) cfg.allowedSignersFile = resolve(repo, cfg.allowedSignersFile);
    const ignoreSct = flags['insecure-ignore-sct'] === true;
    if (ignoreSct) this.note(IGNORE_SCT_WARNING);
    const { policy, applied } = buildPolicy(flags, cfg);
    const { root, source } = resolveTrustedRoot(cfg, this.env);
    const offline = flags.offline ?? cfg.offline;
    const results: ObjectResult[] = [];
    const many = revs.length > 1 || revs.some(isRangeArg);
    await withSpinner(`Verifying${many ? '' : ` ${terminalSafe(revs[0]!)}`}…`, async () => {
      for await (const r of verifyObjects({ repoDir: repo, revs, trust: root, policy, offline, want, cache: flags.cache, rekorURL: cfg.rekorURL, rekorSearchTimeoutMs: cfg.rekorSearchTimeoutMs, ignoreSct })) {
        results.push(r.ok ? r : { ...r, message: withTrustHint(r.code as ErrorCode | undefined, r.message, source) });
      }
    });
    const good = results.filter((r) => r.ok).length;
    const summary: VerifySummary = {
      ok: good === results.length,
      total: results.length,
      good,
      failed: results.length - good,
      policy: hasPolicy(policy),
      appliedPolicy: applied,
      ...(ignoreSct ? { sctChecked: false } : {}),
      results,
    };
    if (!summary.ok) this.exitStatus = 1;
    if (!this.jsonEnabled()) render(this.say.bind(this), this.note.bind(this), summary);
    return summary;
  }
}

const POLICY_HELP = `POLICY: every source given applies, and a signature must satisfy all of them: the identity flags (--certificate-identity or -regexp together with --certificate-oidc-issuer or -regexp, as cosign requires), the allowed-signers file (--allowed-signers, else gitseal.allowedSignersFile) and the committer check (--[no-]match-committer, else gitseal.matchCommitter). Flags narrow the repository's policy; they never replace or widen it. Empty values are refused. With no identity policy at all, any valid Sigstore identity passes and gitseal says so (--match-committer alone is no policy). Regular expressions must match the whole value.`;

export default class Verify extends VerifyBase {
  static override summary = 'Verify the signatures of commits (one, several, or a range)';
  static override description = `Checks each commit's signature completely: the signature over the content, the certificate chain to a Fulcio CA of the trusted root, the embedded certificate timestamp (SCT), the Rekor log proof embedded in the signature (signed entry timestamp, inclusion proof, checkpoint) and that the certificate was valid when the entry was logged — then the identity policy.

With no argument, HEAD. A plain revision verifies that commit; a range (A..B, ^A B, --all) verifies every commit in it. Prints one line per commit (or --json) and exits 1 if any failed.

${POLICY_HELP}`;
  static override examples = [
    { command: '<%= config.bin %> verify', description: 'HEAD, with the repository policy' },
    { command: '<%= config.bin %> verify HEAD --certificate-identity alice@example.com --certificate-oidc-issuer https://github.com/login/oauth', description: 'One commit, one identity' },
    { command: '<%= config.bin %> verify origin/main..HEAD --certificate-identity-regexp ".*@example\\.com" --certificate-oidc-issuer https://accounts.google.com', description: 'Everything not yet on main' },
    {
      command: '<%= config.bin %> verify v1.0..v1.1 --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com --certificate-github-workflow-repository org/repo',
      description: 'Commits made by a CI workflow',
    },
    { command: '<%= config.bin %> verify main~20..main --json', description: 'Machine-readable (schema: gitseal help json, "verify")' },
  ];
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    revs: Args.string({ description: 'commits or ranges (default HEAD)' }),
  };
  static override flags = {
    all: Flags.boolean({ description: 'every commit reachable from any branch, tag or other ref' }),
    ...policyFlags,
    ...insecureFlags,
  };

  async run(): Promise<VerifySummary> {
    const { argv, flags } = await this.parse(Verify);
    const given = argv as string[];
    const revs = flags.all ? [...given, '--all'] : given.length ? given : ['HEAD'];
    return this.verifyRevs(revs, flags, undefined);
  }
}

function render(say: (l?: string) => void, note: (l: string) => void, s: VerifySummary): void {
  const mark = (r: ObjectResult) => (r.ok ? out.green('✓') : r.kind === 'bad' ? out.red('✗ BAD') : r.kind === 'unsigned' ? out.yellow('- unsigned') : out.red('✗'));
  // identity, issuer and message come from the signature: escaped before any colour is added
  const rows = s.results.map((r) => [
    mark(r),
    r.oid.slice(0, 12) + (r.type === 'tag' ? ' (tag)' : ''),
    // Only a verified certificate names a signer; otherwise the name is context, and says so.
    r.kind === 'good' ? terminalSafe(r.identity ?? '') : r.identity ? `unverified: ${terminalSafe(r.identity)}` : '',
    terminalSafe(r.issuer ?? ''),
    r.logIndex ? `log #${r.logIndex}` : '',
    r.ok ? out.dim(`${r.policyMatched ? 'policy ok' : 'no policy'}${r.sctSkipped ? ', SCT not checked' : ''}`) : terminalSafe(r.message),
  ]);
  // On a terminal, identity and issuer are shortened to fit it; piped output keeps them whole.
  if (rows.length) say(fitTable(rows, terminalColumns(process.stdout), { shrink: [2, 3], weight: { 2: 2, 3: 1 } }));
  say('');
  if (s.total === 0) say('no commits in the range');
  else if (s.ok) say(out.green(`${s.good} of ${s.total} verified`));
  else say(out.red(`${s.failed} of ${s.total} failed`) + (s.good ? `, ${s.good} verified` : ''));
  // What was checked is part of the result: on stdout, after the summary.
  if (s.appliedPolicy.length) say(terminalSafe(`policy: ${s.appliedPolicy.join('; ')}`));
  if (!s.policy && s.good > 0) {
    note(
      `${out.yellow('note:')} no identity policy was given: any valid Sigstore identity passes${s.appliedPolicy.length ? ' (the committer check only narrows a policy)' : ''}. Pin signers with --certificate-identity and --certificate-oidc-issuer, or gitseal.allowedSignersFile.`,
    );
  }
}

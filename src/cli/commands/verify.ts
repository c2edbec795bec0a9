import { Args, Flags } from '@oclif/core';
import { GitsealCommand } from '../base.js';
import { runVerify, type VerifyFlags } from '../verify-command.js';

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

/** Worker threads for a range (src/verify/batch.ts); the default suits the machine. */
export const jobsFlag = Flags.integer({
  description: 'verify a range with N worker threads besides this one (default: one fewer than the cores, at least 1; 0: this thread only)',
  helpValue: 'N',
  min: 0,
  max: 256,
});

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

export const outputFlags = {
  'json-lines': Flags.boolean({
    description: 'one JSON object per line as each object is verified, then a {"summary": …} line (schema: gitseal help json); for streaming consumers of long ranges',
    exclusive: ['json'],
  }),
};

/** The body shared by verify and verify-tag (src/cli/verify-command.ts). */
export abstract class VerifyBase extends GitsealCommand {
  protected async verifyRevs(revs: string[], flags: VerifyFlags, want: 'commit' | 'tag' | undefined): Promise<undefined> {
    this.exitStatus = await runVerify(revs, flags, want, { cwd: this.cwd, env: this.env, json: this.jsonEnabled(), note: (l) => this.note(l) });
    // Printed by the body, not by oclif from a returned value: the document is already out.
    return undefined;
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
    // ignoreStdin: oclif would otherwise take a missing argument from a piped stdin, so that
    // `… | gitseal verify` verified whatever the pipe said instead of HEAD.
    revs: Args.string({ description: 'commits or ranges (default HEAD)', ignoreStdin: true }),
  };
  static override flags = {
    all: Flags.boolean({ description: 'every commit reachable from any branch, tag or other ref' }),
    jobs: jobsFlag,
    ...policyFlags,
    ...insecureFlags,
    ...outputFlags,
  };

  async run(): Promise<undefined> {
    const { raw, flags } = await this.parse(Verify);
    const given = argsAsTyped(raw);
    const revs = flags.all ? [...given, '--all'] : given.length ? given : ['HEAD'];
    return this.verifyRevs(revs, flags, undefined);
  }
}

/**
 * The arguments in the order they were typed. oclif's `argv` sorts them by where each token
 * first appears, so a repeated token moves forward (`c3 --not c2 c3` became `c3 c3 --not c2`,
 * another range for git rev-list); its raw tokens keep the order.
 */
export function argsAsTyped(raw: ReadonlyArray<{ type: string; input: string }>): string[] {
  return raw.filter((t) => t.type === 'arg').map((t) => t.input);
}

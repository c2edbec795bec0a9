import { isAbsolute, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { loadConfig } from '../../config/load.js';
import type { ErrorCode } from '../../errors.js';
import { withTrustHint } from '../../verify/trust-hint.js';
import { GitsealCommand } from '../base.js';
import { requireRepo } from '../objects.js';
import { execFile } from 'node:child_process';
import { StreamTable, terminalColumns } from '../fit-width.js';
import { jsonReplacer, LineWriter, out, setOpenDocument, startProgress, withSpinner } from '../output.js';
import { resolveTrustedRoot } from '../trust.js';
import { hasPolicy } from '../../verify/policy.js';
import { terminalSafe, terminalSafeJson } from '../../util/terminal-text.js';
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

const IGNORE_SCT_WARNING =
  'gitseal: WARNING: --insecure-ignore-sct: the signing certificates\' SCTs are not checked, so a certificate Fulcio never logged to Certificate Transparency passes; git verify-commit still checks them';

/** The counts and policy of a run: what --json's document and --json-lines' last line hold besides the results. */
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
}

export const outputFlags = {
  'json-lines': Flags.boolean({
    description: 'one JSON object per line as each object is verified, then a {"summary": …} line (schema: gitseal help json); for streaming consumers of long ranges',
    exclusive: ['json'],
  }),
};

/** What the results are printed as, row by row: the table, the --json document or --json-lines. */
interface ResultSink {
  row(r: ObjectResult): Promise<void>;
  end(s: VerifySummary): Promise<void>;
  /** The command failed after `row`s: end the output with the error (src/cli/run.ts report()). */
  fail?(code: string, message: string): boolean;
}

const jsonText = (v: unknown, indent?: number) => terminalSafeJson(JSON.stringify(v, jsonReplacer, indent));

/** --json: one document, 2-space indented, its results array written as they come. */
function jsonSink(w: LineWriter, head: Pick<VerifySummary, 'policy' | 'appliedPolicy' | 'sctChecked'>): ResultSink {
  let started = false;
  let n = 0;
  // The head's fields first (known before any result), then "results", then the counts.
  const open = () => {
    started = true;
    const h = jsonText(head, 2);
    return `${h.slice(0, h.lastIndexOf('\n}'))},\n  "results": [`;
  };
  return {
    async row(r) {
      const item = '    ' + jsonText(r, 2).replace(/\n/g, '\n    ');
      await w.write(`${started ? '' : open()}${n++ ? ',' : ''}\n${item}`);
    },
    async end(s) {
      const counts = jsonText({ ok: s.ok, total: s.total, good: s.good, failed: s.failed }, 2);
      await w.write(`${started ? '' : open()}${n ? '\n  ' : ''}],\n  ${counts.slice(4, -2)}\n}\n`);
      await w.flush();
    },
    fail(code, message) {
      if (!started) return false;
      const e = jsonText({ code, message }, 2).replace(/\n/g, '\n  ');
      void w.flush().then(() => process.stdout.write(`${n ? '\n  ' : ''}],\n  "error": ${e}\n}\n`));
      started = false;
      return true;
    },
  };
}

/** --json-lines: each result on its own line as it comes, then {"summary": …}; {"error": …} when the run fails. */
function jsonLinesSink(w: LineWriter): ResultSink {
  return {
    async row(r) {
      await w.write(jsonText(r) + '\n');
    },
    async end(s) {
      await w.write(jsonText({ summary: s }) + '\n');
      await w.flush();
    },
    fail(code, message) {
      void w.flush().then(() => process.stdout.write(jsonText({ error: { code, message } }) + '\n'));
      return true;
    },
  };
}

/** For people: rows as they come (laid out on the first 256, src/cli/fit-width.ts StreamTable), then the summary. */
function tableSink(w: LineWriter, say: (l: string) => Promise<void>, note: (l: string) => void): ResultSink {
  const t = new StreamTable(terminalColumns(process.stdout), { shrink: [2, 3], weight: { 2: 2, 3: 1 } });
  let rows = 0;
  const print = async (lines: string[]) => {
    for (const l of lines) await w.write(l + '\n');
  };
  return {
    async row(r) {
      rows++;
      await print(t.push(tableRow(r)));
    },
    async end(s) {
      await print(t.end());
      await w.flush();
      if (rows) await say('');
      await summaryLines(say, note, s);
      await w.flush();
    },
    fail() {
      // The rows printed so far stay; the error follows on stderr.
      void w.flush();
      return false;
    },
  };
}

function tableRow(r: ObjectResult): string[] {
  const mark = r.ok ? out.green('✓') : r.kind === 'bad' ? out.red('✗ BAD') : r.kind === 'unsigned' ? out.yellow('- unsigned') : out.red('✗');
  // identity, issuer and message come from the signature: escaped before any colour is added
  return [
    mark,
    r.oid.slice(0, 12) + (r.type === 'tag' ? ' (tag)' : ''),
    // Only a verified certificate names a signer; otherwise the name is context, and says so.
    r.kind === 'good' ? terminalSafe(r.identity ?? '') : r.identity ? `unverified: ${terminalSafe(r.identity)}` : '',
    terminalSafe(r.issuer ?? ''),
    r.logIndex ? `log #${r.logIndex}` : '',
    r.ok ? out.dim(`${r.policyMatched ? 'policy ok' : 'no policy'}${r.sctSkipped ? ', SCT not checked' : ''}`) : terminalSafe(r.message),
  ];
}

/** The body shared by verify and verify-tag. */
export abstract class VerifyBase extends GitsealCommand {
  protected async verifyRevs(
    revs: string[],
    flags: PolicyFlags & { offline?: boolean; cache?: boolean; 'insecure-ignore-sct'?: boolean; 'json-lines'?: boolean; jobs?: number },
    want: 'commit' | 'tag' | undefined,
  ): Promise<undefined> {
    const repo = requireRepo(this.cwd);
    const cfg = loadConfig({ cwd: repo, env: this.env });
    // git runs its verify program in the work tree's top directory: read a relative policy file from there too.
    if (cfg.allowedSignersFile && !isAbsolute(cfg.allowedSignersFile)) cfg.allowedSignersFile = resolve(repo, cfg.allowedSignersFile);
    const ignoreSct = flags['insecure-ignore-sct'] === true;
    if (ignoreSct) this.note(IGNORE_SCT_WARNING);
    const { policy, applied } = buildPolicy(flags, cfg);
    const { root, source } = resolveTrustedRoot(cfg, this.env);
    const offline = flags.offline ?? cfg.offline;
    const ranged = revs.some(isRangeArg);
    const many = revs.length > 1 || ranged;
    const head = { policy: hasPolicy(policy), appliedPolicy: applied, ...(ignoreSct ? { sctChecked: false as const } : {}) };
    // On a terminal rows show up as they come; into a pipe or file they go in 64 KiB writes.
    // A range gets the progress line (stderr on a terminal only) in place of the spinner. Not when
    // --json or --json-lines go to that same terminal: machine output stays free of redraws.
    const machine = flags['json-lines'] === true || this.jsonEnabled();
    const progress = many && !(machine && process.stdout.isTTY) ? startProgress('Verifying…') : undefined;
    const w = new LineWriter(process.stdout, process.stdout.isTTY ? 1 : 64 * 1024, () => process.stdout.isTTY && progress?.clear());
    const sink = flags['json-lines'] ? jsonLinesSink(w) : this.jsonEnabled() ? jsonSink(w, head) : tableSink(w, async (l) => w.write(l + '\n'), (l) => this.note(l));
    if (sink.fail) setOpenDocument({ fail: sink.fail });
    // Objects named one by one (not a range) are as many as the arguments: they are held to the
    // end, so a name that is no object (a usage error) comes before anything is printed.
    const held: ObjectResult[] | undefined = ranged ? undefined : [];
    let total = 0;
    let good = 0;
    if (progress?.active && ranged) void countRange(repo, revs).then((n) => n !== undefined && progress.setTotal(n));
    else if (progress) progress.setTotal(revs.length);
    const run = async () => {
      for await (const r0 of verifyObjects({ repoDir: repo, revs, trust: root, policy, offline, want, cache: flags.cache, rekorURL: cfg.rekorURL, rekorSearchTimeoutMs: cfg.rekorSearchTimeoutMs, ignoreSct, workers: flags.jobs })) {
        const r = r0.ok ? r0 : { ...r0, message: withTrustHint(r0.code as ErrorCode | undefined, r0.message, source) };
        total++;
        if (r.ok) good++;
        progress?.tick();
        if (held) held.push(r);
        else await sink.row(r);
      }
    };
    try {
      if (many) await run();
      else await withSpinner(`Verifying ${terminalSafe(revs[0]!)}…`, run);
    } finally {
      progress?.stop();
    }
    for (const r of held ?? []) await sink.row(r);
    const summary: VerifySummary = { ok: good === total, total, good, failed: total - good, ...head };
    if (!summary.ok) this.exitStatus = 1;
    await sink.end(summary);
    setOpenDocument(undefined);
    // Printed here, not by oclif from a returned value: the document is already out.
    return undefined;
  }
}

/** How many commits `git rev-list <revs>` lists, for the progress line's ETA (undefined when git says no). */
function countRange(repo: string, revs: string[]): Promise<number | undefined> {
  return new Promise((resolveCount) => {
    execFile('git', ['rev-list', '--count', ...revs, '--'], { cwd: repo, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' } }, (e, stdout) => {
      const n = Number(String(stdout).trim());
      resolveCount(e || !Number.isSafeInteger(n) ? undefined : n);
    });
  });
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
    jobs: jobsFlag,
    ...policyFlags,
    ...insecureFlags,
    ...outputFlags,
  };

  async run(): Promise<undefined> {
    const { argv, flags } = await this.parse(Verify);
    const given = argv as string[];
    const revs = flags.all ? [...given, '--all'] : given.length ? given : ['HEAD'];
    return this.verifyRevs(revs, flags, undefined);
  }
}

async function summaryLines(say: (l: string) => Promise<void>, note: (l: string) => void, s: VerifySummary): Promise<void> {
  if (s.total === 0) await say('no commits in the range');
  else if (s.ok) await say(out.green(`${s.good} of ${s.total} verified`));
  else await say(out.red(`${s.failed} of ${s.total} failed`) + (s.good ? `, ${s.good} verified` : ''));
  // What was checked is part of the result: on stdout, after the summary.
  if (s.appliedPolicy.length) await say(terminalSafe(`policy: ${s.appliedPolicy.join('; ')}`));
  if (!s.policy && s.good > 0) {
    note(
      `${out.yellow('note:')} no identity policy was given: any valid Sigstore identity passes${s.appliedPolicy.length ? ' (the committer check only narrows a policy)' : ''}. Pin signers with --certificate-identity and --certificate-oidc-issuer, or gitseal.allowedSignersFile.`,
    );
  }
}

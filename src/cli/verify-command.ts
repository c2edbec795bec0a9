/**
 * The body of `gitseal verify` and `gitseal verify-tag`, free of the command framework: the
 * oclif commands (src/cli/commands/verify.ts, verify-tag.ts) call it with their parsed flags,
 * and so does the fast entry for `gitseal verify` (src/main-fast-cli-verify.ts), which runs
 * without oclif. One body, so both print the same rows, summaries, documents and errors.
 */
import { isAbsolute, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { loadConfig } from '../config/load.js';
import type { ErrorCode } from '../errors.js';
import { withTrustHint } from '../verify/trust-hint.js';
import { holdYoungGeneration } from '../verify/batch.js';
import { hasPolicy } from '../verify/policy.js';
import { terminalSafe, terminalSafeJson } from '../util/terminal-text.js';
import { requireRepo } from './objects.js';
import { StreamTable, terminalColumns } from './fit-width.js';
import { jsonReplacer, LineWriter, out, setOpenDocument, startProgress, withSpinner } from './output.js';
import { resolveTrustedRoot } from './trust.js';
import { buildPolicy, isRangeArg, verifyObjects, type ObjectResult, type PolicyFlags } from './verify-run.js';

/** The flags the body reads (oclif's parse result, or src/cli/verify-argv.ts's). */
export type VerifyFlags = PolicyFlags & { offline?: boolean; cache?: boolean; 'insecure-ignore-sct'?: boolean; 'json-lines'?: boolean; jobs?: number };

/** Where the body runs: the working directory, the environment, --json, and notes for stderr. */
export interface VerifyContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  json: boolean;
  note(line: string): void;
}

export const IGNORE_SCT_WARNING =
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


/** Verify `revs` and print the results; resolves to the exit status (1 when anything failed). */
export async function runVerify(revs: string[], flags: VerifyFlags, want: 'commit' | 'tag' | undefined, ctx: VerifyContext): Promise<number> {
    let status = 0;
    const repo = requireRepo(ctx.cwd);
    const cfg = loadConfig({ cwd: repo, env: ctx.env });
    // git runs its verify program in the work tree's top directory: read a relative policy file from there too.
    if (cfg.allowedSignersFile && !isAbsolute(cfg.allowedSignersFile)) cfg.allowedSignersFile = resolve(repo, cfg.allowedSignersFile);
    const ignoreSct = flags['insecure-ignore-sct'] === true;
    if (ignoreSct) ctx.note(IGNORE_SCT_WARNING);
    const { policy, applied } = buildPolicy(flags, cfg);
    const { root, source } = resolveTrustedRoot(cfg, ctx.env);
    const offline = flags.offline ?? cfg.offline;
    const ranged = revs.some(isRangeArg);
    const many = revs.length > 1 || ranged;
    if (many) holdYoungGeneration();
    const head = { policy: hasPolicy(policy), appliedPolicy: applied, ...(ignoreSct ? { sctChecked: false as const } : {}) };
    // On a terminal rows show up as they come; into a pipe or file they go in 64 KiB writes.
    // A range gets the progress line (stderr on a terminal only) in place of the spinner. Not when
    // --json or --json-lines go to that same terminal: machine output stays free of redraws.
    const machine = flags['json-lines'] === true || ctx.json;
    const progress = many && !(machine && process.stdout.isTTY) ? startProgress('Verifying…') : undefined;
    const w = new LineWriter(process.stdout, process.stdout.isTTY ? 1 : 64 * 1024, () => process.stdout.isTTY && progress?.clear());
    const sink = flags['json-lines'] ? jsonLinesSink(w) : ctx.json ? jsonSink(w, head) : tableSink(w, async (l) => w.write(l + '\n'), (l) => ctx.note(l));
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
    if (!summary.ok) status = 1;
    await sink.end(summary);
    setOpenDocument(undefined);
    return status;
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

/**
 * `gitseal verify`'s arguments without oclif, for the fast entry (src/main-fast-cli-verify.ts).
 *
 * Only a plain, unambiguous command line is taken: known long flags (`--name`, `--no-name`,
 * `--name=value`, `--name value`), each at most once, revisions, and one `--` after which everything
 * is a revision or a rev-list option. Anything else (help, a short flag, an unknown or repeated
 * flag, an empty or dash-led value, a malformed --jobs, --json with --json-lines,
 * GITSEAL_CONTENT_TYPE) gives undefined, and the call goes to oclif, which decides it: every
 * usage error and every help text comes from one parser. For what this one takes it gives what
 * oclif gives (test/cli/verify-argv.test.ts runs both over the same command lines), and
 * VERIFY_FLAGS is checked there against the command's own flag definitions.
 */
import type { VerifyFlags } from './verify-command.js';

type Kind = 'boolean' | 'negatable' | 'string' | 'integer';

/** Every flag of `gitseal verify` (src/cli/commands/verify.ts) and how it parses. */
export const VERIFY_FLAGS: Readonly<Record<string, Kind>> = {
  all: 'boolean',
  jobs: 'integer',
  'certificate-identity': 'string',
  'certificate-identity-regexp': 'string',
  'certificate-oidc-issuer': 'string',
  'certificate-oidc-issuer-regexp': 'string',
  'certificate-github-workflow-trigger': 'string',
  'certificate-github-workflow-sha': 'string',
  'certificate-github-workflow-name': 'string',
  'certificate-github-workflow-repository': 'string',
  'certificate-github-workflow-ref': 'string',
  'allowed-signers': 'string',
  'match-committer': 'negatable',
  offline: 'negatable',
  cache: 'negatable',
  'insecure-ignore-sct': 'boolean',
  'json-lines': 'boolean',
  json: 'boolean',
};

/** Flags with a default when absent (oclif fills them in the same way). */
const DEFAULTS: Readonly<Record<string, boolean>> = { cache: true };

/** The same bound as the command's --jobs (src/cli/commands/verify.ts jobsFlag). */
const MAX_JOBS = 256;

export interface ParsedVerifyArgv {
  /** What the command verifies: the revisions given, `--all` appended for --all, HEAD for none. */
  revs: string[];
  flags: VerifyFlags & { all?: boolean; json?: boolean };
  json: boolean;
}

/** The flags and arguments of `gitseal verify <argv>`, or undefined when oclif must decide. */
export function parseVerifyArgv(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedVerifyArgv | undefined {
  if (env.GITSEAL_CONTENT_TYPE !== undefined) return undefined;
  const flags: Record<string, string | number | boolean> = {};
  const given: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) {
      given.push(a);
      continue;
    }
    if (!a.startsWith('--')) return undefined;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    let kind = VERIFY_FLAGS[name];
    let key = name;
    let value: string | number | boolean;
    if (kind === undefined && name.startsWith('no-') && VERIFY_FLAGS[name.slice(3)] === 'negatable') {
      key = name.slice(3);
      kind = 'negatable';
      if (eq >= 0) return undefined;
      value = false;
    } else if (kind === undefined) {
      return undefined;
    } else if (kind === 'boolean' || kind === 'negatable') {
      if (eq >= 0) return undefined;
      value = true;
    } else {
      let v: string | undefined;
      if (eq >= 0) v = a.slice(eq + 1);
      else v = argv[++i];
      if (v === undefined || v === '' || v.startsWith('-')) return undefined;
      if (kind === 'integer') {
        if (!/^\d{1,3}$/.test(v) || Number(v) > MAX_JOBS) return undefined;
        value = Number(v);
      } else value = v;
    }
    if (key in flags) return undefined;
    flags[key] = value;
  }
  for (; i < argv.length; i++) {
    // oclif moves a second "--" among the arguments (test/cli/verify-argv.test.ts): its call.
    if (argv[i] === '--') return undefined;
    given.push(argv[i]!);
  }
  if (flags.json === true && flags['json-lines'] === true) return undefined;
  for (const [k, v] of Object.entries(DEFAULTS)) if (!(k in flags)) flags[k] = v;
  const f = flags as ParsedVerifyArgv['flags'];
  const revs = f.all ? [...given, '--all'] : given.length ? given : ['HEAD'];
  return { revs, flags: f, json: f.json === true };
}

/**
 * gitseal(1), the manual page, rendered from the command catalogue: the command ids, summaries
 * and groups the overview help uses (catalog.ts, help.ts), each command class's description,
 * arguments, flags and examples (what `gitseal <command> --help` prints), the help topics
 * (topics.ts) and the configuration settings (config/load.ts). scripts/build.mjs writes it to
 * dist/man/gitseal.1; package.json `man` installs it, so `man gitseal` works after
 * `npm install -g gitseal`. Pure: metadata in, roff (man(7) macros) out.
 */
import { CATALOG } from './catalog.js';
import { GROUPS } from './help.js';
import { TOPICS } from './topics.js';

/** The static parts of an oclif command class this page reads. */
export interface CommandMeta {
  summary?: string;
  description?: string;
  examples?: Array<string | { command: string; description?: string }>;
  enableJsonFlag?: boolean;
  args?: Record<string, { description?: string; required?: boolean }>;
  flags?: Record<string, FlagMeta>;
  strict?: boolean;
}

export interface FlagMeta {
  type?: string;
  char?: string;
  description?: string;
  helpValue?: string | string[];
  options?: readonly string[];
  default?: unknown;
  allowNo?: boolean;
  hidden?: boolean;
  multiple?: boolean;
}

export interface SettingMeta {
  name: string;
  gitsign?: boolean;
  env?: string;
  envPrefixes?: string[];
  extraEnv?: string[];
}

export interface ManPageInput {
  version: string;
  commands: Record<string, CommandMeta>;
  settings: SettingMeta[];
  /** The .TH date field ("2025-01-31"); empty keeps the page reproducible. */
  date?: string;
}

/** Text for roff: escape backslashes and hyphens, keep a leading "." or "'" from being a request. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? '\\&' + l : l))
    .join('\n');
}

const bold = (t: string) => `\\fB${roff(t)}\\fR`;
const italic = (t: string) => `\\fI${roff(t)}\\fR`;

function paragraphs(text: string): string[] {
  const out: string[] = [];
  for (const p of text.trim().split(/\n\s*\n/)) {
    const lines = p.split('\n');
    // lines that are lists or indented keep their breaks; prose is refilled by roff
    if (lines.length > 1 && lines.every((l) => /^(\s|[-•*] |\d+\. )/.test(l) || l.trim() === '')) {
      out.push('.PP', '.nf', ...lines.map((l) => roff(l)), '.fi');
    } else {
      out.push('.PP', roff(lines.map((l) => l.trim()).join(' ')));
    }
  }
  return out;
}

function flagLabel(name: string, f: FlagMeta): string {
  const value = f.type === 'option' ? ' ' + italic(Array.isArray(f.helpValue) ? f.helpValue.join('|') : (f.helpValue ?? (f.options ? f.options.join('|') : 'VALUE'))) : '';
  const long = f.type === 'boolean' && f.allowNo ? `\\-\\-[no\\-]${roff(name)}` : `\\-\\-${roff(name)}`;
  return (f.char ? `\\fB\\-${roff(f.char)}\\fR, ` : '') + `\\fB${long}\\fR` + value;
}

function flagText(f: FlagMeta): string {
  let t = f.description ?? '';
  if (f.options && f.type === 'option') t += ` (one of ${f.options.join(', ')})`;
  if (f.default !== undefined && typeof f.default !== 'function' && f.default !== false) t += ` (default ${String(f.default)})`;
  return roff(t);
}

function synopsis(id: string, c: CommandMeta): string {
  const words = id.split(':').map((w) => bold(w));
  const args = Object.entries(c.args ?? {}).map(([n, a]) => {
    const v = italic(n.toUpperCase()) + (c.strict === false ? '...' : '');
    return a.required ? v : `[${v}]`;
  });
  const hasFlags = Object.values(c.flags ?? {}).some((f) => !f.hidden) || c.enableJsonFlag;
  return [bold('gitseal'), ...words, ...args, ...(hasFlags ? [`[${italic('flags')}]`] : [])].join(' ');
}

function commandSection(id: string, c: CommandMeta): string[] {
  const out = [`.SS "${roff(`gitseal ${id.replace(/:/g, ' ')}`)}"`, synopsis(id, c), '.br', roff(c.summary ?? CATALOG[id] ?? '') + '.'];
  if (c.description) out.push(...paragraphs(c.description));
  const args = Object.entries(c.args ?? {}).filter(([, a]) => a.description);
  const flags = Object.entries(c.flags ?? {}).filter(([, f]) => !f.hidden);
  if (c.enableJsonFlag) flags.push(['json', { type: 'boolean', description: 'print one JSON document on stdout (schema: gitseal help json)' }]);
  if (args.length + flags.length > 0) {
    out.push('.PP', bold('Arguments and flags:'));
    for (const [n, a] of args) out.push('.TP', italic(n.toUpperCase()), roff(a.description!));
    for (const [n, f] of flags) out.push('.TP', flagLabel(n, f), flagText(f));
  }
  const examples = (c.examples ?? []).map((e) => (typeof e === 'string' ? { command: e } : e));
  if (examples.length > 0) {
    out.push('.PP', bold('Examples:'));
    for (const e of examples) {
      if (e.description) out.push('.PP', '.RS 4', roff(e.description) + ':', '.RE');
      out.push('.PP', '.RS 8', '.nf', roff(e.command.replace(/<%= config\.bin %>/g, 'gitseal').replace(/^/, '$ ')), '.fi', '.RE');
    }
  }
  return out;
}

export function renderManPage(input: ManPageInput): string {
  const ids = Object.keys(CATALOG);
  const grouped = new Set<string>();
  const l: string[] = [];
  l.push(`.\\" gitseal(1), generated by scripts/build.mjs from src/cli (catalog.ts, the commands, topics.ts). Do not edit.`);
  l.push(`.TH GITSEAL 1 "${input.date ?? ''}" "gitseal ${roff(input.version)}" "gitseal manual"`);
  // no hyphenation, ragged right: names, keys and flags stay whole and copyable
  l.push('.nh', '.ad l');
  l.push('.SH NAME', 'gitseal \\- keyless Git commit and tag signing with Sigstore');
  l.push('.SH SYNOPSIS');
  l.push(`${bold('gitseal')} ${italic('command')} [${italic('arguments')}] [${italic('flags')}]`, '.br');
  l.push(`${bold('gitseal help')} [${italic('command')}|${italic('topic')}]`, '.br');
  l.push(`${bold('gitseal --status-fd=2 -bsau')} ${italic('key')}  (run by git to sign)`, '.br');
  l.push(`${bold('gitseal --status-fd=1 --verify')} ${italic('sigfile')} ${bold('-')}  (run by git to verify)`);
  l.push('.SH DESCRIPTION');
  l.push(
    ...paragraphs(`gitseal signs commits and tags with a short-lived certificate bound to an OpenID identity (Google, GitHub, Microsoft, or a CI workload), obtained from Sigstore's Fulcio for a key that exists only for the signature. Each signature is recorded in the Rekor transparency log, and the log's proof is embedded in the signature, so anyone can verify it later without a network. gitseal is a drop-in replacement for gitsign: the same x509 program interface for git, the same CMS signature layout, the same configuration names.

Verification checks the signature over the content, the certificate chain to a Fulcio CA of the trusted root at the time the log recorded the signature, the embedded certificate timestamp (SCT), the log proof, the certificate's validity at log time, and who signed, against a policy (gitseal.allowedSignersFile, or the --certificate-* flags of gitseal verify). Without a policy any valid Sigstore identity passes and gitseal says so.`),
  );
  l.push('.SH "GIT INTEGRATION"');
  l.push(
    ...paragraphs(`gitseal init sets gpg.format=x509, gpg.x509.program to this gitseal, commit.gpgsign=true and tag.gpgsign=true (for one repository, or --global). git then runs "gitseal --status-fd=2 -bsau <key>" with the commit or tag on stdin to sign, and "gitseal --status-fd=1 --verify <file> -" for git verify-commit, git verify-tag, git log --show-signature, %G? and merge --verify-signatures. gitseal answers with the [GNUPG:] status lines git reads: GOODSIG with TRUST_FULLY (policy matched), TRUST_UNDEFINED (no policy) or TRUST_NEVER (someone else); BADSIG when the signature does not match; ERRSIG when anything could not be established. When git signs, stdin and stdout belong to git, so a login prompts on the controlling terminal; when git verifies, stderr carries what git verify-commit and git log --show-signature print: the signer, the issuer, the log index and time, the policy that matched, or the one check that failed.

The first signature of a session starts the signing agent (gitseal.agent=auto), which keeps one ephemeral key and certificate in memory for a rebase and never hands out the key.`),
  );
  l.push('.SH COMMANDS');
  for (const g of GROUPS) {
    const present = g.ids.map((i) => i.replace(/ /g, ':')).filter((i) => ids.includes(i) && input.commands[i]);
    if (present.length === 0) continue;
    for (const id of present) {
      grouped.add(id);
      l.push(...commandSection(id, input.commands[id]!));
    }
  }
  for (const id of ids) if (!grouped.has(id) && input.commands[id]) l.push(...commandSection(id, input.commands[id]!));
  l.push('.SH "HELP TOPICS"');
  l.push(...paragraphs('The documentation is part of the package: gitseal help <topic> prints it from the installed copy (the README.md and docs/ of the gitseal package).'));
  for (const t of TOPICS) l.push('.TP', `${bold('gitseal help')} ${bold(t.name)}`, roff(t.summary));
  l.push('.SH CONFIGURATION');
  l.push(
    ...paragraphs(`gitseal reads git config in-process (system, global, repository and worktree files, include.path and includeIf, git -c, GIT_CONFIG_*) and the environment. Precedence, highest first: GITSEAL_* variables, GITSIGN_* variables, SIGSTORE_* variables, git config gitseal.<name>, git config gitsign.<name>, the default. "gitseal version" shows every value in effect and where it came from; "gitseal help configuration" says what each one means.`),
  );
  for (const s of input.settings) {
    const keys = [`gitseal.${s.name}`, ...(s.gitsign ? [`gitsign.${s.name}`] : [])];
    const vars = [...(s.env ? (s.envPrefixes ?? ['GITSEAL_', 'GITSIGN_', 'SIGSTORE_']).map((p) => p + s.env) : []), ...(s.extraEnv ?? [])];
    l.push('.TP', keys.map(bold).join(', '), vars.length ? roff(vars.join(', ')) : roff('(no environment variable)'));
  }
  l.push('.SH "EXIT STATUS"');
  l.push('.TP', bold('0'), 'success (for verification: every signature good and within the policy)');
  l.push('.TP', bold('1'), roff('failure: a signature that is bad, unverifiable or outside the policy; a service that failed'));
  l.push('.TP', bold('2'), roff('usage error: unknown command or flag, bad argument, not in a repository'));
  l.push('.PP', roff('Every error is one line on stderr, "gitseal: <message>"; with --json also {"error":{"code","message"}} on stdout.'));
  l.push('.SH FILES');
  l.push('.TP', bold('~/.cache/gitseal/'), roff('the encrypted token cache (when there is no keyring), trusted_root.json from gitseal initialize, tuf/, the verified-signature cache, agent.log'));
  l.push('.TP', bold('$XDG_RUNTIME_DIR/gitseal/agent.sock'), roff('the signing agent (else ~/.cache/gitseal/agent.sock; GITSEAL_AGENT_SOCK overrides)'));
  l.push('.TP', bold('.gitseal-signers'), roff('a policy file, named by gitseal.allowedSignersFile: lines of "<identity> <issuer>", "re:" for regular expressions'));
  l.push('.SH "SEE ALSO"');
  l.push(`${bold('git')}(1), ${bold('git-verify-commit')}(1), ${bold('git-verify-tag')}(1), ${bold('git-config')}(1); ${roff('https://github.com/gitseal/gitseal')}`);
  return l.join('\n') + '\n';
}

/**
 * The overview `gitseal`, `gitseal help` and `gitseal --help` print. oclif's
 * generated root help only lists commands; this one teaches the whole tool:
 * what it is, how git uses it, the first three commands to run, and where
 * each command fits. Per-command help (`gitseal <cmd> --help`) stays oclif's.
 */
import type { Paint } from './output.js';
import { TOPICS } from './topics.js';

export interface CommandSummary {
  id: string;
  summary: string;
}

export const GROUPS: Array<{ title: string; ids: string[] }> = [
  { title: 'Set up', ids: ['init', 'initialize', 'doctor', 'version', 'completion'] },
  { title: 'Identity', ids: ['login', 'logout', 'whoami'] },
  { title: 'Inspect and verify', ids: ['verify', 'verify-tag', 'show'] },
  { title: 'Signing agent', ids: ['agent start', 'agent stop', 'agent status'] },
];

export function overview(version: string, commands: CommandSummary[], p: Paint): string {
  const byId = new Map(commands.map((c) => [c.id, c.summary]));
  const width = Math.max(...commands.map((c) => c.id.length)) + 2;
  const lines: string[] = [];
  lines.push(`${p.bold('gitseal')} ${version} — keyless Git commit and tag signing with Sigstore`);
  lines.push('');
  lines.push('gitseal signs your commits and tags with a short-lived certificate bound to your');
  lines.push('OpenID identity (Google, GitHub, Microsoft, or your CI workload), records each');
  lines.push('signature in the Rekor transparency log, and embeds the log proof in the signature');
  lines.push('so anyone can verify it later without a network. It is a drop-in for gitsign:');
  lines.push('same signature format, same git configuration.');
  lines.push('');
  lines.push(p.bold('GET STARTED'));
  lines.push(`  $ gitseal init            ${p.dim('# tell git (this repository) to sign with gitseal')}`);
  lines.push(`  $ git commit -m "…"       ${p.dim('# your browser opens once to log in; the commit is signed')}`);
  lines.push(`  $ gitseal verify          ${p.dim('# check HEAD: signature, certificate, log proof')}`);
  lines.push('');
  lines.push(p.bold('HOW GIT USES IT'));
  lines.push('  git runs `gitseal --status-fd=2 -bsau <key>` to sign and');
  lines.push('  `gitseal --status-fd=1 --verify <file> -` for verify-commit, verify-tag and');
  lines.push('  log --show-signature. `gitseal init` sets gpg.format=x509 and gpg.x509.program.');
  for (const g of GROUPS) {
    const present = g.ids.filter((id) => byId.has(id));
    if (present.length === 0) continue;
    lines.push('');
    lines.push(p.bold(g.title.toUpperCase()));
    for (const id of present) lines.push(`  ${p.cyan(id.padEnd(width))}${byId.get(id)}`);
  }
  const grouped = new Set(GROUPS.flatMap((g) => g.ids));
  const rest = commands.filter((c) => !grouped.has(c.id));
  if (rest.length > 0) {
    lines.push('');
    lines.push(p.bold('OTHER'));
    for (const c of rest) lines.push(`  ${p.cyan(c.id.padEnd(width))}${c.summary}`);
  }
  lines.push('');
  lines.push(p.bold('CONFIGURATION'));
  lines.push('  git config gitseal.<key> (gitsign.<key> is read too), or GITSEAL_* / GITSIGN_* /');
  lines.push('  SIGSTORE_* environment variables: fulcio, rekor, issuer, clientID, trustedRoot,');
  lines.push('  allowedSignersFile, agent, tokenProvider … `gitseal version` shows what is in');
  lines.push('  effect and where each value came from.');
  lines.push('');
  lines.push(p.bold('DOCUMENTATION') + p.dim('  (gitseal help <topic> prints it from the installed package)'));
  const tw = Math.max(...TOPICS.map((t) => t.name.length)) + 2;
  for (const t of TOPICS) lines.push(`  ${p.cyan(('help ' + t.name).padEnd(tw + 5))}${t.summary}`);
  lines.push('');
  lines.push(`Run ${p.cyan('gitseal <command> --help')} for a command's flags and examples, ${p.cyan('man gitseal')} for the manual.`);
  return lines.join('\n');
}

/**
 * The human command line (everything git does not call gpg-style). Built on
 * oclif 4 with the "explicit" command strategy: package.json's `oclif.commands`
 * points at this bundle (dist/cli/run.js) and its `commands` export, so oclif
 * loads no command directories and needs no manifest. Routing, the overview
 * help and error formatting are done here: every failure is one line
 * `gitseal: <message>` on stderr (plus `{"error":…}` on stdout under --json),
 * exit 2 for usage errors, 1 otherwise; stack traces only for bugs with
 * GITSEAL_DEBUG=1.
 */
import type { Command, Config, Interfaces } from '@oclif/core';
import { GitsealError } from '../errors.js';
import { CATALOG } from './catalog.js';
import { overview } from './help.js';
import { colourEnabled, out as outPaint } from './output.js';
import { exitOnClosedStdout, report } from './report.js';
import { gitsealVersion, packageRoot } from './root.js';
import { findTopic, readTopic, TOPICS } from './topics.js';
import { embeddedDoc, embeddedPackageJson, embeddedRoot, embeddedText, isEmbedded } from '../sea/embedded.js';

/**
 * The command classes, for oclif's explicit strategy (package.json
 * `oclif.commands.identifier`). Filled just before oclif loads: oclif and the
 * commands are imported only when a command actually runs, so the overview
 * help and usage errors need neither.
 */
export const commands: Record<string, Command.Class> = {};

async function loadCommands(): Promise<void> {
  if (Object.keys(commands).length === 0) Object.assign(commands, (await import('./commands/index.js')).commands);
}

const HELP_FLAGS = new Set(['--help', '-h']);

/** Command ids use ':' internally (oclif), ' ' for people: "agent start" → "agent:start". */
function resolveCommand(argv: string[]): { id: string; rest: string[] } | undefined {
  const [a, b] = argv;
  if (a && b && CATALOG[`${a}:${b}`]) return { id: `${a}:${b}`, rest: argv.slice(2) };
  if (a && CATALOG[a]) return { id: a, rest: argv.slice(1) };
  return undefined;
}

function beforeDoubleDash(argv: string[]): string[] {
  const i = argv.indexOf('--');
  return i === -1 ? argv : argv.slice(0, i);
}

function summaries(): Array<{ id: string; summary: string }> {
  return Object.entries(CATALOG).map(([id, summary]) => ({ id: id.replace(/:/g, ' '), summary }));
}

function topics(): string[] {
  return [...new Set(Object.keys(CATALOG).filter((id) => id.includes(':')).map((id) => id.split(':')[0]!))];
}

/** Closest command name for "did you mean" (Levenshtein ≤ 3). */
function closest(word: string): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: [string, number] | undefined;
  for (const id of [...Object.keys(CATALOG).map((k) => k.replace(/:/g, ' ')), ...topics()]) {
    const n = dist(word, id);
    if (n <= 3 && (!best || n < best[1])) best = [id, n];
  }
  return best?.[0];
}

let configPromise: Promise<Config> | undefined;
function loadConfig(): Promise<Config> {
  configPromise ??= (async () => {
    await loadCommands();
    const { Config } = await import('@oclif/core');
    // The single-file executable has no package on disk: oclif gets the embedded package.json,
    // and src/sea/launcher.ts serves the command target under embeddedRoot().
    if (isEmbedded()) return Config.load({ root: embeddedRoot(), pjson: embeddedPackageJson() as Interfaces.PJSON });
    return Config.load({ root: packageRoot() });
  })();
  return configPromise;
}

async function showCommandHelp(id: string): Promise<void> {
  const config = await loadConfig();
  const cmd = config.findCommand(id, { must: true });
  const { Help } = await import('@oclif/core');
  await new Help(config, { stripAnsi: !colourEnabled(process.stdout) }).showCommandHelp(cmd);
}

function showOverview(): void {
  process.stdout.write(overview(gitsealVersion(), summaries(), outPaint) + '\n');
}

function showTopic(topic: string): void {
  const ids = summaries().filter((c) => c.id.startsWith(topic + ' '));
  const w = Math.max(...ids.map((c) => c.id.length)) + 2;
  process.stdout.write(`Commands under "gitseal ${topic}":\n` + ids.map((c) => `  ${outPaint.cyan(c.id.padEnd(w))}${c.summary}`).join('\n') + '\n');
}

export async function runCli(argv: string[]): Promise<void> {
  exitOnClosedStdout();
  const json = beforeDoubleDash(argv).includes('--json');
  const jsonLines = beforeDoubleDash(argv).includes('--json-lines');
  try {
    if (argv.length === 0 || (argv.length === 1 && (HELP_FLAGS.has(argv[0]!) || argv[0] === 'help'))) return showOverview();
    if (argv[0] === '--version' || argv[0] === '-V') argv = ['version', ...argv.slice(1)];
    if (argv[0] === 'help') {
      const target = resolveCommand(argv.slice(1));
      if (target) return await showCommandHelp(target.id);
      if (argv[1] && topics().includes(argv[1])) return showTopic(argv[1]);
      const doc = argv.length === 2 ? findTopic(argv[1]!) : undefined;
      if (doc) {
        const text = isEmbedded() ? readTopic(process.execPath, doc, (f) => embeddedText(embeddedDoc(f))) : readTopic(packageRoot(), doc);
        return void process.stdout.write(text);
      }
      throw new GitsealError(
        'USAGE',
        `no command or help topic "${argv.slice(1).join(' ')}"; topics: ${TOPICS.map((t) => t.name).join(', ')} (run "gitseal --help" for the commands)`,
      );
    }
    const found = resolveCommand(argv);
    if (!found) {
      if (topics().includes(argv[0]!)) {
        if (argv[1] && !argv[1].startsWith('-')) throw new GitsealError('USAGE', `no command "gitseal ${argv[0]} ${argv[1]}"; run "gitseal ${argv[0]} --help"`);
        process.exitCode = argv.length > 1 && !HELP_FLAGS.has(argv[1]!) ? 2 : 0;
        return showTopic(argv[0]!);
      }
      const hint = argv[0]!.startsWith('-') ? undefined : closest(argv[0]!);
      throw new GitsealError(
        'USAGE',
        `"${argv[0]}" is not a gitseal command${hint ? ` — did you mean "gitseal ${hint}"?` : ''} (run "gitseal --help" for the list)`,
      );
    }
    if (beforeDoubleDash(found.rest).some((a) => HELP_FLAGS.has(a))) return await showCommandHelp(found.id);
    const config = await loadConfig();
    await config.runCommand(found.id, found.rest);
  } catch (e) {
    report(e, { json, jsonLines, command: resolveCommand(argv)?.id.replace(/:/g, ' ') });
  }
}


/**
 * oclif's parser errors as one line that names the problem. oclif builds multi-line messages
 * ("The following errors occurred:\n  --a cannot also be provided when using --b",
 * "Missing 1 required arg:\nshell  (bash|zsh|fish) which shell", "Parsing --timeout \n\tExpected
 * an integer…") whose first line alone says nothing; this keeps every reason, in gitseal's
 * words, on one line. Pure: the error object in, a string out.
 */

interface ArgShape {
  name?: string;
  description?: string;
  options?: readonly string[];
}

interface ParseErrorShape {
  message?: unknown;
  args?: unknown;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** `--a=true cannot also be provided when using --b` (oclif's `exclusive`), both directions. */
const EXCLUSIVE = /^--([\w-]+)(?:=\S*)? cannot also be provided when using --([\w-]+)$/;

function reasonLines(message: string): string[] {
  return message
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'See more help with --help');
}

/** "--global and --local cannot be used together", once per pair. */
function rewordReasons(reasons: string[]): string[] {
  const out: string[] = [];
  const pairs = new Set<string>();
  for (const r of reasons) {
    const m = EXCLUSIVE.exec(r);
    if (m) {
      const key = [m[1], m[2]].sort().join(' ');
      if (pairs.has(key)) continue;
      pairs.add(key);
      out.push(`--${m[1]} and --${m[2]} cannot be used together`);
      continue;
    }
    const req = /^Missing required flag ([\w-]+)$/.exec(r);
    if (req) {
      out.push(`the flag --${req[1]} is required`);
      continue;
    }
    out.push(r);
  }
  return out;
}

function missingArgs(args: ArgShape[]): string {
  const one = (a: ArgShape) => {
    const name = a.name ? `<${a.name}>` : 'an argument';
    if (a.options?.length) return `${name} (one of ${a.options.join(', ')})`;
    return a.description ? `${name} (${a.description})` : name;
  };
  return `missing ${args.length === 1 ? 'argument' : 'arguments'} ${args.map(one).join(', ')}`;
}

/** One line naming what is wrong with the command line (no trailing "see --help"). */
export function usageMessage(e: unknown): string {
  const err = (e ?? {}) as ParseErrorShape;
  const message = typeof err.message === 'string' ? err.message : String(e);
  // RequiredArgsError keeps the argument definitions: name them, with their choices.
  if (message.startsWith('Missing ') && Array.isArray(err.args) && err.args.length > 0 && err.args.every((a) => typeof a === 'object' && a !== null)) {
    return missingArgs(err.args as ArgShape[]);
  }

  let lines = reasonLines(message);
  // "The following error(s) occurred:" heads a list of reasons; the list is the message.
  if (lines.length > 1 && /^The following errors? occurred:$/.test(lines[0]!)) lines = rewordReasons(lines.slice(1));
  // "Parsing --timeout" heads the flag's own complaint: "--timeout: expected an integer …".
  else if (lines.length > 1 && /^Parsing --[\w-]+$/.test(lines[0]!)) {
    const flag = lines[0]!.slice('Parsing '.length);
    lines = [`${flag}: ${lines.slice(1).join('; ').replace(/^./, (c) => c.toLowerCase())}`];
  } else if (lines.length > 1 && lines[0]!.endsWith(':')) lines = [`${lines[0]} ${lines.slice(1).join('; ')}`];
  const text = lines
    .join('; ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^Nonexistent flags?: /, (m) => (m.includes('flags') ? 'unknown flags: ' : 'unknown flag: '))
    .replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
  if (!text || text.endsWith(':')) return `${text ? text.slice(0, -1) : 'the command line is not valid'} (no details from the parser)`;
  return text;
}

/**
 * Human output for the command line: colour only on a terminal (and never
 * with NO_COLOR), a progress spinner on stderr only when
 * stderr is a terminal, aligned tables, and plain JSON for `--json`.
 */
import type { Writable } from 'node:stream';
import { terminalSafeJson } from '../util/terminal-text.js';

interface TtyLike {
  isTTY?: boolean;
}

/**
 * Whether to colour a stream: a TTY, TERM not "dumb", and no NO_COLOR — which
 * https://no-color.org defines as "present and not an empty string".
 */
export function colourEnabled(stream: TtyLike, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function paint(enabled: boolean): Paint {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

export const out: Paint = paint(colourEnabled(process.stdout));
export const err: Paint = paint(colourEnabled(process.stderr));

/** Strip ANSI escapes (for width computations). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Columns padded to the widest cell; the last column is not padded. */
export function table(rows: string[][], gap = 2): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c) + gap))).join('').trimEnd())
    .join('\n');
}

/** "key: value" lines with the keys aligned. */
export function fields(pairs: Array<[string, string | undefined]>, indent = ''): string {
  const kept = pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '');
  const w = Math.max(0, ...kept.map(([k]) => k.length));
  return kept.map(([k, v]) => `${indent}${(k + ':').padEnd(w + 2)}${v}`).join('\n');
}

/**
 * JSON on stdout. JSON.stringify leaves C1 controls and Unicode format characters (bidi
 * overrides, …) raw inside strings; they become \\u escapes, which parse to the same value,
 * so a document printed to a terminal cannot drive it (src/util/terminal-text.ts).
 */
export function printJson(value: unknown, stream: Writable = process.stdout): void {
  stream.write(terminalSafeJson(JSON.stringify(value, jsonReplacer, 2)) + '\n');
}

/** Dates as RFC 3339, Buffers as hex, bigints as decimal strings. */
export function jsonReplacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('hex');
  }
  return v;
}

/**
 * A spinner on stderr while a promise runs; silent when stderr is not a
 * terminal. `log` prints a line above the spinner (e.g. a login URL).
 */
export async function withSpinner<T>(
  label: string,
  work: (log: (line: string) => void) => Promise<T>,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<T> {
  if (!stream.isTTY || process.env.GITSEAL_NO_SPINNER) return work((line) => stream.write(line + '\n'));
  const frames = colourEnabled(stream) ? ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] : ['-', '\\', '|', '/'];
  let i = 0;
  const draw = () => stream.write(`\r${frames[i++ % frames.length]} ${label}`);
  const log = (line: string) => {
    stream.write(`\r\u001b[2K${line}\n`);
    draw();
  };
  draw();
  const timer = setInterval(draw, 80);
  try {
    return await work(log);
  } finally {
    clearInterval(timer);
    stream.write('\r\u001b[2K');
  }
}

/** Relative duration for people: "4m 10s", "2h 5m", "3d". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

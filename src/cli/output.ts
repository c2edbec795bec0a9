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

/**
 * Resolves when `stream` drains; rejects when it fails or closes first (a reader that went away
 * never drains it: waiting for 'drain' alone hung).
 */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(Object.assign(new Error('the output stream was closed'), { code: 'EPIPE' }));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * Lines to a stream in chunks of up to 64 KiB, waiting for 'drain' when the stream says so: a
 * command printing 100,000 rows neither builds them into one string nor outruns a slow reader.
 */
export class LineWriter {
  private buf: string[] = [];
  private size = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream = process.stdout,
    private readonly chunk = 64 * 1024,
    /** Called before each write (a progress line on the same terminal is erased first). */
    private readonly before?: () => void,
  ) {}

  /** Queue text (whole lines, with their "\n"); resolves at once unless the stream is full. */
  async write(text: string): Promise<void> {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    this.before?.();
    const data = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!this.stream.write(data)) await drained(this.stream);
  }
}

/**
 * Where a machine-readable document being streamed on stdout ends when the command fails
 * half-way (src/cli/run.ts report()): the document is closed with the error rather than
 * followed by a second one (fail() returns false when nothing was printed yet). Set by the
 * command while it streams.
 */
let openDocument: { fail(code: string, message: string): boolean } | undefined;
export function setOpenDocument(d: typeof openDocument): void {
  openDocument = d;
}
export function getOpenDocument(): typeof openDocument {
  return openDocument;
}

export interface ProgressState {
  done: number;
  total?: number;
}

/**
 * A progress line on stderr for long runs — objects done (of the total once known), rate and
 * ETA — redrawn in place at most 10 times a second and erased at the end; nothing at all unless
 * stderr is a terminal (never in a pipe, a log or CI's output) and GITSEAL_NO_SPINNER is unset.
 * `gitseal verify` uses it for ranges instead of withSpinner (one line, never both).
 */
export function startProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  o: { now?: () => number; interval?: number } = {},
): { tick(n?: number): void; setTotal(total: number): void; clear(): void; stop(): void; readonly active: boolean } {
  const active = stream.isTTY === true && !process.env.GITSEAL_NO_SPINNER;
  const now = o.now ?? (() => Date.now());
  const every = o.interval ?? 100;
  const t0 = now();
  let done = 0;
  let total: number | undefined;
  // The first result draws at once (a short range still shows one frame), later ones at the pace.
  let last = -Infinity;
  let shown = false;
  const group = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const draw = () => {
    const elapsed = (now() - t0) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    let line = `${label} ${group(done)}${total !== undefined ? ` of ${group(total)}` : ''}`;
    if (elapsed >= 0.5 && rate > 0) {
      line += `, ${group(Math.round(rate))}/s`;
      if (total !== undefined && total >= done) line += `, ETA ${humanDuration((total - done) / rate)}`;
    }
    const cols = typeof stream.columns === 'number' && stream.columns > 1 ? stream.columns - 1 : 79;
    stream.write(`\r\u001b[2K${line.slice(0, cols)}`);
    shown = true;
    last = now();
  };
  // The timer keeps rate and ETA moving when results stall; both it and tick() draw only when
  // `every` ms have passed since the last frame, so a frame is written at most 1000/every times a
  // second however fast results come. The line holds the fixed label and numbers only.
  const due = () => now() - last >= every;
  const timer = active ? setInterval(() => due() && draw(), every) : undefined;
  timer?.unref();
  return {
    get active() {
      return active;
    },
    tick(n = 1) {
      done += n;
      if (active && due()) draw();
    },
    setTotal(t: number) {
      total = t;
    },
    clear() {
      if (active && shown) stream.write('\r\u001b[2K');
      shown = false;
    },
    stop() {
      if (timer) clearInterval(timer);
      if (active && shown) stream.write('\r\u001b[2K');
      shown = false;
    },
  };
}

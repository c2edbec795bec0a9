/**
 * Fitting table rows to the terminal's width, for people only: on a terminal, long cells (a
 * GitHub workflow identity runs past 100 characters) are shortened in the middle with "…",
 * keeping both ends, where the distinguishing parts usually are (the host, and the workflow file
 * and ref); a failure reason that does not fit moves, whole, to its own line below the row. Piped
 * output and --json keep every value in full: callers pass no width then.
 *
 * This works on the strings as they will be printed — after escaping (the cells are already safe
 * to print) and with colour codes, which take no columns and are never cut. Pure.
 */
import { table, visibleLength } from './output.js';

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

/** Columns a code point takes on a terminal: 0 for combining marks, 2 for wide (CJK, emoji), else 1. */
function cellWidth(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Terminal columns of `s` (colour codes take none). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(SGR, '')) w += cellWidth(ch.codePointAt(0)!);
  return w;
}

/** The terminal's width when `stream` is one (and says so), else undefined: then nothing is fitted. */
export function terminalColumns(stream: { isTTY?: boolean; columns?: number }): number | undefined {
  if (stream.isTTY !== true) return undefined;
  return typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : 80;
}

type Piece = { code: string } | { ch: string; w: number };

function pieces(s: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const m of s.matchAll(SGR)) {
    for (const ch of s.slice(last, m.index)) out.push({ ch, w: cellWidth(ch.codePointAt(0)!) });
    out.push({ code: m[0] });
    last = m.index! + m[0].length;
  }
  for (const ch of s.slice(last)) out.push({ ch, w: cellWidth(ch.codePointAt(0)!) });
  return out;
}

/**
 * `s` in at most `width` columns: unchanged when it fits, else its start and end around "…"
 * (the end gets the larger half). Colour codes are kept, so a coloured cell stays coloured.
 */
export function shortenMiddle(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 1) return width === 1 ? '…' : '';
  const ps = pieces(s);
  const room = width - 1;
  const headRoom = Math.floor(room / 2);
  let tailRoom = room - headRoom;
  // Take the tail first (from the end), then the head, never splitting a wide character.
  let tailStart = ps.length;
  for (let i = ps.length - 1; i >= 0; i--) {
    const p = ps[i]!;
    if ('code' in p) continue;
    if (p.w > tailRoom) break;
    tailRoom -= p.w;
    tailStart = i;
  }
  let headRoomLeft = headRoom + tailRoom;
  let headEnd = 0;
  for (let i = 0; i < tailStart; i++) {
    const p = ps[i]!;
    if ('code' in p) continue;
    if (p.w > headRoomLeft) break;
    headRoomLeft -= p.w;
    headEnd = i + 1;
  }
  const text = (from: number, to: number, codesOnly = false) =>
    ps
      .slice(from, to)
      .map((p) => ('code' in p ? p.code : codesOnly ? '' : p.ch))
      .join('');
  // Colour codes of the cut-out middle are kept so open/close pairs still match.
  return text(0, headEnd) + '…' + text(headEnd, tailStart, true) + text(tailStart, ps.length);
}

export interface FitOptions {
  /** Columns that may be shortened (0-based), e.g. identity and issuer. */
  shrink: number[];
  /** No shortened column goes below this many columns (default 12). */
  min?: number;
  /** Relative share of the room each shrinking column keeps (default 1): identity 2, issuer 1. */
  weight?: Record<number, number>;
  /** Spaces between columns (default 2, as table()). */
  gap?: number;
}

/** Column widths for rows: fitted into `width` (the `shrink` columns shortened), or natural without one. */
export interface TableLayout {
  width: number | undefined;
  widths: number[];
  o: FitOptions;
}

/** The widths fitTable() gives `rows` (the `shrink` columns narrowed, widest first, to fit `width`). */
export function layoutTable(rows: string[][], width: number | undefined, o: FitOptions): TableLayout {
  const gap = o.gap ?? 2;
  const n = Math.max(0, ...rows.map((r) => r.length));
  const natural: number[] = Array(n).fill(0);
  // Without a width the padding is table()'s (src/cli/output.ts): by visible length.
  const measure = width === undefined ? visibleLength : displayWidth;
  for (const r of rows) r.forEach((c, i) => (natural[i] = Math.max(natural[i]!, measure(c))));
  const widths = [...natural];
  if (width === undefined) return { width, widths, o };
  const lead = n - 1; // the columns before the free-text one
  const min = o.min ?? 12;
  // Keep room for a short last cell ("policy ok", "commit is not signed") on the row itself.
  const shortLast = Math.min(natural[lead]!, 24);
  const total = () => widths.slice(0, lead).reduce((a, b) => a + b, 0) + gap * lead + shortLast;
  while (total() > width) {
    let widest = -1;
    const share = (i: number) => widths[i]! / (o.weight?.[i] ?? 1);
    for (const i of o.shrink) if (i < lead && widths[i]! > min && (widest < 0 || share(i) > share(widest))) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
  }
  return { width, widths, o };
}

/**
 * One row's lines under `layout` (one line, or two when the last cell moves below). A column
 * that is not shortened and is wider here than in the layout widens the layout for this and
 * later rows: a streamed table never needs every row to lay out the next.
 */
export function formatRow(r: string[], layout: TableLayout): string[] {
  const { width, widths, o } = layout;
  const gap = o.gap ?? 2;
  if (width === undefined) {
    for (let i = 0; i < r.length - 1; i++) widths[i] = Math.max(widths[i] ?? 0, visibleLength(r[i]!));
    return [r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c) + gap))).join('').trimEnd()];
  }
  const lead = widths.length - 1;
  for (let i = 0; i < Math.min(lead, r.length); i++) if (!o.shrink.includes(i)) widths[i] = Math.max(widths[i] ?? 0, displayWidth(r[i]!));
  const leadWidth = widths.slice(0, lead).reduce((a, b) => a + b, 0) + gap * lead;
  const cells = r.map((c, i) => (i < lead && o.shrink.includes(i) ? shortenMiddle(c, widths[i]!) : c));
  const last = cells[lead] ?? '';
  const below = last !== '' && leadWidth + displayWidth(last) > width;
  const shown = cells.map((c, i) => (i === lead ? (below ? '' : c) : i === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - displayWidth(c)) + gap)));
  const lines = [shown.join('').trimEnd()];
  if (below) lines.push(`    ${last}`);
  return lines;
}

/**
 * Rows laid out as src/cli/output.ts table() does (columns padded, `gap` spaces between, the
 * last not padded), fitted into `width` columns: the `shrink` columns are shortened (widest
 * first, down to `min`) until the row fits, and a last cell that still does not fit is printed
 * whole on the next line, indented. Without a width the table is returned unchanged.
 */
export function fitTable(rows: string[][], width: number | undefined, o: FitOptions): string {
  const gap = o.gap ?? 2;
  if (width === undefined || rows.length === 0) return table(rows, gap);
  const layout = layoutTable(rows, width, o);
  return rows.flatMap((r) => formatRow(r, layout)).join('\n');
}

/**
 * A table printed as its rows arrive (`gitseal verify` over 100,000 commits): the first
 * `window` rows are held to lay the columns out (so a short table is exactly fitTable()'s), then
 * every row is printed at once under that layout. Memory: `window` rows, whatever the count.
 */
export class StreamTable {
  private held: string[][] | undefined = [];
  private layout: TableLayout | undefined;

  constructor(
    private readonly width: number | undefined,
    private readonly o: FitOptions,
    private readonly window = 256,
  ) {}

  /** Lines ready to print (none while the first rows are held). */
  push(row: string[]): string[] {
    if (this.held) {
      this.held.push(row);
      if (this.held.length < this.window) return [];
      const rows = this.held;
      this.held = undefined;
      this.layout = layoutTable(rows, this.width, this.o);
      return rows.flatMap((r) => formatRow(r, this.layout!));
    }
    return formatRow(row, this.layout!);
  }

  /** The lines still held (a table shorter than the window: exactly fitTable()'s). */
  end(): string[] {
    if (!this.held) return [];
    const rows = this.held;
    this.held = undefined;
    return rows.length ? fitTable(rows, this.width, this.o).split('\n') : [];
  }
}

/**
 * Text for people's terminals, from strings an attacker may have chosen (a certificate's SAN,
 * issuer and claims, names and fields of an unverified signature, messages quoting them, file
 * and ref names from a repository or a push). A terminal acts on more than C0 controls: ESC
 * starts ANSI/OSC sequences (colours, titles, hyperlinks, cursor moves that rewrite earlier
 * lines), CR returns to the start of the line, BEL rings, C1 controls (U+0080–U+009F, e.g.
 * U+009B CSI) are 8-bit escape introducers many terminals honour even in UTF-8, and Unicode
 * format characters reorder or hide text (bidi embeddings, overrides and isolates: the
 * "Trojan Source" attack, CVE-2021-42574; zero-width characters; line and paragraph
 * separators). Each such code point becomes a visible escape: `\n`, `\r`, `\t`, `\xHH` below
 * U+0100, `\u{HHHH}` above; everything else is kept as it is, so the result is as wide as what
 * it shows (the table code measures it after escaping). Backslashes are kept: this defends the
 * terminal, not against look-alike printable text, which any signer may put in a name.
 *
 * One function for every human-readable path: the `gitseal verify` table and notes, `show`,
 * `doctor`, one-line errors, git's --verify stderr (`git log --show-signature`), the signing
 * path's terminal lines; bin's pre-receive hook does the same with sed for the names it prints.
 */

// Cc: C0, DEL, C1. Cf: bidi marks/embeddings/overrides/isolates, zero-width, BOM, soft hyphen,
// Arabic/Syriac format marks, tag characters. Zl/Zp: U+2028/U+2029. Cs: lone surrogates.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

function escapeOne(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  const cp = ch.codePointAt(0)!;
  return cp < 0x100 ? `\\x${hex(cp, 2)}` : `\\u{${hex(cp, 4)}}`;
}

/**
 * True when `s` is printable ASCII only — the common case, decided without the Unicode-property
 * regex, whose first use costs a few hundred microseconds: git's --verify path runs this for
 * every line it prints, once per process.
 */
function printableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** `s` with every control, format and separator code point escaped (see above). */
export function terminalSafe(s: string): string {
  if (printableAscii(s)) return s;
  UNSAFE.lastIndex = 0;
  return s.replace(UNSAFE, escapeOne);
}

/** terminalSafe for a value that may be absent. */
export function terminalSafeOpt(s: string | undefined): string | undefined {
  return s === undefined ? undefined : terminalSafe(s);
}

/**
 * JSON text (from JSON.stringify) made safe to print on a terminal without changing what it
 * parses to: JSON.stringify escapes C0 controls, but leaves DEL, C1 and Unicode format
 * characters raw. Outside strings JSON text is ASCII, so every such code point sits inside a
 * string (a raw newline is indentation), where `\uHHHH` means the same character (RFC 8259 §7).
 */
export function terminalSafeJson(json: string): string {
  if (printableAscii(json.replace(/\n/g, ' '))) return json;
  UNSAFE.lastIndex = 0;
  return json.replace(UNSAFE, (ch) => {
    if (ch === '\n') return ch; // JSON.stringify escapes newlines in strings: a raw one is indentation
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${hex(ch.charCodeAt(i), 4).toLowerCase()}`;
    return out;
  });
}

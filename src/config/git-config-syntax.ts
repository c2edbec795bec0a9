/**
 * Git config file syntax (git-config(1) "CONFIGURATION FILE", mirroring the
 * state machine of git's config.c: get_base_var / get_value / parse_value).
 * Pure: text in, entries out. Keys come back canonical: section and variable
 * name lowercased, subsection kept as written ("includeIf.gitdir:~/w/.path").
 */
import { GitsealError } from '../errors.js';

export interface ConfigEntry {
  /** section[.subsection].name, section and name lowercased. */
  key: string;
  /** null for a bare `name` line (boolean true). */
  value: string | null;
  /** File path, or "command line" / "env GIT_CONFIG_KEY_0". */
  origin: string;
  line: number;
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string) => isAlpha(c) || (c >= '0' && c <= '9');

export function parseGitConfig(text: string, origin: string): ConfigEntry[] {
  // git reads "\r\n" as "\n" (get_next_char) and skips a UTF-8 BOM.
  const s = (text.startsWith('\ufeff') ? text.slice(1) : text).replace(/\r\n/g, '\n');
  const out: ConfigEntry[] = [];
  let pos = 0;
  let line = 1;
  let section: string | undefined;

  const bad = (what: string): never => {
    throw new GitsealError('CONFIG', `bad config line ${line} in ${origin}: ${what}`);
  };
  /** Next char; '\n' at end of input, like git's EOF handling. */
  const next = (): string => {
    if (pos >= s.length) {
      pos++;
      return '\n';
    }
    const c = s[pos++];
    if (c === '\n') line++;
    return c;
  };
  const atEnd = () => pos >= s.length;

  function parseValue(): string {
    let value = '';
    let quote = false;
    let comment = false;
    let space = 0;
    for (;;) {
      const eof = atEnd();
      let c = next();
      if (c === '\n') {
        if (quote) {
          if (!eof) line--; // report the line the value started on
          bad('unterminated quoted value');
        }
        return value;
      }
      if (comment) continue;
      if (isSpace(c) && !quote) {
        if (value.length) space++;
        continue;
      }
      if (!quote && (c === ';' || c === '#')) {
        comment = true;
        continue;
      }
      value += ' '.repeat(space);
      space = 0;
      if (c === '\\') {
        if (atEnd()) bad('backslash at end of file');
        c = next();
        switch (c) {
          case '\n':
            continue; // line continuation
          case 't':
            c = '\t';
            break;
          case 'b':
            c = '\b';
            break;
          case 'n':
            c = '\n';
            break;
          case '\\':
          case '"':
            break;
          default:
            bad(`invalid escape "\\${c}"`);
        }
        value += c;
        continue;
      }
      if (c === '"') {
        quote = !quote;
        continue;
      }
      value += c;
    }
  }

  function parseSectionHeader(): string {
    let name = '';
    for (;;) {
      if (atEnd()) bad('unterminated section header');
      const c = next();
      if (c === ']') return name.toLowerCase();
      if (isSpace(c)) {
        // [section "subsection"]: subsection is case-sensitive, \x escapes x.
        let d = next();
        while (d === ' ' || d === '\t') d = next();
        if (d !== '"') bad('expected a quoted subsection');
        let sub = '';
        for (;;) {
          if (atEnd()) bad('unterminated subsection');
          let e = next();
          if (e === '\n') bad('newline in subsection');
          if (e === '"') break;
          if (e === '\\') {
            if (atEnd()) bad('unterminated subsection');
            e = next();
            if (e === '\n') bad('newline in subsection');
          }
          sub += e;
        }
        if (next() !== ']') bad('expected "]" after the subsection');
        return `${name.toLowerCase()}.${sub}`;
      }
      if (!isAlnum(c) && c !== '.' && c !== '-') bad(`invalid character "${c}" in section name`);
      name += c;
    }
  }

  while (!atEnd()) {
    const c = next();
    if (c === '\n' || isSpace(c)) continue;
    if (c === '#' || c === ';') {
      while (!atEnd() && next() !== '\n');
      continue;
    }
    if (c === '[') {
      section = parseSectionHeader();
      if (!section) bad('empty section name');
      continue;
    }
    if (!isAlpha(c)) bad(`unexpected character "${c}"`);
    const startLine = line;
    let name = c;
    let d = next();
    while (isAlnum(d) || d === '-') {
      name += d;
      d = next();
    }
    while (d === ' ' || d === '\t') d = next();
    let value: string | null = null;
    if (d !== '\n') {
      if (d !== '=') bad(`expected "=" after "${name}"`);
      value = parseValue();
    }
    // git accepts a variable before any section header and names it without one.
    out.push({ key: section === undefined ? name.toLowerCase() : `${section}.${name.toLowerCase()}`, value, origin, line: startLine });
  }
  return out;
}

/**
 * Canonicalize a key given on the command line or in GIT_CONFIG_KEY_n:
 * the first and last dot-separated parts are case-insensitive.
 */
export function canonicalKey(key: string): string | undefined {
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first <= 0 || last === key.length - 1) return undefined;
  const section = key.slice(0, first).toLowerCase();
  const name = key.slice(last + 1).toLowerCase();
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return undefined;
  const sub = first === last ? undefined : key.slice(first + 1, last);
  return sub === undefined ? `${section}.${name}` : `${section}.${sub}.${name}`;
}

/** git's boolean parsing (git_parse_maybe_bool + integers): undefined if not a boolean. */
export function parseGitBool(v: string | null): boolean | undefined {
  if (v === null) return true;
  const l = v.toLowerCase();
  if (l === 'true' || l === 'yes' || l === 'on') return true;
  if (l === 'false' || l === 'no' || l === 'off' || l === '') return false;
  if (/^-?\d+$/.test(l)) return Number(l) !== 0;
  return undefined;
}

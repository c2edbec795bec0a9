/** src/util/terminal-text.ts: what a terminal would act on is escaped, everything else kept. */
import { describe, expect, it } from 'vitest';
import { terminalSafe, terminalSafeJson } from '../../src/util/terminal-text.js';

describe('terminalSafe', () => {
  it('keeps printable text, including non-ASCII letters and backslashes, unchanged', () => {
    for (const s of ['alice@example.com', 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', 'José Müller <jm@exämple.de>', '日本語', 'a\\x1b (literal)', '']) {
      expect(terminalSafe(s)).toBe(s);
    }
  });

  it.each([
    ['ESC', '\x1b[31m', '\\x1B[31m'],
    ['CR, LF, TAB', 'a\rb\nc\td', 'a\\rb\\nc\\td'],
    ['BEL and NUL', '\x07\x00', '\\x07\\x00'],
    ['DEL', '\x7f', '\\x7F'],
    ['C1 CSI and NEL', '\x9b2J\x85', '\\x9B2J\\x85'],
    ['bidi override and isolates (Trojan Source)', 'a\u202eb\u2066c\u2069\u061c', 'a\\u{202E}b\\u{2066}c\\u{2069}\\u{061C}'],
    ['zero-width and BOM', 'a\u200bb\u200dc\ufeff', 'a\\u{200B}b\\u{200D}c\\u{FEFF}'],
    ['line and paragraph separators', '\u2028\u2029', '\\u{2028}\\u{2029}'],
    ['a lone surrogate', 'x\ud800y', 'x\\u{D800}y'],
    ['tag characters (astral, format)', 'a\u{e0041}', 'a\\u{E0041}'],
  ])('escapes %s', (_name, input, want) => {
    expect(terminalSafe(input)).toBe(want);
  });
});

describe('terminalSafeJson', () => {
  it('escapes C1 and format characters inside strings, keeps the indentation, parses to the same value', () => {
    const value = { identity: 'a\u202eb\x9bc', plain: 'x', nested: ['\u2028', 'é'] };
    const json = JSON.stringify(value, null, 2);
    const safe = terminalSafeJson(json);
    expect(safe).not.toMatch(/[\u0080-\u009f\u202e\u2028]/);
    expect(safe.split('\n').length).toBe(json.split('\n').length);
    expect(JSON.parse(safe)).toEqual(value);
    expect(terminalSafeJson('{\n  "a": 1\n}')).toBe('{\n  "a": 1\n}');
  });
});

/**
 * PEM armour (RFC 7468), strict enough for signatures and certificates.
 *
 * A hand-written scanner, not a regular expression: the former
 * /-----BEGIN (…)-----\r?\n([\s\S]*?)-----END \1-----/g restarted a lazy scan to the end of the
 * text at every BEGIN line without an END, quadratic in the input (1.3 s for 128 KiB of BEGIN
 * lines). Here each byte is looked at a bounded number of times: a BEGIN line without its END
 * line is an error, not something to skip and rescan past.
 */
import { GitsealError } from '../errors.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

interface Located {
  label: string;
  /** The base64 text between the BEGIN and END lines, not yet checked. */
  body: string;
  /** Offset of the BEGIN line and just past the END line's closing dashes. */
  start: number;
  end: number;
}

const DASHES = '-----';
const BEGIN = '-----BEGIN ';
/** RFC 7468 §2 labels are short; nothing we read uses more than a few words. */
const MAX_LABEL = 64;

function labelChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20;
}

function scan(text: string): Located[] {
  const out: Located[] = [];
  let p = 0;
  for (;;) {
    const b = text.indexOf(BEGIN, p);
    if (b < 0) return out;
    // The label: [A-Z0-9 ]+ up to the closing dashes, then the end of the line.
    let q = b + BEGIN.length;
    const labelStart = q;
    while (q < text.length && q - labelStart <= MAX_LABEL && labelChar(text.charCodeAt(q))) q++;
    const label = text.slice(labelStart, q);
    let bodyStart = -1;
    if (label.length > 0 && label.length <= MAX_LABEL && text.startsWith(DASHES, q)) {
      let r = q + DASHES.length;
      if (text[r] === '\r') r++;
      if (text[r] === '\n') bodyStart = r + 1;
    }
    if (bodyStart < 0) {
      // Not a BEGIN line after all ("-----BEGIN foo", no line end): look further on.
      p = b + BEGIN.length;
      continue;
    }
    const endLine = `-----END ${label}-----`;
    const e = text.indexOf(endLine, bodyStart);
    if (e < 0) throw new GitsealError('BAD_PEM', `the ${label} PEM block has no END line`);
    out.push({ label, body: text.slice(bodyStart, e), start: b, end: e + endLine.length });
    p = e + endLine.length;
  }
}

function decodeBody(b: Located): Buffer {
  const body = b.body.replace(/[\r\n\t ]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
    throw new GitsealError('BAD_PEM', `the ${b.label} PEM block has invalid base64`);
  }
  return Buffer.from(body, 'base64');
}

/** Every PEM block in `text`, in order. Base64 must be well formed; a block must end. */
export function decodePemAll(text: string): PemBlock[] {
  return scan(text).map((b) => ({ label: b.label, der: decodeBody(b) }));
}

/** The single block with `label` (e.g. "CERTIFICATE"); fails on none or several. Other blocks and text are ignored. */
export function decodePem(text: string, label: string): Buffer {
  const blocks = decodePemAll(text).filter((b) => b.label === label);
  if (blocks.length === 0) throw new GitsealError('BAD_PEM', `no "${label}" PEM block found`);
  if (blocks.length > 1) throw new GitsealError('BAD_PEM', `more than one "${label}" PEM block`);
  return blocks[0].der;
}

/**
 * `text` must be exactly one PEM block with `label`, with nothing around it but whitespace:
 * for signatures, where a second block or stray text would be a part that one reader sees
 * and another skips.
 */
export function decodeSinglePem(text: string, label: string): Buffer {
  const blocks = scan(text);
  if (blocks.length === 0) throw new GitsealError('BAD_PEM', `no "${label}" PEM block found`);
  if (blocks.length > 1) {
    throw new GitsealError('BAD_PEM', `the signature holds ${blocks.length} PEM blocks (${blocks.map((b) => b.label).join(', ')}); exactly one "${label}" block is accepted`);
  }
  const [blk] = blocks;
  if (blk.label !== label) throw new GitsealError('BAD_PEM', `the signature is a "${blk.label}" PEM block, not "${label}"`);
  if (!/^\s*$/.test(text.slice(0, blk.start)) || !/^\s*$/.test(text.slice(blk.end))) {
    throw new GitsealError('BAD_PEM', `the signature holds text outside its "${label}" PEM block`);
  }
  return decodeBody(blk);
}

/** Go-style PEM (encoding/pem): 64-column lines, trailing newline. */
export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

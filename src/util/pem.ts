/** PEM armour (RFC 7468), strict enough for signatures and certificates. */
import { GitsealError } from '../errors.js';

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Every PEM block in `text`, in order. Base64 must be well formed. */
export function decodePemAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = m[2].replace(/[\r\n\t ]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new GitsealError('BAD_PEM', `the ${m[1]} PEM block has invalid base64`);
    }
    out.push({ label: m[1], der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** The single block with `label` (e.g. "SIGNED MESSAGE"); fails on none or several. */
export function decodePem(text: string, label: string): Buffer {
  const blocks = decodePemAll(text).filter((b) => b.label === label);
  if (blocks.length === 0) throw new GitsealError('BAD_PEM', `no "${label}" PEM block found`);
  if (blocks.length > 1) throw new GitsealError('BAD_PEM', `more than one "${label}" PEM block`);
  return blocks[0].der;
}

/** Go-style PEM (encoding/pem): 64-column lines, trailing newline. */
export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

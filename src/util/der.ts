/**
 * A small, strict DER reader and writer (X.690 §8, §10).
 *
 * Why not asn1js/pkijs here: this module sits on the `--verify` hot path that
 * git spawns once per signature. Loading asn1js costs ~26 ms and pkijs ~120 ms
 * on the reference machine (see README, "Choices"), against a budget of a few
 * milliseconds. The reader is zero-copy (subarrays of the input) and rejects
 * anything that is not DER: indefinite lengths, non-minimal lengths, truncation.
 */
import { GitsealError } from '../errors.js';
import { BytesCache } from './bytes-cache.js';

export interface Tlv {
  /** The full identifier octet (class + constructed bit + tag number < 31). */
  readonly tag: number;
  /** Offset of the identifier octet in the buffer the outermost element was read from. */
  readonly start: number;
  /** Offset of the first content octet (same buffer). */
  readonly valueStart: number;
  /** Offset just past the last content octet (same buffer). */
  readonly end: number;
  /** The content octets. */
  readonly value: Buffer;
  /** Identifier, length and content octets. */
  readonly raw: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/**
 * One element: offsets into the buffer it was read from; `value` and `raw` are views of it,
 * made on first use (a certificate or a CMS signature holds a hundred elements, most of which
 * are only walked through; range verification reads thousands of them per second).
 */
class Element implements Tlv {
  private v?: Buffer;
  private r?: Buffer;
  constructor(
    readonly tag: number,
    readonly start: number,
    readonly valueStart: number,
    readonly end: number,
    readonly buf: Buffer,
  ) {}
  get value(): Buffer {
    return (this.v ??= this.buf.subarray(this.valueStart, this.end));
  }
  get raw(): Buffer {
    return (this.r ??= this.buf.subarray(this.start, this.end));
  }
}

function bad(msg: string): never {
  throw new GitsealError('BAD_DER', `malformed DER: ${msg}`);
}

/** Read one TLV at `offset` of `buf`, bounded by `limit` (default: end of buf). */
export function readTlv(buf: Buffer, offset = 0, limit = buf.length): Tlv {
  if (offset >= limit) bad('unexpected end of data');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) bad('high tag numbers are not used here');
  let p = offset + 1;
  if (p >= limit) bad('missing length');
  let len = buf[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) bad('indefinite length');
    if (n > 4) bad('length too large');
    if (p + n > limit) bad('truncated length');
    if (buf[p] === 0) bad('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80) bad('non-minimal length');
  }
  const end = p + len;
  if (end > limit) bad('content runs past its container');
  return new Element(tag, offset, p, end, buf);
}

/** Parse a buffer that must hold exactly one TLV. */
export function parseDer(buf: Buffer): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) bad('trailing data after the outer element');
  return t;
}

/** The children of a constructed TLV, in order. */
export function children(t: Tlv): Tlv[] {
  if (!(t.tag & 0x20)) bad(`element with tag 0x${t.tag.toString(16)} is not constructed`);
  const out: Tlv[] = [];
  // Read in place (no view of the parent), bounded by the parent's end.
  const inPlace = t instanceof Element;
  const buf = inPlace ? t.buf : t.raw;
  let p = inPlace ? t.valueStart : t.valueStart - t.start;
  const end = inPlace ? t.end : buf.length;
  while (p < end) {
    const c = readTlv(buf, p, end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Children with an expected tag for the container. */
export function expectChildren(t: Tlv | undefined, tag: number, what: string): Tlv[] {
  if (!t) bad(`${what}: missing`);
  if (t.tag !== tag) bad(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return children(t);
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) bad(`${what}: missing`);
  if (t.tag !== tag) bad(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** Decoded OIDs by their content bytes (each certificate names ~20; src/util/bytes-cache.ts). */
const oidCache = new BytesCache<string>(512, 32);

/** Decode an OBJECT IDENTIFIER's content octets to dotted form. */
export function decodeOid(value: Buffer): string {
  return oidCache.get(value, () => decodeOidUncached(value));
}

function decodeOidUncached(value: Buffer): string {
  if (value.length === 0) bad('empty OID');
  const parts: number[] = [];
  let acc = 0;
  let first = true;
  for (let i = 0; i < value.length; i++) {
    const b = value[i];
    if (acc === 0 && b === 0x80) bad('non-minimal OID arc');
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) bad('OID arc too large');
    if (!(b & 0x80)) {
      if (first) {
        const a = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        parts.push(a, acc - a * 40);
        first = false;
      } else parts.push(acc);
      acc = 0;
    } else if (i === value.length - 1) bad('truncated OID');
  }
  return parts.join('.');
}

export function readOid(t: Tlv | undefined, what: string): string {
  return decodeOid(expectTag(t, TAG.OID, what).value);
}

/** True when INTEGER content octets are minimal (X.690 §8.3.2: the first nine bits are not all equal). */
export function isMinimalInteger(value: Buffer): boolean {
  return !(value.length > 1 && ((value[0] === 0 && !(value[1] & 0x80)) || (value[0] === 0xff && value[1] & 0x80)));
}

/** INTEGER content as a bigint (two's complement); a padded (non-minimal) encoding is not DER and is refused. */
export function decodeInteger(value: Buffer): bigint {
  if (value.length === 0) bad('empty INTEGER');
  if (!isMinimalInteger(value)) bad('non-minimal INTEGER');
  let n = BigInt('0x' + value.toString('hex'));
  if (value[0] & 0x80) n -= 1n << BigInt(value.length * 8);
  return n;
}

/** A DER BOOLEAN (X.690 §11.1: one octet, 0x00 or 0xFF). */
export function decodeBoolean(t: Tlv): boolean {
  if (t.tag !== TAG.BOOLEAN || t.value.length !== 1 || (t.value[0] !== 0 && t.value[0] !== 0xff)) bad('BOOLEAN must be one octet, 00 or FF');
  return t.value[0] === 0xff;
}

/** Deepest nesting of constructed elements accepted by checkStrictDer (a certificate inside a CMS is ~10). */
export const MAX_DER_DEPTH = 32;

/**
 * Walk every element of `buf` (which must hold exactly one) and refuse what is not DER even
 * where no parser looks: every length definite and minimal (readTlv), no trailing bytes,
 * INTEGERs minimal, BOOLEANs 00/FF, no constructed encodings of primitive universal types
 * (X.690 §10.2), nesting at most MAX_DER_DEPTH. Iterative: a deep input cannot exhaust the stack.
 */
export function checkStrictDer(buf: Buffer, maxDepth = MAX_DER_DEPTH): void {
  const stack: Array<{ t: Tlv; depth: number }> = [{ t: parseDer(buf), depth: 1 }];
  while (stack.length) {
    const { t, depth } = stack.pop()!;
    if (t.tag === TAG.INTEGER) {
      if (t.value.length === 0 || !isMinimalInteger(t.value)) bad('non-minimal INTEGER');
    } else if (t.tag === TAG.BOOLEAN) {
      decodeBoolean(t);
    } else if (t.tag & 0x20) {
      // Universal class: only SEQUENCE and SET are constructed in DER.
      if ((t.tag & 0xc0) === 0 && t.tag !== TAG.SEQUENCE && t.tag !== TAG.SET) bad(`constructed encoding of universal type ${t.tag & 0x1f}`);
      if (depth >= maxDepth) bad(`elements nested more than ${maxDepth} deep`);
      for (const c of children(t)) if (c.tag & 0x20 || c.tag === TAG.INTEGER || c.tag === TAG.BOOLEAN) stack.push({ t: c, depth: depth + 1 });
    }
  }
}

/** Input bytes shown in an error: printable ASCII only, capped, so a message stays one harmless line. */
function printable(s: string): string {
  const p = s.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return s.length > 40 ? p + '…' : p;
}

/** A UTC instant from calendar fields that must each be in range (no "month 13" rolling into next year). */
function calendarDate(y: number, mo: number, d: number, h: number, mi: number, sec: number, ms: number, text: string): Date {
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, sec, ms));
  date.setUTCFullYear(y); // Date.UTC maps years 0–99 to 1900–1999
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== sec) {
    bad(`time "${printable(text)}" is not a valid date and time`);
  }
  return date;
}

/** UTCTime (RFC 5280 §4.1.2.5.1) or GeneralizedTime content as a Date. */
export function decodeTime(t: Tlv): Date {
  const s = t.value.toString('latin1');
  let m: RegExpMatchArray | null;
  if (t.tag === TAG.UTC_TIME) {
    m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) bad(`bad UTCTime "${printable(s)}"`);
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return calendarDate(year, +m[2], +m[3], +m[4], +m[5], +m[6], 0, s);
  }
  if (t.tag === TAG.GENERALIZED_TIME) {
    m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/);
    if (!m) bad(`bad GeneralizedTime "${printable(s)}"`);
    // X.690 §11.7.3: a fraction has no trailing zeros (and no lone "."), so each instant has one encoding.
    if (m[7] !== undefined && m[7].endsWith('0')) bad(`bad GeneralizedTime "${printable(s)}" (trailing zero in the fraction)`);
    const ms = m[7] ? Math.floor(Number('0.' + m[7]) * 1000) : 0;
    return calendarDate(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], ms, s);
  }
  return bad(`expected a time, got tag 0x${t.tag.toString(16)}`);
}

// ---------------------------------------------------------------- writer

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encode one TLV from a tag and content octets. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const der = {
  seq: (...items: Buffer[]) => tlv(TAG.SEQUENCE, ...items),
  /** A SET OF, sorted as DER requires (X.690 §11.6). */
  setOf: (...items: Buffer[]) => tlv(TAG.SET, ...[...items].sort(Buffer.compare)),
  octets: (b: Buffer) => tlv(TAG.OCTET_STRING, b),
  utf8: (s: string) => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8')),
  ia5: (s: string) => tlv(TAG.IA5_STRING, Buffer.from(s, 'latin1')),
  bool: (v: boolean) => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0])),
  null: () => tlv(TAG.NULL),
  bitString: (b: Buffer, unused = 0) => tlv(TAG.BIT_STRING, Buffer.from([unused]), b),
  int(v: bigint | number | Buffer): Buffer {
    let b: Buffer;
    if (Buffer.isBuffer(v)) {
      b = v;
      let i = 0;
      while (i < b.length - 1 && b[i] === 0 && !(b[i + 1] & 0x80)) i++;
      b = b.subarray(i);
      if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    } else {
      let n = BigInt(v);
      if (n < 0n) throw new RangeError('negative INTEGER not supported');
      let hex = n.toString(16);
      if (hex.length % 2) hex = '0' + hex;
      b = Buffer.from(hex, 'hex');
      if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    }
    return tlv(TAG.INTEGER, b);
  },
  oid(dotted: string): Buffer {
    const arcs = dotted.split('.').map((a) => BigInt(a));
    const out: number[] = [];
    const push = (n: bigint) => {
      const tmp = [Number(n & 0x7fn)];
      n >>= 7n;
      while (n > 0n) {
        tmp.unshift(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
      }
      out.push(...tmp);
    };
    push(arcs[0] * 40n + arcs[1]);
    for (const a of arcs.slice(2)) push(a);
    return tlv(TAG.OID, Buffer.from(out));
  },
  utcTime(d: Date): Buffer {
    const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const s = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    return tlv(TAG.UTC_TIME, Buffer.from(s, 'latin1'));
  },
  generalizedTime(d: Date): Buffer {
    const iso = d.toISOString();
    const s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    return tlv(TAG.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
  },
  /** [n] EXPLICIT: a constructed context tag around one element. */
  explicit: (n: number, inner: Buffer) => tlv(0xa0 | n, inner),
  /** [n] IMPLICIT constructed: replaces a SEQUENCE/SET tag. */
  implicitConstructed: (n: number, content: Buffer) => tlv(0xa0 | n, content),
  /** [n] IMPLICIT primitive. */
  implicitPrimitive: (n: number, content: Buffer) => tlv(0x80 | n, content),
};

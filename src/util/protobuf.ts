/**
 * Minimal protobuf wire-format codec (varint, length-delimited, fixed32/64),
 * enough for dev.sigstore.rekor.v1.TransparencyLogEntry. @sigstore/protobuf-specs
 * only does JSON, and protobufjs would cost start-up time on the verify path.
 */
import { GitsealError } from '../errors.js';

export interface Field {
  no: number;
  wire: 0 | 1 | 2 | 5;
  /** varint value (wire 0) */
  int?: bigint;
  /** bytes (wire 2) or the 4/8 raw bytes (wire 1/5) */
  bytes?: Buffer;
}

function bad(msg: string): never {
  throw new GitsealError('BAD_PROTOBUF', `malformed protobuf: ${msg}`);
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) bad('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result & 0xffffffffffffffffn, pos];
    shift += 7n;
  }
  return bad('varint longer than 10 bytes');
}

/** Decode every top-level field of a message. */
export function decodeFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) bad('field number 0');
    switch (wire) {
      case 0: {
        const [v, p2] = readVarint(buf, pos);
        pos = p2;
        out.push({ no, wire: 0, int: v });
        break;
      }
      case 1:
      case 5: {
        const n = wire === 1 ? 8 : 4;
        if (pos + n > buf.length) bad('truncated fixed field');
        out.push({ no, wire, bytes: buf.subarray(pos, pos + n) });
        pos += n;
        break;
      }
      case 2: {
        const [len, p2] = readVarint(buf, pos);
        pos = p2;
        if (len > BigInt(buf.length - pos)) bad('length-delimited field runs past the end');
        const end = pos + Number(len);
        out.push({ no, wire: 2, bytes: buf.subarray(pos, end) });
        pos = end;
        break;
      }
      default:
        bad(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

export function encodeVarint(v: bigint | number): Buffer {
  let n = BigInt(v);
  if (n < 0n) n &= 0xffffffffffffffffn; // int64 two's complement, as protobuf does
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return Buffer.from(out);
}

export const pb = {
  varint: (no: number, v: bigint | number) => Buffer.concat([encodeVarint((no << 3) | 0), encodeVarint(v)]),
  bytes: (no: number, b: Buffer) => Buffer.concat([encodeVarint((no << 3) | 2), encodeVarint(b.length), b]),
  string: (no: number, s: string) => pb.bytes(no, Buffer.from(s, 'utf8')),
};

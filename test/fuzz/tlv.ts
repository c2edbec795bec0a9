/** A DER tree that can be edited and re-encoded, for structure-aware mutation of real signatures. */
import { children, parseDer, type Tlv } from '../../src/util/der.js';

export interface Node {
  tag: number;
  /** Constructed: the children; primitive: undefined. */
  kids?: Node[];
  value: Buffer;
  /** Dotted child indices from the root, e.g. "0.1.0.4.0". */
  path: string;
}

export function toTree(der: Buffer): Node {
  const walk = (t: Tlv, path: string): Node =>
    t.tag & 0x20 ? { tag: t.tag, kids: children(t).map((c, i) => walk(c, `${path}.${i}`)), value: t.value, path } : { tag: t.tag, value: t.value, path };
  return walk(parseDer(der), '0');
}

function encLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encode(n: Node): Buffer {
  const v = n.kids ? Buffer.concat(n.kids.map(encode)) : n.value;
  return Buffer.concat([Buffer.from([n.tag]), encLen(v.length), v]);
}

export function nodes(root: Node): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    out.push(n);
    n.kids?.forEach(walk);
  };
  walk(root);
  return out;
}

export const EDITS = ['retag', 'shorten', 'lengthen', 'flip-first', 'flip-last', 'delete', 'duplicate', 'zero', 'raw-len+1', 'raw-len-1'] as const;
export type Edit = (typeof EDITS)[number];

/** Apply `edit` to the node at `path` of a copy of the tree and re-encode the ancestors' lengths (raw-len edits do not). */
export function applyEdit(der: Buffer, path: string, edit: Edit): Buffer {
  const root = toTree(der);
  const parentOf = (p: string): [Node | undefined, number] => {
    const parts = p.split('.').map(Number);
    if (parts.length === 1) return [undefined, 0];
    let n = root;
    for (const i of parts.slice(1, -1)) n = n.kids![i];
    return [n, parts[parts.length - 1]];
  };
  const [parent, idx] = parentOf(path);
  const target = parent ? parent.kids![idx] : root;
  const replace = (nn: Node[] | undefined): Buffer => {
    if (!parent) return nn && nn.length ? Buffer.concat(nn.map(encode)) : Buffer.alloc(0);
    parent.kids!.splice(idx, 1, ...(nn ?? []));
    return encode(root);
  };
  const flat = (n: Node): Node => ({ tag: n.tag, value: n.kids ? Buffer.concat(n.kids.map(encode)) : n.value, path: n.path });
  switch (edit) {
    case 'retag':
      return replace([{ ...target, tag: target.tag ^ (target.tag === 0x30 ? 0x01 : target.tag & 0x20 ? 0x10 : 0x02) }]);
    case 'shorten': {
      const f = flat(target);
      return replace([{ tag: f.tag, value: f.value.subarray(0, Math.max(0, f.value.length - 1)), path: f.path }]);
    }
    case 'lengthen': {
      const f = flat(target);
      return replace([{ tag: f.tag, value: Buffer.concat([f.value, Buffer.from([0])]), path: f.path }]);
    }
    case 'flip-first':
    case 'flip-last': {
      const f = flat(target);
      if (!f.value.length) return replace([{ ...f, value: Buffer.from([0x01]) }]);
      const v = Buffer.from(f.value);
      v[edit === 'flip-first' ? 0 : v.length - 1] ^= 0x01;
      return replace([{ tag: f.tag, value: v, path: f.path }]);
    }
    case 'zero': {
      const f = flat(target);
      return replace([{ tag: f.tag, value: Buffer.alloc(f.value.length), path: f.path }]);
    }
    case 'delete':
      return replace([]);
    case 'duplicate':
      return replace([target, target]);
    case 'raw-len+1':
    case 'raw-len-1': {
      // Length octet edited in place; containers keep their old lengths.
      const whole = encode(root);
      const off = offsetOf(whole, path);
      const m = Buffer.from(whole);
      const lenPos = off + 1 + (m[off + 1] & 0x80 ? m[off + 1] & 0x7f : 0);
      m[lenPos] = (m[lenPos] + (edit === 'raw-len+1' ? 1 : 255)) & 0xff;
      return m;
    }
  }
}

/** Byte offset of the node at `path` inside `der`. */
export function offsetOf(der: Buffer, path: string): number {
  const parts = path.split('.').map(Number).slice(1);
  let t = parseDer(der);
  let off = 0;
  for (const i of parts) {
    const c = children(t)[i];
    // children() offsets are relative to the parent's raw bytes.
    off += c.start;
    t = parseDer(c.raw);
  }
  return off;
}

/**
 * RFC 8785 JSON canonicalization for the values Sigstore signs (SET payloads,
 * hashedrekord bodies): objects with sorted keys, strings, integers, booleans.
 */
export function canonicalize(v: unknown): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('non-finite number in canonical JSON');
    return JSON.stringify(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canonicalize).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // RFC 8785 sorts by UTF-16 code units, which is JS's default string order.
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalize(o[k])).join(',') + '}';
  }
  throw new TypeError(`cannot canonicalize ${typeof v}`);
}

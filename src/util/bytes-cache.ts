/**
 * Results of a pure decoding, by the exact bytes it read: a history's signatures repeat the same
 * OIDs and issuer names over and over. Keys are latin1 copies of the bytes (one-to-one, and no
 * input buffer is kept alive); only results that were computed are stored (a decoding that
 * throws stores nothing); inputs over `maxKeyBytes` are not cached; at most `max` entries,
 * emptied when full, so hostile input cannot grow it. Values are shared: use immutable ones.
 */
export class BytesCache<T> {
  private readonly map = new Map<string, T>();

  constructor(
    private readonly max: number,
    private readonly maxKeyBytes: number,
  ) {}

  get(bytes: Buffer, compute: () => T): T {
    if (bytes.length > this.maxKeyBytes) return compute();
    const id = bytes.toString('latin1');
    let v = this.map.get(id);
    if (v === undefined) {
      v = compute();
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(id, v);
    }
    return v;
  }
}

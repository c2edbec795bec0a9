/**
 * The log's persistent, append-only state in DIR/rekor/:
 *   entries.jsonl  one JSON line per entry (canonical body, integrated time, search keys)
 *   leaves.bin     the 32-byte RFC 6962 leaf hashes, in log order
 * An entry line is written before its leaf hash, so after a crash the leaf
 * file is never ahead of the entries; on open, a torn last line is dropped
 * and missing leaf hashes are recomputed from the bodies.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../shared/private-files.js';
import { leafHash, MerkleTree } from './merkle.js';

export interface StoredEntry {
  index: number;
  body: Buffer;
  /** Unix seconds. */
  integratedTime: number;
  leafHash: Buffer;
  indexKeys: string[];
}

interface EntryLine {
  t: number;
  b: string;
  k: string[];
}

export class LogStore {
  readonly tree = new MerkleTree();
  private readonly entries: StoredEntry[] = [];
  private readonly byLeaf = new Map<string, StoredEntry>();
  private readonly byKey = new Map<string, StoredEntry[]>();
  private entriesFd: number;
  private leavesFd: number;

  private constructor(readonly dir: string) {
    ensurePrivateDir(dir);
    const entriesPath = join(dir, 'entries.jsonl');
    const leavesPath = join(dir, 'leaves.bin');
    const text = existsSync(entriesPath) ? readFileSync(entriesPath, 'utf8') : '';
    const leaves = existsSync(leavesPath) ? readFileSync(leavesPath) : Buffer.alloc(0);

    let goodLength = 0; // bytes of entries.jsonl that hold complete lines; a torn last line (no newline) is dropped
    for (const line of text.split('\n').slice(0, -1)) {
      let rec: EntryLine;
      try {
        rec = JSON.parse(line) as EntryLine;
        if (typeof rec.b !== 'string' || !Number.isInteger(rec.t) || !Array.isArray(rec.k)) throw new Error('bad record');
      } catch {
        throw new Error(`${entriesPath} has a damaged line ${this.entries.length + 1}: the log directory is damaged`);
      }
      const body = Buffer.from(rec.b, 'base64');
      const entry: StoredEntry = { index: this.entries.length, body, integratedTime: rec.t, leafHash: leafHash(body), indexKeys: rec.k };
      const i = entry.index;
      if (leaves.length >= (i + 1) * 32 && !leaves.subarray(i * 32, (i + 1) * 32).equals(entry.leafHash)) {
        throw new Error(`${leavesPath} does not match ${entriesPath} at entry ${i}: the log directory is damaged`);
      }
      this.remember(entry);
      goodLength += Buffer.byteLength(line, 'utf8') + 1;
    }

    this.entriesFd = openSync(entriesPath, 'a+', 0o600);
    ftruncateSync(this.entriesFd, goodLength);
    this.leavesFd = openSync(leavesPath, 'a+', 0o600);
    const stored = Math.min(Math.floor(leaves.length / 32), this.entries.length);
    ftruncateSync(this.leavesFd, stored * 32);
    for (let i = stored; i < this.entries.length; i++) writeSync(this.leavesFd, this.entries[i].leafHash);
  }

  static open(dir: string): LogStore {
    return new LogStore(dir);
  }

  private remember(e: StoredEntry): void {
    this.entries.push(e);
    this.tree.appendLeafHash(e.leafHash);
    this.byLeaf.set(e.leafHash.toString('hex'), e);
    for (const k of e.indexKeys) {
      const list = this.byKey.get(k);
      if (list) list.push(e);
      else this.byKey.set(k, [e]);
    }
  }

  get size(): number {
    return this.entries.length;
  }

  at(index: number): StoredEntry | undefined {
    return Number.isInteger(index) && index >= 0 ? this.entries[index] : undefined;
  }

  byLeafHash(hex: string): StoredEntry | undefined {
    return this.byLeaf.get(hex.toLowerCase());
  }

  withKey(key: string): StoredEntry[] {
    return this.byKey.get(key) ?? [];
  }

  /**
   * Append a canonical body (synchronously, so concurrent requests are
   * serialized by the event loop). Returns the existing entry instead when
   * the body is already logged.
   */
  append(body: Buffer, integratedTime: number, indexKeys: string[]): { entry: StoredEntry; created: boolean } {
    const lh = leafHash(body);
    const existing = this.byLeaf.get(lh.toString('hex'));
    if (existing) return { entry: existing, created: false };
    const line: EntryLine = { t: integratedTime, b: body.toString('base64'), k: indexKeys };
    writeSync(this.entriesFd, JSON.stringify(line) + '\n');
    writeSync(this.leavesFd, lh);
    const entry: StoredEntry = { index: this.entries.length, body, integratedTime, leafHash: lh, indexKeys };
    this.remember(entry);
    return { entry, created: true };
  }

  close(): void {
    closeSync(this.entriesFd);
    closeSync(this.leavesFd);
  }
}

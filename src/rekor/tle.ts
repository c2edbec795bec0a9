/**
 * dev.sigstore.rekor.v1.TransparencyLogEntry: the log entry gitsign stores in
 * the CMS unsigned attribute 1.3.6.1.4.1.57264.3.1 (binary protobuf, with
 * canonicalized_body cleared). Field numbers from protobuf-specs
 * sigstore_rekor.proto; int64 values are bigint.
 */
import { GitsealError } from '../errors.js';
import { decodeFields, pb, type Field } from '../util/protobuf.js';

export interface InclusionProof {
  /** Index inside the tree (shard-local), not the global log index. */
  logIndex: bigint;
  rootHash: Buffer;
  treeSize: bigint;
  hashes: Buffer[];
  /** Signed note text. */
  checkpoint: string;
}

export interface TransparencyLogEntry {
  logIndex: bigint;
  /** SHA-256 of the log's DER public key (v1), or the C2SP key id (v2). */
  logId: Buffer;
  kind: string;
  version: string;
  /** Unix seconds; 0 for Rekor v2. Trust only after the SET verifies. */
  integratedTime: bigint;
  /** Signed entry timestamp (v1 only). */
  signedEntryTimestamp?: Buffer;
  inclusionProof?: InclusionProof;
  canonicalizedBody?: Buffer;
}

const MAX_HASHES = 64;

function one(fields: Field[], no: number): Field | undefined {
  // protobuf: last one wins for singular fields.
  let f: Field | undefined;
  for (const x of fields) if (x.no === no) f = x;
  return f;
}

function int(fields: Field[], no: number, what: string): bigint {
  const f = one(fields, no);
  if (!f) return 0n;
  if (f.wire !== 0) throw new GitsealError('BAD_PROTOBUF', `log entry field ${what} has the wrong type`);
  // int64: reinterpret as signed
  return f.int! >= 1n << 63n ? f.int! - (1n << 64n) : f.int!;
}

function bytes(fields: Field[], no: number, what: string): Buffer | undefined {
  const f = one(fields, no);
  if (!f) return undefined;
  if (f.wire !== 2) throw new GitsealError('BAD_PROTOBUF', `log entry field ${what} has the wrong type`);
  return f.bytes!;
}

export function decodeTle(buf: Buffer): TransparencyLogEntry {
  const f = decodeFields(buf);
  const logIdMsg = bytes(f, 2, 'log_id');
  const kv = bytes(f, 3, 'kind_version');
  const promise = bytes(f, 5, 'inclusion_promise');
  const proof = bytes(f, 6, 'inclusion_proof');
  const kvf = kv ? decodeFields(kv) : [];
  const entry: TransparencyLogEntry = {
    logIndex: int(f, 1, 'log_index'),
    logId: (logIdMsg && bytes(decodeFields(logIdMsg), 1, 'log_id.key_id')) || Buffer.alloc(0),
    kind: (bytes(kvf, 1, 'kind') ?? Buffer.alloc(0)).toString('utf8'),
    version: (bytes(kvf, 2, 'version') ?? Buffer.alloc(0)).toString('utf8'),
    integratedTime: int(f, 4, 'integrated_time'),
  };
  if (promise) entry.signedEntryTimestamp = bytes(decodeFields(promise), 1, 'signed_entry_timestamp');
  if (proof) {
    const pf = decodeFields(proof);
    const hashes = pf.filter((x) => x.no === 4).map((x) => {
      if (x.wire !== 2) throw new GitsealError('BAD_PROTOBUF', 'inclusion proof hash has the wrong type');
      return x.bytes!;
    });
    if (hashes.length > MAX_HASHES) throw new GitsealError('BAD_PROTOBUF', 'inclusion proof has too many hashes');
    const cp = bytes(pf, 5, 'checkpoint');
    entry.inclusionProof = {
      logIndex: int(pf, 1, 'inclusion_proof.log_index'),
      rootHash: bytes(pf, 2, 'root_hash') ?? Buffer.alloc(0),
      treeSize: int(pf, 3, 'tree_size'),
      hashes,
      checkpoint: cp ? (bytes(decodeFields(cp), 1, 'checkpoint.envelope') ?? Buffer.alloc(0)).toString('utf8') : '',
    };
  }
  const body = bytes(f, 7, 'canonicalized_body');
  if (body && body.length) entry.canonicalizedBody = body;
  return entry;
}

/** Encode in field order, omitting defaults, as Go's proto.Marshal does. */
export function encodeTle(e: TransparencyLogEntry): Buffer {
  const parts: Buffer[] = [];
  if (e.logIndex !== 0n) parts.push(pb.varint(1, e.logIndex));
  parts.push(pb.bytes(2, pb.bytes(1, e.logId)));
  parts.push(pb.bytes(3, Buffer.concat([pb.string(1, e.kind), pb.string(2, e.version)])));
  if (e.integratedTime !== 0n) parts.push(pb.varint(4, e.integratedTime));
  if (e.signedEntryTimestamp) parts.push(pb.bytes(5, pb.bytes(1, e.signedEntryTimestamp)));
  if (e.inclusionProof) {
    const p = e.inclusionProof;
    const inner: Buffer[] = [];
    if (p.logIndex !== 0n) inner.push(pb.varint(1, p.logIndex));
    inner.push(pb.bytes(2, p.rootHash));
    if (p.treeSize !== 0n) inner.push(pb.varint(3, p.treeSize));
    for (const h of p.hashes) inner.push(pb.bytes(4, h));
    inner.push(pb.bytes(5, pb.string(1, p.checkpoint)));
    parts.push(pb.bytes(6, Buffer.concat(inner)));
  }
  if (e.canonicalizedBody && e.canonicalizedBody.length) parts.push(pb.bytes(7, e.canonicalizedBody));
  return Buffer.concat(parts);
}

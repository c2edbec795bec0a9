/**
 * Checkpoints as signed notes (C2SP signed-note, tlog-checkpoint; Rekor v1
 * pkg/util/signed_note.go): the note body is
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension>\n]*
 * then a blank line and one or more lines "— <name> <base64(keyhint(4) || sig)>".
 */
import { createHash, hash, verify } from 'node:crypto';
import { GitsealError } from '../errors.js';
import type { TransparencyLogKey } from '../trust/trusted-root.js';
import { publicKeyFromSpki } from '../x509/signature.js';

const MAX_NOTE = 16 * 1024;
const MAX_SIGS = 32;

export interface NoteSignature {
  name: string;
  keyHint: Buffer;
  signature: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
  extensions: string[];
  /** The signed text (through the newline before the blank separator line). */
  note: Buffer;
  signatures: NoteSignature[];
}

function bad(msg: string): never {
  throw new GitsealError('TLOG', `invalid checkpoint: ${msg}`);
}

export function parseCheckpoint(text: string): Checkpoint {
  if (text.length > MAX_NOTE) bad('too large');
  const sep = text.indexOf('\n\n');
  if (sep < 0) bad('no signature block');
  const body = text.slice(0, sep + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) bad('missing origin, size or root hash');
  const [origin, sizeStr, rootStr, ...extensions] = lines;
  if (!origin) bad('empty origin');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeStr)) bad('bad tree size');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(rootStr)) bad('bad root hash');
  const sigText = text.slice(sep + 2);
  if (!sigText.endsWith('\n')) bad('signature block must end with a newline');
  const signatures: NoteSignature[] = [];
  for (const line of sigText.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) bad('malformed signature line');
    const raw = Buffer.from(m[2], 'base64');
    if (raw.length < 5) bad('signature too short');
    signatures.push({ name: m[1], keyHint: raw.subarray(0, 4), signature: raw.subarray(4) });
    if (signatures.length > MAX_SIGS) bad('too many signatures');
  }
  return {
    origin,
    size: BigInt(sizeStr),
    rootHash: Buffer.from(rootStr, 'base64'),
    extensions,
    note: Buffer.from(body, 'utf8'),
    signatures,
  };
}

/**
 * The 4-byte key hint a log key signs under. ECDSA/RSA (Rekor v1 style):
 * SHA-256(SPKI)[:4]; Ed25519 (C2SP signed-note): SHA-256(name || "\n" || 0x01 || key)[:4].
 */
export function keyHint(log: TransparencyLogKey, name: string): Buffer {
  if (log.checkpointKeyId) return log.checkpointKeyId.subarray(0, 4);
  const key = publicKeyFromSpki(log.publicKey);
  if (key.asymmetricKeyType === 'ed25519') return c2spEd25519KeyId(log, name).subarray(0, 4);
  // Once per key bytes (every entry of a history is checked against the same log key).
  const c = hintCache.get(log.publicKey);
  if (c && c.key.equals(log.publicKey)) return Buffer.from(c.hint);
  const hint = hash('sha256', log.publicKey, 'buffer').subarray(0, 4);
  hintCache.set(log.publicKey, { key: Buffer.from(log.publicKey), hint });
  return Buffer.from(hint);
}

/**
 * SHA-256(SPKI)[:4] by the key's Buffer (a trusted root's keys live as long as the root), used
 * only while the bytes are still those it was computed from.
 */
const hintCache = new WeakMap<Buffer, { key: Buffer; hint: Buffer }>();

/** C2SP signed-note key id of an Ed25519 key under `name`: SHA-256(name || 0x0A || 0x01 || key). */
function c2spEd25519KeyId(log: TransparencyLogKey, name: string): Buffer {
  const raw = log.publicKey.subarray(log.publicKey.length - 32);
  return createHash('sha256').update(Buffer.concat([Buffer.from(name + '\n', 'utf8'), Buffer.from([1]), raw])).digest();
}

/**
 * True when `origin` is the name of `log` as the trusted root pins it (C2SP tlog-checkpoint: the
 * origin "MUST be checked" against the log the client expects). For an Ed25519 log whose id is
 * its C2SP key id, the id commits to the name: SHA-256(origin || 0x0A || 0x01 || key) must be it
 * (the public-good log2025-1's logId is exactly that for "log2025-1.rekor.sigstore.dev"). Else the
 * host of its baseUrl, as sigstore-go derives a Rekor v2 log's name (with or without the port).
 */
export function isLogOrigin(log: TransparencyLogKey, origin: string): boolean {
  const key = publicKeyFromSpki(log.publicKey);
  if (key.asymmetricKeyType === 'ed25519') {
    const id = c2spEd25519KeyId(log, origin);
    if (id.equals(log.checkpointKeyId ?? log.logId)) return true;
  }
  let url: URL;
  try {
    url = new URL(log.baseUrl);
  } catch {
    return false;
  }
  return origin !== '' && (origin === url.host || origin === url.hostname);
}

export interface CheckpointOptions {
  /**
   * C2SP checkpoint (Rekor v2, rekor-tiles): the origin line must be the log's name
   * (isLogOrigin) and the accepted signature line must carry that name, its key hint computed
   * from it. Without this a checkpoint of another log that shares the key — another shard, a
   * staging log — would prove inclusion in a tree that no monitor of this log watches.
   */
  c2sp?: boolean;
}

/** Parse `text` and require a valid signature by `log`'s key; returns the checkpoint. */
export function verifyCheckpoint(text: string, log: TransparencyLogKey, o: CheckpointOptions = {}): Checkpoint {
  const cp = parseCheckpoint(text);
  if (o.c2sp && !isLogOrigin(log, cp.origin)) {
    throw new GitsealError('TLOG', `the checkpoint is for the log ${JSON.stringify(cp.origin.slice(0, 80))}, not the trusted log ${log.baseUrl || '(no base URL)'}`);
  }
  const key = publicKeyFromSpki(log.publicKey);
  const ed = key.asymmetricKeyType === 'ed25519';
  for (const s of cp.signatures) {
    if (o.c2sp && s.name !== cp.origin) continue;
    if (!s.keyHint.equals(keyHint(log, s.name))) continue;
    let ok = false;
    try {
      ok = verify(ed ? null : 'sha256', cp.note, key, s.signature);
    } catch {
      ok = false;
    }
    if (ok) return cp;
  }
  throw new GitsealError('TLOG', 'the checkpoint is not signed by the trusted transparency log key');
}

/**
 * Rekor v1 client for the signing path: log a hashedrekord v0.0.1 entry
 * (`POST /api/v1/log/entries`, rekor openapi.yaml; sigstore-services.md §2.1)
 * over sha256(DER signed attributes), the CMS signature and the leaf — what
 * gitsign's offline mode logs — and turn the answer into the
 * TransparencyLogEntry that goes into the CMS. On 409 (already logged) the
 * existing entry is fetched from the Location header.
 */
import { GitsealError } from '../errors.js';
import { failStatus, parseJsonBody, postJson, request, type FetchLike, type HttpOptions } from '../util/http.js';
import { canonicalize } from '../util/canonical-json.js';
import { canonicalBody, hashedRekordV001 } from './body.js';
import type { TransparencyLogEntry } from './tle.js';

export interface UploadOptions {
  rekorURL: string;
  /** sha256 of the DER signed attributes. */
  digest: Buffer;
  signature: Buffer;
  leaf: Buffer;
  fetch?: FetchLike;
  http?: Partial<HttpOptions>;
}

interface LogEntryJson {
  body?: unknown;
  integratedTime?: unknown;
  logID?: unknown;
  logIndex?: unknown;
  verification?: {
    signedEntryTimestamp?: unknown;
    inclusionProof?: { logIndex?: unknown; rootHash?: unknown; treeSize?: unknown; hashes?: unknown; checkpoint?: unknown };
  };
}

function bad(what: string): never {
  throw new GitsealError('REKOR', `Rekor: the log entry in the response is malformed (${what})`);
}

function int(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return bad(what);
}

function hex(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(v)) return bad(what);
  return Buffer.from(v, 'hex');
}

function b64(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0 || v.length === 0) return bad(what);
  return Buffer.from(v, 'base64');
}

/**
 * Convert Rekor's `{ "<uuid>": LogEntry }` answer into a TransparencyLogEntry
 * (with canonicalizedBody set; strip it before embedding, as gitsign does).
 * Requires the logged body to be exactly `expectedBody`.
 */
export function entryFromResponse(json: unknown, expectedBody: Buffer): TransparencyLogEntry {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('not an object');
  const values = Object.values(json as Record<string, LogEntryJson>);
  if (values.length !== 1) bad(`${values.length} entries instead of 1`);
  const e = values[0];
  if (typeof e !== 'object' || e === null || Array.isArray(e)) bad('entry is not an object');
  const body = b64(e.body, 'body');
  // Rekor stores its own canonical form; compare canonically so key order cannot matter.
  let logged: string;
  try {
    logged = canonicalize(JSON.parse(body.toString('utf8')));
  } catch {
    return bad('body is not JSON');
  }
  if (logged !== expectedBody.toString('utf8')) {
    throw new GitsealError('REKOR', 'Rekor: the logged entry is not the one we sent');
  }
  const v = e.verification;
  if (!v) bad('no verification');
  const p = v.inclusionProof;
  if (!p) bad('no inclusion proof');
  if (!Array.isArray(p.hashes)) bad('inclusionProof.hashes');
  if (typeof p.checkpoint !== 'string' || !p.checkpoint) bad('inclusionProof.checkpoint');
  return {
    logIndex: int(e.logIndex, 'logIndex'),
    logId: hex(e.logID, 'logID'),
    kind: 'hashedrekord',
    version: '0.0.1',
    integratedTime: int(e.integratedTime, 'integratedTime'),
    signedEntryTimestamp: b64(v.signedEntryTimestamp, 'signedEntryTimestamp'),
    inclusionProof: {
      // Shard-local index: the Merkle proof is within this tree, not the global log.
      logIndex: int(p.logIndex, 'inclusionProof.logIndex'),
      rootHash: hex(p.rootHash, 'inclusionProof.rootHash'),
      treeSize: int(p.treeSize, 'inclusionProof.treeSize'),
      hashes: (p.hashes as unknown[]).map((h) => hex(h, 'inclusionProof.hashes')),
      checkpoint: p.checkpoint,
    },
    canonicalizedBody: body,
  };
}

/** Log the signature; returns the entry with its proof (body included). */
export async function uploadHashedRekord(o: UploadOptions): Promise<TransparencyLogEntry> {
  const http: HttpOptions = { service: 'Rekor', code: 'REKOR', fetch: o.fetch, ...o.http };
  const proposed = hashedRekordV001(o.digest, o.signature, o.leaf);
  const expected = canonicalBody(proposed);
  const base = o.rekorURL.replace(/\/+$/, '');
  let res = await postJson(`${base}/api/v1/log/entries`, proposed, http, { 'user-agent': 'gitseal' });
  if (res.status === 409) {
    // Already logged (a retried upload that had succeeded): fetch the existing entry.
    const loc = res.headers.get('location');
    if (!loc) throw new GitsealError('REKOR', 'Rekor: the entry already exists but Rekor did not say where (HTTP 409)');
    const url = new URL(loc, base + '/').toString();
    res = await request(url, { method: 'GET', headers: { 'user-agent': 'gitseal' } }, http);
  }
  if (res.status < 200 || res.status > 299) failStatus(res, http);
  return entryFromResponse(parseJsonBody(res, http), expected);
}

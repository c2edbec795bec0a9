/**
 * Rekor v2 (rekor-tiles) client for the signing path: log the CMS signature
 * as a hashedrekord v0.0.2 entry (`POST /api/v2/log/entries`,
 * sigstore-services.md §2.5) over sha256(DER signed attributes) — the same
 * artifact gitsign's offline mode logs to v1 — and turn the protobuf-JSON
 * TransparencyLogEntry into our TransparencyLogEntry. The server answers only
 * once a checkpoint covers the entry, hence the ≥ 20 s timeout.
 */
import { GitsealError } from '../errors.js';
import { canonicalize } from '../util/canonical-json.js';
import { failStatus, parseJsonBody, postJson, type FetchLike, type HttpOptions } from '../util/http.js';
import { requestTimestamp } from '../tsa/client.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import { verifyRekorV2Entry, verifyTimestampToken } from '../verify/timestamp.js';
import { hashedRekordV002Body } from '../verify/tlog.js';
import type { TransparencyLogEntry } from './tle.js';

export interface UploadV2Input {
  /** sha256 of the DER signed attributes. */
  digest: Buffer;
  /** The CMS SignerInfo signature (DER ECDSA P-256). */
  signature: Buffer;
  /** DER leaf certificate. */
  leafDer: Buffer;
}

export interface UploadV2Options {
  fetch?: FetchLike;
  /** Per attempt, milliseconds; at least 20 s (default 30 s). */
  timeoutMs?: number;
  http?: Partial<HttpOptions>;
}

const MIN_TIMEOUT_MS = 20_000;

function bad(what: string): never {
  throw new GitsealError('REKOR', `Rekor v2: the log entry in the response is malformed (${what})`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what);
  return v as Record<string, unknown>;
}

/** protobuf JSON int64: a decimal string (or a safe number). */
function int64(v: unknown, what: string, optional = false): bigint {
  if (v === undefined && optional) return 0n;
  if (typeof v === 'string' && /^(0|[1-9]\d{0,19})$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return bad(what);
}

/** protobuf JSON bytes: standard or URL-safe base64, padding optional. */
function bytes(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) bad(what);
  return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Convert the protobuf-JSON TransparencyLogEntry; the logged body must be `expectedBody`. */
export function entryFromV2Response(json: unknown, expectedBody: Buffer): TransparencyLogEntry {
  const e = obj(json, 'not an object');
  const kv = obj(e.kindVersion, 'kindVersion');
  if (kv.kind !== 'hashedrekord' || kv.version !== '0.0.2') bad(`kindVersion ${String(kv.kind)} ${String(kv.version)}`);
  const body = bytes(e.canonicalizedBody, 'canonicalizedBody');
  let logged: string;
  try {
    logged = canonicalize(JSON.parse(body.toString('utf8')));
  } catch {
    return bad('canonicalizedBody is not JSON');
  }
  if (logged !== expectedBody.toString('utf8')) throw new GitsealError('REKOR', 'Rekor v2: the logged entry is not the one we sent');
  const p = obj(e.inclusionProof, 'inclusionProof');
  const cp = obj(p.checkpoint, 'inclusionProof.checkpoint');
  if (typeof cp.envelope !== 'string' || !cp.envelope) bad('inclusionProof.checkpoint.envelope');
  if (p.hashes !== undefined && !Array.isArray(p.hashes)) bad('inclusionProof.hashes');
  const logId = bytes(obj(e.logId, 'logId').keyId, 'logId.keyId');
  if (logId.length === 0) bad('logId.keyId');
  return {
    logIndex: int64(e.logIndex, 'logIndex', true),
    logId,
    kind: 'hashedrekord',
    version: '0.0.2',
    integratedTime: int64(e.integratedTime, 'integratedTime', true),
    inclusionProof: {
      logIndex: int64(p.logIndex, 'inclusionProof.logIndex', true),
      rootHash: bytes(p.rootHash, 'inclusionProof.rootHash'),
      treeSize: int64(p.treeSize, 'inclusionProof.treeSize'),
      hashes: ((p.hashes as unknown[] | undefined) ?? []).map((h) => bytes(h, 'inclusionProof.hashes')),
      checkpoint: cp.envelope,
    },
    canonicalizedBody: body,
  };
}

/**
 * Log the signature to the Rekor v2 log at `url` (its base URL, as in the
 * signing config). Returns the entry with canonicalizedBody kept; verify it
 * (verifyRekorV2Entry) and strip the body before embedding, as gitsign does.
 */
export async function uploadV2(url: string, input: UploadV2Input, o: UploadV2Options = {}): Promise<TransparencyLogEntry> {
  const http: HttpOptions = {
    service: 'Rekor v2',
    code: 'REKOR',
    fetch: o.fetch,
    ...o.http,
    timeoutMs: Math.max(MIN_TIMEOUT_MS, o.timeoutMs ?? o.http?.timeoutMs ?? 30_000),
  };
  const request = {
    hashedRekordRequestV002: {
      digest: input.digest.toString('base64'),
      signature: {
        content: input.signature.toString('base64'),
        verifier: { x509Certificate: { rawBytes: input.leafDer.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      },
    },
  };
  const res = await postJson(`${url.replace(/\/+$/, '')}/api/v2/log/entries`, request, http, { 'user-agent': 'gitseal' });
  if (res.status < 200 || res.status > 299) failStatus(res, http);
  return entryFromV2Response(parseJsonBody(res, http), hashedRekordV002Body(input.digest, input.signature, input.leafDer));
}

export interface WitnessV2Options {
  /** Rekor v2 base URL (signing config rekorTlogUrls, majorApiVersion 2). */
  rekorURL: string;
  /** Full RFC 3161 URL (signing config tsaUrls, gitseal.timestampServerURL). */
  tsaURL: string;
  digest: Buffer;
  signature: Buffer;
  leafDer: Buffer;
  trust: TrustedRoot;
  fetch?: FetchLike;
}

export interface WitnessV2Result {
  /** The verified entry, canonicalizedBody kept (strip it before embedding). */
  entry: TransparencyLogEntry;
  /** DER TimeStampToken for the unsigned attribute 1.2.840.113549.1.9.16.2.14. */
  tst: Buffer;
  /** The TSA's verified time: the only trusted signing time a v2 entry has. */
  time: Date;
  tsa: string;
}

/**
 * Everything a Rekor v2 signature needs, checked as a verifier will check it:
 * an RFC 3161 timestamp over the signature (v2 entries carry no time) and the
 * v2 log entry with its Ed25519 checkpoint, both against `trust`.
 */
export async function witnessV2(o: WitnessV2Options): Promise<WitnessV2Result> {
  const tst = await requestTimestamp(o.tsaURL, o.signature, { fetch: o.fetch });
  const { time, tsa } = verifyTimestampToken(tst, o.signature, o.trust);
  const entry = await uploadV2(o.rekorURL, { digest: o.digest, signature: o.signature, leafDer: o.leafDer }, { fetch: o.fetch });
  verifyRekorV2Entry(entry, { digest: o.digest, signature: o.signature, leafDer: o.leafDer }, o.trust, time);
  return { entry, tst, time, tsa };
}

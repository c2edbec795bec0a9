/**
 * Sigstore TrustedRoot (protobuf-specs sigstore_trustroot.proto, JSON form,
 * media types v0.1 and v0.2) → the plain `TrustedRoot` the verifier uses:
 * DER bytes as Buffers, dates as Date, log ids as raw bytes.
 */
import { createHash } from 'node:crypto';
import { GitsealError } from '../errors.js';

export interface ValidFor {
  start: Date;
  end?: Date;
}

export interface CertificateAuthority {
  uri: string;
  /** DER certificates: intermediates…, root last. */
  certChain: Buffer[];
  validFor: ValidFor;
}

export interface TransparencyLogKey {
  baseUrl: string;
  /** v1: SHA-256 of the DER key; Rekor v2: the C2SP key id. */
  logId: Buffer;
  /** v0.2 roots: the key id checkpoints are signed under, when it differs from logId. */
  checkpointKeyId?: Buffer;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
  /** e.g. PKIX_ECDSA_P256_SHA_256, PKIX_ED25519. */
  keyDetails: string;
  validFor: ValidFor;
}

export interface TimestampAuthority {
  uri: string;
  certChain: Buffer[];
  validFor: ValidFor;
}

export interface TrustedRoot {
  mediaType: string;
  certificateAuthorities: CertificateAuthority[];
  tlogs: TransparencyLogKey[];
  ctlogs: TransparencyLogKey[];
  timestampAuthorities: TimestampAuthority[];
  /** Lowercase hex SHA-256 of the JSON file. */
  digest: string;
}

const MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
  'application/vnd.dev.sigstore.trustedroot+json;version=0.2',
]);

const MAX_ROOT_BYTES = 1024 * 1024;

function bad(msg: string): never {
  throw new GitsealError('TRUST_ROOT', `invalid trusted root: ${msg}`);
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  return v as Json;
}

function arr(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(`${what} must be an array`);
  return v;
}

function b64(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) bad(`${what} must be base64`);
  return Buffer.from(v, 'base64');
}

function date(v: unknown, what: string): Date {
  if (typeof v !== 'string') bad(`${what} must be an RFC 3339 time`);
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) bad(`${what} is not a valid time`);
  return d;
}

function validFor(v: unknown, what: string): ValidFor {
  const o = obj(v, what);
  const out: ValidFor = { start: date(o.start, `${what}.start`) };
  if (o.end !== undefined) out.end = date(o.end, `${what}.end`);
  return out;
}

function log(v: unknown, what: string): TransparencyLogKey {
  const o = obj(v, what);
  const pk = obj(o.publicKey, `${what}.publicKey`);
  const out: TransparencyLogKey = {
    baseUrl: typeof o.baseUrl === 'string' ? o.baseUrl : '',
    logId: b64(obj(o.logId, `${what}.logId`).keyId, `${what}.logId.keyId`),
    publicKey: b64(pk.rawBytes, `${what}.publicKey.rawBytes`),
    keyDetails: typeof pk.keyDetails === 'string' ? pk.keyDetails : '',
    validFor: validFor(pk.validFor ?? { start: '1970-01-01T00:00:00Z' }, `${what}.publicKey.validFor`),
  };
  if (o.checkpointKeyId !== undefined) {
    out.checkpointKeyId = b64(obj(o.checkpointKeyId, `${what}.checkpointKeyId`).keyId, `${what}.checkpointKeyId.keyId`);
  }
  return out;
}

function chain(v: unknown, what: string): Buffer[] {
  const certs = arr(obj(v, what).certificates, `${what}.certificates`).map((c, i) =>
    b64(obj(c, `${what}.certificates[${i}]`).rawBytes, `${what}.certificates[${i}].rawBytes`),
  );
  if (certs.length === 0) bad(`${what} is empty`);
  return certs;
}

/** Build the TrustedRoot from an already-parsed JSON value and the digest of its file. */
export function trustedRootFromJson(value: unknown, digest: string): TrustedRoot {
  const o = obj(value, 'trusted root');
  if (typeof o.mediaType !== 'string' || !MEDIA_TYPES.has(o.mediaType)) {
    bad(`unsupported media type ${JSON.stringify(o.mediaType)}`);
  }
  return {
    mediaType: o.mediaType,
    tlogs: arr(o.tlogs, 'tlogs').map((t, i) => log(t, `tlogs[${i}]`)),
    ctlogs: arr(o.ctlogs, 'ctlogs').map((t, i) => log(t, `ctlogs[${i}]`)),
    certificateAuthorities: arr(o.certificateAuthorities, 'certificateAuthorities').map((c, i) => {
      const ca = obj(c, `certificateAuthorities[${i}]`);
      return {
        uri: typeof ca.uri === 'string' ? ca.uri : '',
        certChain: chain(ca.certChain, `certificateAuthorities[${i}].certChain`),
        validFor: validFor(ca.validFor, `certificateAuthorities[${i}].validFor`),
      };
    }),
    timestampAuthorities: arr(o.timestampAuthorities, 'timestampAuthorities').map((c, i) => {
      const ta = obj(c, `timestampAuthorities[${i}]`);
      return {
        uri: typeof ta.uri === 'string' ? ta.uri : '',
        certChain: chain(ta.certChain, `timestampAuthorities[${i}].certChain`),
        validFor: validFor(ta.validFor, `timestampAuthorities[${i}].validFor`),
      };
    }),
    digest,
  };
}

/** Parse TrustedRoot JSON text or bytes. */
export function parseTrustedRoot(json: string | Buffer): TrustedRoot {
  const buf = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  if (buf.length > MAX_ROOT_BYTES) throw new GitsealError('INPUT_TOO_LARGE', 'trusted root larger than 1 MiB');
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new GitsealError('TRUST_ROOT', 'invalid trusted root: not JSON', e);
  }
  return trustedRootFromJson(value, createHash('sha256').update(buf).digest('hex'));
}

/** True when `at` lies inside `v` (start inclusive, end inclusive). */
export function inValidity(v: ValidFor, at: Date): boolean {
  const t = at.getTime();
  return t >= v.start.getTime() && (v.end === undefined || t <= v.end.getTime());
}

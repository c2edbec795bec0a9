/**
 * The gitseal agent wire protocol (version 1).
 *
 * Frame: a 4-byte big-endian length N (1 ≤ N ≤ MAX_FRAME), then N bytes of UTF-8 JSON holding
 * one object. Every message carries `v: 1` and the request `id` it belongs to.
 *
 * Requests (client → agent):
 *   sign        { identity, config, signedAttrs (base64 DER SET ≤ 64 KiB), repo, token?, progress? }
 *   signPayload { identity, config, signing, trustEnv, payload (base64 ≤ 512 KiB), repo, token?, progress? }
 *   status {}
 *   stop   {}
 * Responses (agent → client): `{ v, id, result }` or `{ v, id, error: { code, message } }`.
 * With `progress: true` the agent first sends up to MAX_PROGRESS frames `{ v, id, progress }`,
 * each one line for the person ("Requesting a certificate from …", "Logging the signature to
 * Rekor (…)…"), as the work happens, so a slow Fulcio or Rekor does not leave the terminal
 * blank; then the one response. A client that does not ask never gets them (an older client
 * reads exactly one frame), and an older agent refuses the field (BAD_REQUEST), after which the
 * client asks again without it.
 *
 * `signPayload` is the whole signature: the agent builds the signed attributes, signs, logs the
 * signature to Rekor (and the TSA), checks the entry against the trusted root the client names
 * (`config.trustedRoot`, `signing.fulcioRoot` and the trust variables of the client's
 * environment in `trustEnv`) and answers with the PEM CMS and what git's SIG_CREATED line needs.
 * A warm agent has its HTTP connections, code and trusted root ready, so git's per-commit
 * process does no cryptography and no network I/O at all (issue "Speed", P3). The answer
 * carries no key material either.
 *
 * Design rule: no operation returns key material, and the validators below reject every field
 * they do not know, so a response that carried a key (or anything else) would not parse. The
 * only secret that ever crosses the socket is an OIDC token, and only client → agent.
 *
 * Everything here is pure: bytes in, typed objects out, GitsealError('AGENT', …) on anything
 * malformed.
 */
import { GitsealError } from '../errors.js';

export const PROTOCOL_VERSION = 1;
/** Upper bound of one frame's JSON (bytes). */
export const MAX_FRAME = 1024 * 1024;
/** Upper bound of the DER signed attributes a client may ask the agent to sign. */
export const MAX_SIGNED_ATTRS = 64 * 1024;
/** Upper bound of a payload sent with signPayload (larger ones are signed by the client's own path). */
export const MAX_PAYLOAD = 512 * 1024;
/** Upper bound of the PEM a signPayload answer may carry. */
export const MAX_PEM = 256 * 1024;
/** Upper bound of any string field that is not base64 payload (URLs, paths, e-mails, ids). */
export const MAX_STRING = 4096;
/** An OIDC token forwarded to the agent (a JWT; same bound as src/oidc/jwt.ts). */
export const MAX_TOKEN = 64 * 1024;
/** Progress frames one request may get, and the length of each line. */
export const MAX_PROGRESS = 32;
export const MAX_PROGRESS_LINE = 500;
const MAX_CHAIN = 8;
const MAX_CERT = 32 * 1024;
const MAX_IDENTITIES = 256;

/** What identifies one cached credential: the same identity in the same Sigstore instance. */
export interface IdentityKey {
  fulcioURL: string;
  issuer: string;
  clientID: string;
  connectorID?: string;
  /** git's user.email of the requesting repository (different repos may sign as different people). */
  email?: string;
}

/** The part of GitsealConfig the agent needs to obtain a credential on the client's behalf. */
export interface AgentConfig {
  fulcioURL: string;
  rekorURL: string;
  issuer: string;
  clientID: string;
  connectorID?: string;
  redirectURL?: string;
  trustedRoot?: string;
  userEmail?: string;
}

export interface SignRequest {
  v: 1;
  id: number;
  op: 'sign';
  identity: IdentityKey;
  config: AgentConfig;
  /** DER SET of CMS signed attributes (RFC 5652 §5.4), the exact bytes ECDSA signs. */
  signedAttrs: Buffer;
  /** Absolute path of the requesting repository, for the agent's log only. */
  repo: string;
  /** An identity token the client already holds (env, token cache, fresh login). */
  token?: string;
  /** Send progress frames before the response. */
  progress?: boolean;
}
export interface StatusRequest {
  v: 1;
  id: number;
  op: 'status';
}
export interface StopRequest {
  v: 1;
  id: number;
  op: 'stop';
}
/** What a whole signature needs beyond AgentConfig: src/sign/sign-payload.ts's options. */
export interface PayloadSigning {
  rekorVersion: 1 | 2;
  timestampServerURL?: string;
  matchCommitter: boolean;
  /** gitsign.fulcioRoot / gitseal.fulcioRoot, absolute. */
  fulcioRoot?: string;
  /** gitsign.timestampCertChain (or its variables), absolute: the TSA chain the entry is checked against. */
  timestampCertChain?: string;
}

/** The environment variables the trusted root is chosen by (src/trust/load.ts), paths absolute. */
export const TRUST_ENV_NAMES = [
  'GITSEAL_TRUSTED_ROOT',
  'GITSIGN_FULCIO_ROOT',
  'SIGSTORE_FULCIO_ROOT',
  'SIGSTORE_ROOT_FILE',
  'SIGSTORE_REKOR_PUBLIC_KEY',
  'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
  'SIGSTORE_TSA_CERTIFICATE_FILE',
  'TUF_ROOT',
  'XDG_CACHE_HOME',
  'HOME',
] as const;

export interface SignPayloadRequest {
  v: 1;
  id: number;
  op: 'signPayload';
  identity: IdentityKey;
  config: AgentConfig;
  signing: PayloadSigning;
  trustEnv: Record<string, string>;
  /** The bytes git asked to sign (commit or tag object without its signature). */
  payload: Buffer;
  repo: string;
  token?: string;
  /** Send progress frames before the response. */
  progress?: boolean;
}

/** A finished signature: what `git commit -S` reads from the signing program. */
export interface PayloadSignResult {
  /** `-----BEGIN SIGNED MESSAGE-----` armour. */
  pem: string;
  /** SIG_CREATED: OpenPGP public-key and hash algorithm numbers, signing time (s), leaf SHA-1. */
  pk: number;
  hash: number;
  time: number;
  fingerprint: string;
  logIndex: string;
  rekorURL: string;
  /** Trusted-root warnings a person should see (ignored variables, a damaged TUF cache). */
  warnings: string[];
}

export type AgentRequest = SignRequest | SignPayloadRequest | StatusRequest | StopRequest;

export interface SignResult {
  /** ECDSA-P256-SHA256 signature, DER (RFC 3279 §2.2.3 Ecdsa-Sig-Value). */
  signature: Buffer;
  /** DER certificates, leaf first. */
  chain: Buffer[];
}
export interface HeldIdentity {
  identity: IdentityKey;
  /** The certificate's SAN (e-mail or URI) and OIDC issuer. */
  subject: string;
  certIssuer: string;
  secondsLeft: number;
  signatures: number;
}
export interface StatusResult {
  pid: number;
  version: string;
  uptimeSeconds: number;
  socket: string;
  identities: HeldIdentity[];
}
export interface StopResult {
  stopping: true;
}

/**
 * Error codes the agent answers with. NEED_TOKEN is not a failure: the agent holds no valid
 * certificate and no usable token for this identity, and the client (which owns the terminal)
 * should obtain one and ask again.
 */
export type AgentErrorCode = 'NEED_TOKEN' | 'BAD_REQUEST' | 'VERSION' | 'TOO_LARGE' | 'BUSY' | 'FAILED' | 'ABORTED' | 'INTERNAL';
const ERROR_CODES: readonly AgentErrorCode[] = ['NEED_TOKEN', 'BAD_REQUEST', 'VERSION', 'TOO_LARGE', 'BUSY', 'FAILED', 'ABORTED', 'INTERNAL'];
/**
 * ABORTED (signPayload only): the key signed, but the signature could not be completed — Rekor
 * or the TSA failed, the entry did not verify, the identity broke gitseal.matchCommitter. The
 * same would happen anywhere else, so the client reports it (one line, exit 1) and does not
 * retry with a local credential. Every other error lets the client fall back to its own path.
 */

export interface AgentError {
  code: AgentErrorCode;
  message: string;
}
export type AgentResponse =
  | { v: 1; id: number | null; result: unknown; error?: undefined }
  | { v: 1; id: number | null; error: AgentError; result?: undefined };

// ------------------------------------------------------------------ framing

/** Encode one JSON object as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  if (json.length === 0 || json.length > MAX_FRAME) {
    throw new GitsealError('AGENT', `agent message of ${json.length} bytes exceeds the ${MAX_FRAME}-byte frame limit`);
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(json.length, 0);
  return Buffer.concat([head, json]);
}

/**
 * Incremental frame splitter for a byte stream. `push` returns the complete frames' JSON texts
 * (undecoded) and keeps any partial tail. Throws on a length of 0 or above `max` before buffering
 * the body, so a peer cannot make us allocate more than one frame.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly max = MAX_FRAME) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const n = this.buf.readUInt32BE(0);
      if (n === 0) throw new GitsealError('AGENT', 'agent frame has length 0');
      if (n > this.max) throw new GitsealError('AGENT', `agent frame of ${n} bytes exceeds the ${this.max}-byte limit`);
      if (this.buf.length < 4 + n) break;
      out.push(this.buf.subarray(4, 4 + n));
      this.buf = this.buf.subarray(4 + n);
    }
    return out;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Parse a frame body as a JSON object (arrays, primitives and invalid UTF-8 are rejected). */
export function decodeFrameJson(body: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new GitsealError('AGENT', 'agent frame is not valid UTF-8');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new GitsealError('AGENT', 'agent frame is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new GitsealError('AGENT', 'agent frame is not a JSON object');
  }
  return v as Record<string, unknown>;
}

// --------------------------------------------------------------- validation

/** A request that failed validation; `id` is echoed when it could be read. */
export class ProtocolError extends GitsealError {
  constructor(
    readonly agentCode: AgentErrorCode,
    message: string,
    readonly id: number | null,
  ) {
    super('AGENT', message);
  }
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], what: string, id: number | null): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ProtocolError('BAD_REQUEST', `${what}: unknown field ${JSON.stringify(k.slice(0, 40))}`, id);
  }
}

function str(o: Record<string, unknown>, k: string, what: string, id: number | null, max = MAX_STRING): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) throw new ProtocolError('BAD_REQUEST', `${what}: "${k}" must be a non-empty string`, id);
  if (v.length > max) throw new ProtocolError('TOO_LARGE', `${what}: "${k}" is longer than ${max} characters`, id);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new ProtocolError('BAD_REQUEST', `${what}: "${k}" contains control characters`, id);
  return v;
}

function optStr(o: Record<string, unknown>, k: string, what: string, id: number | null, max = MAX_STRING): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, what, id, max);
}

function obj(v: unknown, what: string, id: number | null): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('BAD_REQUEST', `${what} must be an object`, id);
  return v as Record<string, unknown>;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (RFC 4648 §4): canonical padding, no whitespace, round-trips. */
export function decodeBase64Strict(s: unknown, what: string, maxBytes: number, id: number | null = null): Buffer {
  if (typeof s !== 'string' || s.length === 0) throw new ProtocolError('BAD_REQUEST', `${what} must be non-empty base64`, id);
  if (s.length > Math.ceil(maxBytes / 3) * 4) throw new ProtocolError('TOO_LARGE', `${what} is larger than ${maxBytes} bytes`, id);
  if (!B64.test(s)) throw new ProtocolError('BAD_REQUEST', `${what} is not canonical base64`, id);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw new ProtocolError('BAD_REQUEST', `${what} is not canonical base64`, id);
  if (b.length > maxBytes) throw new ProtocolError('TOO_LARGE', `${what} is larger than ${maxBytes} bytes`, id);
  return b;
}

function readEnvelope(o: Record<string, unknown>): number {
  const id = Number.isSafeInteger(o.id) && (o.id as number) >= 0 ? (o.id as number) : null;
  if (o.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('VERSION', `agent protocol version mismatch: this agent speaks v${PROTOCOL_VERSION}, got ${JSON.stringify(o.v)?.slice(0, 20)}`, id);
  }
  if (id === null) throw new ProtocolError('BAD_REQUEST', 'request "id" must be a non-negative integer', null);
  return id;
}

function parseIdentity(v: unknown, id: number): IdentityKey {
  const o = obj(v, 'sign.identity', id);
  onlyKeys(o, ['fulcioURL', 'issuer', 'clientID', 'connectorID', 'email'], 'sign.identity', id);
  return {
    fulcioURL: str(o, 'fulcioURL', 'sign.identity', id),
    issuer: str(o, 'issuer', 'sign.identity', id),
    clientID: str(o, 'clientID', 'sign.identity', id),
    connectorID: optStr(o, 'connectorID', 'sign.identity', id),
    email: optStr(o, 'email', 'sign.identity', id),
  };
}

function parseConfig(v: unknown, id: number): AgentConfig {
  const o = obj(v, 'sign.config', id);
  onlyKeys(o, ['fulcioURL', 'rekorURL', 'issuer', 'clientID', 'connectorID', 'redirectURL', 'trustedRoot', 'userEmail'], 'sign.config', id);
  return {
    fulcioURL: str(o, 'fulcioURL', 'sign.config', id),
    rekorURL: str(o, 'rekorURL', 'sign.config', id),
    issuer: str(o, 'issuer', 'sign.config', id),
    clientID: str(o, 'clientID', 'sign.config', id),
    connectorID: optStr(o, 'connectorID', 'sign.config', id),
    redirectURL: optStr(o, 'redirectURL', 'sign.config', id),
    trustedRoot: optStr(o, 'trustedRoot', 'sign.config', id),
    userEmail: optStr(o, 'userEmail', 'sign.config', id),
  };
}

/**
 * The identity key must describe the config it comes with, or a client could file a credential
 * for one Fulcio/issuer under another's key.
 */
function checkIdentityMatches(identity: IdentityKey, config: AgentConfig, id: number): void {
  if (
    identity.fulcioURL !== config.fulcioURL ||
    identity.issuer !== config.issuer ||
    identity.clientID !== config.clientID ||
    identity.connectorID !== config.connectorID ||
    identity.email !== config.userEmail
  ) {
    throw new ProtocolError('BAD_REQUEST', 'sign: identity does not match config', id);
  }
}

function parseSigning(v: unknown, id: number): PayloadSigning {
  const o = obj(v, 'signPayload.signing', id);
  onlyKeys(o, ['rekorVersion', 'timestampServerURL', 'matchCommitter', 'fulcioRoot', 'timestampCertChain'], 'signPayload.signing', id);
  if (o.rekorVersion !== 1 && o.rekorVersion !== 2) throw new ProtocolError('BAD_REQUEST', 'signPayload.signing: "rekorVersion" must be 1 or 2', id);
  if (typeof o.matchCommitter !== 'boolean') throw new ProtocolError('BAD_REQUEST', 'signPayload.signing: "matchCommitter" must be a boolean', id);
  return {
    rekorVersion: o.rekorVersion,
    timestampServerURL: optStr(o, 'timestampServerURL', 'signPayload.signing', id),
    matchCommitter: o.matchCommitter,
    fulcioRoot: optStr(o, 'fulcioRoot', 'signPayload.signing', id),
    timestampCertChain: optStr(o, 'timestampCertChain', 'signPayload.signing', id),
  };
}

function parseTrustEnv(v: unknown, id: number): Record<string, string> {
  const o = obj(v, 'signPayload.trustEnv', id);
  onlyKeys(o, TRUST_ENV_NAMES, 'signPayload.trustEnv', id);
  const out: Record<string, string> = {};
  for (const k of Object.keys(o)) out[k] = str(o, k, 'signPayload.trustEnv', id);
  return out;
}

function progressFlag(o: Record<string, unknown>, what: string, id: number): { progress?: true } {
  if (o.progress === undefined) return {};
  if (o.progress !== true) throw new ProtocolError('BAD_REQUEST', `${what}: "progress" must be true when present`, id);
  return { progress: true };
}

/** Validate a decoded request object. Throws ProtocolError with the code to answer with. */
export function parseRequest(o: Record<string, unknown>): AgentRequest {
  const id = readEnvelope(o);
  switch (o.op) {
    case 'status':
    case 'stop':
      onlyKeys(o, ['v', 'id', 'op'], o.op, id);
      return { v: 1, id, op: o.op };
    case 'sign': {
      onlyKeys(o, ['v', 'id', 'op', 'identity', 'config', 'signedAttrs', 'repo', 'token', 'progress'], 'sign', id);
      const identity = parseIdentity(o.identity, id);
      const config = parseConfig(o.config, id);
      checkIdentityMatches(identity, config, id);
      const signedAttrs = decodeBase64Strict(o.signedAttrs, 'sign.signedAttrs', MAX_SIGNED_ATTRS, id);
      const repo = str(o, 'repo', 'sign', id);
      const token = optStr(o, 'token', 'sign', id, MAX_TOKEN);
      return { v: 1, id, op: 'sign', identity, config, signedAttrs, repo, token, ...progressFlag(o, 'sign', id) };
    }
    case 'signPayload': {
      onlyKeys(o, ['v', 'id', 'op', 'identity', 'config', 'signing', 'trustEnv', 'payload', 'repo', 'token', 'progress'], 'signPayload', id);
      const identity = parseIdentity(o.identity, id);
      const config = parseConfig(o.config, id);
      checkIdentityMatches(identity, config, id);
      const signing = parseSigning(o.signing, id);
      const trustEnv = parseTrustEnv(o.trustEnv, id);
      const payload = o.payload === '' ? Buffer.alloc(0) : decodeBase64Strict(o.payload, 'signPayload.payload', MAX_PAYLOAD, id);
      const repo = str(o, 'repo', 'signPayload', id);
      const token = optStr(o, 'token', 'signPayload', id, MAX_TOKEN);
      return { v: 1, id, op: 'signPayload', identity, config, signing, trustEnv, payload, repo, token, ...progressFlag(o, 'signPayload', id) };
    }
    default:
      throw new ProtocolError('BAD_REQUEST', `unknown operation ${JSON.stringify(o.op)?.slice(0, 40) ?? 'undefined'}`, id);
  }
}

/** The wire form of a request (Buffers as base64). */
export function requestToWire(r: AgentRequest): Record<string, unknown> {
  if (r.op === 'signPayload') {
    const w: Record<string, unknown> = {
      v: r.v,
      id: r.id,
      op: 'signPayload',
      identity: dropUndefined({ ...r.identity }),
      config: dropUndefined({ ...r.config }),
      signing: dropUndefined({ ...r.signing }),
      trustEnv: { ...r.trustEnv },
      payload: r.payload.toString('base64'),
      repo: r.repo,
    };
    if (r.token !== undefined) w.token = r.token;
    if (r.progress) w.progress = true;
    return w;
  }
  if (r.op !== 'sign') return { v: r.v, id: r.id, op: r.op };
  const w: Record<string, unknown> = {
    v: r.v,
    id: r.id,
    op: 'sign',
    identity: dropUndefined({ ...r.identity }),
    config: dropUndefined({ ...r.config }),
    signedAttrs: r.signedAttrs.toString('base64'),
    repo: r.repo,
  };
  if (r.token !== undefined) w.token = r.token;
  if (r.progress) w.progress = true;
  return w;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function signResultToWire(r: SignResult): Record<string, unknown> {
  return { signature: r.signature.toString('base64'), chain: r.chain.map((c) => c.toString('base64')) };
}

export function okResponse(id: number | null, result: unknown): Record<string, unknown> {
  return { v: PROTOCOL_VERSION, id, result };
}

export function errorResponse(id: number | null, code: AgentErrorCode, message: string): Record<string, unknown> {
  return { v: PROTOCOL_VERSION, id, error: { code, message: message.slice(0, 500) } };
}

/** One line of progress for request `id` (control characters replaced, length bounded). */
export function progressFrame(id: number, line: string): Record<string, unknown> {
  return { v: PROTOCOL_VERSION, id, progress: safeLine(line) };
}

function safeLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, MAX_PROGRESS_LINE);
}

/**
 * A progress frame for request `id`: its line, made safe for a terminal; undefined when `o` is
 * not a progress frame (then it is the response). Throws on a malformed one.
 */
export function parseProgress(o: Record<string, unknown>, id: number): string | undefined {
  if (!('progress' in o)) return undefined;
  onlyKeys(o, ['v', 'id', 'progress'], 'agent progress', null);
  if (o.v !== PROTOCOL_VERSION || o.id !== id) throw new GitsealError('AGENT', 'agent progress for a different request');
  if (typeof o.progress !== 'string') throw new GitsealError('AGENT', 'agent progress is not a string');
  return safeLine(o.progress);
}

// ------------------------------------------------------- client-side checks

/** Validate a response envelope for request `id`; returns the result or throws the agent's error. */
export function parseResponse(o: Record<string, unknown>, id: number): { result?: unknown; error?: AgentError } {
  if (o.v !== PROTOCOL_VERSION) throw new GitsealError('AGENT', `agent answered with protocol version ${JSON.stringify(o.v)?.slice(0, 20)}, expected ${PROTOCOL_VERSION}`);
  if ('error' in o) {
    onlyKeys(o, ['v', 'id', 'error'], 'agent response', null);
    if (o.id !== id && o.id !== null) throw new GitsealError('AGENT', 'agent answered a different request');
    const e = obj(o.error, 'agent error', null);
    onlyKeys(e, ['code', 'message'], 'agent error', null);
    if (!ERROR_CODES.includes(e.code as AgentErrorCode)) throw new GitsealError('AGENT', 'agent answered with an unknown error code');
    if (typeof e.message !== 'string') throw new GitsealError('AGENT', 'agent error without a message');
    return { error: { code: e.code as AgentErrorCode, message: e.message.slice(0, 500) } };
  }
  onlyKeys(o, ['v', 'id', 'result'], 'agent response', null);
  if (o.id !== id) throw new GitsealError('AGENT', 'agent answered a different request');
  return { result: o.result };
}

/** A sign result: exactly a signature and a certificate chain, nothing else. */
export function parseSignResult(v: unknown): SignResult {
  const o = obj(v, 'sign result', null);
  onlyKeys(o, ['signature', 'chain'], 'sign result', null);
  const signature = decodeBase64Strict(o.signature, 'signature', 256);
  // An ECDSA-Sig-Value is a DER SEQUENCE of two INTEGERs.
  if (signature[0] !== 0x30) throw new GitsealError('AGENT', 'agent signature is not a DER ECDSA signature');
  if (!Array.isArray(o.chain) || o.chain.length === 0 || o.chain.length > MAX_CHAIN) {
    throw new GitsealError('AGENT', 'agent certificate chain must hold 1 to 8 certificates');
  }
  const chain = o.chain.map((c, i) => {
    const der = decodeBase64Strict(c, `chain[${i}]`, MAX_CERT);
    if (der[0] !== 0x30) throw new GitsealError('AGENT', `agent chain[${i}] is not a DER certificate`);
    return der;
  });
  return { signature, chain };
}

/** A signPayload result: exactly the fields of PayloadSignResult, each checked. */
export function parsePayloadSignResult(v: unknown): PayloadSignResult {
  const o = obj(v, 'signPayload result', null);
  onlyKeys(o, ['pem', 'pk', 'hash', 'time', 'fingerprint', 'logIndex', 'rekorURL', 'warnings'], 'signPayload result', null);
  const bad = (what: string) => new GitsealError('AGENT', `agent signPayload result: malformed ${what}`);
  const pem = o.pem;
  if (typeof pem !== 'string' || pem.length > MAX_PEM || !/^-----BEGIN SIGNED MESSAGE-----\n[A-Za-z0-9+/=\n]+-----END SIGNED MESSAGE-----\n$/.test(pem)) throw bad('signature');
  const small = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) < 256;
  if (!small(o.pk) || !small(o.hash)) throw bad('algorithm numbers');
  if (!Number.isSafeInteger(o.time) || (o.time as number) < 0) throw bad('signing time');
  if (typeof o.fingerprint !== 'string' || !/^[0-9a-f]{40}$/.test(o.fingerprint)) throw bad('fingerprint');
  if (typeof o.logIndex !== 'string' || !/^[0-9]{1,20}$/.test(o.logIndex)) throw bad('log index');
  if (typeof o.rekorURL !== 'string' || o.rekorURL.length > MAX_STRING || /[\u0000-\u001f\u007f]/.test(o.rekorURL)) throw bad('Rekor URL');
  if (!Array.isArray(o.warnings) || o.warnings.length > 16 || o.warnings.some((w) => typeof w !== 'string' || w.length > 1000 || /[\u0000-\u001f\u007f]/.test(w))) {
    throw bad('warnings');
  }
  return {
    pem,
    pk: o.pk as number,
    hash: o.hash as number,
    time: o.time as number,
    fingerprint: o.fingerprint,
    logIndex: o.logIndex,
    rekorURL: o.rekorURL,
    warnings: o.warnings as string[],
  };
}

export function parseStatusResult(v: unknown): StatusResult {
  const o = obj(v, 'status result', null);
  onlyKeys(o, ['pid', 'version', 'uptimeSeconds', 'socket', 'identities'], 'status result', null);
  if (!Number.isSafeInteger(o.pid) || !Number.isFinite(o.uptimeSeconds) || typeof o.version !== 'string' || typeof o.socket !== 'string') {
    throw new GitsealError('AGENT', 'malformed agent status');
  }
  if (!Array.isArray(o.identities) || o.identities.length > MAX_IDENTITIES) throw new GitsealError('AGENT', 'malformed agent status');
  const identities = o.identities.map((x): HeldIdentity => {
    const h = obj(x, 'status identity', null);
    onlyKeys(h, ['identity', 'subject', 'certIssuer', 'secondsLeft', 'signatures'], 'status identity', null);
    if (typeof h.subject !== 'string' || typeof h.certIssuer !== 'string' || !Number.isFinite(h.secondsLeft) || !Number.isSafeInteger(h.signatures)) {
      throw new GitsealError('AGENT', 'malformed agent status');
    }
    const k = obj(h.identity, 'status identity key', null);
    onlyKeys(k, ['fulcioURL', 'issuer', 'clientID', 'connectorID', 'email'], 'status identity key', null);
    for (const f of Object.keys(k)) if (typeof k[f] !== 'string') throw new GitsealError('AGENT', 'malformed agent status');
    return {
      identity: k as unknown as IdentityKey,
      subject: h.subject,
      certIssuer: h.certIssuer,
      secondsLeft: h.secondsLeft as number,
      signatures: h.signatures as number,
    };
  });
  return { pid: o.pid as number, version: o.version, uptimeSeconds: o.uptimeSeconds as number, socket: o.socket, identities };
}

/** The map key of an identity: its fields in a fixed order, unambiguously joined. */
export function identityKeyString(k: IdentityKey): string {
  return JSON.stringify([k.fulcioURL, k.issuer, k.clientID, k.connectorID ?? '', k.email ?? '']);
}

/**
 * RFC 3161 client for the signing path: timestamp the CMS SignerInfo
 * signature the way gitsign does (gitsign-protocol.md §2.7) — MessageImprint
 * SHA-256(signature), a random 64-bit nonce, certReq true — sent as a DER
 * `application/timestamp-query` (RFC 3161 §3.4), which sigstore's TSA and
 * commercial TSAs alike accept. The token is checked (imprint, nonce) before
 * it is returned; its signature and chain are the verifier's business
 * (src/verify/timestamp.ts), against the trusted root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { children, decodeInteger, der, expectChildren, expectTag, parseDer, TAG } from '../util/der.js';
import { fetchTransport, nodeTransport, TransportError, type FetchLike } from '../util/http.js';
import { imprintMatches, parseTimeStampToken, TSP_OID } from '../verify/timestamp.js';

export interface TimestampOptions {
  fetch?: FetchLike;
  /** Per attempt, milliseconds (default 10 s). */
  timeout?: number;
  /** Retries after the first attempt on network errors and 5xx (default 2). */
  retries?: number;
}

const MAX_RESPONSE = 64 * 1024;

function fail(msg: string, cause?: unknown): never {
  throw new GitsealError('TSA', `timestamp authority: ${msg}`, cause);
}

/** TimeStampReq (RFC 3161 §2.4.1) for a SHA-256 imprint. */
export function encodeTimestampRequest(imprint: Buffer, nonce: Buffer): Buffer {
  return der.seq(
    der.int(1),
    der.seq(der.seq(der.oid(TSP_OID.sha256)), der.octets(imprint)),
    der.int(nonce),
    der.bool(true), // certReq
  );
}

/** TimeStampResp (RFC 3161 §2.4.2) → the token, or a GitsealError with the TSA's status text. */
export function tokenFromResponse(resp: Buffer): Buffer {
  let f;
  try {
    f = expectChildren(parseDer(resp), TAG.SEQUENCE, 'TimeStampResp');
    const status = expectChildren(f[0], TAG.SEQUENCE, 'PKIStatusInfo');
    const code = Number(decodeInteger(expectTag(status[0], TAG.INTEGER, 'PKIStatus').value));
    if (code !== 0 && code !== 1) {
      const text = status[1]?.tag === TAG.SEQUENCE ? children(status[1]).map((s) => s.value.toString('utf8')).join('; ') : '';
      fail(`the request was refused (PKIStatus ${code}${text ? `: ${text}` : ''})`);
    }
    if (!f[1]) fail('the response holds no timestamp token');
    return f[1].raw;
  } catch (e) {
    if (e instanceof GitsealError && e.code === 'TSA') throw e;
    return fail('the response is not a DER TimeStampResp', e);
  }
}

async function post(url: string, body: Buffer, o: TimestampOptions): Promise<Buffer> {
  const transport = o.fetch ? fetchTransport(o.fetch) : nodeTransport;
  const retries = o.retries ?? 2;
  const target = new URL(url);
  const req = {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply', 'user-agent': 'gitseal' },
    body,
  };
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await transport(target, req, { timeoutMs: o.timeout ?? 10_000, maxBytes: MAX_RESPONSE });
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.kind === 'too-large') fail('the response is too large');
      if (attempt < retries) continue;
      if (e.kind === 'cut-short') return fail(`the response from ${target.origin} was cut short (${e.detail})`, e);
      return fail(`cannot reach ${target.origin} (${e.detail})`, e);
    }
    if (res.status >= 500 && attempt < retries) continue;
    if (res.status < 200 || res.status > 299) {
      const text = res.body.toString('utf8').split('\n')[0].slice(0, 200);
      fail(`${text || 'request failed'} (HTTP ${res.status})`);
    }
    return res.body;
  }
}

/**
 * Timestamp `signature` (the CMS SignerInfo signature) at `url` (a full
 * TSA URL, e.g. https://timestamp.sigstore.dev/api/v1/timestamp). Returns the
 * DER TimeStampToken for the unsigned attribute 1.2.840.113549.1.9.16.2.14.
 */
export async function requestTimestamp(url: string, signature: Buffer, o: TimestampOptions = {}): Promise<Buffer> {
  try {
    new URL(url);
  } catch {
    fail(`invalid URL ${url}`);
  }
  const imprint = createHash('sha256').update(signature).digest();
  const nonce = randomBytes(8);
  nonce[0] &= 0x7f; // positive INTEGER
  const resp = await post(url, encodeTimestampRequest(imprint, nonce), o);
  const token = tokenFromResponse(resp);
  let parsed;
  try {
    parsed = parseTimeStampToken(token);
  } catch (e) {
    return fail(`the token is malformed (${(e as Error).message})`, e);
  }
  // RFC 3161 §2.4.2: the reply must be for our imprint and echo our nonce.
  if (!imprintMatches(parsed.tstInfo, signature)) fail('the token is for different data than was sent');
  if (parsed.tstInfo.nonce !== BigInt('0x' + nonce.toString('hex'))) fail('the token does not echo the request nonce');
  if (parsed.signedData.certificates.length === 0) fail('the token does not include the TSA certificate although it was requested');
  return token;
}

/**
 * Fulcio v2 client: `POST {fulcio}/api/v2/signingCert` (fulcio.proto,
 * dev.sigstore.fulcio.v2.CA.CreateSigningCertificate via grpc-gateway JSON;
 * sigstore-services.md §1.1). The request carries the OIDC token, the public
 * key (PEM SPKI) and a proof of possession: our key's ECDSA-SHA256 signature
 * over the identity claim Fulcio challenges (email, else sub).
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { failStatus, parseJsonBody, postJson, type FetchLike, type HttpOptions } from '../util/http.js';
import { decodePemAll } from '../util/pem.js';
import type { IdentityToken } from '../sign/types.js';

export interface SigningCertificate {
  /** DER, leaf first, then intermediates and root as Fulcio sent them. */
  chain: Buffer[];
  /** Detached SCT (JSON AddChainResponse) when Fulcio did not embed one. */
  detachedSct?: Buffer;
}

export interface FulcioRequestOptions {
  fulcioURL: string;
  token: IdentityToken;
  publicKey: KeyObject;
  privateKey: KeyObject;
  fetch?: FetchLike;
  http?: Partial<HttpOptions>;
}

interface CertificateChain {
  chain?: { certificates?: unknown };
}
interface SigningCertResponse {
  signedCertificateEmbeddedSct?: CertificateChain;
  signedCertificateDetachedSct?: CertificateChain & { signedCertificateTimestamp?: string };
}

/**
 * What Fulcio makes us sign to prove possession of the key: the raw bytes of the
 * principal's name, i.e. the token's `email` for email issuers, `sub` otherwise
 * (fulcio pkg/config issuerToChallengeClaim; sigstore-js does the same).
 */
export function challengeClaim(token: IdentityToken): string {
  return token.email ?? token.subject;
}

export function proofOfPossession(token: IdentityToken, privateKey: KeyObject): Buffer {
  return cryptoSign('sha256', Buffer.from(challengeClaim(token), 'utf8'), privateKey);
}

/** The certificates of a v2 response, DER, in order. */
export function parseSigningCertResponse(json: unknown): SigningCertificate {
  const r = (json ?? {}) as SigningCertResponse;
  const part = r.signedCertificateEmbeddedSct ?? r.signedCertificateDetachedSct;
  const pems = part?.chain?.certificates;
  if (!Array.isArray(pems) || pems.length === 0 || !pems.every((p) => typeof p === 'string')) {
    throw new GitsealError('FULCIO', 'Fulcio: the response holds no certificate chain');
  }
  const chain = (pems as string[]).map((p) => {
    const blocks = decodePemAll(p).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length !== 1) throw new GitsealError('FULCIO', 'Fulcio: the response holds a malformed certificate');
    return blocks[0].der;
  });
  const out: SigningCertificate = { chain };
  const sct = r.signedCertificateDetachedSct?.signedCertificateTimestamp;
  if (typeof sct === 'string' && sct) out.detachedSct = Buffer.from(sct, 'base64');
  return out;
}

/** Ask Fulcio for a short-lived certificate binding `publicKey` to the token's identity. */
export async function requestSigningCertificate(o: FulcioRequestOptions): Promise<SigningCertificate> {
  const http: HttpOptions = { service: 'Fulcio', code: 'FULCIO', fetch: o.fetch, ...o.http };
  const body = {
    credentials: { oidcIdentityToken: o.token.raw },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: o.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      proofOfPossession: proofOfPossession(o.token, o.privateKey).toString('base64'),
    },
  };
  const url = `${o.fulcioURL.replace(/\/+$/, '')}/api/v2/signingCert`;
  const res = await postJson(url, body, http, { 'user-agent': 'gitseal' });
  if (res.status < 200 || res.status > 299) failStatus(res, http);
  return parseSigningCertResponse(parseJsonBody(res, http));
}

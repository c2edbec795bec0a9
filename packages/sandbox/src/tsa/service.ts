/**
 * The sandbox's RFC 3161 timestamp authority, shaped like sigstore's
 * timestamp-authority: `POST /api/v1/timestamp` with either the JSON request
 * or a DER `application/timestamp-query` (RFC 3161 §3.4), answered with a DER
 * `application/timestamp-reply` TimeStampResp. `GET /api/v1/timestamp/certchain`
 * returns the PEM chain. State (keys, certificates) lives in DIR/tsa/.
 *
 * For tests, the demo and offline trials only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodePem } from '../gitseal/pem.js';
import { HttpError, noSuchEndpoint, parseJsonBody, readBody, requestPath, requireMethod, sendBytes, serveRoute } from '../shared/http.js';
import type { CertificateAuthorityJson } from '../fulcio/trusted-root.js';
import { openTsaKeys, tsaDir } from './ca.js';
import { parseDerRequest, parseJsonRequest, TsaRejection, type TimestampRequest } from './request.js';
import { encodeToken, grantedResponse, rejectedResponse } from './token.js';

export interface TsaServiceOptions {
  /** The sandbox directory; the TSA keeps its keys in DIR/tsa/. */
  dir: string;
  /** Clock for genTime (and the certificates' start on first use). */
  now?: () => Date;
  /** Base URL the service is reached at, for trustedRootFragment's uri. */
  url?: string;
}

/** sigstore_trustroot.proto lists timestamp authorities as CertificateAuthority messages too. */
export type TimestampAuthorityJson = CertificateAuthorityJson;

export interface TsaService {
  handle(req: IncomingMessage, res: ServerResponse): void;
  trust: {
    /** DER: leaf, root. */
    certChain: Buffer[];
    validFrom: Date;
  };
  /** A TrustedRoot `timestampAuthorities[]` entry (sigstore_trustroot.proto). */
  trustedRootFragment(opts?: { url?: string; end?: Date }): TimestampAuthorityJson;
  stats(): { timestamps: number };
}

export const TIMESTAMP_PATH = '/api/v1/timestamp';
const MAX_BODY = 64 * 1024;

export function createTsaService(opts: TsaServiceOptions): TsaService {
  const now = opts.now ?? (() => new Date());
  const keys = openTsaKeys(tsaDir(opts.dir), now());
  const chain = [keys.leaf, keys.root];
  let issued = 0;

  function stamp(request: TimestampRequest): Buffer {
    const token = encodeToken({ request, genTime: now(), leaf: keys.leaf, chain, leafKey: keys.leafKey });
    issued++;
    return grantedResponse(token);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    if (path === `${TIMESTAMP_PATH}/certchain`) {
      requireMethod(req, path, 'GET');
      const pem = chain.map((c) => encodePem('CERTIFICATE', c)).join('');
      return sendBytes(res, 200, Buffer.from(pem), 'application/pem-certificate-chain');
    }
    if (path !== TIMESTAMP_PATH) throw noSuchEndpoint(req, path);
    requireMethod(req, path, 'POST');
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const body = await readBody(req, MAX_BODY);
    if (type === 'application/timestamp-query') {
      // RFC 3161 §3.4: the answer is always a TimeStampResp, rejections included.
      let request: TimestampRequest;
      try {
        request = parseDerRequest(body);
      } catch (e) {
        if (e instanceof TsaRejection) return sendBytes(res, 200, rejectedResponse(e.failBit, e.message), 'application/timestamp-reply');
        throw e;
      }
      return sendBytes(res, 200, stamp(request), 'application/timestamp-reply');
    }
    if (type === 'application/json' || type === '') {
      let request: TimestampRequest;
      try {
        request = parseJsonRequest(parseJsonBody(body));
      } catch (e) {
        if (e instanceof TsaRejection) throw new HttpError(400, e.message);
        throw e;
      }
      return sendBytes(res, 201, stamp(request), 'application/timestamp-reply');
    }
    throw new HttpError(415, `unsupported content type "${type}": send application/json or application/timestamp-query`);
  }

  return {
    handle: serveRoute(route),
    trust: { certChain: chain, validFrom: keys.createdAt },
    trustedRootFragment(o = {}) {
      const base = (o.url ?? opts.url ?? '').replace(/\/+$/, '');
      return {
        subject: { organization: 'gitseal-sandbox', commonName: 'sandbox-tsa' },
        uri: base ? base + TIMESTAMP_PATH : TIMESTAMP_PATH,
        certChain: { certificates: chain.map((c) => ({ rawBytes: c.toString('base64') })) },
        validFor: o.end ? { start: keys.createdAt.toISOString(), end: o.end.toISOString() } : { start: keys.createdAt.toISOString() },
      };
    },
    stats: () => ({ timestamps: issued }),
  };
}

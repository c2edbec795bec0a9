/**
 * The sandbox Fulcio: the v2 REST API as grpc-gateway serves it
 * (fulcio.proto, package dev.sigstore.fulcio.v2) over the CA in ca.ts and the
 * CT log in ../ct/log.ts. The runner mounts `handle` on a 127.0.0.1 server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodePem } from '../gitseal/pem.js';
import { openCtLog } from '../ct/log.js';
import { openCa } from './ca.js';
import { FulcioMessage, FulcioServiceError, GrpcCode, httpStatusOf } from './grpc-error.js';
import { challengeClaimFor, ClaimError, identityFromClaims, sanExtension } from './leaf-profile.js';
import { checkKeyStrength, checkProofOfPossession, parseAndCheckCsr, parsePublicKey, type RequestedKey } from './public-key.js';
import { createTokenVerifier, type IssuerConfig } from './token.js';
import { trustedRootFragment, type TrustedRootFragment } from './trusted-root.js';

export type { IssuerConfig } from './token.js';

export interface FulcioServiceOptions {
  /** The sandbox directory; the CA lives in DIR/fulcio/, the CT log in DIR/ct/. */
  dir: string;
  issuers: IssuerConfig[];
  /** Leaf lifetime (default 600 s, like public-good). */
  certLifetimeSeconds?: number;
  /** Clock for leaves, SCTs and token checks. */
  now?: () => Date;
  /** CA generation to issue from: 1 = DIR/fulcio, 2 = DIR/fulcio/gen2, … (default 1). */
  caGeneration?: number;
  /** Request body limit (default 1 MiB; real Fulcio allows 4 MiB). */
  maxBodyBytes?: number;
}

export interface FulcioService {
  handle(req: IncomingMessage, res: ServerResponse): void;
  trust: {
    /** DER: intermediate, root. */
    caChain: Buffer[];
    /** DER SPKI of the CT log key. */
    ctLogPublicKey: Buffer;
    /** sha256 of the CT log SPKI. */
    ctLogId: Buffer;
  };
  /** TrustedRoot entries for this service (see trusted-root.ts). */
  trustedRootFragment(opts: { fulcioURL: string; ctLogURL?: string; generations?: 'all' | 'active' }): TrustedRootFragment;
  /** signingCert: certificates issued so far. */
  stats(): { signingCert: number };
}

const DEFAULT_MAX_BODY = 1 << 20;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, e: FulcioServiceError): void {
  sendJson(res, e.httpStatus, e.toJSON());
}

/** Read the body up to `limit` bytes; past it, drain (bounded) and fail like http.MaxBytesReader. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) tooLarge = true;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(c);
      // Do not read forever for a client that never stops sending.
      if (size > 16 * limit) req.destroy();
    });
    req.on('end', () =>
      tooLarge
        ? reject(new FulcioServiceError(GrpcCode.InvalidArgument, 'http: request body too large', `the limit is ${limit} bytes`))
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
    // After destroy() no 'end' comes; settle so the handler does not hang.
    req.on('close', () => {
      if (!req.complete) reject(new FulcioServiceError(GrpcCode.InvalidArgument, 'http: request body too large', `the limit is ${limit} bytes`));
    });
  });
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$|^[A-Za-z0-9_-]*={0,2}$/;

/** proto3 JSON `bytes`: standard or URL-safe base64, padding optional. */
function protoBytes(v: unknown, field: string): Buffer | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !BASE64_RE.test(v)) {
    throw new FulcioServiceError(GrpcCode.InvalidArgument, 'The request body could not be parsed', `${field} is not base64`);
  }
  return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** A field by its proto JSON name or its original proto name (protojson accepts both). */
function field(o: unknown, json: string, proto: string): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  return r[json] ?? r[proto];
}

interface ParsedRequest {
  token: string;
  csr?: Buffer;
  publicKey?: unknown;
  proof?: Buffer;
}

function parseRequest(body: Buffer, authorization: string | undefined): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FulcioServiceError(GrpcCode.InvalidArgument, 'The request body could not be parsed', 'it is not JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new FulcioServiceError(GrpcCode.InvalidArgument, 'The request body could not be parsed', 'expected a JSON object');
  }
  const credentials = field(json, 'credentials', 'credentials');
  let token = field(credentials, 'oidcIdentityToken', 'oidc_identity_token');
  if (token !== undefined && typeof token !== 'string') {
    throw new FulcioServiceError(GrpcCode.InvalidArgument, 'The request body could not be parsed', 'oidcIdentityToken is not a string');
  }
  // grpc-gateway maps `Authorization: Bearer` to the oidcidentitytoken metadata, used when credentials are empty.
  if (!token && authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m) token = m[1];
  }
  const pkr = field(json, 'publicKeyRequest', 'public_key_request');
  const csr = protoBytes(field(json, 'certificateSigningRequest', 'certificate_signing_request'), 'certificateSigningRequest');
  if (pkr !== undefined && pkr !== null && csr) {
    throw new FulcioServiceError(GrpcCode.InvalidArgument, 'The request body could not be parsed', 'publicKeyRequest and certificateSigningRequest are exclusive');
  }
  return {
    token: (token as string | undefined) ?? '',
    csr,
    publicKey: field(field(pkr, 'publicKey', 'public_key'), 'content', 'content'),
    proof: protoBytes(field(pkr, 'proofOfPossession', 'proof_of_possession'), 'proofOfPossession'),
  };
}

/** Create the sandbox Fulcio over DIR (creating the CA and CT log on first use). */
export function createFulcioService(opts: FulcioServiceOptions): FulcioService {
  const now = opts.now ?? (() => new Date());
  const lifetimeMs = (opts.certLifetimeSeconds ?? 600) * 1000;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const generation = opts.caGeneration ?? 1;
  const ca = openCa({ dir: opts.dir, generation, now });
  const ctLog = openCtLog({ dir: opts.dir, now });
  const verifyToken = createTokenVerifier({ issuers: opts.issuers, now });
  const chainPem = [ca.intermediate, ca.root].map((c) => encodePem('CERTIFICATE', c));
  let issued = 0;

  async function signingCert(req: IncomingMessage): Promise<unknown> {
    const body = await readBody(req, maxBody);
    const parsed = parseRequest(body, req.headers.authorization);
    const { issuer, claims } = await verifyToken(parsed.token);
    let identity;
    try {
      identity = identityFromClaims(issuer.type, claims, { subjectDomain: issuer.subjectDomain });
    } catch (e) {
      if (e instanceof ClaimError) throw new FulcioServiceError(GrpcCode.InvalidArgument, FulcioMessage.invalidIdentityToken, e.message);
      throw e;
    }
    let requested: RequestedKey;
    if (parsed.csr) {
      requested = parseAndCheckCsr(parsed.csr);
    } else {
      requested = parsePublicKey(parsed.publicKey);
      checkKeyStrength(requested.key);
      // The proof signs the challenge claim (email for e-mail issuers, sub otherwise).
      checkProofOfPossession(requested.key, parsed.proof ?? Buffer.alloc(0), identity.challenge);
    }
    const notBefore = new Date(Math.floor(now().getTime() / 1000) * 1000);
    let leaf: Buffer;
    try {
      leaf = ca.issueLeaf({
        spki: requested.spki,
        san: sanExtension(identity),
        extensions: identity.extensions,
        notBefore,
        notAfter: new Date(notBefore.getTime() + lifetimeMs),
        ctLog,
      });
    } catch {
      throw new FulcioServiceError(GrpcCode.Internal, FulcioMessage.genericCAError);
    }
    issued++;
    return { signedCertificateEmbeddedSct: { chain: { certificates: [encodePem('CERTIFICATE', leaf), ...chainPem] } } };
  }

  const routes: Record<string, { method: string; run: (req: IncomingMessage) => Promise<unknown> }> = {
    '/api/v2/signingCert': { method: 'POST', run: signingCert },
    '/api/v2/trustBundle': { method: 'GET', run: async () => ({ chains: [{ certificates: chainPem }] }) },
    '/api/v2/configuration': {
      method: 'GET',
      run: async () => ({
        issuers: opts.issuers.map((i) => ({
          issuerUrl: i.issuerURL,
          audience: [i.audience].flat()[0],
          challengeClaim: challengeClaimFor(i.type),
          issuerType: i.type,
          spiffeTrustDomain: '',
          subjectDomain: i.subjectDomain ?? '',
          skipEmailVerification: false,
        })),
      }),
    },
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const route = routes[path];
    if (!route) {
      req.resume();
      sendJson(res, httpStatusOf(GrpcCode.NotFound), { code: GrpcCode.NotFound, message: 'Not Found', details: [] });
      return;
    }
    if (req.method !== route.method) {
      req.resume();
      // grpc-gateway's routing error for a known path: HTTP 405, gRPC Unimplemented.
      sendJson(res, 405, { code: GrpcCode.Unimplemented, message: 'Method Not Allowed', details: [] });
      return;
    }
    route.run(req).then(
      (body) => sendJson(res, 200, body),
      (e: unknown) => {
        if (res.headersSent) return;
        // Unexpected failures are reported without detail: they may carry request data.
        sendError(res, e instanceof FulcioServiceError ? e : new FulcioServiceError(GrpcCode.Internal, FulcioMessage.genericCAError));
      },
    );
  }

  return {
    handle,
    trust: { caChain: [ca.intermediate, ca.root], ctLogPublicKey: ctLog.publicKey, ctLogId: ctLog.logId },
    trustedRootFragment: (o) => trustedRootFragment({ dir: opts.dir, activeGeneration: generation, ...o }),
    stats: () => ({ signingCert: issued }),
  };
}

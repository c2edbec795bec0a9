/**
 * A Fulcio v2 + Rekor v1 peer for tests, from @sigstore/mock (sigstore-js's own
 * mock: real CA, embedded SCT, SET and signed checkpoint; lenient about tokens)
 * mounted on a node:http server on 127.0.0.1. Deep imports: the package index
 * would switch on nock globally. Also writes a TrustedRoot JSON for its keys.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog } from '@sigstore/mock/dist/fulcio/index.js';
import { initializeTLog, rekorHandler } from '@sigstore/mock/dist/rekor/index.js';
import type { Handler } from '@sigstore/mock/dist/shared.types.js';

export interface MockSigstore {
  url: string;
  trustedRootPath: string;
  rootPem: string;
  /** Paths of the requests received, in order. */
  requests: string[];
  /** Make the next matching requests fail with this status ("/api/v2/signingCert" or "/api/v1/log/entries"). */
  failNext(path: string, status: number, times?: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

function collect(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startMockSigstore(dir: string): Promise<MockSigstore> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kp = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(kp);
  const ca = await initializeCA(kp, ctlog);
  const tlog = await initializeTLog(url, kp);
  const handlers: Handler[] = [fulcioHandler(ca, { subjectClaim: 'email' }), rekorHandler(tlog)];
  const requests: string[] = [];
  const failures: Array<{ path: string; status: number; times: number; headers: Record<string, string> }> = [];

  server.on('request', (req, res) => {
    void collect(req).then(async (body) => {
      requests.push(req.url ?? '');
      const f = failures.find((x) => x.path === req.url && x.times > 0);
      if (f) {
        f.times--;
        res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
        res.end(JSON.stringify({ code: f.status, message: `injected failure ${f.status}` }));
        return;
      }
      const h = handlers.find((x) => req.method === 'POST' && req.url === x.path);
      if (!h) {
        res.writeHead(404);
        res.end();
        return;
      }
      const { statusCode, response, contentType } = await h.fn(body);
      res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
      res.end(response);
    });
  });

  const rootDer = Buffer.from(ca.rootCertificate as Uint8Array);
  const tlogKey = Buffer.from(tlog.publicKey as Uint8Array);
  const ctKey = Buffer.from(ctlog.publicKey as Uint8Array);
  const start = '2020-01-01T00:00:00Z';
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: tlogKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(tlogKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: rootDer.toString('base64') }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: ctKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: Buffer.from(ctlog.logID as Uint8Array).toString('base64') },
      },
    ],
    timestampAuthorities: [],
  };
  const trustedRootPath = join(dir, 'mock_trusted_root.json');
  writeFileSync(trustedRootPath, JSON.stringify(trustedRoot, null, 2));
  const rootPem = `-----BEGIN CERTIFICATE-----\n${rootDer.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

  return {
    url,
    trustedRootPath,
    rootPem,
    requests,
    failNext(path, status, times = 1, headers = {}) {
      failures.push({ path, status, times, headers });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An unsigned JWT (the mock checks no signature), with the claims Fulcio reads. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

export function testToken(url: string, email = 'dev@example.test'): string {
  const now = Math.floor(Date.now() / 1000);
  return unsignedJwt({ iss: url, sub: 'dev-subject', aud: 'sigstore', email, email_verified: true, iat: now, exp: now + 600 });
}

export { deadPort } from '../helpers/dead-port.js';

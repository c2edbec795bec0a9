/**
 * The sandbox's Rekor v2 (rekor-tiles) write API: `POST /api/v2/log/entries`
 * logs a hashedrekord v0.0.2 entry and answers with a protobuf-JSON
 * TransparencyLogEntry carrying an inclusion proof and a C2SP checkpoint
 * signed with the log's Ed25519 key; `GET /api/v2/checkpoint` serves the
 * latest checkpoint. No SET, no integrated time: clients need a TSA
 * (sigstore-services.md §2.5). State lives in DIR/rekor-v2/ and survives
 * restarts; the RFC 6962 tree is the v1 sandbox log's store.
 *
 * For tests, the demo and offline trials only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { LogStore, type StoredEntry } from '../rekor/store.js';
import { noSuchEndpoint, parseJsonBody, readBody, requestPath, requireMethod, sendBytes, sendJson, serveRoute } from '../shared/http.js';
import { signedCheckpointV2 } from './checkpoint.js';
import { canonicalV2Entry } from './entry.js';
import { loadOrCreateV2Identity } from './log-key.js';

export interface RekorV2ServiceOptions {
  /** The sandbox directory; state in DIR/rekor-v2/. */
  dir: string;
  /** Log name: checkpoint origin and signed-note key name (e.g. "127.0.0.1:3004" or "log2025-1.example"). */
  origin: string;
  /** Base URL for trustedRootFragment. */
  url?: string;
  now?: () => Date;
  maxBodyBytes?: number;
}

export interface TransparencyLogJson {
  baseUrl: string;
  hashAlgorithm: 'SHA2_256';
  publicKey: { rawBytes: string; keyDetails: 'PKIX_ED25519'; validFor: { start: string; end?: string } };
  logId: { keyId: string };
}

export interface RekorV2Service {
  handle(req: IncomingMessage, res: ServerResponse): void;
  trust: { publicKeyDer: Buffer; keyId: Buffer; origin: string; validFrom: Date };
  /** A TrustedRoot `tlogs[]` entry: PKIX_ED25519, logId = the full C2SP key id. */
  trustedRootFragment(opts?: { url?: string; end?: Date }): TransparencyLogJson;
  stats(): { treeSize: number };
  close(): void;
}

export const ENTRIES_PATH = '/api/v2/log/entries';
export const CHECKPOINT_PATH = '/api/v2/checkpoint';

export function createRekorV2Service(opts: RekorV2ServiceOptions): RekorV2Service {
  const dir = join(opts.dir, 'rekor-v2');
  const now = opts.now ?? (() => new Date());
  const limit = opts.maxBodyBytes ?? 1024 * 1024;
  const id = loadOrCreateV2Identity(dir, opts.origin, now());
  const store = LogStore.open(dir);

  const checkpoint = () => signedCheckpointV2(id, store.size, store.tree.root(store.size));

  /** dev.sigstore.rekor.v1.TransparencyLogEntry in protobuf JSON (int64 as strings, bytes base64). */
  function entryJson(e: StoredEntry): Record<string, unknown> {
    const size = store.size;
    return {
      logIndex: String(e.index),
      logId: { keyId: id.keyId.toString('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
      integratedTime: '0',
      inclusionProof: {
        logIndex: String(e.index),
        rootHash: store.tree.root(size).toString('base64'),
        treeSize: String(size),
        hashes: store.tree.inclusionProof(e.index, size).map((h) => h.toString('base64')),
        checkpoint: { envelope: checkpoint() },
      },
      canonicalizedBody: e.body.toString('base64'),
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    if (path === ENTRIES_PATH) {
      requireMethod(req, path, 'POST');
      const { body } = canonicalV2Entry(parseJsonBody(await readBody(req, limit)));
      // Like Tessera's deduplication: the same entry again gets its existing index.
      const { entry } = store.append(body, 0, []);
      return sendJson(res, 201, entryJson(entry));
    }
    if (path === CHECKPOINT_PATH) {
      requireMethod(req, path, 'GET');
      return sendBytes(res, 200, Buffer.from(checkpoint(), 'utf8'), 'text/plain; charset=utf-8');
    }
    throw noSuchEndpoint(req, path);
  }

  return {
    handle: serveRoute(route),
    trust: { publicKeyDer: id.publicKeyDer, keyId: id.keyId, origin: id.name, validFrom: id.createdAt },
    trustedRootFragment(o = {}) {
      const start = id.createdAt.toISOString();
      return {
        baseUrl: (o.url ?? opts.url ?? `http://${opts.origin}`).replace(/\/+$/, ''),
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: id.publicKeyDer.toString('base64'), keyDetails: 'PKIX_ED25519', validFor: o.end ? { start, end: o.end.toISOString() } : { start } },
        logId: { keyId: id.keyId.toString('base64') },
      };
    },
    stats: () => ({ treeSize: store.size }),
    close: () => store.close(),
  };
}

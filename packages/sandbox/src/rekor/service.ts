/**
 * The sandbox's Rekor v1-compatible transparency log (rekor openapi.yaml,
 * hashedrekord v0.0.1 only). State lives in DIR/rekor/ and survives
 * restarts; every proof is computed against the current tree.
 *
 * For tests, the demo and offline trials only: an organisation running its
 * own Sigstore deploys the real Rekor.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { canonicalize } from '../gitseal/canonical-json.js';
import { encodePem } from '../gitseal/pem.js';
import { HttpError, noSuchEndpoint, parseJsonBody, readBody, requestPath, requireMethod, sendBytes, sendJson, serveRoute } from '../shared/http.js';
import { signedCheckpoint } from './checkpoint.js';
import { canonicalizeHashedRekord, EntryError, parseVerifier } from './hashedrekord.js';
import { loadOrCreateLogIdentity, signWithLogKey, type LogIdentity } from './log-key.js';
import { leafHash } from './merkle.js';
import { LogStore, type StoredEntry } from './store.js';

export interface RekorServiceOptions {
  /** The sandbox directory; the log keeps its state in `DIR/rekor/`. */
  dir: string;
  /** Base URL the service is reached at, e.g. http://127.0.0.1:3003 (names the checkpoints). */
  url: string;
  /** Clock, for tests. */
  now?: () => Date;
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
}

export interface RekorTrust {
  baseUrl: string;
  /** DER SubjectPublicKeyInfo of the log key. */
  publicKeyDer: Buffer;
  /** sha256(publicKeyDer). */
  logId: Buffer;
  treeId: bigint;
  /** Start of the key's validity (trusted root `validFor.start`). */
  validFrom: Date;
}

export interface RekorService {
  handle(req: IncomingMessage, res: ServerResponse): void;
  trust: RekorTrust;
  stats(): { treeSize: number };
  close(): void;
}

/** Rekor's search and retrieve endpoints cap each list at 10 items. */
const MAX_RETRIEVE = 10;

/** The canonical hashedrekord of a proposed entry; a rejected one is an HTTP error with its status. */
function canonicalEntry(proposed: unknown): ReturnType<typeof canonicalizeHashedRekord> {
  try {
    return canonicalizeHashedRekord(proposed);
  } catch (e) {
    if (e instanceof EntryError) throw new HttpError(e.status, e.message);
    throw e;
  }
}

export function createRekorService(opts: RekorServiceOptions): RekorService {
  const dir = join(opts.dir, 'rekor');
  const now = opts.now ?? (() => new Date());
  const limit = opts.maxBodyBytes ?? 1024 * 1024;
  const id: LogIdentity = loadOrCreateLogIdentity(dir, now());
  const store = LogStore.open(dir);
  const host = new URL(opts.url).host;
  const logIdHex = id.logId.toString('hex');
  const treeIdHex = id.treeId.toString(16).padStart(16, '0');
  const publicKeyPem = encodePem('PUBLIC KEY', id.publicKeyDer);

  const uuidOf = (e: StoredEntry) => treeIdHex + e.leafHash.toString('hex');

  function checkpoint(size: number): string {
    const nowNs = BigInt(now().getTime()) * 1_000_000n;
    return signedCheckpoint({
      name: host,
      treeId: id.treeId,
      size,
      root: store.tree.root(size),
      timestampNs: nowNs,
      logId: id.logId,
      sign: (note) => signWithLogKey(id, note),
    });
  }

  /** The `{ uuid: LogEntryAnon }` map Rekor returns, with a proof against the current tree. */
  function entryMap(e: StoredEntry, cp = checkpoint(store.size)): Record<string, unknown> {
    const body = e.body.toString('base64');
    // SET: ECDSA over the canonical JSON of these four fields (rekor pkg/api/entries.go signEntry).
    const setPayload = canonicalize({ body, integratedTime: e.integratedTime, logID: logIdHex, logIndex: e.index });
    const set = signWithLogKey(id, Buffer.from(setPayload, 'utf8'));
    const size = store.size;
    return {
      [uuidOf(e)]: {
        body,
        integratedTime: e.integratedTime,
        logID: logIdHex,
        logIndex: e.index,
        verification: {
          inclusionProof: {
            checkpoint: cp,
            hashes: store.tree.inclusionProof(e.index, size).map((h) => h.toString('hex')),
            logIndex: e.index,
            rootHash: store.tree.root(size).toString('hex'),
            treeSize: size,
          },
          signedEntryTimestamp: set.toString('base64'),
        },
      },
    };
  }

  /** An entry by 64-hex leaf hash or 80-hex "tree ID + leaf hash" UUID. */
  function byUuid(uuid: string): StoredEntry | undefined {
    if (!/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(uuid)) {
      throw new HttpError(400, `"${uuid.slice(0, 100)}" is not an entry UUID (64 or 80 hex characters)`);
    }
    if (uuid.length === 80 && uuid.slice(0, 16).toLowerCase() !== treeIdHex) return undefined;
    return store.byLeafHash(uuid.slice(-64));
  }

  function createEntry(proposed: unknown, res: ServerResponse): void {
    const canonical = canonicalEntry(proposed);
    const integratedTime = Math.floor(now().getTime() / 1000);
    const { entry, created } = store.append(canonical.body, integratedTime, canonical.indexKeys);
    const location = `/api/v1/log/entries/${uuidOf(entry)}`;
    if (!created) throw new HttpError(409, `an equivalent entry already exists in the transparency log with UUID ${uuidOf(entry)}`, { location });
    sendJson(res, 201, entryMap(entry), { etag: uuidOf(entry), location });
  }

  function intParam(q: URLSearchParams, name: string, dflt?: number): number {
    const raw = q.get(name);
    if (raw === null) {
      if (dflt === undefined) throw new HttpError(400, `query parameter ${name} is required`);
      return dflt;
    }
    if (!/^[0-9]{1,15}$/.test(raw)) throw new HttpError(400, `query parameter ${name} must be a non-negative integer`);
    return Number(raw);
  }

  function listParam(body: Record<string, unknown>, name: string): unknown[] {
    const v = body[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new HttpError(422, `${name} must be an array`);
    if (v.length > MAX_RETRIEVE) throw new HttpError(422, `${name} may hold at most ${MAX_RETRIEVE} items`);
    return v;
  }

  function retrieveEntries(body: unknown): unknown[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the search request must be a JSON object');
    const b = body as Record<string, unknown>;
    const uuids = listParam(b, 'entryUUIDs');
    const indexes = listParam(b, 'logIndexes');
    const entries = listParam(b, 'entries');
    if (uuids.length + indexes.length + entries.length === 0) {
      throw new HttpError(422, 'give at least one of entryUUIDs, logIndexes or entries');
    }
    const found: StoredEntry[] = [];
    for (const u of uuids) {
      if (typeof u !== 'string') throw new HttpError(422, 'entryUUIDs must hold strings');
      const e = byUuid(u);
      if (e) found.push(e);
    }
    for (const i of indexes) {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0) throw new HttpError(422, 'logIndexes must hold non-negative integers');
      const e = store.at(i);
      if (e) found.push(e);
    }
    for (const p of entries) {
      const e = store.byLeafHash(leafHash(canonicalEntry(p).body).toString('hex'));
      if (e) found.push(e);
    }
    const cp = checkpoint(store.size);
    return found.map((e) => entryMap(e, cp));
  }

  function searchIndex(body: unknown): string[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the search request must be a JSON object');
    const b = body as Record<string, unknown>;
    const op = b.operator ?? 'or';
    if (op !== 'and' && op !== 'or') throw new HttpError(422, 'operator must be "and" or "or"');
    const sets: StoredEntry[][] = [];
    if (b.hash !== undefined) {
      const m = typeof b.hash === 'string' ? /^(?:(sha256|sha384|sha512):)?([0-9a-fA-F]+)$/.exec(b.hash) : null;
      const len = { sha256: 64, sha384: 96, sha512: 128 } as const;
      const alg = (m?.[1] ?? 'sha256') as keyof typeof len;
      if (!m || m[2].length !== len[alg]) throw new HttpError(422, 'hash must be "sha256:<64 hex>" (or sha384/sha512)');
      sets.push(store.withKey(`hash:${alg}:${m[2].toLowerCase()}`));
    }
    if (b.publicKey !== undefined) {
      const pk = b.publicKey as Record<string, unknown>;
      if (typeof pk !== 'object' || pk === null) throw new HttpError(422, 'publicKey must be an object');
      if (pk.format !== 'x509') throw new HttpError(422, `publicKey.format ${JSON.stringify(pk.format)} is not supported by the sandbox (only x509)`);
      if (typeof pk.content !== 'string') throw new HttpError(422, 'publicKey.content (base64 PEM) is required');
      let primary: string;
      try {
        primary = parseVerifier(Buffer.from(pk.content, 'base64')).indexKeys[0];
      } catch (e) {
        if (e instanceof EntryError) throw new HttpError(400, e.message);
        throw e;
      }
      sets.push(store.withKey(primary));
    }
    if (b.email !== undefined) {
      if (typeof b.email !== 'string') throw new HttpError(422, 'email must be a string');
      sets.push(store.withKey(`email:${b.email.toLowerCase()}`));
    }
    if (sets.length === 0) throw new HttpError(400, 'give at least one of hash, publicKey or email to search by');
    let result: StoredEntry[];
    if (op === 'and') {
      const [first, ...rest] = sets;
      result = first.filter((e) => rest.every((s) => s.includes(e)));
    } else {
      result = [...new Set(sets.flat())];
    }
    return result.sort((x, y) => x.index - y.index).map(uuidOf);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = requestPath(req);
    const allow = (m: string) => requireMethod(req, path, m);

    if (path === '/api/v1/log/entries') {
      if (req.method === 'POST') return createEntry(parseJsonBody(await readBody(req, limit)), res);
      allow('GET');
      const e = store.at(intParam(url.searchParams, 'logIndex'));
      if (!e) throw new HttpError(404, `no entry at log index ${url.searchParams.get('logIndex')}`);
      return sendJson(res, 200, entryMap(e));
    }
    if (path === '/api/v1/log/entries/retrieve') {
      allow('POST');
      return sendJson(res, 200, retrieveEntries(parseJsonBody(await readBody(req, limit))));
    }
    if (path.startsWith('/api/v1/log/entries/')) {
      allow('GET');
      const uuid = decodeURIComponent(path.slice('/api/v1/log/entries/'.length));
      const e = byUuid(uuid);
      if (!e) throw new HttpError(404, `no entry with UUID ${uuid}`);
      return sendJson(res, 200, entryMap(e));
    }
    if (path === '/api/v1/index/retrieve') {
      allow('POST');
      return sendJson(res, 200, searchIndex(parseJsonBody(await readBody(req, limit))));
    }
    if (path === '/api/v1/log') {
      allow('GET');
      const size = store.size;
      return sendJson(res, 200, {
        inactiveShards: [],
        rootHash: store.tree.root(size).toString('hex'),
        signedTreeHead: checkpoint(size),
        treeID: id.treeId.toString(),
        treeSize: size,
      });
    }
    if (path === '/api/v1/log/proof') {
      allow('GET');
      const size = store.size;
      const last = intParam(url.searchParams, 'lastSize');
      const first = intParam(url.searchParams, 'firstSize', 1);
      const tid = url.searchParams.get('treeID');
      if (tid !== null && tid !== id.treeId.toString()) throw new HttpError(400, `unknown tree ID ${tid}`);
      if (first < 1) throw new HttpError(400, 'firstSize must be at least 1');
      if (last < first) throw new HttpError(400, `firstSize ${first} is larger than lastSize ${last}`);
      if (last > size) throw new HttpError(400, `lastSize ${last} is larger than the tree (${size} entries)`);
      return sendJson(res, 200, {
        hashes: store.tree.consistencyProof(first, last).map((h) => h.toString('hex')),
        rootHash: store.tree.root(last).toString('hex'),
      });
    }
    if (path === '/api/v1/log/publicKey') {
      allow('GET');
      return sendBytes(res, 200, Buffer.from(publicKeyPem, 'utf8'), 'application/x-pem-file');
    }
    throw noSuchEndpoint(req, path);
  }

  return {
    handle: serveRoute(route),
    trust: { baseUrl: opts.url.replace(/\/+$/, ''), publicKeyDer: id.publicKeyDer, logId: id.logId, treeId: id.treeId, validFrom: id.createdAt },
    stats: () => ({ treeSize: store.size }),
    close: () => store.close(),
  };
}


/**
 * Rekor v1 lookup for gitsign online-mode signatures: search the (deprecated)
 * index by certificate, then fetch each entry. Loaded lazily by the verifier when online.
 *
 * Git waits on the --verify call, so a lookup is bounded whatever the server does (issue 14
 * item 5): one time budget for the whole lookup, every request included (gitseal.rekorSearchTimeout,
 * default 5 s), a size limit on every response, at most 20 entries, and each entry must be the
 * one asked for (its body hashes to the UUID). Every failure is one GitsealError line.
 * Requests go through src/util/http.ts (node:http, no undici on git's path), never retried:
 * a retry would only spend the budget.
 */
import { createHash } from 'node:crypto';
import { GitsealError, isGitsealError } from '../errors.js';
import { request, TransportError, type FetchLike } from '../util/http.js';

/** One entry as GET /api/v1/log/entries/{uuid} returns it. */
export interface RekorLogEntry {
  uuid: string;
  /** base64 canonical body. */
  body: string;
  integratedTime: number;
  /** hex */
  logID: string;
  logIndex: number;
  verification?: {
    signedEntryTimestamp?: string;
    inclusionProof?: { checkpoint?: string; hashes?: string[]; logIndex?: number; rootHash?: string; treeSize?: number };
  };
}

export interface RekorSearch {
  /** Entries whose public key is this certificate (PEM), at most `limit`. */
  entriesForCertificate(leafPem: string, limit?: number): Promise<RekorLogEntry[]>;
}

export interface RekorSearchOptions {
  /** The whole lookup (search and every entry fetched); default DEFAULT_SEARCH_BUDGET_MS. */
  timeoutMs?: number;
  /** Send through this `fetch` instead of node:http(s) (tests, embedding). */
  fetch?: FetchLike;
}

/** git waits on every --verify call: a lookup that cannot finish quickly is reported, not waited for. */
export const DEFAULT_SEARCH_BUDGET_MS = 5_000;
/** The index answer: ~3,900 UUIDs of 80 hex characters. */
export const MAX_INDEX_BYTES = 256 * 1024;
/** One entry with its inclusion proof is ~5 KB. */
export const MAX_ENTRY_BYTES = 256 * 1024;
export const MAX_ENTRIES = 20;

const UUID = /^(?:[0-9a-f]{16})?[0-9a-f]{64}$/;

/** A search client for the Rekor v1 API at `baseUrl`. A bare function as the second argument is the fetch to use. */
export function createRekorSearch(baseUrl: string, opts: RekorSearchOptions | FetchLike = {}): RekorSearch {
  const o: RekorSearchOptions = typeof opts === 'function' ? { fetch: opts } : opts;
  const base = baseUrl.replace(/\/+$/, '');
  const budget = o.timeoutMs ?? DEFAULT_SEARCH_BUDGET_MS;
  const seconds = `${Number((budget / 1000).toFixed(3))} s`;

  return {
    async entriesForCertificate(leafPem: string, limit = MAX_ENTRIES): Promise<RekorLogEntry[]> {
      const deadline = Date.now() + budget;
      const call = async (url: string, init: { method: string; headers?: Record<string, string>; body?: string }, maxBytes: number): Promise<unknown> => {
        const left = deadline - Date.now();
        const path = new URL(url).pathname;
        if (left <= 0) throw new GitsealError('REKOR', `Rekor: the lookup did not finish within ${seconds} (gitseal.rekorSearchTimeout)`);
        let res;
        try {
          res = await request(url, init, { service: 'Rekor', code: 'REKOR', fetch: o.fetch, timeoutMs: left, totalTimeoutMs: left, retries: 0, maxBytes });
        } catch (e) {
          const t = isGitsealError(e) && e.cause instanceof TransportError ? e.cause : undefined;
          if (t?.kind === 'timeout') throw new GitsealError('REKOR', `Rekor: no complete answer for ${path} within the lookup's ${seconds} (gitseal.rekorSearchTimeout)`, e);
          if (t?.kind === 'network') throw new GitsealError('NETWORK', `cannot reach Rekor at ${new URL(url).origin} (${t.detail})`, e);
          if (isGitsealError(e) && /too large/.test(e.message)) throw new GitsealError('REKOR', `Rekor: the answer for ${path} is larger than ${maxBytes / 1024} KiB`, e);
          throw e;
        }
        if (res.status < 200 || res.status > 299) throw new GitsealError('REKOR', `Rekor answered ${res.status} for ${path}`);
        try {
          return JSON.parse(res.body.toString('utf8'));
        } catch (e) {
          throw new GitsealError('REKOR', `Rekor returned something that is not JSON for ${path}`, e);
        }
      };

      const uuids = await call(
        `${base}/api/v1/index/retrieve`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ publicKey: { format: 'x509', content: Buffer.from(leafPem).toString('base64') } }),
        },
        MAX_INDEX_BYTES,
      );
      if (!Array.isArray(uuids) || !uuids.every((u) => typeof u === 'string' && UUID.test(u))) {
        throw new GitsealError('REKOR', 'Rekor search returned an unexpected answer');
      }
      const out: RekorLogEntry[] = [];
      for (const uuid of (uuids as string[]).slice(0, Math.min(limit, MAX_ENTRIES))) {
        const r = await call(`${base}/api/v1/log/entries/${uuid}`, { method: 'GET', headers: { accept: 'application/json' } }, MAX_ENTRY_BYTES);
        const items = typeof r === 'object' && r !== null && !Array.isArray(r) ? Object.entries(r as Record<string, unknown>) : [];
        // The one entry asked for, and no other: its key names it and its body hashes to it (RFC 6962 leaf hash).
        if (items.length !== 1) throw new GitsealError('REKOR', `Rekor returned ${items.length} entries for one UUID`);
        const [id, v] = items[0];
        const e = v as Omit<RekorLogEntry, 'uuid'>;
        if (typeof e?.body !== 'string' || typeof e.logID !== 'string' || typeof e.integratedTime !== 'number' || typeof e.logIndex !== 'number') {
          throw new GitsealError('REKOR', 'Rekor returned a malformed entry');
        }
        const leafHash = createHash('sha256').update(Buffer.from([0])).update(Buffer.from(e.body, 'base64')).digest('hex');
        if (!UUID.test(id) || id.slice(-64) !== uuid.slice(-64) || leafHash !== uuid.slice(-64)) {
          throw new GitsealError('REKOR', `Rekor returned another entry than ${uuid.slice(-64, -52)}… asked for`);
        }
        out.push({ ...e, uuid: id });
      }
      return out;
    },
  };
}

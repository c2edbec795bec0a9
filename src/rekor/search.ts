/**
 * Rekor v1 lookup for gitsign online-mode signatures: search the (deprecated)
 * index by certificate, then fetch each entry. Plain fetch, 127.0.0.1 or the
 * configured Rekor only; loaded lazily by the verifier when online.
 */
import { GitsealError } from '../errors.js';

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

// git waits on every --verify call: a lookup that cannot finish quickly is reported, not waited for.
const TIMEOUT_MS = 5_000;

async function call(url: string, init: RequestInit & { fetchImpl: typeof fetch }): Promise<unknown> {
  let res: Response;
  try {
    res = await init.fetchImpl(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new GitsealError('NETWORK', `cannot reach Rekor at ${new URL(url).origin}: ${(e as Error).message}`, e);
  }
  const text = await res.text();
  if (!res.ok) throw new GitsealError('REKOR', `Rekor answered ${res.status} for ${new URL(url).pathname}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GitsealError('REKOR', `Rekor returned something that is not JSON for ${new URL(url).pathname}`, e);
  }
}

/** A search client for the Rekor v1 API at `baseUrl`. */
export function createRekorSearch(baseUrl: string, fetchImpl: typeof fetch = fetch): RekorSearch {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async entriesForCertificate(leafPem: string, limit = 20): Promise<RekorLogEntry[]> {
      const uuids = await call(`${base}/api/v1/index/retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ publicKey: { format: 'x509', content: Buffer.from(leafPem).toString('base64') } }),
        fetchImpl,
      });
      if (!Array.isArray(uuids) || !uuids.every((u) => typeof u === 'string' && /^(?:[0-9a-f]{64}|[0-9a-f]{80})$/.test(u))) {
        throw new GitsealError('REKOR', 'Rekor search returned an unexpected answer');
      }
      const out: RekorLogEntry[] = [];
      for (const uuid of (uuids as string[]).slice(0, limit)) {
        const r = await call(`${base}/api/v1/log/entries/${uuid}`, { method: 'GET', headers: { accept: 'application/json' }, fetchImpl });
        if (typeof r !== 'object' || r === null) throw new GitsealError('REKOR', 'Rekor returned a malformed entry');
        for (const [id, v] of Object.entries(r as Record<string, unknown>)) {
          const e = v as Omit<RekorLogEntry, 'uuid'>;
          if (typeof e?.body !== 'string' || typeof e.logID !== 'string' || typeof e.integratedTime !== 'number' || typeof e.logIndex !== 'number') {
            throw new GitsealError('REKOR', 'Rekor returned a malformed entry');
          }
          out.push({ ...e, uuid: id });
        }
      }
      return out;
    },
  };
}

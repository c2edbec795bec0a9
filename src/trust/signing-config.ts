/**
 * Sigstore SigningConfig (protobuf-specs sigstore_trustroot.proto,
 * media type application/vnd.dev.sigstore.signingconfig.v0.2+json): which
 * Fulcio, OIDC, Rekor and TSA services a client should use, and when.
 *
 * Selection follows the proto comments: among services valid at `now`, take
 * the highest API version this client supports, then the newest start.
 */
import { GitsealError } from '../errors.js';

export interface ServiceEntry {
  url: string;
  majorApiVersion: number;
  validFor: { start: Date; end?: Date };
  operator: string;
}

export interface SigningConfig {
  caUrls: ServiceEntry[];
  oidcUrls: ServiceEntry[];
  rekorTlogUrls: ServiceEntry[];
  tsaUrls: ServiceEntry[];
}

export interface SelectedServices {
  fulcioURL?: string;
  issuer?: string;
  rekor?: { url: string; version: 1 | 2 };
  tsaURL?: string;
}

/** API versions this client speaks. */
export const SUPPORTED = { ca: [1], oidc: [1], tlog: [1, 2], tsa: [1] } as const;

const MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.signingconfig.v0.2+json',
  'application/vnd.dev.sigstore.signingconfig.v0.1+json',
]);

function bad(msg: string): never {
  throw new GitsealError('TRUST_ROOT', `signing config: ${msg}`);
}

function parseEntries(v: unknown, field: string): ServiceEntry[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(`${field} must be a list`);
  return v.map((e, i) => {
    if (typeof e !== 'object' || e === null) bad(`${field}[${i}] must be an object`);
    const o = e as Record<string, any>;
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) bad(`${field}[${i}].url must be an http(s) URL`);
    const start = new Date(o.validFor?.start ?? 0);
    const end = o.validFor?.end ? new Date(o.validFor.end) : undefined;
    if (Number.isNaN(start.getTime()) || (end && Number.isNaN(end.getTime()))) bad(`${field}[${i}].validFor has a bad date`);
    return {
      url: o.url.replace(/\/+$/, ''),
      majorApiVersion: Number(o.majorApiVersion ?? 1),
      validFor: { start, end },
      operator: typeof o.operator === 'string' ? o.operator : '',
    };
  });
}

export function parseSigningConfig(json: string | Buffer): SigningConfig {
  let o: any;
  try {
    o = JSON.parse(json.toString());
  } catch {
    bad('not valid JSON');
  }
  if (typeof o !== 'object' || o === null) bad('not a JSON object');
  if (o.mediaType !== undefined && !MEDIA_TYPES.has(o.mediaType)) bad(`unsupported mediaType "${o.mediaType}"`);
  return {
    caUrls: parseEntries(o.caUrls, 'caUrls'),
    oidcUrls: parseEntries(o.oidcUrls, 'oidcUrls'),
    rekorTlogUrls: parseEntries(o.rekorTlogUrls, 'rekorTlogUrls'),
    tsaUrls: parseEntries(o.tsaUrls, 'tsaUrls'),
  };
}

function pick(entries: ServiceEntry[], supported: readonly number[], now: Date): ServiceEntry | undefined {
  const t = now.getTime();
  return entries
    .filter((e) => supported.includes(e.majorApiVersion))
    .filter((e) => e.validFor.start.getTime() <= t && (!e.validFor.end || t < e.validFor.end.getTime()))
    .sort((a, b) => b.majorApiVersion - a.majorApiVersion || b.validFor.start.getTime() - a.validFor.start.getTime())[0];
}

/** The services to sign with at `now`; `maxRekorVersion` lets config pin Rekor v1. */
export function selectServices(sc: SigningConfig, now: Date, maxRekorVersion: 1 | 2 = 2): SelectedServices {
  const ca = pick(sc.caUrls, SUPPORTED.ca, now);
  const oidc = pick(sc.oidcUrls, SUPPORTED.oidc, now);
  const tlog = pick(sc.rekorTlogUrls, SUPPORTED.tlog.filter((v) => v <= maxRekorVersion), now);
  const tsa = pick(sc.tsaUrls, SUPPORTED.tsa, now);
  return {
    fulcioURL: ca?.url,
    issuer: oidc?.url,
    rekor: tlog ? { url: tlog.url, version: tlog.majorApiVersion as 1 | 2 } : undefined,
    tsaURL: tsa?.url,
  };
}

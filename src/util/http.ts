/**
 * JSON over HTTP for the Sigstore services (Fulcio, Rekor): plain `fetch`, a
 * per-attempt timeout, a response size limit, and bounded retries with
 * exponential backoff and jitter on connection errors, timeouts, 408, 429 and
 * 5xx (honouring Retry-After, RFC 9110 §10.2.3). Other statuses come back to
 * the caller at once. Service errors become one readable line:
 * `<Service>: <message> (HTTP n)`, with grpc-gateway / Rekor `{code, message}`
 * bodies unwrapped.
 */
import { GitsealError, type ErrorCode } from '../errors.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** "Fulcio", "Rekor": the prefix of error messages. */
  service: string;
  code: ErrorCode;
  fetch?: FetchLike;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  retries?: number;
  /** First backoff step; default 500 ms (then 1 s, 2 s, … each ± jitter). */
  backoffMs?: number;
  /** Cap for any single wait, Retry-After included; default 10 s. */
  maxWaitMs?: number;
  /** Response body limit; default 1 MiB. */
  maxBytes?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each retry with the reason (human progress). */
  onRetry?: (reason: string, waitMs: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  url: string;
}

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || s >= 500;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seconds or an HTTP-date (RFC 9110 §10.2.3) → milliseconds, if present and sane. */
export function retryAfterMs(h: string | null, now = Date.now()): number | undefined {
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h.trim()) * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

async function readLimited(res: Response, max: number, service: string, code: ErrorCode): Promise<Buffer> {
  const len = Number(res.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(len) && len > max) {
    await res.body?.cancel();
    throw new GitsealError(code, `${service}: response too large (${len} bytes)`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw new GitsealError(code, `${service}: response too large (over ${max} bytes)`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Anything shaped like a JWT (an identity token a server might echo back) is never shown. */
function redact(s: string): string {
  return s.replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[token]');
}

/** One line from an error body: `{message}` (grpc-gateway, Rekor) or the first text line. */
export function errorText(body: Buffer): string {
  return redact(errorTextRaw(body));
}

function errorTextRaw(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof j.message === 'string' && j.message) return j.message;
    if (typeof j.error === 'string' && j.error) return j.error;
  } catch {
    /* not JSON */
  }
  const line = text.split('\n')[0].replace(/<[^>]*>/g, '').trim();
  return line.length > 200 ? line.slice(0, 200) + '…' : line || 'no details';
}

/** Throw the one-line service error for a non-2xx response. */
export function failStatus(r: HttpResponse, o: Pick<HttpOptions, 'service' | 'code'>): never {
  throw new GitsealError(o.code, `${o.service}: ${errorText(r.body)} (HTTP ${r.status})`);
}

function describeNetError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  const c = err?.cause;
  if (c?.code) return c.code;
  return c?.message || err?.message || String(e);
}

/**
 * Send a request, retrying what is worth retrying. Returns the final response
 * whatever its status (the caller decides what a 409 means); throws on network
 * failure after the last retry.
 */
export async function request(url: string, init: { method: string; headers?: Record<string, string>; body?: string }, o: HttpOptions): Promise<HttpResponse> {
  const doFetch: FetchLike = o.fetch ?? ((u, i) => fetch(u, i));
  const retries = o.retries ?? 3;
  const backoff = o.backoffMs ?? 500;
  const maxWait = o.maxWaitMs ?? 10_000;
  const sleep = o.sleep ?? defaultSleep;
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      throw new GitsealError(o.code, `${o.service}: invalid URL ${url}`);
    }
  })();
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    let wait: number | undefined;
    try {
      const res = await doFetch(url, {
        method: init.method,
        headers: { accept: 'application/json', ...init.headers },
        body: init.body,
        redirect: 'error',
        signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
      });
      const body = await readLimited(res, o.maxBytes ?? 1024 * 1024, o.service, o.code);
      const r: HttpResponse = { status: res.status, headers: res.headers, body, url };
      if (!RETRY_STATUS(res.status) || attempt >= retries) return r;
      reason = `HTTP ${res.status}`;
      wait = retryAfterMs(res.headers.get('retry-after'));
    } catch (e) {
      if (e instanceof GitsealError) throw e;
      if (attempt >= retries) {
        throw new GitsealError(o.code, `${o.service}: cannot reach ${origin} (${describeNetError(e)})`, e);
      }
      reason = describeNetError(e);
    }
    // Exponential backoff with ±50 % jitter so that many clients do not retry in step.
    const base = backoff * 2 ** attempt;
    const ms = Math.min(maxWait, wait ?? base * (0.5 + Math.random()));
    o.onRetry?.(reason, ms);
    await sleep(ms);
  }
}

/** POST JSON; returns the response (any status, after retries). */
export function postJson(url: string, body: unknown, o: HttpOptions, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, o);
}

export function parseJsonBody<T = unknown>(r: HttpResponse, o: Pick<HttpOptions, 'service' | 'code'>): T {
  try {
    return JSON.parse(r.body.toString('utf8')) as T;
  } catch {
    throw new GitsealError(o.code, `${o.service}: the response is not JSON (HTTP ${r.status})`);
  }
}

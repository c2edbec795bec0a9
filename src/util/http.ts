/**
 * JSON over HTTP for the Sigstore services (Fulcio, Rekor): a per-attempt
 * timeout, a response size limit, and bounded retries with exponential backoff
 * and jitter on connection errors, timeouts, 408, 429 and 5xx (honouring
 * Retry-After, RFC 9110 §10.2.3). Other statuses come back to the caller at
 * once. Service errors become one readable line: `<Service>: <message> (HTTP n)`,
 * with grpc-gateway / Rekor `{code, message}` bodies unwrapped.
 *
 * Requests go through node:http / node:https, not the global `fetch`: git
 * spawns the signing program once per commit, and the first `fetch` call loads
 * undici (~38 ms CPU, measured with `node --cpu-prof`, issue "Speed" P3)
 * against ~12 ms for node:http(s). HTTPS uses Node's default agent and CA
 * store, so certificates are verified as `fetch` verified them; like the old
 * `fetch` code, no proxy variables are read. node:https (TLS) is loaded only
 * for https URLs. An injected `fetch` (HttpOptions.fetch) is still honoured.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { GitsealError, networkReason, type ErrorCode } from '../errors.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** "Fulcio", "Rekor": the prefix of error messages. */
  service: string;
  code: ErrorCode;
  /** Send through this `fetch` instead of node:http(s) (tests, embedding). */
  fetch?: FetchLike;
  /** Per attempt; default 20 s. */
  timeoutMs?: number;
  /**
   * All attempts and waits together; default 45 s. git waits on the signing program with
   * the commit message in hand: a hung service must end in a clear error, not minutes later.
   */
  totalTimeoutMs?: number;
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

/** Response headers, looked up case-insensitively (the part of WHATWG `Headers` callers use). */
export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: Buffer;
  url: string;
}

export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** What one attempt could not do; request() and the TSA client turn it into their own one-line errors. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'network' | 'cut-short' | 'too-large',
    /** Why, in words: `timed out`, `connection refused`, `host not found`, or the size for too-large. */
    readonly detail: string,
    cause?: unknown,
  ) {
    super(`${kind}: ${detail}`, { cause });
    this.name = 'TransportError';
  }
}

/** One attempt: status, headers and the whole body (within maxBytes), or a TransportError. */
export type Transport = (url: URL, req: RawRequest, limits: { timeoutMs: number; maxBytes: number }) => Promise<Omit<HttpResponse, 'url'>>;

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || s >= 500;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seconds or an HTTP-date (RFC 9110 §10.2.3) → milliseconds, if present and sane. */
export function retryAfterMs(h: string | null, now = Date.now()): number | undefined {
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h.trim()) * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function headerMap(h: IncomingHttpHeaders): HttpHeaders {
  return {
    get(name: string) {
      const v = h[name.toLowerCase()];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** Why a connection failed, in words (src/errors.ts networkReason), never a bare ECONNREFUSED. */
function errnoOf(e: unknown): string {
  const err = e as { message?: string };
  return networkReason(e) ?? (err?.message ? err.message.split('\n')[0] : String(e));
}

/** Undo a Content-Encoding the server applied although we asked for none (RFC 9110 §8.4). */
function decode(encoding: string | undefined, body: Buffer, maxBytes: number): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  const zlib = process.getBuiltinModule('node:zlib');
  const opts = { maxOutputLength: maxBytes };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return zlib.gunzipSync(body, opts);
    if (enc === 'deflate') return zlib.inflateSync(body, opts);
    if (enc === 'br') return zlib.brotliDecompressSync(body, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new TransportError('too-large', `over ${maxBytes} bytes`, e);
    throw new TransportError('network', `undecodable ${enc} body`, e);
  }
  throw new TransportError('network', `unsupported content encoding ${enc}`);
}

/**
 * node:http(s), one connection per request (`Connection: close`): nothing stays
 * open after the answer, so the process can exit as soon as its output is out.
 */
export const nodeTransport: Transport = async (url, req, limits) => {
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') throw new TransportError('network', `unsupported protocol ${url.protocol}`);
  // process.getBuiltinModule, not import(): synchronous, and it works in any bundle format
  // (a CommonJS bundle run through node:vm has no dynamic import()).
  const { request: send } = https ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string> = { ...req.headers, connection: 'close' };
  if (body) headers['content-length'] = String(body.length);
  const options: RequestOptions = {
    method: req.method,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || undefined,
    path: url.pathname + url.search,
    headers,
    // Default agent: certificate and host name verification against Node's CA store, as fetch did.
  };
  return new Promise((resolve, reject) => {
    let done = false;
    let res: IncomingMessage | undefined;
    const finish = (err: TransportError | undefined, value?: Omit<HttpResponse, 'url'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        r.destroy();
        reject(err);
      } else resolve(value!);
    };
    const timer = setTimeout(() => finish(new TransportError('timeout', 'timed out')), limits.timeoutMs);
    let r: ReturnType<typeof send>;
    try {
      r = send(options, onResponse);
    } catch (e) {
      // Refused before any I/O (a header or port Node will not send); no timer may outlive it.
      clearTimeout(timer);
      return reject(new TransportError('network', errnoOf(e), e));
    }
    r.on('error', (e) => finish(new TransportError(res ? 'cut-short' : 'network', errnoOf(e), e)));
    r.end(body);

    function onResponse(m: IncomingMessage) {
      res = m;
      const status = m.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304) {
        // As with fetch's `redirect: 'error'`: redirects are not followed, and fail like a network error.
        m.resume();
        return finish(new TransportError('network', 'unexpected redirect'));
      }
      const len = Number(m.headers['content-length'] ?? 'NaN');
      if (Number.isFinite(len) && len > limits.maxBytes) return finish(new TransportError('too-large', `${len} bytes`));
      const chunks: Buffer[] = [];
      let total = 0;
      m.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limits.maxBytes) finish(new TransportError('too-large', `over ${limits.maxBytes} bytes`));
        else chunks.push(c);
      });
      m.on('end', () => {
        if (done) return;
        if (!m.complete) return finish(new TransportError('cut-short', 'connection closed early'));
        let b: Buffer;
        try {
          b = decode(m.headers['content-encoding'], Buffer.concat(chunks), limits.maxBytes);
        } catch (e) {
          return finish(e as TransportError);
        }
        finish(undefined, { status, headers: headerMap(m.headers), body: b });
      });
      m.on('aborted', () => finish(new TransportError('cut-short', 'connection closed early')));
      m.on('error', (e) => finish(new TransportError('cut-short', errnoOf(e), e)));
    }
  });
};

/** The same contract over an injected WHATWG `fetch`. */
export function fetchTransport(doFetch: FetchLike): Transport {
  return async (url, req, limits) => {
    let res: Response;
    try {
      res = await doFetch(url.toString(), {
        method: req.method,
        headers: req.headers,
        body: req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : new Uint8Array(req.body),
        redirect: 'error',
        signal: AbortSignal.timeout(limits.timeoutMs),
      });
    } catch (e) {
      const err = e as { name?: string; cause?: { message?: string } };
      if (err?.name === 'TimeoutError' || err?.name === 'AbortError') throw new TransportError('timeout', 'timed out', e);
      throw new TransportError('network', networkReason(e) ?? err?.cause?.message ?? errnoOf(e), e);
    }
    const len = Number(res.headers.get('content-length') ?? 'NaN');
    if (Number.isFinite(len) && len > limits.maxBytes) {
      await res.body?.cancel();
      throw new TransportError('too-large', `${len} bytes`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.length;
          if (total > limits.maxBytes) {
            await reader.cancel();
            throw new TransportError('too-large', `over ${limits.maxBytes} bytes`);
          }
          chunks.push(Buffer.from(value));
        }
      } catch (e) {
        if (e instanceof TransportError) throw e;
        const err = e as { name?: string };
        if (err?.name === 'TimeoutError' || err?.name === 'AbortError') throw new TransportError('timeout', 'timed out', e);
        throw new TransportError('cut-short', errnoOf(e), e);
      }
    }
    return { status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
  };
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

/**
 * Send a request, retrying what is worth retrying. Returns the final response
 * whatever its status (the caller decides what a 409 means); throws on network
 * failure after the last retry.
 */
export async function request(url: string, init: { method: string; headers?: Record<string, string>; body?: string }, o: HttpOptions): Promise<HttpResponse> {
  const transport = o.fetch ? fetchTransport(o.fetch) : nodeTransport;
  const retries = o.retries ?? 3;
  const backoff = o.backoffMs ?? 500;
  const maxWait = o.maxWaitMs ?? 10_000;
  const maxBytes = o.maxBytes ?? 1024 * 1024;
  const sleep = o.sleep ?? defaultSleep;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new GitsealError(o.code, `${o.service}: invalid URL ${url}`);
  }
  const origin = target.origin;
  const req: RawRequest = { method: init.method, headers: { accept: 'application/json', ...init.headers }, body: init.body };
  const perAttempt = o.timeoutMs ?? 20_000;
  const deadline = Date.now() + Math.max(o.totalTimeoutMs ?? 45_000, perAttempt);
  const giveUp = (e: TransportError): never => {
    if (e.kind === 'cut-short') throw new GitsealError(o.code, `${o.service}: the response from ${origin} was cut short (${e.detail})`, e);
    throw new GitsealError(o.code, `${o.service}: cannot reach ${origin} (${e.detail})`, e);
  };
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    let wait: number | undefined;
    let last: { response: HttpResponse } | { error: TransportError };
    try {
      const timeoutMs = Math.min(perAttempt, Math.max(1_000, deadline - Date.now()));
      const res = await transport(target, req, { timeoutMs, maxBytes });
      const r: HttpResponse = { ...res, url };
      if (!RETRY_STATUS(res.status) || attempt >= retries) return r;
      reason = `HTTP ${res.status}`;
      wait = retryAfterMs(res.headers.get('retry-after'));
      last = { response: r };
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.kind === 'too-large') throw new GitsealError(o.code, `${o.service}: response too large (${e.detail})`, e);
      if (attempt >= retries) giveUp(e);
      reason = e.kind === 'cut-short' ? `response cut short (${e.detail})` : e.detail;
      last = { error: e as TransportError };
    }
    // Exponential backoff with ±50 % jitter so that many clients do not retry in step.
    const base = backoff * 2 ** attempt;
    const ms = Math.min(maxWait, wait ?? base * (0.5 + Math.random()));
    // No time left for another attempt after this wait: report what we have now.
    if (Date.now() + ms + 1_000 >= deadline) {
      if ('response' in last) return last.response;
      giveUp(last.error);
    }
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

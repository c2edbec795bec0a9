/**
 * Server-side HTTP helpers shared by the sandbox's Rekor-shaped services (rekor, rekor-v2,
 * tsa) and the runner's control endpoint: bounded bodies, Rekor's `{code, message}` error
 * replies, and one wrapper that turns a route's failure into such a reply. (Fulcio answers in
 * grpc-gateway's shape instead: fulcio/grpc-error.ts.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failed request: sent as `{ code: status, message }`, Rekor's error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Read the request body, refusing more than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `request body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      req.resume();
      throw new HttpError(413, `request body is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON request body; garbage is a 400. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'the request body is empty; expected JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}

/** The request's path without query and trailing slashes. */
export function requestPath(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://sandbox').pathname.replace(/\/+$/, '');
}

/** 405 with an Allow header unless the request uses `allowed`. */
export function requireMethod(req: IncomingMessage, path: string, allowed: string): void {
  const method = req.method ?? 'GET';
  if (method !== allowed) throw new HttpError(405, `${method} is not allowed on ${path}`, { allow: allowed });
}

/** 404 for a path no route serves. */
export function noSuchEndpoint(req: IncomingMessage, path: string): HttpError {
  return new HttpError(404, `no such endpoint: ${req.method ?? 'GET'} ${path || '/'}`);
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(body.length) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value) + '\n', 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code: status, message }, headers);
}

/**
 * A request handler running `route`: an HttpError becomes its status and message, anything
 * else a 500 with the first line of its message; after the headers have gone out, the
 * connection is cut instead, so the client sees the failure.
 */
export function serveRoute(route: (req: IncomingMessage, res: ServerResponse) => Promise<void>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) sendError(res, e.status, e.message, e.headers);
      else sendError(res, 500, `internal error: ${(e as Error)?.message ?? String(e)}`.split('\n')[0]);
    });
  };
}

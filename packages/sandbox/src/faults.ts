/**
 * Fault injection for the sandbox services, so clients' retry and error
 * paths can be tested against real HTTP. A fault is set per service
 * (`oidc`, `fulcio`, `rekor`, and `tsa` / `rekor2` for the RFC 3161 TSA and
 * the Rekor v2 log) and is either permanent or count-limited:
 *
 *   rekor=503        every Rekor request answers 503 {code,message}
 *   rekor=503x2      the next two Rekor requests answer 503, then it recovers
 *   fulcio=delay:3000  wait 3 s, then answer normally
 *   oidc=drop        close the connection without a response
 *   rekor=malformed  the real status and headers, but a body that is not JSON
 *   fulcio=truncate  the real response cut off halfway (Content-Length promises more)
 *   rekor=clear, clear   remove one service's fault, or all of them
 */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';

export const SERVICES = ['oidc', 'fulcio', 'rekor', 'tsa', 'rekor2'] as const;
export type ServiceName = (typeof SERVICES)[number];

export type FaultAction =
  | { kind: 'status'; status: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' }
  | { kind: 'malformed' }
  | { kind: 'truncate' };

export interface Fault {
  action: FaultAction;
  /** Requests still to be affected; undefined = until cleared. */
  remaining?: number;
}

/** One parsed `service=action[xN]` or `[service=]clear` argument. */
export type FaultSpec = { service: ServiceName | 'all'; fault: Fault | null };

export class FaultSpecError extends Error {}

const MAX_DELAY_MS = 120_000;

export function parseFaultSpec(text: string): FaultSpec {
  const s = text.trim();
  if (s === 'clear') return { service: 'all', fault: null };
  const m = /^([a-z][a-z0-9]*)=(.+)$/.exec(s);
  if (!m) throw new FaultSpecError(`"${text}" is not a fault; expected SERVICE=ACTION (e.g. rekor=503x2) or clear`);
  const service = m[1] as ServiceName;
  if (!SERVICES.includes(service)) throw new FaultSpecError(`unknown service "${m[1]}"; expected one of ${SERVICES.join(', ')}`);
  if (m[2] === 'clear') return { service, fault: null };
  const a = /^(?:(\d{3})|delay:(\d+)|(drop)|(malformed)|(truncate))(?:x(\d+))?$/.exec(m[2]);
  if (!a) {
    throw new FaultSpecError(`unknown fault "${m[2]}"; expected a status (503), delay:MS, drop, malformed or truncate, optionally followed by xN`);
  }
  let action: FaultAction;
  if (a[1]) {
    const status = Number(a[1]);
    if (status < 400 || status > 599) throw new FaultSpecError(`fault status ${status} is not an HTTP error status (400-599)`);
    action = { kind: 'status', status };
  } else if (a[2]) {
    const ms = Number(a[2]);
    if (ms > MAX_DELAY_MS) throw new FaultSpecError(`delay ${ms} ms is longer than the ${MAX_DELAY_MS} ms maximum`);
    action = { kind: 'delay', ms };
  } else if (a[3]) action = { kind: 'drop' };
  else if (a[4]) action = { kind: 'malformed' };
  else action = { kind: 'truncate' };
  let remaining: number | undefined;
  if (a[6] !== undefined) {
    remaining = Number(a[6]);
    if (remaining < 1) throw new FaultSpecError('a fault count must be at least 1');
  }
  return { service, fault: { action, remaining } };
}

/** The active faults of a running sandbox. */
export class FaultTable {
  private readonly faults = new Map<ServiceName, Fault>();

  apply(spec: FaultSpec): void {
    if (spec.service === 'all') {
      if (spec.fault) throw new FaultSpecError('a fault needs a service');
      this.faults.clear();
    } else if (spec.fault) this.faults.set(spec.service, { ...spec.fault });
    else this.faults.delete(spec.service);
  }

  /** The action for the next request to `service`, counting it against a limited fault. */
  take(service: ServiceName): FaultAction | undefined {
    const f = this.faults.get(service);
    if (!f) return undefined;
    if (f.remaining !== undefined) {
      f.remaining--;
      if (f.remaining <= 0) this.faults.delete(service);
    }
    return f.action;
  }

  snapshot(): Partial<Record<ServiceName, Fault>> {
    return Object.fromEntries([...this.faults].map(([k, v]) => [k, { ...v }]));
  }
}

/** Per-service request counters, keyed "METHOD /path" with long hex ids folded to {id}. */
export class RequestCounters {
  readonly counts: Partial<Record<ServiceName, Record<string, number>>> = {};
  readonly faultsInjected: Partial<Record<ServiceName, number>> = {};

  count(service: ServiceName, req: IncomingMessage): void {
    const path = (req.url ?? '/').split('?')[0].replace(/[0-9a-fA-F]{16,}/g, '{id}');
    const key = `${req.method ?? 'GET'} ${path}`;
    const c = (this.counts[service] ??= {});
    c[key] = (c[key] ?? 0) + 1;
  }

  injected(service: ServiceName): void {
    this.faultsInjected[service] = (this.faultsInjected[service] ?? 0) + 1;
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Put fault injection and counting in front of a server's own request
 * listeners, so services that create their own http.Server (the OIDC
 * provider) get the same treatment as handlers mounted by the runner.
 */
export function interposeOnServer(server: Server, service: ServiceName, faults: FaultTable, counters: RequestCounters): void {
  const listeners = server.listeners('request') as Handler[];
  server.removeAllListeners('request');
  const inner: Handler = (req, res) => {
    for (const l of listeners) l.call(server, req, res);
  };
  server.on('request', withFaults(inner, service, faults, counters));
}

/** Wrap a request handler with counting and whatever fault is active for `service`. */
export function withFaults(handler: Handler, service: ServiceName, faults: FaultTable, counters: RequestCounters): Handler {
  return (req, res) => {
    counters.count(service, req);
    const action = faults.take(service);
    if (!action) return handler(req, res);
    counters.injected(service);
    switch (action.kind) {
      case 'status': {
        req.resume();
        const body = JSON.stringify({ code: action.status, message: `sandbox fault injected: ${service} answers ${action.status}` }) + '\n';
        res.writeHead(action.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => handler(req, res), action.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'drop':
        req.socket.destroy();
        return;
      case 'malformed':
      case 'truncate':
        captureResponse(res, (status, headers, body) => {
          const kind = action.kind;
          if (kind === 'malformed') {
            const bad = Buffer.from('{"sandbox fault": malformed response <<<', 'utf8');
            res.writeHead(status, { ...headers, 'content-length': String(bad.length) });
            res.end(bad);
          } else {
            // Promise the whole body, send half, then cut the connection.
            res.writeHead(status, { ...headers, 'content-length': String(Math.max(body.length, 2)) });
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
          }
        });
        return handler(req, res);
    }
  };
}

/**
 * Let a handler write its whole response into memory, then hand status,
 * headers and body to `done` with the response's own methods restored.
 */
function captureResponse(res: ServerResponse, done: (status: number, headers: OutgoingHttpHeaders, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let headStatus: number | undefined;
  const headHeaders: OutgoingHttpHeaders = {};
  const toBuffer = (chunk: unknown, enc?: unknown) =>
    Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
  const patched = res as unknown as Record<string, unknown>;
  patched.writeHead = (status: number, ...args: unknown[]) => {
    headStatus = status;
    const h = args.find((a) => typeof a === 'object' && a !== null);
    if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) headHeaders[String(h[i]).toLowerCase()] = h[i + 1];
    else if (h) for (const [k, v] of Object.entries(h)) headHeaders[k.toLowerCase()] = v as string;
    return res;
  };
  patched.write = (chunk: unknown, enc?: unknown, cb?: unknown) => {
    chunks.push(toBuffer(chunk, enc));
    const callback = typeof enc === 'function' ? enc : cb;
    if (typeof callback === 'function') process.nextTick(callback as () => void);
    return true;
  };
  patched.end = (chunk?: unknown, enc?: unknown, cb?: unknown) => {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') chunks.push(toBuffer(chunk, enc));
    delete patched.writeHead;
    delete patched.write;
    delete patched.end;
    const headers: OutgoingHttpHeaders = { ...res.getHeaders(), ...headHeaders };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    done(headStatus ?? res.statusCode, headers, Buffer.concat(chunks));
    const callback = [chunk, enc, cb].find((x) => typeof x === 'function');
    if (callback) res.once('finish', callback as () => void);
    return res;
  };
}

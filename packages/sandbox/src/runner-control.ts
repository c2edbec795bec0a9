/**
 * The running sandbox's control endpoint: a loopback HTTP server that the
 * `fault`, `stats` and `stop` commands talk to. Its URL and a random bearer
 * token are in DIR/sandbox.json (0600), so only whoever can read the
 * sandbox directory can steer it.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitsealError } from './gitseal/errors.js';
import { FaultSpecError, parseFaultSpec } from './faults.js';
import { readBody, sendError, sendJson } from './shared/http.js';
import { sandboxFiles, type SandboxInfo } from './runner-files.js';

export interface ControlHandlers {
  stats(): unknown;
  /** Apply fault specs (`rekor=503x2`, `clear`, …); returns the active faults. */
  faults(specs: string[]): unknown;
  listFaults(): unknown;
  stop(): void;
}

export async function startControlServer(host: string, token: string, h: ControlHandlers): Promise<{ server: Server; url: string }> {
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      req.resume();
      return sendError(res, 401, 'missing or wrong control token (see sandbox.json)');
    }
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    (async () => {
      if (route === 'GET /stats') return sendJson(res, 200, h.stats());
      if (route === 'GET /faults') return sendJson(res, 200, h.listFaults());
      if (route === 'POST /faults') {
        const body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8')) as { specs?: unknown };
        if (!Array.isArray(body.specs) || !body.specs.every((s) => typeof s === 'string')) return sendError(res, 400, 'expected {"specs": [string…]}');
        try {
          return sendJson(res, 200, h.faults(body.specs as string[]));
        } catch (e) {
          if (e instanceof FaultSpecError) return sendError(res, 400, e.message);
          throw e;
        }
      }
      if (route === 'POST /stop') {
        sendJson(res, 200, { stopping: true });
        res.on('finish', () => h.stop());
        return;
      }
      return sendError(res, 404, `no control endpoint ${route}`);
    })().catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 400, (e as Error)?.message ?? String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

/** DIR/sandbox.json of a running sandbox, or a GitsealError saying none runs there. */
export function readSandboxInfo(dir: string): SandboxInfo {
  const path = sandboxFiles(dir).sandbox;
  let info: SandboxInfo;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as SandboxInfo;
  } catch {
    throw new GitsealError('CONFIG', `no sandbox is running in ${dir} (${path} is missing); start one with: gitseal-sandbox start --dir ${dir}`);
  }
  if (!isAlive(info.pid)) throw new GitsealError('CONFIG', `the sandbox in ${dir} is not running (pid ${info.pid} has exited)`);
  return info;
}

/** Whether `pid` is a live process. A zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux /proc/PID/stat: "pid (comm) S ..."; S = Z for a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Call the control endpoint of the sandbox running in `dir`. */
export async function controlRequest(dir: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const info = readSandboxInfo(dir);
  let res: Response;
  try {
    res = await fetch(info.control.url + path, {
      method,
      headers: { authorization: `Bearer ${info.control.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new GitsealError('NETWORK', `cannot reach the sandbox control endpoint ${info.control.url}: ${(e as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new GitsealError(res.status === 400 ? 'USAGE' : 'INTERNAL', json.message ?? `the sandbox answered HTTP ${res.status}`);
  return json;
}

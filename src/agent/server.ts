/**
 * The gitseal signing agent: a long-lived process that holds, per identity, one ephemeral P-256
 * key and its Fulcio certificate in memory, and signs CMS signed attributes for clients on a
 * unix socket. Unlike gitsign's credential cache it never hands the key out (see protocol.ts).
 *
 * Rekor upload stays in the client (measured 2026-11-22 against the sandbox on this 2-core
 * machine, under load from other test suites; medians of 20):
 *   upload + entry check in a fresh process (what a git-spawned client pays)  ~90-120 ms
 *     of which the HTTP round-trip ~90-100 ms: ~40 ms is Node's lazy fetch/undici start-up
 *     (a cold node:http request to the same Rekor takes ~10-15 ms), entry check 2-20 ms (JIT)
 *   the same in a long-lived process (what the agent would pay)                ~7-13 ms
 *   whole `git commit -S` through the agent (node start-up included)           ~0.31-0.36 s
 * Moving the upload would save ~80-100 ms a commit, but: the client must still check the entry
 * it embeds (so the JIT cost stays), Rekor errors would surface in the agent's log instead of on
 * the person's terminal, the agent would make network requests to client-chosen URLs on every
 * signature, and the AttributeSigner contract ({signature, chain}) and the local fallback would
 * fork. Cheaper win: use node:http instead of fetch on the signing path (~40 ms of the cost).
 *
 * Socket safety: see paths.ts (0700 directory owned by us, 0600 socket, no peer-credential API
 * in Node). Binding is race-free against a second agent started at the same moment: we listen
 * on a private temporary name, chmod, check that no live agent answers on the real path, then
 * rename(2) over it atomically; an agent whose socket was later replaced notices (inode check)
 * and exits once its own clients are served.
 */
import { sign as ecdsaSign } from 'node:crypto';
import { chmodSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { GitsealError, describeError } from '../errors.js';
import { CredentialStore, NeedTokenError, type StoreDeps } from './credential-store.js';
import { probeSocket } from './socket-probe.js';
import type { AgentLog } from './log.js';
import { ensurePrivateDir, socketDir } from './paths.js';
import {
  type AgentRequest,
  type HeldIdentity,
  type IdentityKey,
  type SignRequest,
  FrameReader,
  ProtocolError,
  decodeFrameJson,
  encodeFrame,
  errorResponse,
  okResponse,
  parseRequest,
  signResultToWire,
} from './protocol.js';
import { checkSignedAttributes } from './signed-attrs.js';

export interface AgentServerOptions extends StoreDeps {
  socketPath: string;
  log: AgentLog;
  version: string;
  /** Exit after this long without a valid credential and without requests (default 30 min). */
  idleMs?: number;
  /** A connection that sends nothing for this long is closed (default 30 s). */
  connectionIdleMs?: number;
  /** A frame must arrive completely within this long once it has started (default 10 s). */
  frameTimeoutMs?: number;
  /** Upper bound for one request, Fulcio round-trip included (default 120 s). */
  requestTimeoutMs?: number;
  maxConnections?: number;
}

export interface AgentServer {
  socketPath: string;
  /** Resolves with the reason once the agent has stopped. */
  closed: Promise<string>;
  close(reason?: string): Promise<void>;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    server.once('error', onErr);
    // The directory is 0700 already; the umask makes the socket 0600 from its first moment.
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', onErr);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
}

function identityLabel(k: IdentityKey): string {
  return `${k.email ?? '(no user.email)'} via ${k.issuer}`;
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const { socketPath, log } = opts;
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const connectionIdleMs = opts.connectionIdleMs ?? 30_000;
  const frameTimeoutMs = opts.frameTimeoutMs ?? 10_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
  const maxConnections = opts.maxConnections ?? 128;
  const store = new CredentialStore(opts);
  const started = opts.now().getTime();

  const dir = socketDir(socketPath);
  ensurePrivateDir(dir);
  if (await probeSocket(socketPath)) {
    throw new GitsealError('AGENT', `an agent is already running on ${socketPath}`);
  }

  const sockets = new Set<Socket>();
  const announced = new WeakSet<object>();
  let busy = 0;
  let lastUseful = Date.now();
  let stopping = false;
  let resolveClosed!: (r: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));

  const server = createServer({ allowHalfOpen: false }, (sock) => {
    if (stopping || sockets.size >= maxConnections) {
      sock.end(encodeFrame(errorResponse(null, 'BUSY', stopping ? 'the agent is stopping' : 'the agent has too many connections')));
      return;
    }
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    serveConnection(sock);
  });

  const tmp = join(dir, `.agent-${process.pid}.sock`);
  try {
    unlinkSync(tmp);
  } catch {
    /* not there */
  }
  await listen(server, tmp);
  chmodSync(tmp, 0o600);
  const myIno = statSync(tmp).ino;
  if (await probeSocket(socketPath)) {
    server.close();
    throw new GitsealError('AGENT', `an agent is already running on ${socketPath}`);
  }
  renameSync(tmp, socketPath);
  log.write({ event: 'start', detail: `pid ${process.pid}, socket ${socketPath}` });

  function ownsSocket(): boolean {
    try {
      return statSync(socketPath).ino === myIno;
    } catch {
      return false;
    }
  }

  const tick = setInterval(
    () => {
      if (stopping) return;
      const live = store.prune();
      if (live > 0 || busy > 0) lastUseful = Date.now();
      if (!ownsSocket()) {
        if (busy === 0) void close('socket replaced or removed');
        return;
      }
      if (Date.now() - lastUseful >= idleMs) void close('idle');
    },
    Math.max(50, Math.min(10_000, Math.floor(idleMs / 4))),
  );
  tick.unref();

  function serveConnection(sock: Socket): void {
    const reader = new FrameReader();
    const queue: Buffer[] = [];
    let working = false;
    let frameTimer: NodeJS.Timeout | undefined;

    sock.setTimeout(connectionIdleMs, () => {
      if (!working) sock.destroy();
    });
    sock.on('error', () => sock.destroy());

    let dead = false;
    const fatal = (message: string) => {
      // Framing is lost: answer once, then hang up.
      if (dead) return;
      dead = true;
      queue.length = 0;
      sock.end(encodeFrame(errorResponse(null, message.includes('exceeds') ? 'TOO_LARGE' : 'BAD_REQUEST', message)));
      setTimeout(() => sock.destroy(), 1000).unref();
    };

    sock.on('data', (chunk: Buffer) => {
      if (dead) return;
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        fatal(describeError(e));
        return;
      }
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = undefined;
      if (reader.pending > 0) {
        frameTimer = setTimeout(() => sock.destroy(), frameTimeoutMs);
        frameTimer.unref();
      }
      queue.push(...frames);
      if (queue.length > 16) {
        fatal('too many pipelined requests');
        return;
      }
      void pump();
    });
    sock.once('close', () => {
      if (frameTimer) clearTimeout(frameTimer);
    });

    async function pump(): Promise<void> {
      if (working) return;
      working = true;
      try {
        while (queue.length && !sock.destroyed) {
          const body = queue.shift()!;
          let req: AgentRequest;
          try {
            req = parseRequest(decodeFrameJson(body));
          } catch (e) {
            if (e instanceof ProtocolError) sock.write(encodeFrame(errorResponse(e.id, e.agentCode, e.message)));
            else fatal(describeError(e));
            continue;
          }
          const resp = await handle(req);
          if (!sock.destroyed) sock.write(encodeFrame(resp));
          if (req.op === 'stop') {
            sock.end();
            void close('stop requested');
          }
        }
      } finally {
        working = false;
      }
    }
  }

  async function handle(req: AgentRequest): Promise<Record<string, unknown>> {
    busy++;
    lastUseful = Date.now();
    try {
      switch (req.op) {
        case 'status':
          return okResponse(req.id, status());
        case 'stop':
          return okResponse(req.id, { stopping: true });
        case 'sign':
          return await withTimeout(signOne(req), requestTimeoutMs, req.id);
      }
    } catch (e) {
      return errorResponse(req.id, 'INTERNAL', describeError(e));
    } finally {
      busy--;
      lastUseful = Date.now();
    }
  }

  async function signOne(req: SignRequest): Promise<Record<string, unknown>> {
    const who = identityLabel(req.identity);
    try {
      checkSignedAttributes(req.signedAttrs);
    } catch (e) {
      log.write({ event: 'sign', identity: who, repo: req.repo, outcome: 'refused', detail: describeError(e) });
      return errorResponse(req.id, 'BAD_REQUEST', describeError(e));
    }
    let cred;
    try {
      cred = await store.get(req.identity, req.config, req.token);
    } catch (e) {
      if (e instanceof NeedTokenError) {
        log.write({ event: 'sign', identity: who, repo: req.repo, outcome: 'need-token' });
        return errorResponse(req.id, 'NEED_TOKEN', e.message);
      }
      log.write({ event: 'credential', identity: who, repo: req.repo, outcome: 'failed', detail: describeError(e) });
      return errorResponse(req.id, 'FAILED', describeError(e));
    }
    if (!announced.has(cred)) {
      announced.add(cred);
      log.write({ event: 'credential', identity: who, repo: req.repo, outcome: `certificate for ${cred.identity} valid until ${cred.notAfter.toISOString()}` });
    }
    // RFC 5652 §5.4: the signature is computed over the DER SET OF signed attributes.
    const signature = ecdsaSign('sha256', req.signedAttrs, { key: cred.privateKey, dsaEncoding: 'der' });
    store.countSignature(req.identity);
    log.write({ event: 'sign', identity: `${who} as ${cred.identity}`, repo: req.repo, outcome: 'signed' });
    return okResponse(req.id, signResultToWire({ signature, chain: cred.chain }));
  }

  function status(): Record<string, unknown> {
    const now = opts.now().getTime();
    const identities: HeldIdentity[] = store.held().map((h) => ({
      identity: h.identity,
      subject: h.credential.identity,
      certIssuer: h.credential.issuer,
      secondsLeft: Math.max(0, Math.floor((h.credential.notAfter.getTime() - now) / 1000)),
      signatures: h.signatures,
    }));
    return { pid: process.pid, version: opts.version, uptimeSeconds: Math.floor((now - started) / 1000), socket: socketPath, identities };
  }

  async function close(reason = 'closed'): Promise<void> {
    if (stopping) return closed.then(() => undefined);
    stopping = true;
    clearInterval(tick);
    if (ownsSocket()) {
      try {
        unlinkSync(socketPath);
      } catch {
        /* already gone */
      }
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Let answers in flight drain, then hang up on anyone left.
      setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, 200).unref();
    });
    store.clear();
    log.write({ event: reason === 'idle' ? 'idle-exit' : 'stop', detail: reason });
    resolveClosed(reason);
  }

  return { socketPath, closed, close };
}

function withTimeout(p: Promise<Record<string, unknown>>, ms: number, id: number): Promise<Record<string, unknown>> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<Record<string, unknown>>((resolve) => {
    t = setTimeout(() => resolve(errorResponse(id, 'FAILED', `the agent gave up after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

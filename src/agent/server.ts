/**
 * The gitseal signing agent: a long-lived process that holds, per identity, one ephemeral P-256
 * key and its Fulcio certificate in memory, and signs CMS signed attributes for clients on a
 * unix socket. Unlike gitsign's credential cache it never hands the key out (see protocol.ts).
 *
 * Two ways to sign (protocol.ts):
 *   sign         the client sends DER signed attributes, gets {signature, chain} back, and logs
 *                to Rekor itself (the full path, src/sign/sign-payload.ts in the client);
 *   signPayload  the client sends git's payload and gets the finished CMS: the agent runs the
 *                same signPayload with its held key, against the trusted root the client names.
 * git's per-commit process uses signPayload when an agent holds a certificate (src/main-fast-
 * sign.ts). Measured on this 2-core machine against the sandbox (scripts/bench/p3.mjs, medians
 * of 15): a warm-agent `git commit -S` costs ~58 ms over an unsigned commit with signPayload
 * (1.75× `node -e 0`) against ~112 ms (3.07×) with sign, because the per-commit process then
 * loads no node:crypto, no HTTP client and no trusted root, and the agent's Rekor connection is
 * kept alive and its code already compiled. Rekor errors still reach the person: the agent
 * answers ABORTED with the one-line message, which the client prints as its own. Moving the
 * upload does not move trust: the agent checks the entry (SET, inclusion proof, checkpoint)
 * against the client's trusted root, and it already holds the key, so it is inside what the
 * person must trust for signing anyway.
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
import type { Credential } from '../sign/types.js';
import { CredentialStore, NeedTokenError, type StoreDeps } from './credential-store.js';
import { probeSocket } from './socket-probe.js';
import type { AgentLog } from './log.js';
import { ensurePrivateDir, socketDir } from './paths.js';
import {
  type AgentRequest,
  type HeldIdentity,
  type IdentityKey,
  type SignRequest,
  type SignPayloadRequest,
  FrameReader,
  MAX_PROGRESS,
  ProtocolError,
  decodeFrameJson,
  encodeFrame,
  errorResponse,
  okResponse,
  parseRequest,
  progressFrame,
  signResultToWire,
} from './protocol.js';

/** One line of progress for the person behind a request. */
type Say = (line: string) => void;
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
          const resp = await handle(req, progressTo(sock, req));
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

  /** Where a request's progress lines go: its connection, when it asked for them. */
  function progressTo(sock: Socket, req: AgentRequest): Say {
    if ((req.op !== 'sign' && req.op !== 'signPayload') || !req.progress) return () => {};
    let sent = 0;
    return (line) => {
      if (sock.destroyed || ++sent > MAX_PROGRESS) return;
      sock.write(encodeFrame(progressFrame(req.id, line)));
    };
  }

  async function handle(req: AgentRequest, say: Say): Promise<Record<string, unknown>> {
    busy++;
    lastUseful = Date.now();
    try {
      switch (req.op) {
        case 'status':
          return okResponse(req.id, status());
        case 'stop':
          return okResponse(req.id, { stopping: true });
        case 'sign':
          return await withTimeout(signOne(req, say), requestTimeoutMs, req.id);
        case 'signPayload':
          return await withTimeout(signWhole(req, say), requestTimeoutMs, req.id);
      }
    } catch (e) {
      return errorResponse(req.id, 'INTERNAL', describeError(e));
    } finally {
      busy--;
      lastUseful = Date.now();
    }
  }

  /** The held credential for the request's identity, or the error response to answer with. */
  async function credentialFor(req: SignRequest | SignPayloadRequest, who: string, say: Say): Promise<Credential | Record<string, unknown>> {
    let cred;
    try {
      const trust = req.op === 'signPayload' ? { env: req.trustEnv, fulcioRoot: req.signing.fulcioRoot } : undefined;
      cred = await store.get(req.identity, req.config, req.token, trust, say);
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
    return cred;
  }

  async function signOne(req: SignRequest, say: Say): Promise<Record<string, unknown>> {
    const who = identityLabel(req.identity);
    try {
      checkSignedAttributes(req.signedAttrs);
    } catch (e) {
      log.write({ event: 'sign', identity: who, repo: req.repo, outcome: 'refused', detail: describeError(e) });
      return errorResponse(req.id, 'BAD_REQUEST', describeError(e));
    }
    const cred = await credentialFor(req, who, say);
    if (!isCredential(cred)) return cred;
    // RFC 5652 §5.4: the signature is computed over the DER SET OF signed attributes.
    const signature = ecdsaSign('sha256', req.signedAttrs, { key: cred.privateKey, dsaEncoding: 'der' });
    store.countSignature(req.identity);
    log.write({ event: 'sign', identity: `${who} as ${cred.identity}`, repo: req.repo, outcome: 'signed' });
    return okResponse(req.id, signResultToWire({ signature, chain: cred.chain }));
  }

  /**
   * The whole signature (protocol.ts, signPayload): the key signs here, the entry is logged and
   * checked here. A failure after the key signed is ABORTED: the client reports it as is.
   */
  async function signWhole(req: SignPayloadRequest, say: Say): Promise<Record<string, unknown>> {
    const who = identityLabel(req.identity);
    const { signPayloadWithCredential, trustForRequest } = await import('./payload-signing.js');
    let trust;
    try {
      trust = trustForRequest(req);
    } catch (e) {
      // FAILED, not ABORTED: nothing was signed, and the client's own path can still sign.
      log.write({ event: 'sign', identity: who, repo: req.repo, outcome: 'refused', detail: describeError(e) });
      return errorResponse(req.id, 'FAILED', describeError(e));
    }
    // The warnings the client's own path would print about its trusted root come first.
    for (const w of trust.warnings.slice(0, 8)) say(`gitseal: warning: ${w}`);
    const cred = await credentialFor(req, who, say);
    if (!isCredential(cred)) return cred;
    let result;
    try {
      result = await signPayloadWithCredential(req, trust, cred, opts.now, say);
    } catch (e) {
      log.write({ event: 'sign', identity: `${who} as ${cred.identity}`, repo: req.repo, outcome: 'aborted', detail: describeError(e) });
      return errorResponse(req.id, e instanceof GitsealError ? 'ABORTED' : 'INTERNAL', describeError(e));
    }
    store.countSignature(req.identity);
    log.write({ event: 'sign', identity: `${who} as ${cred.identity}`, repo: req.repo, outcome: 'signed', detail: `whole signature, logged to Rekor at index ${result.logIndex}` });
    return okResponse(req.id, result);
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

function isCredential(c: Credential | Record<string, unknown>): c is Credential {
  return 'privateKey' in c;
}

function withTimeout(p: Promise<Record<string, unknown>>, ms: number, id: number): Promise<Record<string, unknown>> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<Record<string, unknown>>((resolve) => {
    t = setTimeout(() => resolve(errorResponse(id, 'FAILED', `the agent gave up after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

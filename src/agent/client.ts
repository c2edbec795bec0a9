/**
 * Talking to the signing agent: one connection per request, one frame each way. Also starting
 * it (detached, on demand), stopping it and asking its status — the functions behind
 * `gitseal agent start|stop|status`.
 *
 * This file is on the signing path that git spawns per commit, so it loads node: built-ins only,
 * and node:child_process (with dgram, net internals) only when an agent must be started.
 */
import { existsSync, lstatSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitsealError, describeError, fsReason } from '../errors.js';
import { agentLogPath, agentSocketPath, checkPrivateDir, ensurePrivateDir } from './paths.js';
import {
  type AgentError,
  type AgentRequest,
  type PayloadSignResult,
  type SignPayloadRequest,
  type SignRequest,
  type SignResult,
  type StatusResult,
  FrameReader,
  MAX_PROGRESS,
  decodeFrameJson,
  encodeFrame,
  parsePayloadSignResult,
  parseProgress,
  parseResponse,
  parseSignResult,
  parseStatusResult,
  requestToWire,
} from './protocol.js';
import { probeSocket } from './socket-probe.js';
import { EMBEDDED_AGENT_ARG, isEmbedded } from '../sea/embedded.js';

/** The agent could not be reached, hung up, timed out or answered garbage. */
export class AgentUnavailableError extends GitsealError {
  constructor(
    message: string,
    cause?: unknown,
    /** Nothing listens on the socket (ENOENT, ECONNREFUSED): the request never left this process. */
    readonly notListening = false,
  ) {
    super('AGENT', message, cause);
  }
}

/** The agent answered the request with an error. */
export class AgentRefusedError extends GitsealError {
  constructor(
    readonly agentError: AgentError,
    /** The agent streamed this request's progress lines before the error. */
    readonly streamed = false,
  ) {
    super('AGENT', `agent: ${agentError.message}`);
  }
}

let nextId = 1;

/**
 * Send one request and wait for its answer (result, or the agent's error). Progress frames the
 * agent sends first (requests with `progress: true`) go to `onProgress` as they arrive.
 */
export function agentRequest(
  socketPath: string,
  req: AgentRequest,
  timeoutMs = 130_000,
  onProgress?: (line: string) => void,
): Promise<{ result?: unknown; error?: AgentError }> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const reader = new FrameReader();
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(new AgentUnavailableError(`the agent did not answer within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    let connected = false;
    sock.once('connect', () => {
      connected = true;
      sock.write(encodeFrame(requestToWire(req)));
    });
    let progressFrames = 0;
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          if (settled) return;
          const o = decodeFrameJson(frame);
          const line = parseProgress(o, req.id);
          if (line !== undefined) {
            if (++progressFrames > MAX_PROGRESS) throw new GitsealError('AGENT', `more than ${MAX_PROGRESS} progress lines`);
            onProgress?.(line);
            continue;
          }
          const parsed = parseResponse(o, req.id);
          finish(() => resolve(parsed));
        }
      } catch (e) {
        finish(() => reject(new AgentUnavailableError(`the agent sent a malformed answer: ${describeError(e)}`, e)));
      }
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      const notListening = !connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED');
      finish(() => reject(new AgentUnavailableError(`cannot reach the agent at ${socketPath} (${fsReason(e) ?? e.message})`, e, notListening)));
    });
    sock.once('close', () => finish(() => reject(new AgentUnavailableError('the agent closed the connection before answering'))));
  });
}

/**
 * With `onProgress`, ask for progress frames; an agent older than them refuses the field, and is
 * asked once more without it (the person then sees the lines the client prints itself).
 */
async function requestWithProgress(
  socketPath: string,
  req: SignRequest | SignPayloadRequest,
  timeoutMs: number | undefined,
  onProgress: ((line: string) => void) | undefined,
): Promise<{ result?: unknown; error?: AgentError; streamed: boolean }> {
  if (!onProgress) return { ...(await agentRequest(socketPath, req, timeoutMs)), streamed: false };
  const r = await agentRequest(socketPath, { ...req, progress: true }, timeoutMs, onProgress);
  if (r.error?.code === 'BAD_REQUEST' && r.error.message.includes('"progress"')) {
    return { ...(await agentRequest(socketPath, { ...req, id: nextId++ }, timeoutMs)), streamed: false };
  }
  return { ...r, streamed: true };
}

/** Ask the agent to sign DER signed attributes. Throws AgentRefusedError (e.g. NEED_TOKEN) or AgentUnavailableError. */
export async function agentSign(
  socketPath: string,
  fields: Omit<SignRequest, 'v' | 'id' | 'op' | 'progress'>,
  timeoutMs?: number,
  onProgress?: (line: string) => void,
): Promise<SignResult> {
  const r = await requestWithProgress(socketPath, { v: 1, id: nextId++, op: 'sign', ...fields }, timeoutMs, onProgress);
  if (r.error) throw new AgentRefusedError(r.error);
  try {
    return parseSignResult(r.result);
  } catch (e) {
    throw new AgentUnavailableError(`the agent sent a malformed signature: ${describeError(e)}`, e);
  }
}

/**
 * Ask the agent for a whole signature (protocol.ts, signPayload). Throws AgentRefusedError
 * (NEED_TOKEN, ABORTED, …) or AgentUnavailableError. With `onProgress` the agent's progress
 * lines (its trusted-root warnings among them) arrive as the work happens; `streamed` then
 * says the agent sent them all, so the answer's warnings and the Rekor lines were shown already.
 */
export async function agentSignPayload(
  socketPath: string,
  fields: Omit<SignPayloadRequest, 'v' | 'id' | 'op' | 'progress'>,
  timeoutMs?: number,
  onProgress?: (line: string) => void,
): Promise<PayloadSignResult & { streamed?: boolean }> {
  const r = await requestWithProgress(socketPath, { v: 1, id: nextId++, op: 'signPayload', ...fields }, timeoutMs, onProgress);
  if (r.error) throw new AgentRefusedError(r.error, r.streamed);
  try {
    return { ...parsePayloadSignResult(r.result), ...(r.streamed ? { streamed: true } : {}) };
  } catch (e) {
    throw new AgentUnavailableError(`the agent sent a malformed signature: ${describeError(e)}`, e);
  }
}

/** Probe: does an agent accept connections on `socketPath`? */
export const agentAlive = probeSocket;

export interface AgentEnv {
  env: NodeJS.ProcessEnv;
  /** Path of dist/agent/main.js; found next to this bundle when absent. */
  agentMain?: string;
  /** How long to wait for a freshly started agent (default 5 s). */
  startTimeoutMs?: number;
}

/** Status of the running agent, or null when none answers. */
export async function agentStatus(o: AgentEnv): Promise<StatusResult | null> {
  const path = agentSocketPath(o.env);
  if (!(await agentAlive(path))) return null;
  const r = await agentRequest(path, { v: 1, id: nextId++, op: 'status' }, 10_000);
  if (r.error) throw new AgentRefusedError(r.error);
  return parseStatusResult(r.result);
}

/** Stop the running agent; false when none was running. Its keys die with it. */
export async function agentStop(o: AgentEnv): Promise<boolean> {
  const path = agentSocketPath(o.env);
  if (!(await agentAlive(path))) return false;
  const st = await agentRequest(path, { v: 1, id: nextId++, op: 'status' }, 10_000);
  const reported = st.result ? parseStatusResult(st.result).pid : undefined;
  const pid = reported === process.pid ? undefined : reported;
  const r = await agentRequest(path, { v: 1, id: nextId++, op: 'stop' }, 10_000);
  if (r.error) throw new AgentRefusedError(r.error);
  // "Stopped" means the process is gone (and its keys with it), not only its socket; and a
  // following start must not race the old agent.
  for (let i = 0; i < 250 && ((await agentAlive(path, 200)) || (pid !== undefined && processAlive(pid))); i++) await sleep(20);
  return true;
}

/** Start the agent unless one runs already; returns its socket path. */
export async function agentStart(o: AgentEnv): Promise<{ socketPath: string; started: boolean }> {
  const socketPath = agentSocketPath(o.env);
  checkSocketSafe(socketPath);
  if (await agentAlive(socketPath)) return { socketPath, started: false };
  await spawnAgent(socketPath, o);
  return { socketPath, started: true };
}

/**
 * Where a running agent would listen, checked as agentStart checks it (checkSocketSafe) but
 * without probing: the signing path sends its request at once and calls ensureAgent only when
 * nothing listens (AgentUnavailableError.notListening), which saves a connection per signature.
 */
export function agentSocketChecked(o: Pick<AgentEnv, 'env'>): string {
  const socketPath = agentSocketPath(o.env);
  checkSocketSafe(socketPath);
  return socketPath;
}

/**
 * The socket of a running agent, starting one when `mode` allows (`auto`, `on`); null for
 * `off`. Throws AgentUnavailableError when it cannot be started.
 */
export async function ensureAgent(mode: 'auto' | 'on' | 'off', o: AgentEnv): Promise<string | null> {
  if (mode === 'off') return null;
  return (await agentStart(o)).socketPath;
}

/**
 * Before a client talks to (and maybe sends a token to) whatever listens on `socketPath`: its
 * directory must be ours and private, and an existing socket must be ours. Otherwise another
 * user could have put a fake agent there to collect tokens and signatures.
 */
export function checkSocketSafe(socketPath: string): void {
  const dir = dirname(socketPath);
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return; // not there yet: the agent we start creates it 0700
  }
  try {
    if (!st.isDirectory()) throw new GitsealError('AGENT', `${dir} is not a directory`);
    checkPrivateDir(dir);
    const s = lstatSync(socketPath, { throwIfNoEntry: false });
    const uid = process.getuid?.();
    if (s && (!s.isSocket() || (uid !== undefined && s.uid !== uid))) {
      throw new GitsealError('AGENT', `refusing to use ${socketPath}: it is not a socket owned by you`);
    }
  } catch (e) {
    throw new AgentUnavailableError(describeError(e), e);
  }
}

/** dist/agent/main.js, looked up beside the running bundle (dist/, dist/<chunk dir>/). */
export function findAgentMain(env: NodeJS.ProcessEnv): string {
  if (env.GITSEAL_AGENT_MAIN) return env.GITSEAL_AGENT_MAIN;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    for (const c of [join(dir, 'agent', 'main.js'), join(dir, 'dist', 'agent', 'main.js')]) if (existsSync(c)) return c;
    dir = dirname(dir);
  }
  throw new AgentUnavailableError('cannot find the agent program (dist/agent/main.js); run the build or set GITSEAL_AGENT_MAIN');
}

/** Environment for the agent: tokens from this process's environment are not inherited. */
function agentEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (/TOKEN/i.test(k) || k.startsWith('ACTIONS_ID_TOKEN')) continue;
    out[k] = v;
  }
  return out;
}

async function spawnAgent(socketPath: string, o: AgentEnv): Promise<void> {
  // The single-file executable is its own agent (src/sea/full.ts): it cannot run a script.
  const args = isEmbedded() ? [EMBEDDED_AGENT_ARG] : [o.agentMain ?? findAgentMain(o.env)];
  const dir = dirname(socketPath);
  try {
    ensurePrivateDir(dir);
  } catch (e) {
    throw new AgentUnavailableError(describeError(e), e);
  }
  // Many git processes may want the agent at once (a parallel rebase, a script committing in
  // several repositories); only the one that creates the lock directory starts it, the others
  // wait for the socket. A lock older than the start timeout is stale and taken over.
  const lock = join(dir, '.agent-start.lock');
  const timeoutMs = o.startTimeoutMs ?? 5000;
  let haveLock = false;
  try {
    mkdirSync(lock, { mode: 0o700 });
    haveLock = true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > timeoutMs) {
        rmdirSync(lock);
        mkdirSync(lock, { mode: 0o700 });
        haveLock = true;
      }
    } catch {
      /* someone else is starting it */
    }
  }
  let exited: string | undefined;
  try {
    if (haveLock && !(await agentAlive(socketPath))) {
      const { spawn } = process.getBuiltinModule('node:child_process');
      const child = spawn(process.execPath, args, {
        detached: true,
        stdio: 'ignore',
        env: { ...agentEnv(o.env), GITSEAL_AGENT_SOCK: socketPath },
        cwd: '/',
      });
      child.once('error', (e) => (exited = e.message));
      child.once('exit', (code, sig) => (exited = `exit ${code ?? sig}`));
      child.unref();
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await agentAlive(socketPath, 500)) {
        checkPrivateDir(dir);
        return;
      }
      if (exited) break;
      await sleep(20);
    }
    throw new AgentUnavailableError(
      exited ? `the agent failed to start (${exited}; see ${agentLogPath(o.env)})` : `the agent did not start within ${Math.round(timeoutMs / 1000)} s`,
    );
  } finally {
    if (haveLock) {
      try {
        rmdirSync(lock);
      } catch {
        /* gone */
      }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

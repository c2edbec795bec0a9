/**
 * The fast entry for git's signing call (`gitseal --status-fd=2 -bsau KEY`, payload on stdin)
 * when a signing agent is running: the agent makes the whole signature (src/agent/protocol.ts,
 * signPayload) — it holds the key and certificate, has its HTTPS connections to Rekor open and
 * its code compiled — and this process only reads git's config and the payload, asks, and
 * writes what git expects. No node:crypto, no HTTP, no trusted root here: the per-commit
 * process costs little more than Node's own start-up (issue "Speed", P3).
 *
 * scripts/build.mjs bundles this file as CommonJS into dist/fast-sign.cjs with a V8 code
 * cache; bin/gitseal runs it for signing calls. Whenever this path cannot finish the job as
 * the full one would, it steps aside:
 *   - undefined: not a signing call, gitseal.agent off, payload file, a configuration the full
 *     path must report, no agent socket: bin/gitseal runs dist/main.js (which starts the agent,
 *     logs in, or signs locally) with stdin untouched;
 *   - { fallback: payload }: stdin was read, but the agent needs a token (a login belongs to the
 *     full path, which owns the terminal), cannot be reached, is an older agent, or failed to
 *     get a certificate: bin/gitseal hands the payload to dist/gpg/run.js.
 * Only an ABORTED answer (the key signed, but Rekor, the TSA or the policy check failed, which
 * any path would hit too) is reported here: one line, exit 1, nothing on stdout.
 */
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { agentSignPayload, AgentRefusedError, checkSocketSafe } from './agent/client.js';
import { agentIdentity, ambientToken, explicitTokenSource, logSafe, trustEnvFrom } from './agent/identity.js';
import { agentSocketPath } from './agent/paths.js';
import { MAX_PAYLOAD, TRUST_ENV_NAMES, type PayloadSignResult } from './agent/protocol.js';
import { loadConfig } from './config/load.js';
import { showNoticesOnce } from './config/notices.js';
import type { GitsealConfig } from './config/types.js';
import { describeError } from './errors.js';
import { parseGpgArgs, type GpgArgs } from './gpg/args.js';
import { isGpgInvocation } from './gpg/detect.js';
import { readAllLimited } from './gpg/run.js';
import { openStatus, writeAllSync } from './gpg/status.js';
import { syncStdin } from './gpg/sync-stdin.js';
import { openTerminal, reportFailure, type Terminal } from './gpg/tty.js';

export interface FastSignIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: AsyncIterable<Buffer | string>;
  write(fd: number, data: Buffer | string): void;
  ttyPath?: string;
}

export type FastSignOutcome = number | { fallback: Buffer } | undefined;

/** The agent's socket when one may be used as is: gitseal.agent not off, socket safe and present. */
function readySocket(config: GitsealConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (config.agent === 'off') return undefined;
  const socket = agentSocketPath(env);
  checkSocketSafe(socket);
  return lstatSync(socket, { throwIfNoEntry: false })?.isSocket() ? socket : undefined;
}

/** The progress and warnings the full path shows on the terminal for the same signature. */
function sayAll(term: Terminal, args: GpgArgs, config: GitsealConfig, extra: string[]): void {
  for (const n of args.notes) term.say(`gitseal: ${n}`);
  if (config.logPath) term.tee(config.logPath);
  for (const w of config.warnings ?? []) term.say(`gitseal: warning: ${w}`);
  for (const l of extra) term.say(l);
}

function emit(io: FastSignIo, args: GpgArgs, r: PayloadSignResult): void {
  const status = openStatus(args.statusFd, io.write);
  // Older git looks for "\n[GNUPG:] SIG_CREATED ", so one status line must come first.
  status.emit('BEGIN_SIGNING');
  io.write(1, r.pem);
  status.emit('SIG_CREATED', args.detach ? 'D' : 'S', r.pk, r.hash, '00', r.time, r.fingerprint);
}

export async function runFastSign(argv: string[], ioIn: Partial<FastSignIo> = {}): Promise<FastSignOutcome> {
  if (!isGpgInvocation(argv)) return undefined;
  const io: FastSignIo = { env: process.env, cwd: process.cwd(), stdin: ioIn.stdin ?? syncStdin(), write: writeAllSync, ...ioIn };
  let args: GpgArgs;
  let config: GitsealConfig;
  let socket: string | undefined;
  try {
    args = parseGpgArgs(argv);
    if (args.mode !== 'sign' || args.payloadFile) return undefined;
    config = loadConfig({ cwd: io.cwd, env: io.env });
    if (config.rekorVersion === 2 && !config.timestampServerURL) return undefined;
    // An explicit token this process cannot read by itself (a CI request, a token file) must
    // decide the identity: the full path fetches it and sends it. SIGSTORE_ID_TOKEN is sent below.
    const explicit = explicitTokenSource(config, io.env);
    if (explicit !== undefined && ambientToken(config, io.env) === undefined) return undefined;
    socket = readySocket(config, io.env);
  } catch {
    return undefined; // the full path reports it, in its words
  }
  if (!socket) return undefined;

  const term = openTerminal({ ttyPath: io.ttyPath, writeStderr: (s) => io.write(2, s) });
  if (config.notices?.length) {
    // Said before the work, as the full path says it, and into the log file too.
    if (config.logPath) term.tee(config.logPath);
    showNoticesOnce(config, io.env, (l) => term.say(l));
  }
  try {
    let payload: Buffer;
    try {
      payload = await readAllLimited(io.stdin, 'the payload');
    } catch (e) {
      sayAll(term, args, config, []);
      reportFailure(term, io, describeError(e));
      return 1;
    }
    if (payload.length > MAX_PAYLOAD) return { fallback: payload };
    const { identity, config: agentConfig } = agentIdentity(config);
    // The agent's progress ("Logging the signature to Rekor (…)…") is shown as it happens, after
    // what this process would have said first; a slow Rekor must not leave the terminal blank.
    let opened = false;
    const open = () => {
      if (!opened) sayAll(term, args, config, []);
      opened = true;
    };
    const progress = (line: string) => {
      open();
      term.say(line);
    };
    let r: PayloadSignResult & { streamed?: boolean };
    try {
      r = await agentSignPayload(socket, {
        identity,
        config: agentConfig,
        signing: {
          rekorVersion: config.rekorVersion,
          timestampServerURL: config.timestampServerURL,
          matchCommitter: config.matchCommitter,
          fulcioRoot: config.fulcioRoot ? resolve(io.cwd, config.fulcioRoot) : undefined,
          ...(config.timestampCertChain ? { timestampCertChain: resolve(io.cwd, config.timestampCertChain) } : {}),
        },
        trustEnv: trustEnvFrom(io.env, TRUST_ENV_NAMES, io.cwd),
        payload,
        repo: logSafe(io.cwd),
        token: ambientToken(config, io.env),
      }, undefined, progress);
    } catch (e) {
      if (e instanceof AgentRefusedError && e.agentError.code === 'ABORTED') {
        open();
        if (!e.streamed) term.say(`Logging the signature to Rekor (${config.rekorURL})…`);
        reportFailure(term, io, e.agentError.message);
        return 1;
      }
      return { fallback: payload };
    }
    open();
    // An agent older than progress frames answered: say afterwards what it did.
    if (!r.streamed) {
      for (const l of [...r.warnings.map((w) => `gitseal: warning: ${w}`), `Logging the signature to Rekor (${r.rekorURL})…`, `Logged to Rekor at index ${r.logIndex}`]) term.say(l);
    }
    emit(io, args, r);
    return 0;
  } finally {
    term.close();
  }
}

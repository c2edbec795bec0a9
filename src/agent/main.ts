/**
 * Entry of the agent process (dist/agent/main.js), started detached by client.ts or by
 * `gitseal agent start`. Environment:
 *   GITSEAL_AGENT_SOCK          socket path (default: see paths.ts)
 *   GITSEAL_AGENT_LOG           log path (default ~/.cache/gitseal/agent.log)
 *   GITSEAL_AGENT_IDLE_SECONDS  exit after this long without a credential (default 1800)
 * The agent never reads identity tokens from its environment: each comes with the request of
 * the client that holds it (client.ts strips tokens from the environment it passes on).
 */
import { describeError } from '../errors.js';
import { toIdentityToken } from '../oidc/get-token.js';
import { obtainAgentCredential } from './obtain.js';
import { fileLog } from './log.js';
import { agentLogPath, agentSocketPath } from './paths.js';
import { startAgentServer } from './server.js';

async function main(): Promise<void> {
  const env = process.env;
  const log = fileLog(agentLogPath(env));
  process.umask(0o077);
  const idle = Number(env.GITSEAL_AGENT_IDLE_SECONDS);
  let server;
  try {
    server = await startAgentServer({
      socketPath: agentSocketPath(env),
      log,
      version: process.env.GITSEAL_BUILD_VERSION ?? '0.0.0',
      idleMs: Number.isFinite(idle) && idle > 0 ? idle * 1000 : undefined,
      now: () => new Date(),
      parseToken: (raw) => toIdentityToken(raw, 'the client'),
      obtain: ({ config, token, trust, say }) => obtainAgentCredential(config, token, trust, say),
    });
  } catch (e) {
    log.write({ event: 'error', outcome: 'not started', detail: describeError(e) });
    process.stderr.write(`gitseal agent: ${describeError(e)}\n`);
    process.exitCode = 1;
    return;
  }
  const stop = () => void server.close('signal');
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('SIGHUP', stop);
  await server.closed;
  process.exit(0);
}

void main();

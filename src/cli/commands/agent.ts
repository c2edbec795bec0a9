import { agentStart, agentStatus, agentStop } from '../../agent/client.js';
import { agentLogPath, agentSocketPath } from '../../agent/paths.js';
import type { StatusResult } from '../../agent/protocol.js';
import { GitsealCommand } from '../base.js';
import { fields, humanDuration, out, table, withSpinner } from '../output.js';
import { terminalSafe } from '../../util/terminal-text.js';

const MORE = `The agent keeps each identity's short-lived key and certificate in memory and signs for git, so a rebase of 100 commits needs one login and one certificate. It never hands out the key. gitseal starts it on demand (git config gitseal.agent auto|on|off; default auto).`;

export class AgentStart extends GitsealCommand {
  static override summary = 'Start the signing agent (if it is not running)';
  static override description = MORE;
  static override examples = [{ command: '<%= config.bin %> agent start', description: 'Start it now instead of on the first commit' }];
  static override enableJsonFlag = true;

  async run(): Promise<{ running: true; started: boolean; socket: string }> {
    await this.parse(AgentStart);
    const r = await withSpinner('Starting the signing agent…', () => agentStart({ env: this.env }));
    this.say(r.started ? `${out.green('started')} signing agent on ${r.socketPath}` : `signing agent already running on ${r.socketPath}`);
    return { running: true, started: r.started, socket: r.socketPath };
  }
}

export class AgentStop extends GitsealCommand {
  static override summary = 'Stop the signing agent (its keys are forgotten)';
  static override description = MORE;
  static override examples = [{ command: '<%= config.bin %> agent stop', description: 'Forget every key and certificate the agent holds' }];
  static override enableJsonFlag = true;

  async run(): Promise<{ stopped: boolean; socket: string }> {
    await this.parse(AgentStop);
    const stopped = await agentStop({ env: this.env });
    const socket = agentSocketPath(this.env);
    this.say(stopped ? `${out.green('stopped')} the signing agent (keys forgotten)` : 'no signing agent was running');
    return { stopped, socket };
  }
}

export interface AgentStatusJson {
  running: boolean;
  socket: string;
  log: string;
  pid?: number;
  version?: string;
  uptimeSeconds?: number;
  identities: Array<{ identity: string; issuer: string; fulcio: string; secondsLeft: number; signatures: number }>;
}

export function agentStatusJson(s: StatusResult | null, env: NodeJS.ProcessEnv): AgentStatusJson {
  const base = { socket: agentSocketPath(env), log: agentLogPath(env) };
  if (!s) return { running: false, ...base, identities: [] };
  return {
    running: true,
    ...base,
    socket: s.socket || base.socket,
    pid: s.pid,
    version: s.version,
    uptimeSeconds: s.uptimeSeconds,
    identities: s.identities.map((h) => ({
      identity: h.subject,
      issuer: h.certIssuer,
      fulcio: h.identity.fulcioURL,
      secondsLeft: h.secondsLeft,
      signatures: h.signatures,
    })),
  };
}

export class AgentStatus extends GitsealCommand {
  static override summary = 'Show whether the agent runs and which identities it holds';
  static override description = `${MORE}\n\nShows the identities it holds certificates for and how long each has left; never key material. Exit status 0 whether or not it runs (check "running" in --json).`;
  static override examples = [
    { command: '<%= config.bin %> agent status', description: 'Running? Which identities, how long left?' },
    { command: '<%= config.bin %> agent status --json', description: 'Machine-readable (schema: gitseal help json, "agent status")' },
  ];
  static override enableJsonFlag = true;

  async run(): Promise<AgentStatusJson> {
    await this.parse(AgentStatus);
    const s = agentStatusJson(await agentStatus({ env: this.env }), this.env);
    if (!s.running) {
      this.say(`signing agent: ${out.yellow('not running')} ${out.dim(`(socket ${s.socket}; it starts on the next signature, or with "gitseal agent start")`)}`);
      return s;
    }
    this.say(`signing agent: ${out.green('running')}`);
    this.say(fields([
      ['  PID', String(s.pid)],
      ['  Version', s.version],
      ['  Up', humanDuration(s.uptimeSeconds ?? 0)],
      ['  Socket', s.socket],
      ['  Log', s.log],
    ]));
    if (s.identities.length === 0) this.say('  holds no certificate');
    else {
      this.say('');
      this.say(
        table([
          ['  identity', 'issuer', 'certificate left', 'signatures'].map((h) => out.dim(h)),
          // the certificate's identity and issuer (what Fulcio returned): escaped for the terminal
          ...s.identities.map((i) => ['  ' + terminalSafe(i.identity), terminalSafe(i.issuer), i.secondsLeft > 0 ? humanDuration(i.secondsLeft) : out.yellow('expired'), String(i.signatures)]),
        ]),
      );
    }
    return s;
  }
}

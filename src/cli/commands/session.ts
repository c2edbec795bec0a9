import { Flags } from '@oclif/core';
import { loadConfig } from '../../config/load.js';
import { login, logout, whoami, type SessionInfo } from '../../oidc/session.js';
import { GitsealCommand } from '../base.js';
import { terminalSafe } from '../../util/terminal-text.js';
import { fields, humanDuration, out, withSpinner } from '../output.js';

export interface WhoamiJson {
  loggedIn: boolean;
  identity?: string;
  subject?: string;
  email?: string;
  issuer: string;
  clientID: string;
  expiresAt?: string;
  secondsLeft?: number;
  storedIn?: 'keyring' | 'file';
}

export function sessionJson(s: SessionInfo | undefined, issuer: string, clientID: string): WhoamiJson {
  if (!s) return { loggedIn: false, issuer, clientID };
  return {
    loggedIn: true,
    identity: s.identity,
    subject: s.subject,
    email: s.email,
    issuer: s.issuer,
    clientID: s.clientID,
    expiresAt: s.expiresAt.toISOString(),
    secondsLeft: s.secondsLeft,
    storedIn: s.storedIn,
  };
}

function describe(s: WhoamiJson): string {
  return fields(
    [
      // claims of a token the issuer made: escaped for the terminal
      ['Identity', s.identity === undefined ? undefined : terminalSafe(s.identity)],
      ['Issuer', s.issuer === undefined ? undefined : terminalSafe(s.issuer)],
      ['Client', s.clientID],
      ['Expires', s.expiresAt ? `${s.expiresAt} (in ${humanDuration(s.secondsLeft ?? 0)})` : undefined],
      ['Stored in', s.storedIn === 'file' ? 'encrypted file in the user cache' : s.storedIn === 'keyring' ? 'OS keyring' : undefined],
    ],
    '  ',
  );
}

export class Login extends GitsealCommand {
  static override summary = 'Log in to the OpenID issuer now and cache the identity token';
  static override description = `Opens your browser (or, without one, shows a device code to enter on another device) to log in to the configured issuer (gitseal.issuer; default the Sigstore public-good Dex). The identity token is cached until shortly before it expires (OS keyring, else an encrypted file in ~/.cache/gitseal whose key is kept apart in $XDG_RUNTIME_DIR; with neither, nothing is cached and login says so), so the next signatures need no login. The token itself is never printed.

You do not need to run this first: signing logs in when it has to.`;
  static override examples = [
    { command: '<%= config.bin %> login', description: 'Browser if possible, else device code' },
    { command: '<%= config.bin %> login --device', description: 'Device code (SSH sessions, no browser)' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    device: Flags.boolean({ description: 'use the device-code flow (RFC 8628) instead of the browser', exclusive: ['browser'] }),
    browser: Flags.boolean({ description: 'use the browser flow (authorization code + PKCE)', exclusive: ['device'] }),
  };

  async run(): Promise<WhoamiJson> {
    const { flags } = await this.parse(Login);
    const cfg = loadConfig({ cwd: this.cwd, env: this.env });
    const flow = flags.device ? 'device' : flags.browser ? 'browser' : undefined;
    // A person asked for this login: prompts go to stderr (a terminal or not), with a spinner while we wait.
    const info = await withSpinner(`Waiting for the login at ${cfg.issuer}…`, (log) => login(cfg, { env: this.env, terminal: true, say: log }, { flow }));
    const j = sessionJson(info, cfg.issuer, cfg.clientID);
    this.say(`${out.green('logged in')} as ${out.bold(terminalSafe(j.identity ?? '?'))}`);
    this.say(describe(j));
    return j;
  }
}

export class Logout extends GitsealCommand {
  static override summary = 'Forget cached logins (keyring entries and cache files)';
  static override description = 'Removes every cached identity token gitseal holds. Certificates held by a running signing agent stay valid until they expire (minutes); "gitseal agent stop" drops them too.';
  static override examples = [{ command: '<%= config.bin %> logout', description: 'Forget the cached login' }];
  static override enableJsonFlag = true;

  async run(): Promise<{ removed: number }> {
    await this.parse(Logout);
    const removed = await logout({ env: this.env });
    this.say(removed > 0 ? `${out.green('logged out')} (${removed} cached item${removed === 1 ? '' : 's'} removed)` : 'no cached login');
    return { removed };
  }
}

export class Whoami extends GitsealCommand {
  static override summary = 'Show the cached identity and how long it stays valid';
  static override description = 'Shows the identity the cached token carries (what Fulcio will put in your certificate), its issuer and the time left — never the token. Exit status 1 when not logged in.';
  static override examples = [
    { command: '<%= config.bin %> whoami', description: 'Who will the next signature be from?' },
    { command: '<%= config.bin %> whoami --json', description: 'Machine-readable (schema: gitseal help json, "whoami")' },
  ];
  static override enableJsonFlag = true;

  async run(): Promise<WhoamiJson> {
    await this.parse(Whoami);
    const cfg = loadConfig({ cwd: this.cwd, env: this.env });
    // A damaged cache is discarded with a word, not mistaken for "never logged in".
    const j = sessionJson(await whoami(cfg, { env: this.env, warn: (m) => this.note(terminalSafe(`gitseal: warning: ${m}`)) }), cfg.issuer, cfg.clientID);
    if (!j.loggedIn) {
      this.exitStatus = 1;
      this.say(`not logged in to ${cfg.issuer} ${out.dim('(run "gitseal login", or just sign: it logs in when needed)')}`);
    } else {
      this.say(`${out.bold(terminalSafe(j.identity ?? '?'))}`);
      this.say(describe(j));
    }
    return j;
  }
}

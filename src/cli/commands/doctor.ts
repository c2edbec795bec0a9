import { Flags } from '@oclif/core';
import { agentStatus } from '../../agent/client.js';
import { loadConfig } from '../../config/load.js';
import { configGetEffective, gitVersion } from '../../git/config-write.js';
import { describeError } from '../../errors.js';
import { GitsealCommand } from '../base.js';
import { checkAutoSign, checkConfigWarnings, checkProgram, checkTokenStore, checkTrust, probe, type Check } from '../doctor-checks.js';
import { checkGitsignNotices, checkPolicy, workTreeTop } from '../doctor-policy.js';
import { probeKeyring } from '../../oidc/keyring.js';
import { cacheDir } from '../../oidc/token-cache.js';
import { isEmbedded } from '../../sea/embedded.js';
import { humanDuration, out, withSpinner } from '../output.js';
import { thisProgram } from '../program-path.js';
import { gitsealVersion } from '../root.js';
import { tokenCheck } from '../session-bridge.js';
import { resolveTrustedRoot, type ResolvedTrust } from '../trust.js';
import { terminalSafe } from '../../util/terminal-text.js';

export interface DoctorResult {
  ok: boolean;
  version: string;
  checks: Check[];
}

export default class Doctor extends GitsealCommand {
  static override summary = 'Check the setup and say how to fix each problem';
  static override description = `Checks, in order: git and its version; which program git runs for x509 signatures and whether it is this gitseal; automatic signing; the configuration (and any gitsign setting gitseal does not apply); the signer policy git verifies with; the trusted root (where it comes from, its age, whether it covers the Fulcio and Rekor you sign with); the cached login; where logins are cached (the OS keyring, or the encrypted file and why); the signing agent; and — unless --offline — whether Fulcio, Rekor and the OpenID issuer answer (short timeouts).

Every problem comes with the command that fixes it. Exit status 1 when a check fails (warnings do not fail).`;
  static override examples = [
    { command: '<%= config.bin %> doctor', description: 'Everything, including network checks' },
    { command: '<%= config.bin %> doctor --offline', description: 'Skip the network' },
    { command: '<%= config.bin %> doctor --json', description: 'Machine-readable (schema: gitseal help json, "doctor")' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    offline: Flags.boolean({ description: 'skip the connectivity checks' }),
    timeout: Flags.integer({ description: 'seconds to wait for each service', default: 3, min: 1 }),
  };

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(Doctor);
    const env = this.env;
    const cwd = this.cwd;
    const g = { cwd, env };
    const checks: Check[] = [];
    const now = new Date();

    const gv = gitVersion(g);
    checks.push(
      gv
        ? { id: 'git', title: 'git', status: 'ok', summary: `git ${gv}` }
        : { id: 'git', title: 'git', status: 'fail', summary: 'git is not installed or not on PATH', fix: 'install git (2.19 or newer for x509 signing)' },
    );
    if (gv) {
      checks.push(checkProgram(configGetEffective('gpg.format', g), configGetEffective('gpg.x509.program', g), thisProgram(), env, cwd));
      checks.push(checkAutoSign(configGetEffective('commit.gpgsign', g)?.value, configGetEffective('tag.gpgsign', g)?.value));
    }

    const cfg = loadConfig({ cwd, env });
    if (cfg.untrustedRepository) {
      // git refuses this repository, so gitseal reads none of its configuration (safe.directory).
      checks.push({
        id: 'repository',
        title: 'repository',
        status: 'warn',
        summary: `${cfg.untrustedRepository.message.replace(/; to (trust|use) it: .*$/, '')}: its configuration is ignored, as git ignores it`,
        fix: cfg.untrustedRepository.message.startsWith('cannot use bare repository')
          ? `name it explicitly: GIT_DIR='${cfg.untrustedRepository.path}' (safe.bareRepository=explicit refuses bare repositories found by walking up)`
          : `git config --global --add safe.directory '${cfg.untrustedRepository.path}'   (only if you trust whoever owns it)`,
      });
    }
    checks.push(checkConfigWarnings({ ...cfg, warnings: (cfg.warnings ?? []).filter((w) => !cfg.untrustedRepository || !w.startsWith('ignoring the repository')) }));
    const gitsignSettings = checkGitsignNotices(cfg);
    if (gitsignSettings) checks.push(gitsignSettings);
    checks.push(checkPolicy(cfg, workTreeTop(cwd, env)));

    let trust: ResolvedTrust | undefined;
    let trustError: unknown;
    try {
      trust = resolveTrustedRoot(cfg, env);
    } catch (e) {
      trustError = e;
    }
    checks.push(checkTrust(trust, trustError, cfg, now));

    checks.push(await tokenCheck(cfg, env));
    checks.push(checkTokenStore(await probeKeyring(env), cacheDir(env), isEmbedded()));

    try {
      const a = await agentStatus({ env });
      checks.push(
        a
          ? {
              id: 'agent',
              title: 'signing agent',
              status: 'ok',
              summary: `running (pid ${a.pid}, up ${humanDuration(a.uptimeSeconds)}), ${a.identities.length} identit${a.identities.length === 1 ? 'y' : 'ies'} held`,
            }
          : {
              id: 'agent',
              title: 'signing agent',
              status: cfg.agent === 'off' ? 'skip' : 'ok',
              summary: cfg.agent === 'off' ? 'disabled (gitseal.agent=off): every signature logs in and gets its own certificate' : 'not running; starts with the next signature',
            },
      );
    } catch (e) {
      checks.push({ id: 'agent', title: 'signing agent', status: 'warn', summary: `does not answer properly: ${describeError(e)}`, fix: 'gitseal agent stop && gitseal agent start' });
    }

    if (flags.offline) {
      checks.push({ id: 'network', title: 'services', status: 'skip', summary: 'connectivity not checked (--offline)' });
    } else {
      const t = flags.timeout * 1000;
      const base = (u: string) => u.replace(/\/+$/, '');
      const net = await withSpinner('Contacting Fulcio, Rekor and the OpenID issuer…', () =>
        Promise.all([
          probe('Fulcio', `${base(cfg.fulcioURL)}/api/v2/configuration`, t),
          cfg.rekorVersion === 2 ? probe('Rekor', `${base(cfg.rekorURL)}/healthz`, t) : probe('Rekor', `${base(cfg.rekorURL)}/api/v1/log`, t),
          probe('Issuer', `${base(cfg.issuer)}/.well-known/openid-configuration`, t),
        ]),
      );
      checks.push(...net);
    }

    const ok = !checks.some((c) => c.status === 'fail');
    if (!ok) this.exitStatus = 1;
    if (!this.jsonEnabled()) this.render(checks, ok);
    return { ok, version: gitsealVersion(), checks };
  }

  private render(checks: Check[], ok: boolean): void {
    const mark = { ok: out.green('✓'), warn: out.yellow('!'), fail: out.red('✗'), skip: out.dim('-') };
    const w = Math.max(...checks.map((c) => c.title.length));
    // Summaries quote configuration values, file names, identities and server answers.
    for (const c of checks) {
      this.say(`${mark[c.status]} ${c.title.padEnd(w)}  ${terminalSafe(c.summary)}`);
      if (c.fix && c.status !== 'ok') this.say(`  ${' '.repeat(w)}  ${out.cyan('fix:')} ${terminalSafe(c.fix)}`);
    }
    this.say('');
    const warns = checks.filter((c) => c.status === 'warn').length;
    const fails = checks.filter((c) => c.status === 'fail').length;
    this.say(ok ? (warns ? `${out.yellow('usable')}, with ${warns} warning${warns > 1 ? 's' : ''}` : out.green('all good')) : out.red(`${fails} problem${fails > 1 ? 's' : ''} to fix`));
  }
}

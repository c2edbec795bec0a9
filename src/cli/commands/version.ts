import { loadConfig } from '../../config/load.js';
import { GitsealCommand } from '../base.js';
import { configEntries, relevantEnv, type ConfigEntry } from '../config-view.js';
import { fields, out, table } from '../output.js';
import { gitsealProgram, gitsealVersion } from '../root.js';
import { terminalSafe } from '../../util/terminal-text.js';

export interface VersionResult {
  version: string;
  node: string;
  platform: string;
  program: string;
  config: ConfigEntry[];
  env: Record<string, string>;
  warnings: string[];
}

export default class Version extends GitsealCommand {
  static override summary = 'Show the version, runtime and the configuration in effect';
  static override description = `Prints gitseal's version, the Node.js runtime, and every configuration value gitseal would use here, with where it came from (git config key and file level, environment variable, or default).

Credentials are never printed: token variables such as SIGSTORE_ID_TOKEN show only whether they are set.`;
  static override examples = [
    { command: '<%= config.bin %> version', description: 'Human-readable' },
    { command: '<%= config.bin %> version --json | jq .config', description: 'Machine-readable (schema: gitseal help json, "version")' },
  ];
  static override enableJsonFlag = true;

  async run(): Promise<VersionResult> {
    await this.parse(Version);
    const cfg = loadConfig({ cwd: this.cwd, env: this.env });
    const result: VersionResult = {
      version: gitsealVersion(),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      program: gitsealProgram(),
      config: configEntries(cfg),
      env: relevantEnv(this.env),
      // gitsign settings gitseal does not apply are listed here every time (signing says it once).
      warnings: [...(cfg.warnings ?? []), ...(cfg.notices ?? []).map((n) => n.message)],
    };
    if (!this.jsonEnabled()) {
      this.say(`${out.bold('gitseal')} ${result.version}`);
      this.say(fields([
        ['Node.js', result.node],
        ['Platform', result.platform],
        ['Program', result.program],
      ]));
      this.say('');
      this.say(out.bold('Configuration') + out.dim(' (value, and where it came from)'));
      this.say(
        table(
          // values and sources come from git config files and the environment: escaped for the terminal
          result.config.map((e) => ['  ' + e.key, e.value === null ? out.dim('(unset)') : terminalSafe(String(e.value)), out.dim(terminalSafe(e.source))]),
        ),
      );
      const env = Object.entries(result.env);
      if (env.length) {
        this.say('');
        this.say(out.bold('Environment'));
        this.say(fields(env.map(([k, v]) => [k, terminalSafe(v)]), '  '));
      }
      for (const w of result.warnings) this.note(`${out.yellow('warning:')} ${terminalSafe(w)}`);
    }
    return result;
  }
}

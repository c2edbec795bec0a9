/**
 * What every gitseal command shares on top of oclif's Command: errors are not
 * printed here but rethrown to runCli (one line, `gitseal: <message>`), JSON is
 * printed plain (no colour codes in machine output), and the environment and
 * working directory are read from one place so tests can drive them.
 */
import { Command } from '@oclif/core';
import { printJson } from './output.js';

export abstract class GitsealCommand extends Command {
  /** Exit status once run() has returned (verify sets 1 when anything failed). */
  protected exitStatus = 0;

  protected get env(): NodeJS.ProcessEnv {
    return process.env;
  }

  protected get cwd(): string {
    return process.cwd();
  }

  /** Human output line on stdout (suppressed under --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(line + '\n');
  }

  /** Human note on stderr (kept under --json so scripts still see warnings). */
  protected note(line: string): void {
    process.stderr.write(line + '\n');
  }

  protected override logJson(json: unknown): void {
    printJson(json);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    throw err;
  }

  protected override async finally(e: Error | undefined): Promise<unknown> {
    if (!e && this.exitStatus !== 0) process.exitCode = this.exitStatus;
    return super.finally(e);
  }
}

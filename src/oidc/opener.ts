/**
 * Opening the login page: a `urlOpener` command template (gitsign's
 * `{{.URL}}` placeholder), else the platform's opener. Always spawned with an
 * argv array and no shell, detached and silent; the caller prints the URL too,
 * so a failure here only costs a click.
 */
import { spawn } from 'node:child_process';
import { GitsealError } from '../errors.js';

/** Split a command line into argv: whitespace separates, '…' and "…" group, \ escapes outside '…'. */
export function splitCommand(template: string): string[] {
  const argv: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < template.length) cur += template[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < template.length) {
      cur += template[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) argv.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) throw new GitsealError('CONFIG', 'urlOpener has an unterminated quote');
  if (inArg) argv.push(cur);
  return argv;
}

/** argv to run for `url`: the template with {{.URL}} substituted (appended when absent), or the platform default. */
export function openerArgv(url: string, template?: string, platform = process.platform): string[] {
  if (template) {
    const argv = splitCommand(template);
    if (argv.length === 0) throw new GitsealError('CONFIG', 'urlOpener is empty');
    const has = argv.some((a) => a.includes('{{.URL}}'));
    const out = argv.map((a) => a.split('{{.URL}}').join(url));
    return has ? out : [...out, url];
  }
  if (platform === 'darwin') return ['open', url];
  // `start` is a cmd.exe built-in; without a shell, rundll32 does the same job.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url];
  return ['xdg-open', url];
}

/** Start the opener; resolves false when it could not be started (the URL is on the terminal anyway). */
export function openUrl(url: string, template: string | undefined, env: NodeJS.ProcessEnv): Promise<boolean> {
  const [cmd, ...args] = openerArgv(url, template);
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd, args, { env, stdio: 'ignore', detached: true, shell: false });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

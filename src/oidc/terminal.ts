/**
 * Can a person take part in a login? When git runs gitseal, stdin is the
 * payload and stdout/stderr are git's pipes, so the only way to reach the
 * person is the controlling terminal.
 */
import { closeSync, openSync } from 'node:fs';

export function hasControllingTerminal(): boolean {
  if (process.platform === 'win32') return Boolean(process.stdin.isTTY || process.stderr.isTTY);
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** Whether a browser can be shown on this machine (else the device flow is used). */
export function hasBrowser(env: NodeJS.ProcessEnv, urlOpener: string | undefined, platform = process.platform): boolean {
  if (urlOpener) return true;
  const remote = Boolean(env.SSH_CONNECTION || env.SSH_TTY);
  if (platform === 'darwin' || platform === 'win32') return !remote;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.BROWSER);
}

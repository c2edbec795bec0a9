/**
 * The agent's signing log: one line per event (time, identity, requesting repository, outcome).
 * Never key material or tokens: callers pass only the fields below, and messages are single
 * lines already made safe by describeError().
 *
 * File 0600 in a 0700 directory; rotated when it would pass `maxBytes` (agent.log → .1 → .2 →
 * .3, the oldest dropped). Logging failures never break signing.
 */
import { appendFileSync, chmodSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LogEvent {
  event: 'start' | 'stop' | 'sign' | 'credential' | 'idle-exit' | 'error';
  identity?: string;
  repo?: string;
  outcome?: string;
  detail?: string;
}

export interface AgentLog {
  write(e: LogEvent): void;
}

export function fileLog(path: string, opts: { maxBytes?: number; keep?: number; now?: () => Date } = {}): AgentLog {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const keep = opts.keep ?? 3;
  const now = opts.now ?? (() => new Date());
  let dirReady = false;
  return {
    write(e) {
      const line = formatLogLine(now(), e);
      try {
        if (!dirReady) {
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
          dirReady = true;
        }
        let size = 0;
        try {
          size = statSync(path).size;
        } catch {
          size = 0;
        }
        if (size > 0 && size + line.length > maxBytes) rotate(path, keep);
        appendFileSync(path, line, { mode: 0o600 });
        chmodSync(path, 0o600);
      } catch {
        // The log is a convenience; a full disk must not stop signing.
      }
    },
  };
}

function rotate(path: string, keep: number): void {
  rmSync(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    } catch {
      /* missing generation */
    }
  }
  renameSync(path, `${path}.1`);
}

/** One line, fields as key=JSON-string so paths with spaces or quotes stay unambiguous. */
export function formatLogLine(t: Date, e: LogEvent): string {
  const parts = [t.toISOString(), e.event];
  for (const k of ['identity', 'repo', 'outcome', 'detail'] as const) {
    const v = e[k];
    if (v !== undefined) parts.push(`${k}=${JSON.stringify(v.slice(0, 1000))}`);
  }
  return parts.join(' ') + '\n';
}

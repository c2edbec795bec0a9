/**
 * "This test needs tool X": the one way a test says which system tool it drives. .ci/run
 * installs every tool listed here and the README's test command names them.
 *
 *   needs('chromium').describe('browser login', () => { … });
 *   needs('fish').it('fish completes', () => { … });
 *
 * Tool present: the test runs as written. Tool missing: under CI (CI=true) every test of the
 * block fails with a message naming the tool and the Debian package that has it, so a CI
 * machine without it can never pass by skipping; elsewhere the tests are skipped, and
 * `npm test` lists each skip with that reason (scripts/test-reporter.mjs reads `skipReason`).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { beforeAll, describe, it, type TestFunction, type TestOptions } from 'vitest';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** Why a test was skipped (a missing tool), for npm test's summary. */
    skipReason?: string;
  }
}

/** Every system tool the tests drive beyond node, git, bash and coreutils. */
export const TOOLS = {
  chromium: { bins: ['/usr/bin/chromium'], apt: 'chromium', use: 'browser logins (playwright-core drives Debian’s Chromium)' },
  openssl: { bins: ['openssl'], apt: 'openssl', use: 'independent checks of CMS, certificates and timestamps' },
  gpgsm: { bins: ['gpgsm', 'gpgconf'], apt: 'gpgsm', use: 'independent CMS checks' },
  dbus: { bins: ['dbus-run-session'], apt: 'dbus-daemon', use: 'a private D-Bus session for the keyring' },
  'gnome-keyring': { bins: ['gnome-keyring-daemon'], apt: 'gnome-keyring', use: 'a real Secret Service' },
  script: { bins: ['script'], apt: 'bsdutils', use: 'a pseudo-terminal' },
  flock: { bins: ['flock'], apt: 'util-linux', use: 'the build lock shared by test files' },
  man: { bins: ['man'], apt: 'man-db', use: 'rendering the manual page' },
  zsh: { bins: ['zsh'], apt: 'zsh', use: 'shell completion' },
  fish: { bins: ['fish'], apt: 'fish', use: 'shell completion' },
} as const;

export type Tool = keyof typeof TOOLS;

function onPath(bin: string): boolean {
  const candidates = isAbsolute(bin) ? [bin] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, bin));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools of `tools` that are not installed, as "name (what is missing, apt-get install package)". */
export function missingTools(tools: readonly Tool[]): string[] {
  return tools.flatMap((t) => {
    const gone = TOOLS[t].bins.filter((b) => !onPath(b));
    return gone.length ? [`${t} (${gone.join(', ')} not found; apt-get install ${TOOLS[t].apt})`] : [];
  });
}

/** CI=true (or 1): a missing tool fails the tests that need it. */
export const underCI = /^(true|1)$/i.test(process.env.CI ?? '');

type ItArgs = [fn: TestFunction] | [fn: TestFunction, options: number | TestOptions] | [options: TestOptions, fn: TestFunction];

export function needs(...tools: Tool[]) {
  const missing = missingTools(tools);
  const reason = missing.length ? `needs ${missing.join(', ')}` : '';
  const error = () => new Error(`${reason}: CI must install it (.ci/run)`);
  return {
    describe(name: string, fn: () => void): void {
      if (!missing.length) describe(name, fn);
      else if (underCI) {
        // Registered first, this hook fails the block before any of its own hooks starts a tool.
        describe(name, () => {
          beforeAll(() => {
            throw error();
          });
          fn();
        });
      } else describe(name, { skip: true, meta: { skipReason: reason } }, fn);
    },
    it(name: string, ...args: ItArgs): void {
      const [a, b] = args;
      const fn = (typeof a === 'function' ? a : b) as TestFunction;
      const opts: TestOptions = typeof a === 'object' ? a : typeof b === 'number' ? { timeout: b } : typeof b === 'object' ? b : {};
      if (!missing.length) it(name, opts, fn);
      else if (underCI)
        it(name, opts, () => {
          throw error();
        });
      else it(name, { ...opts, skip: true, meta: { skipReason: reason } }, fn);
    },
  };
}

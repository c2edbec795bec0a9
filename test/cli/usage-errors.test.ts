/**
 * Every usage error of every command names its problem, through the real binary. The cases are
 * derived from the command classes themselves (their flags and arguments), so a command or flag
 * added later is covered too: an unknown flag, a flag without its value, a bad integer, a value
 * outside a flag's or argument's choices, two exclusive flags, a missing required argument and
 * an extra argument. Each must give exactly one line on stderr that says what is wrong (never
 * oclif's bare "The following errors occurred:" or "Missing 1 required arg:"), exit status 2,
 * and under --json the error object with code USAGE.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { Sandbox } from './helpers.js';

interface FlagDef {
  type: 'boolean' | 'option';
  exclusive?: string[];
  options?: readonly string[];
  parse?: unknown;
  char?: string;
  hidden?: boolean;
}
interface ArgDef {
  required?: boolean;
  options?: readonly string[];
}
interface Case {
  argv: string[];
  /** What the line must name. */
  names: RegExp[];
}

const sb = new Sandbox('gitseal-usage-');
const repo = sb.repo();
// Nothing may reach a login or the network if a case were (wrongly) accepted.
const env = { GITSEAL_LOGIN_TIMEOUT: '1', BROWSER: '/bin/false', DISPLAY: '', GITSEAL_OFFLINE: '1' };
afterAll(() => sb.cleanup());

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function casesFor(id: string, c: (typeof commands)[string]): Case[] {
  const words = id.split(':');
  const flags = (c.flags ?? {}) as Record<string, FlagDef>;
  const args = (c.args ?? {}) as Record<string, ArgDef>;
  const requiredArgs = Object.entries(args).filter(([, a]) => a.required);
  // Values for the required arguments, so a case fails on its own flag only.
  const fill = requiredArgs.map(([, a]) => a.options?.[0] ?? 'HEAD');
  const out: Case[] = [{ argv: [...words, ...fill, '--no-such-flag'], names: [/unknown flag: --no-such-flag/] }];
  for (const [name, f] of Object.entries(flags)) {
    if (f.hidden) continue;
    if (f.type === 'option') {
      out.push({ argv: [...words, ...fill, `--${name}`], names: [new RegExp(`--${esc(name)} expects (a value|one of these values)`)] });
      if (f.options) out.push({ argv: [...words, ...fill, `--${name}`, 'nonsense'], names: [/nonsense/, ...f.options.map((o) => new RegExp(esc(o)))] });
      else if (name === 'timeout') {
        out.push({ argv: [...words, ...fill, `--${name}`, 'abc'], names: [new RegExp(`--${name}: expected an integer`), /abc/] });
        out.push({ argv: [...words, ...fill, `--${name}`, '-3'], names: [new RegExp(`--${name}: expected an integer greater than or equal to 1`)] });
      }
    }
    for (const other of f.exclusive ?? []) {
      if (name < other) out.push({ argv: [...words, ...fill, `--${name}`, `--${other}`], names: [new RegExp(`--${name} and --${other} cannot be used together`)] });
    }
  }
  for (const [i, [name, a]] of requiredArgs.entries()) {
    if (i === 0) out.push({ argv: words, names: [new RegExp(`missing argument <${esc(name)}>`), ...(a.options ?? []).map((o) => new RegExp(esc(o)))] });
  }
  for (const [, a] of Object.entries(args)) {
    if (a.options) out.push({ argv: [...words, 'nonsense'], names: [/nonsense/, ...a.options.map((o) => new RegExp(esc(o)))] });
  }
  if (c.strict !== false) {
    const extra = [...words, ...fill, ...Object.keys(args).filter((k) => !args[k]!.required).map(() => 'HEAD'), 'one-too-many'];
    out.push({ argv: extra, names: [/unexpected argument: one-too-many/] });
  }
  return out;
}

describe('usage errors name their problem', () => {
  for (const [id, c] of Object.entries(commands)) {
    const cmd = id.replace(/:/g, ' ');
    it(`gitseal ${cmd}`, () => {
      const cases = casesFor(id, c);
      expect(cases.length).toBeGreaterThan(1);
      for (const k of cases) {
        const r = sb.gitseal(k.argv, { cwd: repo, env });
        const what = `gitseal ${k.argv.join(' ')} → ${JSON.stringify(r.stderr)}`;
        expect(r.status, what).toBe(2);
        expect(r.stdout, what).toBe('');
        const lines = r.stderr.split('\n').filter(Boolean);
        expect(lines, what).toHaveLength(1);
        const line = lines[0]!;
        expect(line, what).toMatch(new RegExp(`^gitseal: .+ \\(see "gitseal ${esc(cmd)} --help"\\)$`));
        expect(line, what).not.toMatch(/following errors? occurred|required args?:|: \(see/);
        for (const n of k.names) expect(line, what).toMatch(n);
      }
    });
  }

  it('under --json the error object carries the same reason with code USAGE', () => {
    const r = sb.gitseal(['init', '--global', '--local', '--json'], { cwd: repo, env });
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(j.error.code).toBe('USAGE');
    expect(j.error.message).toMatch(/^--global and --local cannot be used together/);
  });
});

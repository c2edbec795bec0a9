/**
 * gitseal(1): dist/man/gitseal.1 as `npm run build` writes it (package.json `man` installs it;
 * test/package/pack.test.ts runs `man gitseal` on an installed copy). Rendered by man-db itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/cli/catalog.js';
import { commands } from '../../src/cli/commands/index.js';
import { renderManPage, roff, type CommandMeta } from '../../src/cli/man.js';
import { TOPICS } from '../../src/cli/topics.js';
import { SETTINGS } from '../../src/config/load.js';
import { ROOT } from './helpers.js';
import { needs } from '../helpers/tools.js';

const PAGE = join(ROOT, 'dist', 'man', 'gitseal.1');
const tmp = mkdtempSync(join(tmpdir(), 'gitseal-man-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The page as man-db renders it for a reader: plain text, one long line per paragraph. */
function render(file: string): { text: string; warnings: string } {
  const r = spawnSync('man', ['--warnings', '-P', 'cat', '-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '1000', MAN_KEEP_FORMATTING: '', LANG: 'C.UTF-8' } });
  expect(r.status, r.stderr).toBe(0);
  return { text: r.stdout, warnings: r.stderr };
}

describe('the manual page', () => {
  const meta = commands as unknown as Record<string, CommandMeta>;

  it('is the page the command catalogue renders today (the build is current)', () => {
    const built = readFileSync(PAGE, 'utf8');
    const fresh = renderManPage({ version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, commands: meta, settings: SETTINGS });
    const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('.TH ')).join('\n');
    expect(body(built)).toBe(body(fresh));
  });

  needs('man').it('renders without warnings and documents every command, flag, help topic and setting', () => {
    const { text, warnings } = render(PAGE);
    expect(warnings).toBe('');
    expect(text).toMatch(/^GITSEAL\(1\)/);
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'GIT INTEGRATION', 'COMMANDS', 'HELP TOPICS', 'CONFIGURATION', 'EXIT STATUS', 'FILES', 'SEE ALSO']) {
      expect(text, s).toMatch(new RegExp(`^${s}$`, 'm'));
    }
    for (const [id, summary] of Object.entries(CATALOG)) {
      expect(text, id).toMatch(new RegExp(`^   gitseal ${id.replace(/:/g, ' ')}$`, 'm'));
      expect(text, id).toContain(summary);
      for (const [name, f] of Object.entries(meta[id]!.flags ?? {})) {
        if (f.hidden) continue;
        expect(text, `${id} --${name}`).toContain(f.type === 'boolean' && f.allowNo ? `--[no-]${name}` : `--${name}`);
      }
    }
    for (const t of TOPICS) expect(text, t.name).toContain(`gitseal help ${t.name}`);
    for (const s of SETTINGS) expect(text, s.name).toContain(`gitseal.${s.name}`);
    // hyphens are ASCII hyphen-minus, so flags copied from the page work
    expect(text).toContain('--certificate-identity');
    expect(text).not.toMatch(/\u2010|\u2212/);
  });

  needs('man').it('text that looks like roff stays text', () => {
    expect(roff('.TH oops\n\'also\nC:\\path -x')).toBe('\\&.TH oops\n\\&\'also\nC:\\epath \\-x');
    const page = renderManPage({
      version: '1.0.0',
      settings: [],
      commands: {
        ...meta,
        version: { summary: CATALOG.version, description: '.SH INJECTED\nA backslash \\fB stays and a dot line:\n.br', examples: ['<%= config.bin %> version'] },
      },
    });
    writeFileSync(join(tmp, 'page.1'), page);
    const { text } = render(join(tmp, 'page.1'));
    expect(text).not.toMatch(/^INJECTED$/m);
    expect(text).toContain('.SH INJECTED');
    expect(text).toContain('\\fB stays');
    expect(text).toContain('$ gitseal version');
  });
});


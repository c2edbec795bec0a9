import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../../src/cli/catalog.js';
import { markdownSection, TOPICS } from '../../src/cli/topics.js';
import { BIN, ROOT, Sandbox } from './helpers.js';
import { needs } from '../helpers/tools.js';

const sb = new Sandbox();
afterAll(() => sb.cleanup());

const COMMANDS = ['init', 'initialize', 'doctor', 'version', 'completion', 'login', 'logout', 'whoami', 'verify', 'verify-tag', 'show', 'agent start', 'agent stop', 'agent status'];

describe('help and routing', () => {
  it('the overview teaches the tool and lists every command', () => {
    const r = sb.gitseal([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GET STARTED');
    expect(r.stdout).toContain('gitseal init');
    expect(r.stdout).toContain('gpg.x509.program');
    for (const c of COMMANDS) expect(r.stdout, c).toMatch(new RegExp(`^  ${c}\\s+\\S`, 'm'));
    expect(sb.gitseal(['--help']).stdout).toBe(r.stdout);
    expect(sb.gitseal(['help']).stdout).toBe(r.stdout);
  });

  it('no colour codes when output is not a terminal, or with NO_COLOR', () => {
    expect(sb.gitseal([]).stdout).not.toContain('\u001b[');
    expect(sb.gitseal(['init', '--help'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
    // FORCE_COLOR alone does colour (proves the switch is real)
    expect(sb.gitseal([], { env: { FORCE_COLOR: '1' } }).stdout).toContain('\u001b[');
  });

  needs('script').it('on a terminal: colour, unless NO_COLOR', () => {
    // script(1) runs the command on a pseudo-terminal
    const onTty = (env: NodeJS.ProcessEnv) =>
      spawnSync('script', ['-qec', `${process.execPath} ${BIN} --help`, '/dev/null'], { env: { ...sb.env, ...env }, encoding: 'utf8' }).stdout;
    expect(onTty({})).toContain('\u001b[1mgitseal');
    expect(onTty({ NO_COLOR: '1' })).not.toContain('\u001b[');
    // no-color.org: an empty NO_COLOR does not count
    expect(onTty({ NO_COLOR: '' })).toContain('\u001b[');
  });

  needs('script').it('a progress spinner on a terminal only', () => {
    const env = { ...sb.env, GITSEAL_FULCIO_URL: 'http://127.0.0.1:9', GITSEAL_REKOR_URL: 'http://127.0.0.1:9', GITSEAL_OIDC_ISSUER: 'http://127.0.0.1:9' };
    const tty = spawnSync('script', ['-qec', `${process.execPath} ${BIN} doctor --timeout 1`, '/dev/null'], { cwd: sb.dir, env, encoding: 'utf8' }).stdout;
    expect(tty).toContain('Contacting Fulcio, Rekor and the OpenID issuer');
    const piped = sb.gitseal(['doctor', '--timeout', '1'], { env });
    expect(piped.stderr + piped.stdout).not.toContain('Contacting');
  });

  it.each(COMMANDS)('"%s --help" has usage, a description and examples', (c) => {
    const r = sb.gitseal([...c.split(' '), '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('USAGE');
    expect(r.stdout).toContain(`$ gitseal ${c}`);
    expect(r.stdout).toContain('EXAMPLES');
    expect(r.stderr).toBe('');
    expect(sb.gitseal(['help', ...c.split(' ')]).stdout).toBe(r.stdout);
  });

  it('a topic alone lists its commands', () => {
    const r = sb.gitseal(['agent']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/agent start[\s\S]*agent stop[\s\S]*agent status/);
  });

  it('unknown command: one line, exit 2, with a suggestion', () => {
    const r = sb.gitseal(['verfy']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^gitseal: "verfy" is not a gitseal command — did you mean "gitseal verify"\?/);
  });

  it('unknown flag: one line, exit 2, no stack trace', () => {
    const r = sb.gitseal(['version', '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^gitseal: .*--frobnicate/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('errors under --json are also a JSON object on stdout', () => {
    const r = sb.gitseal(['show', 'no-such-rev', '--json'], { cwd: sb.repo('json-err') });
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(j.error.code).toBe('USAGE');
    expect(j.error.message).toContain('no-such-rev');
    expect(r.stderr).toMatch(/^gitseal: /);
  });

  it('--version is the version command', () => {
    const r = sb.gitseal(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gitseal \d+\.\d+\.\d+/);
  });

  it('points only at documentation an installed copy has: gitseal help <topic>, not docs/*.md files', () => {
    const texts = [sb.gitseal([]).stdout, ...COMMANDS.map((c) => sb.gitseal([...c.split(' '), '--help']).stdout)];
    for (const t of texts) expect(t).not.toMatch(/\bdocs\/[\w-]+\.md\b/);
    const overview = texts[0]!;
    for (const t of TOPICS) expect(overview, t.name).toMatch(new RegExp(`^  help ${t.name}\\s+${t.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    expect(overview).toContain('man gitseal');
  });

  it.each(TOPICS.map((t) => t.name))('"help %s" prints that document from the package', (name) => {
    const t = TOPICS.find((x) => x.name === name)!;
    // a topic is never a command or a command group: those win in "gitseal help <word>"
    expect(Object.keys(CATALOG).map((id) => id.split(':')[0])).not.toContain(name);
    // every topic's file is one package.json ships
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    expect(files.some((f) => t.file === f || t.file.startsWith(f + '/')), t.file).toBe(true);
    const r = sb.gitseal(['help', name]);
    expect(r.status, r.stderr).toBe(0);
    const whole = readFileSync(join(ROOT, t.file), 'utf8');
    expect(r.stdout).toBe(t.section ? markdownSection(whole, t.section) : whole);
    expect(r.stdout.length).toBeGreaterThan(200);
    if (t.section) expect(r.stdout.startsWith(t.section + '\n')).toBe(true);
  });

  it('an unknown help topic: one line, exit 2, naming the topics', () => {
    const r = sb.gitseal(['help', 'nonsense']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('topics: guide, configuration');
  });
});

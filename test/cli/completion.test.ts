import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers.js';
import { needs } from '../helpers/tools.js';

const sb = new Sandbox();
afterAll(() => sb.cleanup());

/** Ask the generated bash completion what it offers for the words typed so far. */
function complete(script: string, words: string[], cwd: string): string[] {
  const file = join(sb.dir, 'gitseal.bash');
  writeFileSync(file, script);
  const arr = words.map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _gitseal; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    cwd,
    env: sb.env,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('gitseal completion', () => {
  it('bash: commands, topic subcommands, flags and revisions', () => {
    const r = sb.gitseal(['completion', 'bash']);
    expect(r.status).toBe(0);
    const s = r.stdout;
    expect(spawnSync('bash', ['-n'], { input: s }).status).toBe(0);
    expect(complete(s, ['gitseal', 'ver'], sb.dir)).toEqual(['verify', 'verify-tag', 'version']);
    expect(complete(s, ['gitseal', 'agent', 's'], sb.dir)).toEqual(['start', 'status', 'stop']);
    expect(complete(s, ['gitseal', 'verify', '--certificate-oidc'], sb.dir)).toEqual(['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
    expect(complete(s, ['gitseal', 'init', '--no'], sb.dir)).toEqual(['--no-commit', '--no-tag']);
    const repo = sb.repo('compl');
    sb.git(['commit', '-q', '--allow-empty', '-m', 'x'], repo);
    sb.git(['tag', 'v1.0'], repo);
    expect(complete(s, ['gitseal', 'show', 'v1'], repo)).toEqual(['v1.0']);
  });

  it('zsh and fish scripts cover every command', () => {
    const zsh = sb.gitseal(['completion', 'zsh']).stdout;
    const fish = sb.gitseal(['completion', 'fish']).stdout;
    expect(zsh.startsWith('#compdef gitseal')).toBe(true);
    for (const c of ['init', 'verify', 'verify-tag', 'show', 'doctor', 'login', 'whoami']) {
      expect(zsh).toContain(`'${c}:`);
      expect(fish).toMatch(new RegExp(`-a ${c} -d`));
    }
    expect(zsh).toContain("--certificate-identity[");
    expect(fish).toContain('-l certificate-identity');
    expect(fish).toMatch(/__fish_seen_subcommand_from agent; and not __fish_seen_subcommand_from start stop status" -a start/);
  });

  needs('fish').it('fish: the script parses and completes commands, subcommands and flags', () => {
    const file = join(sb.dir, 'gitseal.fish');
    writeFileSync(file, sb.gitseal(['completion', 'fish']).stdout);
    expect(spawnSync('fish', ['-n', file]).status).toBe(0);
    const ask = (line: string) =>
      spawnSync('fish', ['-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8', env: sb.env })
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0])
        .sort();
    expect(ask('gitseal ver')).toEqual(['verify', 'verify-tag', 'version']);
    expect(ask('gitseal agent s')).toEqual(['start', 'status', 'stop']);
    expect(ask('gitseal verify --certificate-oidc')).toEqual(['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
  });

  needs('zsh').it('zsh: the script parses', () => {
    const file = join(sb.dir, '_gitseal');
    writeFileSync(file, sb.gitseal(['completion', 'zsh']).stdout);
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('an unknown shell is a usage error', () => {
    const r = sb.gitseal(['completion', 'powershell']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^gitseal: .*powershell/);
  });
});

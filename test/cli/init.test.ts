import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, binRealPath } from './helpers.js';

const sb = new Sandbox();
afterAll(() => sb.cleanup());

const mode = (p: string) => statSync(p).mode & 0o777;

describe('gitseal init', () => {
  it('configures the repository, records what was there, and undo restores it', () => {
    const repo = sb.repo('init-local');
    sb.git(['config', 'gpg.format', 'openpgp'], repo);
    sb.git(['config', 'commit.gpgsign', 'false'], repo);

    const r = sb.gitseal(['init'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    expect(sb.gitConfig(['--local', 'gpg.format'], repo)).toBe('x509');
    expect(sb.gitConfig(['--local', 'gpg.x509.program'], repo)).toBe(binRealPath());
    expect(sb.gitConfig(['--local', 'commit.gpgsign'], repo)).toBe('true');
    expect(sb.gitConfig(['--local', 'tag.gpgsign'], repo)).toBe('true');
    // shows the change and how to undo it
    expect(r.stdout).toMatch(/gpg\.format\s+openpgp\s+→\s+x509/);
    expect(r.stdout).toContain('gitseal init --undo');
    const undoFile = join(repo, '.git', 'gitseal-init.json');
    expect(mode(undoFile)).toBe(0o600);

    // running init again keeps the pre-gitseal values for undo
    expect(sb.gitseal(['init'], { cwd: repo }).status).toBe(0);

    const u = sb.gitseal(['init', '--undo'], { cwd: repo });
    expect(u.status, u.stderr).toBe(0);
    expect(sb.gitConfig(['--local', 'gpg.format'], repo)).toBe('openpgp');
    expect(sb.gitConfig(['--local', 'commit.gpgsign'], repo)).toBe('false');
    expect(sb.gitConfig(['--local', 'gpg.x509.program'], repo)).toBeUndefined();
    expect(sb.gitConfig(['--local', 'tag.gpgsign'], repo)).toBeUndefined();
    expect(existsSync(undoFile)).toBe(false);

    const again = sb.gitseal(['init', '--undo'], { cwd: repo });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/^gitseal: nothing to undo/);
  });

  it('undo leaves values the user changed after init alone', () => {
    const repo = sb.repo('init-changed');
    expect(sb.gitseal(['init'], { cwd: repo }).status).toBe(0);
    sb.git(['config', 'tag.gpgsign', 'false'], repo);
    const u = sb.gitseal(['init', '--undo', '--json'], { cwd: repo });
    expect(u.status).toBe(0);
    const j = JSON.parse(u.stdout) as { changes: Array<{ key: string; status: string }> };
    expect(j.changes.find((c) => c.key === 'tag.gpgsign')?.status).toBe('kept');
    expect(sb.gitConfig(['--local', 'tag.gpgsign'], repo)).toBe('false');
    expect(sb.gitConfig(['--local', 'gpg.format'], repo)).toBeUndefined();
  });

  it('--no-commit, --no-tag and --issuer', () => {
    const repo = sb.repo('init-flags');
    const r = sb.gitseal(['init', '--no-commit', '--no-tag', '--issuer', 'https://issuer.example.test'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    expect(sb.gitConfig(['--local', 'commit.gpgsign'], repo)).toBeUndefined();
    expect(sb.gitConfig(['--local', 'tag.gpgsign'], repo)).toBeUndefined();
    expect(sb.gitConfig(['--local', 'gitseal.issuer'], repo)).toBe('https://issuer.example.test');
    const bad = sb.gitseal(['init', '--issuer', 'not a url'], { cwd: repo });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^gitseal: --issuer must be/);
  });

  it('--dry-run writes nothing', () => {
    const repo = sb.repo('init-dry');
    const r = sb.gitseal(['init', '--dry-run', '--json'], { cwd: repo });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { dryRun: boolean; changes: Array<{ key: string; status: string }> };
    expect(j.dryRun).toBe(true);
    expect(j.changes.map((c) => c.key)).toEqual(['gpg.format', 'gpg.x509.program', 'commit.gpgsign', 'tag.gpgsign']);
    expect(sb.gitConfig(['--local', 'gpg.format'], repo)).toBeUndefined();
    expect(existsSync(join(repo, '.git', 'gitseal-init.json'))).toBe(false);
  });

  it('--global writes ~/.gitconfig and keeps the undo record private', () => {
    const r = sb.gitseal(['init', '--global'], { cwd: sb.dir });
    expect(r.status, r.stderr).toBe(0);
    const gc = readFileSync(join(sb.home, '.gitconfig'), 'utf8');
    expect(gc).toMatch(/format = x509/);
    const undo = join(sb.home, '.config', 'gitseal', 'init-undo.json');
    expect(mode(undo)).toBe(0o600);
    expect(mode(join(sb.home, '.config', 'gitseal'))).toBe(0o700);
    // a repository now inherits it
    const repo = sb.repo('init-inherits');
    expect(sb.gitConfig(['gpg.format'], repo)).toBe('x509');
    expect(sb.gitseal(['init', '--global', '--undo'], { cwd: sb.dir }).status).toBe(0);
    expect(sb.gitConfig(['--global', 'gpg.format'], sb.dir)).toBeUndefined();
  });

  it('outside a repository without --global: a usage error', () => {
    const r = sb.gitseal(['init'], { cwd: sb.home });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^gitseal: not inside a git repository.*--global/);
  });
});

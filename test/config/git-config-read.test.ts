/**
 * The in-process git config reader against the real `git config`: files are
 * written (by git or by hand), then read both ways and compared entry by entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGitConfig } from '../../src/config/git-config-read.js';
import { parseGitConfig } from '../../src/config/git-config-syntax.js';

let root: string;
let home: string;

/** A clean environment: no inherited GIT_*, HOME in a temp dir, no system file. */
function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
  return { ...env, ...extra };
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = baseEnv()): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' });
}

/** `git config -l -z` as [key, value|null] pairs, in git's order. */
function gitList(cwd: string, env: NodeJS.ProcessEnv = baseEnv(), extraArgs: string[] = []): Array<[string, string | null]> {
  const out = execFileSync('git', [...extraArgs, 'config', '-l', '-z'], { cwd, env, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((x) => x.length > 0)
    .map((item) => {
      const nl = item.indexOf('\n');
      return nl < 0 ? [item, null] : [item.slice(0, nl), item.slice(nl + 1)];
    });
}

function ours(cwd: string, env: NodeJS.ProcessEnv = baseEnv()): Array<[string, string | null]> {
  return readGitConfig({ cwd, env }).entries.map((e) => [e.key, e.value]);
}

function newRepo(name: string, args: string[] = []): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', ...args]);
  return dir;
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-config-')));
  home = join(root, 'home');
  mkdirSync(home);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('git config syntax', () => {
  it('reads values written by git config exactly as git does', () => {
    const repo = newRepo('written');
    const values = [
      'plain',
      '  leading and trailing  ',
      'with "quotes" inside',
      'back\\slash',
      'tab\there',
      'new\nline',
      'hash # and ; semicolon',
      '',
      'unicode ✓ é',
    ];
    values.forEach((v, i) => git(repo, ['config', `gitseal.value${i}`, v]));
    git(repo, ['config', 'gitseal.sub.Name', 'x']);
    git(repo, ['config', 'Section.With Space.Key', 'y']);
    expect(ours(repo)).toEqual(gitList(repo));
    const e = readGitConfig({ cwd: repo, env: baseEnv() });
    values.forEach((v, i) => expect(e.get(`gitseal.value${i}`)?.value).toBe(v));
  });

  it('parses hand-written files with comments, continuations, subsections and bare booleans', () => {
    const repo = newRepo('handwritten');
    const text = [
      '# comment',
      '; another',
      '[core]',
      '\tbare = false',
      '[GitSeal]',
      '  Fulcio = http://127.0.0.1:1234   # trailing comment',
      '  rekor="http://127.0.0.1:5678" ; quoted',
      '  issuer = a \\',
      '    continued   value',
      '  spaced =   many    inner\t\tspaces  ',
      '  quoted = "  kept  " and " more"',
      '  escapes = "a\\tb\\\\c\\"d"',
      '  offline',
      '[section "Sub \\"quoted\\" \\\\ name"]',
      '  key = v1',
      '[Old.Style]',
      '  Key = v2',
      '[multi] a = 1',
      '  a = 2',
      '[empty]',
      '  e =',
      '  crlf = yes\r',
      '',
    ].join('\n');
    writeFileSync(join(repo, '.git', 'config'), text);
    expect(ours(repo)).toEqual(gitList(repo));
  });

  it('rejects what git rejects', () => {
    for (const bad of ['[unterminated', '[s]\n  k = "open', '[s]\n  k = \\q', '[s]\n  1k = v', '[s]\n  k junk']) {
      expect(() => parseGitConfig(bad, 'test')).toThrow(/bad config line/);
      const repo = newRepo('bad' + Math.random().toString(16).slice(2));
      writeFileSync(join(repo, '.git', 'config'), bad + '\n');
      expect(() => gitList(repo)).toThrow();
    }
  });
});

describe('git config files and scopes', () => {
  it('follows global (XDG and ~/.gitconfig), local, include.path and includeIf like git', () => {
    const repo = newRepo('inc');
    const xdg = join(root, 'xdg');
    mkdirSync(join(xdg, 'git'), { recursive: true });
    writeFileSync(join(xdg, 'git', 'config'), '[gitseal]\n  fulcio = http://xdg\n  agent = off\n');
    writeFileSync(join(home, '.gitconfig'), `[gitseal]\n  fulcio = http://home\n[include]\n  path = inc/extra.inc\n[includeIf "gitdir:${root}/inc/"]\n  path = ${root}/match.inc\n[includeIf "gitdir:/nowhere/"]\n  path = ${root}/nomatch.inc\n[includeIf "gitdir/i:${root.toUpperCase()}/INC/"]\n  path = ${root}/icase.inc\n[includeIf "gitdir:inc/.git"]\n  path = ${root}/relative.inc\n[includeIf "onbranch:ma*"]\n  path = ${root}/branch.inc\n`);
    mkdirSync(join(home, 'inc'));
    writeFileSync(join(home, 'inc', 'extra.inc'), '[gitseal]\n  rekor = http://included\n[include]\n  path = ../nested.inc\n');
    writeFileSync(join(home, 'nested.inc'), '[gitseal]\n  nested = yes\n');
    writeFileSync(join(root, 'match.inc'), '[gitseal]\n  issuer = http://matched\n');
    writeFileSync(join(root, 'nomatch.inc'), '[gitseal]\n  issuer = http://wrong\n');
    writeFileSync(join(root, 'icase.inc'), '[gitseal]\n  clientID = icase\n');
    writeFileSync(join(root, 'relative.inc'), '[gitseal]\n  connectorID = relative\n');
    writeFileSync(join(root, 'branch.inc'), '[gitseal]\n  tokenProvider = device\n');
    git(repo, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
    git(repo, ['config', 'gitseal.fulcio', 'http://local']);
    const env = baseEnv({ XDG_CONFIG_HOME: xdg });
    const expected = gitList(repo, env);
    expect(expected.some(([k, v]) => k === 'gitseal.issuer' && v === 'http://matched')).toBe(true);
    expect(expected.some(([k]) => k === 'gitseal.tokenprovider')).toBe(true);
    expect(ours(repo, env)).toEqual(expected);
    // from a subdirectory, too
    mkdirSync(join(repo, 'a', 'b'), { recursive: true });
    expect(ours(join(repo, 'a', 'b'), env)).toEqual(expected);
    // outside the repository only global applies
    expect(ours(root, env)).toEqual(gitList(root, env));
  });

  it('follows includeIf "hasconfig:remote.*.url:" like git (per-organisation settings)', () => {
    const dir = join(root, 'hasconfig');
    mkdirSync(dir);
    const g = join(dir, 'global.cfg');
    writeFileSync(
      g,
      `[gitseal]\n  fulcio = http://default\n` +
        `[includeIf "hasconfig:remote.*.url:https://github.com/acme/**"]\n  path = acme.inc\n` +
        `[includeIf "hasconfig:remote.*.url:https://github.com/flat/*"]\n  path = flat.inc\n` +
        `[includeIf "hasconfig:remote.*.url:git@example.com:*/**"]\n  path = ssh.inc\n` +
        `[includeIf "hasconfig:user.email:a@example.com"]\n  path = unknown-key.inc\n`,
    );
    writeFileSync(join(dir, 'acme.inc'), '[gitseal]\n  fulcio = http://acme\n[user]\n  email = dev@acme.example\n[include]\n  path = acme-nested.inc\n');
    writeFileSync(join(dir, 'acme-nested.inc'), '[gitseal]\n  issuer = http://acme-issuer\n');
    writeFileSync(join(dir, 'flat.inc'), '[gitseal]\n  rekor = http://flat\n');
    writeFileSync(join(dir, 'ssh.inc'), '[gitseal]\n  clientID = ssh\n');
    writeFileSync(join(dir, 'unknown-key.inc'), '[gitseal]\n  clientID = never\n');
    const env = baseEnv({ GIT_CONFIG_GLOBAL: g });
    const layouts: Array<[string, string[]]> = [
      ['acme', ['https://github.com/acme/tool.git']],
      ['acme-second-remote', ['https://github.com/other/x.git', 'https://github.com/acme/deep/er/y']],
      ['flat-one-level', ['https://github.com/flat/repo']],
      ['flat-too-deep', ['https://github.com/flat/a/b']], // "*" stops at "/" (WM_PATHNAME)
      ['ssh', ['git@example.com:team/repo.git']],
      ['none', ['https://gitlab.com/acme/tool.git']],
      ['no-remote', []],
    ];
    for (const [name, urls] of layouts) {
      const repo = newRepo(join('hasconfig', name));
      urls.forEach((u, i) => git(repo, ['remote', 'add', `r${i}`, u], env));
      const expected = gitList(repo, env);
      expect(ours(repo, env), name).toEqual(expected);
    }
    expect(readGitConfig({ cwd: join(dir, 'acme'), env }).get('gitseal.fulcio')?.value).toBe('http://acme');
    expect(readGitConfig({ cwd: join(dir, 'none'), env }).get('gitseal.fulcio')?.value).toBe('http://default');
    // A remote from the command scope counts too; outside any repository as well.
    const cli = baseEnv({ GIT_CONFIG_GLOBAL: g, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'remote.x.url', GIT_CONFIG_VALUE_0: 'https://github.com/acme/z' });
    expect(ours(dir, cli)).toEqual(gitList(dir, cli));
    expect(readGitConfig({ cwd: dir, env: cli }).get('gitseal.fulcio')?.value).toBe('http://acme');
  });

  it('refuses, as git does, a remote URL set by a file that hasconfig:remote.*.url included', () => {
    const dir = join(root, 'hasconfig-loop');
    mkdirSync(dir);
    const g = join(dir, 'global.cfg');
    writeFileSync(g, `[includeIf "hasconfig:remote.*.url:https://**"]\n  path = sets-url.inc\n`);
    writeFileSync(join(dir, 'sets-url.inc'), '[remote "sneaky"]\n  url = https://example.com/r\n');
    const env = baseEnv({ GIT_CONFIG_GLOBAL: g });
    const repo = newRepo(join('hasconfig-loop', 'repo'));
    // Whether or not a URL matches: git reads such files unconditionally while collecting URLs.
    expect(() => gitList(repo, env)).toThrow();
    expect(() => readGitConfig({ cwd: repo, env })).toThrow(/remote URLs cannot be configured in file directly or indirectly included by includeIf\.hasconfig/);
  });

  it('honours GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM and GIT_DIR', () => {
    const repo = newRepo('envfiles');
    git(repo, ['config', 'gitseal.rekor', 'http://local']);
    const g = join(root, 'global.cfg');
    const s = join(root, 'system.cfg');
    writeFileSync(g, '[gitseal]\n  fulcio = http://global-file\n');
    writeFileSync(s, '[gitseal]\n  issuer = http://system-file\n');
    const env = baseEnv({ GIT_CONFIG_GLOBAL: g, GIT_CONFIG_SYSTEM: s, GIT_CONFIG_NOSYSTEM: '0' });
    expect(ours(repo, env)).toEqual(gitList(repo, env));
    expect(readGitConfig({ cwd: repo, env }).get('gitseal.issuer')?.value).toBe('http://system-file');
    const nosys = { ...env, GIT_CONFIG_NOSYSTEM: '1' };
    expect(ours(repo, nosys)).toEqual(gitList(repo, nosys));
    const gd = baseEnv({ GIT_DIR: join(repo, '.git') });
    expect(ours(root, gd)).toEqual(gitList(root, gd));
  });

  it('reads command-scope config from GIT_CONFIG_COUNT and git -c (GIT_CONFIG_PARAMETERS)', () => {
    const repo = newRepo('cmdscope');
    git(repo, ['config', 'gitseal.fulcio', 'http://local']);
    const args = ['-c', 'gitseal.fulcio=http://cli', '-c', "gitseal.issuer=it's \"quoted\" = x", '-c', 'gitseal.Offline', '-c', 'Sect.Sub.Key=', '-c', 'alias.penv=!printenv GIT_CONFIG_PARAMETERS'];
    const params = execFileSync('git', [...args, 'penv'], { cwd: repo, env: baseEnv(), encoding: 'utf8' }).replace(/\n$/, '');
    const env = baseEnv({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'gitseal.Rekor',
      GIT_CONFIG_VALUE_0: 'http://count',
      GIT_CONFIG_KEY_1: 'gitseal.fulcio',
      GIT_CONFIG_VALUE_1: 'http://count-fulcio',
      GIT_CONFIG_PARAMETERS: params,
    });
    const expected = gitList(repo, env);
    expect(expected.find(([k]) => k === 'gitseal.issuer')?.[1]).toBe("it's \"quoted\" = x");
    expect(ours(repo, env)).toEqual(expected);
    expect(readGitConfig({ cwd: repo, env }).get('gitseal.fulcio')?.value).toBe('http://cli');
  });

  it('finds the shared config and config.worktree from a linked worktree', () => {
    const repo = newRepo('wtmain');
    git(repo, ['-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x']);
    git(repo, ['config', 'extensions.worktreeConfig', 'true']);
    git(repo, ['config', 'gitseal.fulcio', 'http://shared']);
    const wt = join(root, 'wt-linked');
    git(repo, ['worktree', 'add', '-q', wt]);
    git(wt, ['config', '--worktree', 'gitseal.rekor', 'http://worktree-only']);
    const expected = gitList(wt);
    expect(expected.findLast(([k]) => k === 'gitseal.rekor')?.[1]).toBe('http://worktree-only');
    expect(ours(wt)).toEqual(expected);
    expect(ours(repo)).toEqual(gitList(repo));
  });

  it('reads a bare repository', () => {
    const bare = newRepo('bare.git', ['--bare']);
    git(bare, ['config', 'gitseal.fulcio', 'http://bare']);
    expect(ours(bare)).toEqual(gitList(bare));
  });
});

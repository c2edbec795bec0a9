/**
 * The safe path made the easy one: `gitseal init --signer <identity> --issuer <url>` writes the
 * allowed-signers file, so git shows the signer's good signatures as G and `git merge
 * --verify-signatures` accepts them (without a policy git shows U and refuses — what a gitsign
 * user who switches meets first); `--undo` takes it back; on a terminal init asks; doctor says
 * when no policy is set. Through the real binary, real git and the sandbox.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './helpers.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';

const sb = new Sandbox('gitseal-init-signers-');
let sigstore: RunningSandbox;
let devToken: string;
let eveToken: string;

beforeAll(async () => {
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off', XDG_CACHE_HOME: join(sb.home, '.cache'), XDG_CONFIG_HOME: join(sb.home, '.config') };
  devToken = sigstore.token('dev@example.test');
  eveToken = sigstore.token('eve@example.test');
}, 120_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

function signingRepo(name: string): { dir: string; git(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof spawnSync> } {
  const dir = sb.repo(name);
  const git = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync('git', args, { cwd: dir, env: { ...sb.env, SIGSTORE_ID_TOKEN: devToken, ...env }, encoding: 'utf8' });
  git(['config', 'user.email', 'dev@example.test']);
  git(['config', 'user.name', 'Dev']);
  git(['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'base']);
  return { dir, git };
}

const mark = (r: ReturnType<typeof signingRepo>, rev: string) => String(r.git(['log', '-1', '--format=%G?', rev]).stdout).trim();

describe('gitseal init --signer', () => {
  it('without a policy every good signature is U and merge --verify-signatures refuses it', () => {
    const r = signingRepo('no-policy');
    expect(sb.gitseal(['init'], { cwd: r.dir }).status).toBe(0);
    r.git(['checkout', '-q', '-b', 'feature']);
    expect(r.git(['commit', '-q', '--allow-empty', '-m', 'signed by dev']).status).toBe(0);
    expect(mark(r, 'feature')).toBe('U');
    r.git(['checkout', '-q', '-']);
    const m = r.git(['merge', '--verify-signatures', '--no-edit', 'feature']);
    expect(m.status).not.toBe(0);
    expect(String(m.stderr) + String(m.stdout)).toMatch(/untrusted GPG signature/);
    // doctor says so, with the fix
    const d = JSON.parse(sb.gitseal(['doctor', '--offline', '--json'], { cwd: r.dir }).stdout);
    const p = d.checks.find((c: { id: string }) => c.id === 'policy');
    expect(p).toMatchObject({ status: 'warn', fix: expect.stringContaining('gitseal init --signer') });
    expect(p.summary).toMatch(/^none: git shows every good signature as U/);
  });

  it('with --signer: G for that signer, merge --verify-signatures accepts; someone else stays refused', () => {
    const r = signingRepo('policy');
    const init = sb.gitseal(['init', '--signer', 'dev@example.test', '--issuer', sigstore.issuer], { cwd: r.dir });
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toContain(`Allowed signers: ${join(r.dir, '.gitseal/allowed_signers')} created with dev@example.test ${sigstore.issuer}`);
    expect(readFileSync(join(r.dir, '.gitseal/allowed_signers'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([`dev@example.test ${sigstore.issuer}`]);
    expect(sb.gitConfig(['--local', 'gitseal.allowedSignersFile'], r.dir)).toBe('.gitseal/allowed_signers');
    // --issuer named the certificates' issuer here: the login issuer is left alone
    expect(sb.gitConfig(['--local', 'gitseal.issuer'], r.dir)).toBeUndefined();

    r.git(['checkout', '-q', '-b', 'feature']);
    expect(r.git(['commit', '-q', '--allow-empty', '-m', 'signed by dev']).status).toBe(0);
    expect(mark(r, 'feature')).toBe('G');
    r.git(['checkout', '-q', '-']);
    const m = r.git(['merge', '--verify-signatures', '--no-edit', 'feature']);
    expect(m.status, String(m.stderr)).toBe(0);
    expect(String(m.stdout)).toMatch(/has a good GPG signature by dev@example\.test/);

    r.git(['checkout', '-q', '-b', 'eve']);
    expect(r.git(['commit', '-q', '--allow-empty', '-m', 'signed by eve'], { SIGSTORE_ID_TOKEN: eveToken }).status).toBe(0);
    expect(mark(r, 'eve')).toBe('U');
    r.git(['checkout', '-q', '-']);
    expect(r.git(['merge', '--verify-signatures', '--no-edit', 'eve']).status).not.toBe(0);

    // doctor: the policy is there; gitseal verify from a subdirectory reads the same file
    const d = JSON.parse(sb.gitseal(['doctor', '--offline', '--json'], { cwd: r.dir }).stdout);
    expect(d.checks.find((c: { id: string }) => c.id === 'policy')).toMatchObject({ status: 'ok', details: { signers: 1 } });
    mkdirSync(join(r.dir, 'sub'));
    const v = sb.gitseal(['verify', 'feature', '--json'], { cwd: join(r.dir, 'sub') });
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, policy: true, results: [{ policyMatched: true }] });

    // a second signer is added to the same file; the same one again changes nothing
    expect(sb.gitseal(['init', '--signer', 're:.*@example\\.test', '--issuer', sigstore.issuer], { cwd: r.dir }).stdout).toContain('added');
    expect(sb.gitseal(['init', '--signer', 'dev@example.test', '--issuer', sigstore.issuer], { cwd: r.dir }).stdout).toContain('already allows');
    expect(mark(r, 'eve')).toBe('G');

    // --undo: the file and every setting go back to what was there
    const u = sb.gitseal(['init', '--undo'], { cwd: r.dir });
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toContain('Allowed signers:');
    expect(existsSync(join(r.dir, '.gitseal'))).toBe(false);
    expect(sb.gitConfig(['--local', 'gitseal.allowedSignersFile'], r.dir)).toBeUndefined();
    expect(sb.gitConfig(['--local', 'gpg.format'], r.dir)).toBeUndefined();
  });

  it('--undo keeps a signers file changed since init', () => {
    const r = signingRepo('policy-changed');
    expect(sb.gitseal(['init', '--signer', 'dev@example.test', '--issuer', sigstore.issuer], { cwd: r.dir }).status).toBe(0);
    const f = join(r.dir, '.gitseal/allowed_signers');
    writeFileSync(f, readFileSync(f, 'utf8') + `carol@example.test ${sigstore.issuer}\n`);
    const u = JSON.parse(sb.gitseal(['init', '--undo', '--json'], { cwd: r.dir }).stdout);
    expect(u.signers).toMatchObject({ status: 'kept' });
    expect(readFileSync(f, 'utf8')).toContain('carol@example.test');
  });

  it('--global writes ~/.config/gitseal/allowed_signers', () => {
    const r = signingRepo('policy-global');
    const g = sb.gitseal(['init', '--global', '--signer', 'dev@example.test', '--issuer', sigstore.issuer], { cwd: r.dir });
    expect(g.status, g.stderr).toBe(0);
    const file = join(sb.home, '.config', 'gitseal', 'allowed_signers');
    expect(sb.gitConfig(['--global', 'gitseal.allowedSignersFile'], r.dir)).toBe(file);
    expect(readFileSync(file, 'utf8')).toContain(`dev@example.test ${sigstore.issuer}`);
    expect(r.git(['commit', '-q', '--allow-empty', '-m', 'signed']).status).toBe(0);
    expect(mark(r, 'HEAD')).toBe('G');
    expect(sb.gitseal(['init', '--global', '--undo'], { cwd: r.dir }).status).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(sb.gitConfig(['--global', 'gitseal.allowedSignersFile'], r.dir)).toBeUndefined();
  });

  it.each([
    [['--signer', 'dev@example.test'], /^gitseal: --signer needs --issuer: the OIDC issuer in the signer's certificates/],
    [['--signer', 'dev@example.test other', '--issuer', 'https://x.test'], /^gitseal: --signer "dev@example\.test other" cannot contain spaces or "#"/],
    [['--signer', 'dev@example.test', '--issuer', 'github'], /^gitseal: --issuer must be an http\(s\) URL \(or re:<regexp>\), got "github"/],
    [['--signer', 're:(', '--issuer', 'https://x.test'], /^gitseal: .*regular expression/],
  ])('a bad signer (%j) is one line, exit 2, and nothing is written', (args, want) => {
    const r = signingRepo(`bad-${Math.random().toString(36).slice(2)}`);
    const x = sb.gitseal(['init', ...args], { cwd: r.dir });
    expect(x.status).toBe(2);
    expect(x.stderr).toMatch(want);
    expect(x.stderr.trim().split('\n')).toHaveLength(1);
    expect(sb.gitConfig(['--local', 'gpg.format'], r.dir)).toBeUndefined();
    expect(existsSync(join(r.dir, '.gitseal'))).toBe(false);
  });
});

/** `gitseal init` on a pseudo-terminal (util-linux script), answering its questions. */
function initOnTty(cwd: string, answers: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} init`;
    const cp = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { cwd, env: { ...sb.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let asked = 0;
    const prompts = [/\[Y\/n\] $/, /Who may sign[^:]*: $/, /Issuer: [^\n]*: $/];
    cp.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      while (asked < answers.length && prompts[asked]!.test(out)) {
        cp.stdin.write(answers[asked]! + '\r');
        asked++;
        out += '\n';
      }
    });
    cp.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => cp.kill('SIGTERM'), 60_000);
    cp.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, out });
    });
  });
}

describe('gitseal init on a terminal', () => {
  it('offers the policy and writes it from the answers (defaults from user.email)', async () => {
    const r = signingRepo('tty-yes');
    const { status, out } = await initOnTty(r.dir, ['', '', sigstore.issuer]);
    expect(status, out).toBe(0);
    expect(out).toContain('No signer policy is set: git shows every good signature as "U"');
    expect(out).toContain('[dev@example.test]');
    expect(out).toMatch(/1\) https:\/\/github\.com\/login\/oauth/);
    expect(readFileSync(join(r.dir, '.gitseal/allowed_signers'), 'utf8')).toContain(`dev@example.test ${sigstore.issuer}`);
    expect(r.git(['commit', '-q', '--allow-empty', '-m', 'signed']).status).toBe(0);
    expect(mark(r, 'HEAD')).toBe('G');
  });

  it('a numbered issuer works; "n" writes no policy and says how to add one later', async () => {
    const r = signingRepo('tty-menu');
    let t = await initOnTty(r.dir, ['y', 'alice@example.com', '2']);
    expect(t.status, t.out).toBe(0);
    expect(readFileSync(join(r.dir, '.gitseal/allowed_signers'), 'utf8')).toContain('alice@example.com https://accounts.google.com');

    const r2 = signingRepo('tty-no');
    t = await initOnTty(r2.dir, ['n']);
    expect(t.status, t.out).toBe(0);
    expect(t.out).toContain('No signer policy written; later: gitseal init --signer <identity> --issuer <URL>');
    expect(existsSync(join(r2.dir, '.gitseal'))).toBe(false);
    expect(sb.gitConfig(['--local', 'gpg.format'], r2.dir)).toBe('x509'); // the rest of init still happened
  });

  it('no questions when a policy is already set, or without a terminal', async () => {
    const r = signingRepo('tty-has-policy');
    r.git(['config', 'gitseal.allowedSignersFile', 'somewhere']);
    const t = await initOnTty(r.dir, []);
    expect(t.status, t.out).toBe(0);
    expect(t.out).not.toContain('No signer policy is set');
    const plain = sb.gitseal(['init'], { cwd: signingRepo('no-tty').dir });
    expect(plain.status).toBe(0);
    expect(plain.stdout).not.toContain('No signer policy is set');
  });
});

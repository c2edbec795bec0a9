import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, Sandbox } from './helpers.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';

/**
 * hooks/pre-receive on a real bare repository: pushes of commits signed by an
 * allowed identity (through the sandbox Sigstore) are accepted; unsigned,
 * wrongly signed or unauthorized ones are refused.
 */
const sb = new Sandbox('gitseal-hook-');
let sigstore: RunningSandbox;
let server: string;
let work: string;

function push(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync('git', ['push', ...args], { cwd: work, env: { ...sb.env, ...env }, encoding: 'utf8' });
}

function commit(msg: string, email: string, signed = true): void {
  const token = sigstore.token(email);
  const args = ['-c', `user.email=${email}`, 'commit', '-q', '--allow-empty', '-m', msg];
  if (!signed) args.splice(4, 0, '--no-gpg-sign');
  const r = spawnSync('git', args, { cwd: work, env: { ...sb.env, SIGSTORE_ID_TOKEN: token }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`commit failed: ${r.stderr}`);
}

beforeAll(async () => {
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off' };
  server = sb.repo('server.git', true);
  copyFileSync(join(ROOT, 'hooks', 'pre-receive'), join(server, 'hooks', 'pre-receive'));
  spawnSync('chmod', ['+x', join(server, 'hooks', 'pre-receive')]);
  // the server runs this installation of gitseal, with the sandbox's trust root
  sb.git(['config', 'gitseal.hookProgram', BIN], server);
  sb.git(['config', 'gitseal.trustedRoot', sigstore.env.GITSEAL_TRUSTED_ROOT!], server);
  const signers = join(sb.dir, 'allowed_signers');
  writeFileSync(signers, `# release team\nalice@example.test ${sigstore.issuer}\nre:.*@team\\.example\\.test ${sigstore.issuer}\n`);
  sb.git(['config', 'gitseal.allowedSignersFile', signers], server);

  work = sb.repo('work');
  expect(sb.gitseal(['init'], { cwd: work }).status).toBe(0);
  sb.git(['config', 'user.name', 'Dev'], work);
  sb.git(['config', 'gitseal.agent', 'off'], work);
  sb.git(['remote', 'add', 'origin', server], work);
  sb.git(['checkout', '-q', '-b', 'main'], work);
}, 120_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('pre-receive hook', () => {
  it('accepts commits signed by allowed identities', () => {
    commit('first', 'alice@example.test');
    commit('second', 'bob@team.example.test');
    const r = push(['-q', 'origin', 'main']);
    expect(r.status, r.stderr).toBe(0);
    expect(sb.git(['rev-parse', 'main'], server)).toBe(sb.git(['rev-parse', 'HEAD'], work));
  });

  it('refuses an unsigned commit and names it', () => {
    commit('sneaky', 'alice@example.test', false);
    const r = push(['origin', 'main']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/push refused/);
    expect(r.stderr).toContain(sb.git(['rev-parse', '--short=12', 'HEAD'], work).trim());
    expect(r.stderr).toMatch(/not signed/);
    expect(sb.git(['rev-parse', 'main'], server)).not.toBe(sb.git(['rev-parse', 'HEAD'], work));
    sb.git(['reset', '-q', '--hard', 'HEAD~1'], work);
  });

  it('refuses a validly signed commit from an identity that is not allowed', () => {
    commit('outsider', 'mallory@evil.example.test');
    const r = push(['origin', 'main']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mallory@evil\.example\.test/);
    expect(r.stderr).toMatch(/not allowed|policy/);
    sb.git(['reset', '-q', '--hard', 'HEAD~1'], work);
  });

  it('checks every new commit of a new branch, not only its tip', () => {
    sb.git(['checkout', '-q', '-b', 'feature'], work);
    commit('unsigned in the middle', 'alice@example.test', false);
    commit('signed tip', 'alice@example.test');
    const r = push(['origin', 'feature']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not signed/);
    sb.git(['checkout', '-q', 'main'], work);
  });

  it('verifies annotated tags', () => {
    const token = sigstore.token('alice@example.test');
    const t = spawnSync('git', ['-c', 'user.email=alice@example.test', 'tag', '-s', '-m', 'release', 'v1.0'], {
      cwd: work,
      env: { ...sb.env, SIGSTORE_ID_TOKEN: token },
      encoding: 'utf8',
    });
    expect(t.status, t.stderr).toBe(0);
    expect(push(['-q', 'origin', 'v1.0']).status).toBe(0);
    sb.git(['tag', '-a', '--no-sign', '-m', 'unsigned', 'v1.1'], work);
    const r = push(['origin', 'v1.1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/tag signature rejected/);
  });

  it('without any policy the push is refused unless explicitly opened', () => {
    const open = sb.repo('open.git', true);
    copyFileSync(join(ROOT, 'hooks', 'pre-receive'), join(open, 'hooks', 'pre-receive'));
    sb.git(['config', 'gitseal.hookProgram', BIN], open);
    sb.git(['config', 'gitseal.trustedRoot', sigstore.env.GITSEAL_TRUSTED_ROOT!], open);
    const r = push([open, 'main']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no signer policy/);
    // a policy committed on the default branch is used for later pushes (never the pushed one)
    mkdirSync(join(work, '.gitseal'), { recursive: true });
    writeFileSync(join(work, '.gitseal', 'allowed_signers'), `alice@example.test ${sigstore.issuer}\n`);
    sb.git(['add', '.gitseal'], work);
    const token = sigstore.token('alice@example.test');
    const c = spawnSync('git', ['-c', 'user.email=alice@example.test', 'commit', '-q', '-m', 'policy'], { cwd: work, env: { ...sb.env, SIGSTORE_ID_TOKEN: token }, encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    expect(push([open, 'main'], { GITSEAL_HOOK_ALLOW_ANY_SIGNER: '1' }).status).toBe(0);
    // now the in-tree policy (as on the server before the push) applies
    commit('by mallory', 'mallory@evil.example.test');
    const m = push([open, 'main']);
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/mallory@evil\.example\.test/);
    sb.git(['reset', '-q', '--hard', 'HEAD~1'], work);
    commit('by alice', 'alice@example.test');
    const a = push([open, 'main']);
    expect(a.status, a.stderr).toBe(0);
  });
});

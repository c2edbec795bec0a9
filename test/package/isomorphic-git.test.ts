/**
 * The library's isomorphic-git integration (dist/lib.js, what `import 'gitseal'` loads), against
 * isomorphic-git itself and the sandbox Sigstore: repositories made by isomorphic-git, commits
 * and tags signed through `onSign`, verified through `onVerify` (objects read by isomorphic-git)
 * and by the real `git verify-commit` / `verify-tag` with gitseal as git's x509 program. The two
 * verifiers must agree on every object, tampered and malformed ones included.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';

type Lib = typeof import('../../src/lib.js');
let lib: Lib;
const sb = new Sandbox('gitseal-isogit-');
let sigstore: RunningSandbox;
let env: NodeJS.ProcessEnv;
let dir: string;
let signed: string; // a commit isomorphic-git made and gitseal signed
const EMAIL = 'iso@example.test';
const author = { name: 'Iso', email: EMAIL, timestamp: 1_700_000_000, timezoneOffset: 0 };

/** git verify-commit / verify-tag with gitseal as the x509 program and a signer policy. */
function gitVerify(kind: 'commit' | 'tag', rev: string) {
  const r = spawnSync('git', [`verify-${kind}`, '--raw', rev], { cwd: dir, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

beforeAll(async () => {
  lib = (await import(join(ROOT, 'dist', 'lib.js'))) as Lib;
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off' };
  // A repository isomorphic-git creates, configured for git's own verification through gitseal.
  dir = join(sb.dir, 'iso');
  await git.init({ fs, dir, defaultBranch: 'main' });
  const signers = join(sb.dir, 'signers');
  fs.writeFileSync(signers, `${EMAIL} ${sigstore.issuer}\n`);
  for (const [k, v] of [
    ['gpg.format', 'x509'],
    ['gpg.x509.program', join(ROOT, 'bin', 'gitseal')],
    ['gitseal.allowedSignersFile', signers],
  ]) {
    await git.setConfig({ fs, dir, path: k!, value: v! });
  }
  fs.writeFileSync(join(dir, 'a.txt'), 'hello\n');
  await git.add({ fs, dir, filepath: 'a.txt' });
  signed = await git.commit({
    fs,
    dir,
    message: 'signed by isomorphic-git\n',
    author,
    signingKey: 'gitseal (keyless)',
    onSign: lib.onSign({ env, cwd: dir, token: sigstore.token(EMAIL) }),
  });
}, 120_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('isomorphic-git commits and tags signed through onSign', () => {
  it('verify with git verify-commit, with onVerify (isomorphic-git reading) and with verifyCommit (git reading), alike', async () => {
    const g = gitVerify('commit', signed);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stderr).toMatch(/\[GNUPG:\] GOODSIG [0-9A-F]{40} iso@example\.test/i);
    expect(g.stderr).toContain('[GNUPG:] TRUST_FULLY');

    // no trust option: the sandbox's trusted root comes from the environment, as for the program
    const verify = lib.onVerify({ fs, dir, env, policy: { certificateIdentity: EMAIL, certificateOidcIssuer: sigstore.issuer } });
    const viaIso = await verify(signed);
    expect(viaIso).toMatchObject({ ok: true, kind: 'good', oid: signed, type: 'commit', identity: EMAIL, issuer: sigstore.issuer, policyMatched: true });
    const viaGit = await lib.verifyCommit({ dir, rev: signed, env, policy: { certificateIdentity: EMAIL, certificateOidcIssuer: sigstore.issuer } });
    expect(viaGit).toMatchObject({ ok: true, oid: signed });
    expect(viaIso.fingerprint).toBe(viaGit.fingerprint);
    expect(viaIso.logIndex).toBe(viaGit.logIndex);
    expect(g.stderr.toLowerCase()).toContain(viaIso.fingerprint!);

    // by ref and by what git.log / git.readCommit hand out
    expect(await verify('HEAD')).toMatchObject({ ok: true, oid: signed });
    expect(await verify('main')).toMatchObject({ ok: true, oid: signed });
    const [entry] = await git.log({ fs, dir, depth: 1 });
    expect(await verify(entry!)).toMatchObject({ ok: true, oid: signed });
    expect(await verify(await git.readCommit({ fs, dir, oid: signed }))).toMatchObject({ ok: true });
  });

  it('an annotated tag signed through onSign verifies with git verify-tag and onVerify', async () => {
    await git.annotatedTag({
      fs,
      dir,
      ref: 'v1.0.0',
      message: 'release 1.0.0',
      object: signed,
      tagger: author,
      signingKey: 'gitseal',
      onSign: lib.onSign({ env, cwd: dir, token: sigstore.token(EMAIL) }),
    });
    const g = gitVerify('tag', 'v1.0.0');
    expect(g.status, g.stderr).toBe(0);
    expect(g.stderr).toContain('[GNUPG:] TRUST_FULLY');
    const r = await lib.onVerify({ fs, dir, env, policy: { certificateIdentity: EMAIL, certificateOidcIssuer: sigstore.issuer } })('v1.0.0');
    expect(r).toMatchObject({ ok: true, type: 'tag', identity: EMAIL, oid: await git.resolveRef({ fs, dir, ref: 'refs/tags/v1.0.0' }) });
  });

  it('a failed signing rejects and isomorphic-git writes nothing: HEAD and the objects stay as they were', async () => {
    const head = await git.resolveRef({ fs, dir, ref: 'HEAD' });
    const objects = () => fs.readdirSync(join(dir, '.git', 'objects')).flatMap((d) => (/^[0-9a-f]{2}$/.test(d) ? fs.readdirSync(join(dir, '.git', 'objects', d)) : [])).length;
    const before = objects();
    const err = await git
      .commit({ fs, dir, message: 'never written\n', author, signingKey: 'gitseal', onSign: lib.onSign({ env, cwd: dir, token: 'not.a-token' }) })
      .then(() => undefined, (e: unknown) => e as { code?: string; message: string });
    expect(err?.code).toBe('BAD_TOKEN');
    expect(err?.message).not.toContain('\n');
    expect(await git.resolveRef({ fs, dir, ref: 'HEAD' })).toBe(head);
    // isomorphic-git writes the commit object only after onSign returned
    expect(objects()).toBe(before);
  });
});

describe('onVerify and git agree on objects that must not verify', () => {
  async function raw(oid: string): Promise<string> {
    const { object } = await git.readObject({ fs, dir, oid, format: 'content' });
    return Buffer.from(object as Uint8Array).toString('utf8');
  }
  const write = (text: string) => git.writeObject({ fs, dir, type: 'commit', object: Buffer.from(text), format: 'content' });

  it('a commit whose message was changed under the signature is BAD for both', async () => {
    const forged = await write((await raw(signed)).replace('signed by isomorphic-git', 'signed by someone else'));
    expect(forged).not.toBe(signed);
    const r = await lib.onVerify({ fs, dir, env })(forged);
    expect(r).toMatchObject({ ok: false, kind: 'bad', oid: forged });
    const g = gitVerify('commit', forged);
    expect(g.status).not.toBe(0);
    expect(g.stderr).toContain('[GNUPG:] BADSIG');
  });

  it('a commit with a second signature header is refused by both (the first gpgsig is the one git reads)', async () => {
    const text = await raw(signed);
    const at = text.indexOf('\ngpgsig ');
    const block = text.slice(at, text.indexOf('\n\n'));
    const doubled = await write(text.slice(0, at) + block + block + text.slice(at + block.length));
    const r = await lib.onVerify({ fs, dir, env })(doubled);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_GIT_OBJECT', oid: doubled });
    expect(gitVerify('commit', doubled).status).not.toBe(0);
  });

  it('unsigned commits, unknown revisions and identities outside the policy', async () => {
    const plain = await git.commit({ fs, dir, message: 'unsigned\n', author, ref: 'refs/heads/plain', parent: [signed] });
    expect(await lib.onVerify({ fs, dir, env })(plain)).toMatchObject({ ok: false, kind: 'error', message: expect.stringMatching(/is not signed/) });
    expect(gitVerify('commit', plain).status).not.toBe(0);
    await expect(lib.onVerify({ fs, dir, env })('refs/heads/nope')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(lib.onVerify({ fs, dir, env })('0'.repeat(40))).rejects.toMatchObject({ code: 'USAGE' });
    const other = await lib.onVerify({ fs, dir, env, policy: { certificateIdentity: 'else@example.test', certificateOidcIssuer: sigstore.issuer } })(signed);
    expect(other).toMatchObject({ ok: false, kind: 'good', policyMatched: false });
  });

  it('bytes that do not hash to the object id are an error, whatever isomorphic-git returned', async () => {
    // isomorphic-git returns packed objects without hashing them: a doctored pack hands back
    // another object's bytes under the id asked for. Simulated on top of the real reader.
    const tag = await git.resolveRef({ fs, dir, ref: 'refs/tags/v1.0.0' });
    const swapped = { ...git, readObject: async (a: Parameters<typeof git.readObject>[0]) => ({ ...(await git.readObject({ ...a, oid: tag })), oid: a.oid }) };
    const r = await lib.onVerify({ fs, dir, env, git: swapped as unknown as import('../../src/lib.js').IsomorphicGitApi })(signed);
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_GIT_OBJECT', oid: signed });
    expect(r.message).toMatch(/does not match its id/);
  });
});

describe('without a git binary', () => {
  it('signs with onSign and verifies with onVerify in a process whose PATH has no git', () => {
    const empty = join(sb.dir, 'empty-path');
    fs.mkdirSync(empty, { recursive: true });
    const repo = join(sb.dir, 'no-git');
    const script = `
      import * as fs from 'node:fs';
      const git = (await import(${JSON.stringify(join(ROOT, 'node_modules', 'isomorphic-git', 'index.js'))})).default;
      const lib = await import(${JSON.stringify(join(ROOT, 'dist', 'lib.js'))});
      const dir = ${JSON.stringify(repo)};
      await git.init({ fs, dir });
      fs.writeFileSync(dir + '/f', 'x');
      await git.add({ fs, dir, filepath: 'f' });
      const oid = await git.commit({ fs, dir, message: 'no git here\\n', author: { name: 'N', email: 'nogit@example.test' },
        signingKey: 'gitseal', onSign: lib.onSign({ cwd: dir, token: process.env.TOKEN }) });
      const r = await lib.onVerify({ fs, dir, policy: { certificateIdentity: 'nogit@example.test', certificateOidcIssuer: ${JSON.stringify(sigstore.issuer)} } })(oid);
      console.log(JSON.stringify({ oid, ok: r.ok, identity: r.identity }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: sb.dir,
      env: { ...env, PATH: empty, TOKEN: sigstore.token('nogit@example.test') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { oid: string; ok: boolean; identity: string };
    expect(out).toMatchObject({ ok: true, identity: 'nogit@example.test' });
    // and git, where there is one, agrees
    spawnSync('git', ['config', 'gpg.format', 'x509'], { cwd: repo });
    spawnSync('git', ['config', 'gpg.x509.program', join(ROOT, 'bin', 'gitseal')], { cwd: repo });
    const v = spawnSync('git', ['verify-commit', out.oid], { cwd: repo, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
  });
});

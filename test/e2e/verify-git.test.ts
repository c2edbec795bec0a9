/**
 * git's verification path through the real binary (bin/gitseal as
 * gpg.x509.program), end to end:
 *  - every object of the vendored gitsign corpus, offline, with the embedded
 *    public-good root: the verdict its README states; every negative/ case rejected;
 *  - signatures gitseal makes against the sandbox, through git verify-commit,
 *    verify-tag, log --show-signature and %G?/%GS, with and without a policy;
 *    a message tampered with git cat-file/hash-object gives BADSIG;
 *  - merge --verify-signatures and gpg.minTrustLevel=fully with a policy.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';

const CORPUS = resolve(import.meta.dirname, '../fixtures/gitsign-corpus');

interface Meta {
  dir: string;
  oid: string;
  type: 'commit' | 'tag';
  signer_identity: string;
  oidc_issuer: string;
  has_embedded_tlog: boolean;
  repo: string;
}

/** %G?|%GS from raw status lines, as git's pretty.c would derive them. */
function tagFormat(status: string): string {
  const good = /^\[GNUPG:\] GOODSIG \S+ (.*)$/m.exec(status);
  if (good) return `${/TRUST_(FULLY|ULTIMATE)/.test(status) ? 'G' : 'U'}|${good[1]}`;
  if (/^\[GNUPG:\] BADSIG /m.test(status)) return 'B|';
  if (/^\[GNUPG:\] ERRSIG /m.test(status)) return 'E|';
  return 'N|';
}

describe('the vendored gitsign corpus through git and bin/gitseal (offline, embedded root)', () => {
  const sb = new Sandbox('gitseal-corpus-git-');
  const repo = sb.repo('corpus');
  const index = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as Meta[];
  const env = { GITSEAL_OFFLINE: '1' };
  const git = (args: string[]) => spawnSync('git', args, { cwd: repo, env: { ...sb.env, ...env }, encoding: 'utf8' });

  beforeAll(() => {
    sb.git(['config', 'gpg.x509.program', BIN], repo);
    for (const m of index) {
      const oid = sb.git(['hash-object', '-t', m.type, '-w', join(CORPUS, m.dir, 'object.raw')], repo).trim();
      expect(oid).toBe(m.oid);
    }
  });
  afterAll(() => sb.cleanup());

  it('offline-mode objects: G-class signatures with the signer identity as %GS; online-mode objects: E, saying the proof is not embedded', () => {
    const smime = 'sigstore_fulcio_commit_d733fda5c62b';
    for (const m of index) {
      const v = git([m.type === 'tag' ? 'verify-tag' : 'verify-commit', m.oid]);
      // %G?/%GS describe commits; for an annotated tag, read git's parse of the raw status.
      const fmt =
        m.type === 'commit'
          ? git(['log', '--no-walk', '--format=%G?|%GS', m.oid]).stdout.trim()
          : tagFormat(git(['verify-tag', '--raw', m.oid]).stderr);
      if (m.has_embedded_tlog) {
        expect(fmt, m.dir).toBe(`U|${m.signer_identity}`); // good signature, no policy configured → U
        expect(v.status, `${m.dir}: ${v.stderr}`).toBe(0);
        expect(v.stderr).toContain(`Good signature from ${m.signer_identity} (issuer ${m.oidc_issuer})`);
      } else if (m.dir === smime) {
        expect(fmt.startsWith('E|'), m.dir).toBe(true);
        expect(v.status).not.toBe(0);
        expect(v.stderr).toMatch(/chain/i);
      } else {
        expect(fmt, m.dir).toBe('E|'); // nobody is named to git…
        expect(v.status).not.toBe(0);
        // …the Jan-2023 pre-release layout says so in its own words (test/e2e/online-mode-context.test.ts)
        expect(v.stderr).toMatch(m.dir === 'sigstore_gitsign_commit_c47e8bf5c862' ? /pre-release log layout/ : /Rekor proof is not embedded/);
        // …and stderr names the certificate, as unverified context
        expect(v.stderr).toContain(`gitseal: unverified context: the certificate names "${m.signer_identity}"`);
      }
    }
  }, 240_000);

  it('every tampered copy under negative/ is rejected through the git path', () => {
    const neg = join(CORPUS, 'negative');
    const cases = readdirSync(neg, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(cases.length).toBeGreaterThanOrEqual(8);
    for (const c of cases) {
      const d = join(neg, c.name);
      // Feed git's own call directly: the signature file and the payload exactly as the case gives them.
      const r = spawnSync(process.execPath, [BIN, '--status-fd=1', '--verify', join(d, 'signature.pem'), '-'], {
        input: readFileSync(join(d, 'payload.bin')),
        env: { ...sb.env, ...env },
        encoding: 'utf8',
      });
      expect(r.status, c.name).toBe(1);
      expect(r.stdout, c.name).toMatch(/\[GNUPG:\] (BADSIG|ERRSIG) /);
      expect(r.stdout, c.name).not.toMatch(/GOODSIG/);
      expect(r.stderr.trim().split('\n').length, `${c.name}: ${r.stderr}`).toBe(1);
    }
  });
});

describe('signatures made by gitseal against the sandbox, verified by git', () => {
  const sb = new Sandbox('gitseal-verify-git-');
  let sigstore: RunningSandbox;
  let repo: string;
  const alice = 'alice@example.test';
  const mallory = 'mallory@example.test';
  const git = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string | Buffer) =>
    spawnSync('git', args, { cwd: repo, env: { ...sb.env, ...extra }, input, encoding: 'utf8' });
  const commitAs = (email: string, msg: string, extra: string[] = []) => {
    const r = git(['-c', `user.email=${email}`, 'commit', '-S', '-q', '--allow-empty', '-m', msg, ...extra], { SIGSTORE_ID_TOKEN: sigstore.token(email) });
    expect(r.status, r.stderr).toBe(0);
    return git(['rev-parse', 'HEAD']).stdout.trim();
  };

  beforeAll(async () => {
    sigstore = await startSandbox(join(sb.dir, 'sigstore'));
    sb.env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off' };
    repo = sb.repo('work');
    for (const [k, v] of [
      ['gpg.format', 'x509'],
      ['gpg.x509.program', BIN],
      ['user.name', 'Alice'],
      ['user.email', alice],
    ])
      sb.git(['config', k, v], repo);
  }, 120_000);
  afterAll(async () => {
    await sigstore?.stop();
    sb.cleanup();
  });

  it('without a policy: good but untrusted (U), with the signer in %GS, and a warning that any identity would pass', () => {
    const oid = commitAs(alice, 'hello');
    expect(git(['log', '-1', '--format=%G?|%GS|%GT', oid]).stdout.trim()).toBe(`U|${alice}|undefined`);
    const v = git(['verify-commit', oid]);
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/any Fulcio identity would have passed/);
    const show = git(['log', '-1', '--show-signature', oid]);
    expect(show.stdout).toContain(`Good signature from ${alice}`);
    expect(show.stdout).toMatch(/Rekor log index \d+/);

    expect(git(['tag', '-s', '-m', 'release', 'v1'], { SIGSTORE_ID_TOKEN: sigstore.token(alice) }).status).toBe(0);
    const t = git(['verify-tag', 'v1']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toContain(`Good signature from ${alice}`);
  });

  it('with an allowed-signers policy: the allowed signer is G/fully, anyone else is U/never and fails verify-commit', () => {
    const policy = join(sb.dir, 'allowed_signers');
    writeFileSync(policy, `# who may sign\n${alice} ${sigstore.issuer}\n`);
    sb.git(['config', 'gitseal.allowedSignersFile', policy], repo);
    const good = commitAs(alice, 'by alice');
    const bad = commitAs(mallory, 'by mallory');
    expect(git(['log', '-1', '--format=%G?|%GS|%GT', good]).stdout.trim()).toBe(`G|${alice}|fully`);
    expect(git(['log', '-1', '--format=%G?|%GS|%GT', bad]).stdout.trim()).toBe(`U|${mallory}|never`);
    expect(git(['verify-commit', good]).status).toBe(0);
    const v = git(['verify-commit', bad]);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toContain(mallory);
    expect(v.stderr).toContain(alice); // what the policy allows
  });

  it('git merge --verify-signatures and gpg.minTrustLevel=fully refuse the signer outside the policy', () => {
    const main = git(['rev-parse', '--abbrev-ref', 'HEAD']).stdout.trim();
    git(['checkout', '-q', '-b', 'from-alice', `${main}~1`]);
    commitAs(alice, 'alice feature');
    git(['checkout', '-q', '-b', 'from-mallory', `${main}~1`]);
    commitAs(mallory, 'mallory feature');
    git(['checkout', '-q', main]);

    const bad = git(['merge', '--verify-signatures', '--no-edit', 'from-mallory']);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/untrusted|does not have a GPG signature|bad|not trusted/i);
    const ok = git(['merge', '--verify-signatures', '--no-edit', '-S', 'from-alice'], { SIGSTORE_ID_TOKEN: sigstore.token(alice) });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);

    sb.git(['config', 'gpg.minTrustLevel', 'fully'], repo);
    expect(git(['verify-commit', 'from-alice']).status).toBe(0);
    expect(git(['verify-commit', 'from-mallory']).status).not.toBe(0);
    sb.git(['config', '--unset', 'gpg.minTrustLevel'], repo);
    sb.git(['config', '--unset', 'gitseal.allowedSignersFile'], repo);
  });

  it('a commit whose message was changed after signing (cat-file | edit | hash-object) is BADSIG', () => {
    const oid = commitAs(alice, 'the original message');
    const raw = git(['cat-file', 'commit', oid]).stdout;
    const forged = raw.replace('the original message', 'the forged message!!');
    expect(forged).not.toBe(raw);
    const fake = git(['hash-object', '-t', 'commit', '-w', '--stdin'], {}, forged).stdout.trim();
    expect(git(['log', '-1', '--format=%G?', fake]).stdout.trim()).toBe('B');
    const v = git(['verify-commit', fake]);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/BAD signature/);
  });
});

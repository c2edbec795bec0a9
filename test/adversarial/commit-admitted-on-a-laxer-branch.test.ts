/**
 * The pre-receive hook takes each branch's signer policy from its own `.gitseal/allowed_signers`
 * (as the branch was before the push), and checked only the commits no ref reached yet
 * (`--not --all`). So a commit admitted on one branch under that branch's (laxer) file was never
 * checked against another branch's: push it to `playground`, whose file lets anyone experiment,
 * then fast-forward `main` to it — `main`'s file allows only bob, yet mallory's commit (and the
 * unsigned commit that opened the playground) landed on main, accepted.
 *
 * With a branch's own policy, every commit the branch did not reach before is checked now. With
 * one server-wide policy (gitseal.allowedSignersFile) `--not --all` stays right: every ref was
 * admitted under the same file.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, test } from 'vitest';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const ISSUER = 'https://accounts.example.com';
const T = '1748779200 +0000';
const forged = useForgedWorld();
let main: string;
let playground: string;
let mainTree: string;
let playTree: string;

/** Run git in `dir` with `input`; its trimmed stdout. */
function git(dir: string, args: string[], input?: string | Buffer): string {
  const r = spawnSync('git', args, { cwd: dir, env: forged.paths.sb.env, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Write an object into the work repository and the server alike (setting the server up, hook aside). */
function both(raw: string | Buffer, type: string): string {
  const oid = git(forged.paths.repo, ['hash-object', '-t', type, '-w', '--literally', '--stdin'], raw);
  git(forged.paths.server, ['hash-object', '-t', type, '-w', '--literally', '--stdin'], raw);
  return oid;
}

function treeWithSigners(text: string): string {
  const blob = both(text, 'blob');
  const dir = git(forged.paths.repo, ['mktree'], `100644 blob ${blob}\tallowed_signers\n`);
  git(forged.paths.server, ['mktree'], `100644 blob ${blob}\tallowed_signers\n`);
  const root = git(forged.paths.repo, ['mktree'], `040000 tree ${dir}\t.gitseal\n`);
  git(forged.paths.server, ['mktree'], `040000 tree ${dir}\t.gitseal\n`);
  return root;
}

function payloadOf(tree: string, parent: string, who: string, msg: string): Buffer {
  return Buffer.from(commitPayload([`parent ${parent}`, `author X <${who}> ${T}`, `committer X <${who}> ${T}`], msg).toString('latin1').replace(/^tree [0-9a-f]+/, `tree ${tree}`), 'latin1');
}

/** A commit by `email` on `parent`, signed in the forged world, in the work repository only (it is to be pushed). */
function signedBy(email: string, tree: string, parent: string, msg: string): string {
  const payload = payloadOf(tree, parent, email, msg);
  return forged.paths.store(signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w, { email }), payload).pem));
}

function push(oid: string, branch: string): { accepted: boolean; stderr: string } {
  const r = spawnSync('git', ['push', '-q', forged.paths.server, `${oid}:refs/heads/${branch}`], { cwd: forged.paths.repo, env: forged.paths.sb.env, encoding: 'utf8', timeout: 120_000 });
  return { accepted: r.status === 0, stderr: r.stderr };
}

beforeAll(() => {
  git(forged.paths.server, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
  // main: only bob may sign. playground (opened from main by an unsigned commit): anyone may.
  mainTree = treeWithSigners(`bob@example.com ${ISSUER}\n`);
  playTree = treeWithSigners('re:.* re:.*\n');
  const root = both(`tree ${mainTree}\nauthor A <a@example.com> ${T}\ncommitter A <a@example.com> ${T}\n\nmain\n`, 'commit');
  main = both(`tree ${mainTree}\nparent ${root}\nauthor A <a@example.com> ${T}\ncommitter A <a@example.com> ${T}\n\nmain policy\n`, 'commit');
  playground = both(`tree ${playTree}\nparent ${main}\nauthor A <a@example.com> ${T}\ncommitter A <a@example.com> ${T}\n\nopen the playground\n`, 'commit');
  git(forged.paths.server, ['update-ref', 'refs/heads/main', main]);
  git(forged.paths.server, ['update-ref', 'refs/heads/playground', playground]);
});

describe('a commit another branch admitted is not admitted to main by that', () => {
  test('control: bob’s commit on main is accepted; mallory’s is refused', () => {
    expect(push(signedBy('bob@example.com', mainTree, main, 'bob\n'), 'main')).toMatchObject({ accepted: true });
    const again = git(forged.paths.server, ['rev-parse', 'refs/heads/main']);
    const r = push(signedBy('mallory@example.com', mainTree, again, 'mallory direct\n'), 'main');
    expect(r.accepted).toBe(false);
    expect(r.stderr).toMatch(/not in the allowed signers/);
  });

  test('mallory’s commit, accepted on the playground, is refused when main is moved to it', () => {
    git(forged.paths.server, ['update-ref', 'refs/heads/main', main]);
    const x = signedBy('mallory@example.com', playTree, playground, 'mallory on the playground\n');
    const onPlayground = push(x, 'playground');
    expect(onPlayground.accepted, onPlayground.stderr).toBe(true); // its file lets anyone in
    const onMain = push(x, 'main');
    expect(onMain.accepted).toBe(false);
    // Both commits main did not hold are named: the unsigned one that opened the playground, and mallory's.
    expect(onMain.stderr).toContain(playground.slice(0, 12));
    expect(onMain.stderr).toContain(x.slice(0, 12));
    expect(git(forged.paths.server, ['rev-parse', 'refs/heads/main'])).toBe(main);
  });

  test('a new branch from the playground is held to the default branch’s file', () => {
    const x = signedBy('mallory@example.com', playTree, git(forged.paths.server, ['rev-parse', 'refs/heads/playground']), 'mallory again\n');
    expect(push(x, 'playground').accepted).toBe(true);
    const r = push(x, 'release');
    expect(r.accepted).toBe(false);
    expect(r.stderr).toContain(x.slice(0, 12));
  });

  test('with one server-wide file, commits already on a ref are not re-verified (every ref passed the same file)', () => {
    const signers = `${forged.paths.sb.dir}/server_signers`;
    spawnSync('sh', ['-c', `printf 'bob@example.com ${ISSUER}\\nmallory@example.com ${ISSUER}\\n' > '${signers}'`]);
    git(forged.paths.server, ['config', 'gitseal.allowedSignersFile', signers]);
    try {
      const tip = git(forged.paths.server, ['rev-parse', 'refs/heads/playground']);
      // The playground's tip holds unsigned setup history, which every ref shares with main: not new.
      const r = push(tip, 'mirror');
      expect(r.accepted, r.stderr).toBe(true);
    } finally {
      git(forged.paths.server, ['config', '--unset', 'gitseal.allowedSignersFile']);
    }
  });
});

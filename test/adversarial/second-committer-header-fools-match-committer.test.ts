/**
 * Issue 14 item 3: a commit with two committer headers (Bob, then Alice), signed by Bob, is
 * `git fsck --strict` clean, git shows Alice as its committer, and matchCommitter read the
 * first one: TRUST_FULLY for a commit git presents as Alice's. And the e-mail must be parsed
 * as git parses it: in `committer Alice <alice@…> <bob@…> …` git's committer is alice@….
 * Objects with repeated identity headers are malformed on every path; git's --verify call
 * gets only the payload, so the payload is checked there too.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { identEmail, payloadIdentity } from '../../src/git/object.js';
import { committerEmail, parseAllowedSigners } from '../../src/verify/policy.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { commitPayload, makeLeaf, makeWorld, signedCommit, signedTag, signPayload, type World } from '../verify/helpers/forge.js';
import { useAllPaths } from './helpers/paths.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

const T = '1748779200 +0000';
const bob = `Bob <bob@example.com> ${T}`;
const alice = `Alice <alice@example.com> ${T}`;

describe("the committer e-mail, exactly as git's split_ident_line reads it", () => {
  test.each([
    [`Alice <alice@example.com> <bob@example.com> ${T}`, 'alice@example.com'],
    [`Alice <alice@example.com> ${T}`, 'alice@example.com'],
    [`<bob@example.com> ${T}`, 'bob@example.com'],
    [`Alice <alice@example.com ${T}`, undefined],
    [`Alice\u0000 <bob@example.com> ${T}`, undefined], // git stops looking for '<' at a NUL
    [`Al<ice <alice@example.com> ${T}`, 'ice <alice@example.com'],
  ])('%j → %j', (ident, email) => {
    expect(identEmail(ident)).toBe(email);
    expect(committerEmail(commitPayload([`author ${alice}`, `committer ${ident}`]))).toBe(email);
  });

  test('two e-mails in one committer line do not let the second one match the signer', async () => {
    const payload = commitPayload([`author ${bob}`, `committer Alice <alice@example.com> <bob@example.com> ${T}`]);
    const pem = signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem;
    const r = await verifySignature({ signature: pem, payload, trust: w.trust, offline: true, policy: { matchCommitter: true } });
    expect(r).toMatchObject({ ok: false, kind: 'good', policyMatched: false, failedCheck: 'policy' });
    expect(r.message).toMatch(/not the committer\/tagger alice@example\.com/);
  });
});

describe('repeated identity headers are malformed', () => {
  test.each([
    ['two committers', [`author ${bob}`, `committer ${bob}`, `committer ${alice}`], 'committer'],
    ['two authors', [`author ${bob}`, `author ${alice}`, `committer ${bob}`], 'author'],
    ['two trees', ['tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904', `author ${bob}`, `committer ${bob}`], 'tree'],
  ])('%s: error before any signature check', async (_n, headers, name) => {
    const payload = commitPayload(headers);
    expect(() => payloadIdentity(payload)).toThrow(new RegExp(`2 "${name}" headers`));
    const pem = signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem;
    const r = await verifySignature({ signature: pem, payload, trust: w.trust, offline: true, policy: { matchCommitter: true } });
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_GIT_OBJECT' });
  });

  test('two taggers in a tag payload', async () => {
    const payload = Buffer.from(`object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag v1\ntagger ${bob}\ntagger ${alice}\n\nrelease\n`);
    const pem = signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem;
    const r = await verifySignature({ signature: pem, payload, trust: w.trust, offline: true });
    expect(r).toMatchObject({ ok: false, failedCheck: 'parse', code: 'BAD_GIT_OBJECT' });
    expect(r.message).toMatch(/2 "tagger" headers/);
  });

  test('a mergetag (a tag inside a continuation header) is not a repeat', () => {
    const payload = commitPayload([`author ${bob}`, `committer ${bob}`, 'mergetag object 4b825dc642cb6eb9a060e54bf8d69288fbee4904', ' type commit', ' tag v1', ` tagger ${alice}`, ' ', ' merged']);
    expect(payloadIdentity(payload)).toMatchObject({ type: 'commit', email: 'bob@example.com' });
  });
});

describe('every path, with an allowed-signers file (Alice and Bob) and gitseal.matchCommitter on', () => {
  const sandbox = useAllPaths(() => w.trustJson);
  beforeAll(() => {
    // matchCommitter narrows a policy, it is not one (item 4): both signers are allowed, and the
    // committer check decides which commits each may sign.
    const signers = join(sandbox.paths.sb.dir, 'allowed_signers');
    const text = 'alice@example.com https://accounts.example.com\nbob@example.com https://accounts.example.com\n';
    writeFileSync(signers, text);
    sandbox.paths.set('gitseal.allowedSignersFile', signers);
    sandbox.paths.set('gitseal.matchCommitter', 'true');
    sandbox.paths.libPolicy = { allowedSigners: parseAllowedSigners(text, signers), matchCommitter: true };
  });

  test('Bob signs a commit with committers Bob then Alice: git shows Alice; refused on every path (was TRUST_FULLY)', async () => {
    const payload = commitPayload([`author ${bob}`, `committer ${bob}`, `committer ${alice}`]);
    const raw = signedCommit(payload, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem);
    const v = await sandbox.paths.all(raw);
    // what git itself presents as the committer
    const shown = spawnSync('git', ['log', '-1', '--format=%ce', v.oid], { cwd: sandbox.paths.repo, env: sandbox.paths.sb.env, encoding: 'utf8' }).stdout.trim();
    expect(shown).toBe('alice@example.com');
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.git.stderr).toMatch(/2 "committer" headers/);
    expect(v.git.statusLines).not.toMatch(/TRUST_FULLY/);
    expect(v.hook.accepted).toBe(false);
  });

  test('Bob signs "committer Alice <alice@…> <bob@…>": the policy sees alice on every path', async () => {
    const payload = commitPayload([`author ${bob}`, `committer Alice <alice@example.com> <bob@example.com> ${T}`]);
    const raw = signedCommit(payload, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem);
    const v = await sandbox.paths.all(raw);
    expect(v.git.statusLines).toMatch(/TRUST_NEVER/);
    expect(v.git.status).toBe(1);
    expect(v.cli.result).toMatchObject({ ok: false, kind: 'good', policyMatched: false });
    expect(v.lib.result).toMatchObject({ ok: false, policyMatched: false });
    expect(v.hook.accepted).toBe(false);
  });

  test('Bob signs his own commit: trusted on every path (the control)', async () => {
    const payload = commitPayload([`author ${bob}`, `committer ${bob}`]);
    const v = await sandbox.paths.all(signedCommit(payload, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem));
    expect(v.git.statusLines).toMatch(/TRUST_FULLY/);
    expect(v.cli.result).toMatchObject({ ok: true, policyMatched: true });
    expect(v.lib.result).toMatchObject({ ok: true, policyMatched: true });
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });

  test('a tag with taggers Bob then Alice, signed by Bob: refused by git verify-tag, gitseal verify-tag, the library and the hook', async () => {
    const target = commitPayload([`author ${bob}`, `committer ${bob}`]);
    const commitOid = sandbox.paths.store(signedCommit(target, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), target).pem));
    const payload = Buffer.from(`object ${commitOid}\ntype commit\ntag v9\ntagger ${bob}\ntagger ${alice}\n\nrelease\n`);
    const raw = signedTag(payload, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem);
    const v = await sandbox.paths.all(raw, 'tag');
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.git.stderr).toMatch(/2 "tagger" headers/);
    const vt = sandbox.paths.sb.gitseal(['verify-tag', '--json', '--no-cache', v.oid], { cwd: sandbox.paths.repo });
    expect(JSON.parse(vt.stdout).results[0]).toMatchObject({ ok: false, kind: 'error' });
    expect(v.hook.accepted).toBe(false);
  });

  test('a header line ending in CR: refused on git\'s path as gitseal verify refuses the object', async () => {
    const payload = Buffer.from(commitPayload([`author ${bob}`, `committer ${bob}\r`]));
    const v = await sandbox.paths.all(signedCommit(payload, signPayload(w, makeLeaf(w, { email: 'bob@example.com' }), payload).pem));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.hook.accepted).toBe(false);
  });
});

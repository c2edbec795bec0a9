import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, identEmail, parseCommit, parseSignedObject, parseTag } from '../../src/git/object.js';
import { GitsealError } from '../../src/errors.js';

const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');

interface Meta {
  type: 'commit' | 'tag';
  oid: string;
  signer_identity?: string;
}

const dirs = readdirSync(CORPUS).filter((d) => existsSync(join(CORPUS, d, 'object.raw')));

function load(dir: string) {
  return {
    meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta,
    raw: readFileSync(join(dir, 'object.raw')),
    payload: readFileSync(join(dir, 'payload.bin')),
    signature: readFileSync(join(dir, 'signature.pem')),
  };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof GitsealError ? e.code : `not a GitsealError: ${String(e)}`;
  }
  return undefined;
}

describe('gitsign corpus', () => {
  it('holds the 72 real objects', () => {
    expect(dirs.length).toBe(72);
  });

  it.each(dirs)('%s: payload and signature match what git hands the verifier', (d) => {
    const { meta, raw, payload, signature } = load(join(CORPUS, d));
    // The fixture is the real object: its id is sha1("<type> <len>\0" + raw).
    const oid = createHash('sha1').update(`${meta.type} ${raw.length}\0`).update(raw).digest('hex');
    expect(oid).toBe(meta.oid);
    const o = parseSignedObject(meta.type, raw);
    expect(o.type).toBe(meta.type);
    expect(o.payload.equals(payload)).toBe(true);
    expect(o.signature?.equals(signature)).toBe(true);
    expect(o.signature!.toString('latin1').startsWith('-----BEGIN SIGNED MESSAGE-----\n')).toBe(true);
    if (meta.type === 'commit') expect(o.ident).toMatch(/^.* <.*> \d+ [+-]\d{4}$/);
  });

  it('negative/12: derives the payload from the raw object, not the header-keeping payload.bin', () => {
    const { raw, payload, signature } = load(join(CORPUS, 'negative/12-wrong-payload-derivation-raw-object'));
    const genuine = load(join(CORPUS, 'sigstore_policy-controller_commit_2f70e8b093b5'));
    const o = parseCommit(raw);
    expect(payload.includes(Buffer.from('\ngpgsig '))).toBe(true);
    expect(o.payload.equals(payload)).toBe(false);
    expect(o.payload.equals(genuine.payload)).toBe(true);
    expect(o.payload.includes(Buffer.from('gpgsig'))).toBe(false);
    expect(o.signature?.equals(signature)).toBe(true);
  });

  it('negative/ tampered objects still parse (rejection is the verifier’s job) and the payload follows the bytes', () => {
    for (const n of ['01-commit-payload-byte-flip', '02-tag-message-byte-flip']) {
      const { meta, raw, payload } = load(join(CORPUS, 'negative', n));
      expect(parseSignedObject(meta.type, raw).payload.equals(payload)).toBe(true);
    }
  });
});

const TREE = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n';
const WHO = 'author A U Thor <author@example.com> 1700000000 +0000\ncommitter C O Mitter <committer@example.com> 1700000001 +0100\n';
const SIG = '-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n';
const folded = (name: string, sig: string) => name + ' ' + sig.replace(/\n(?!$)/g, '\n ');

describe('commit parsing rules', () => {
  it('drops the signature header with its continuation lines and keeps the rest byte for byte', () => {
    const raw = Buffer.from(TREE + WHO + folded('gpgsig', SIG) + 'x-extra value\n more\n\nmsg\n\ngpgsig  in body stays\n');
    const o = parseCommit(raw);
    expect(o.signature!.toString()).toBe(SIG);
    expect(o.payload.toString()).toBe(TREE + WHO + 'x-extra value\n more\n\nmsg\n\ngpgsig  in body stays\n');
    expect(o.email).toBe('committer@example.com');
    expect(o.headers.find((h) => h.name === 'x-extra')!.value).toBe('value\nmore');
  });

  it('uses gpgsig in SHA-1 repositories and gpgsig-sha256 in SHA-256 ones, dropping the other from the payload', () => {
    const other = SIG.replace('AAAA', 'BBBB');
    const raw = Buffer.from(TREE + WHO + folded('gpgsig', SIG) + folded('gpgsig-sha256', other) + '\nm\n');
    const s1 = parseCommit(raw, 'sha1');
    const s256 = parseCommit(raw, 'sha256');
    expect(s1.signature!.toString()).toBe(SIG);
    expect(s256.signature!.toString()).toBe(other);
    expect(s1.payload.toString()).toBe(TREE + WHO + '\nm\n');
    expect(s256.payload.toString()).toBe(TREE + WHO + '\nm\n');
  });

  it('matches git on a real repository with an unusual header layout', () => {
    // Let real git compute the payload: a verify program that dumps stdin.
    const dir = mkdtempSync(join(tmpdir(), 'gitseal-obj-'));
    try {
      const git = (args: string[], input?: Buffer) => execFileSync('git', args, { cwd: dir, input, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir } });
      git(['init', '-q']);
      const raw = Buffer.from(TREE + WHO + 'x-before a\n  b\n' + folded('gpgsig', SIG) + folded('gpgsig-sha256', SIG) + 'x-after c\n\nmessage\n');
      git(['hash-object', '-w', '-t', 'tree', '--stdin'], Buffer.alloc(0));
      const oid = git(['hash-object', '-w', '-t', 'commit', '--literally', '--stdin'], raw).toString().trim();
      const dump = join(dir, 'dump.sh');
      execFileSync('sh', ['-c', `printf '#!/bin/sh\\ncat > "%s/payload.out"\\nexit 1\\n' "${dir}" > ${dump}; chmod +x ${dump}`]);
      try {
        git(['-c', 'gpg.x509.program=' + dump, 'verify-commit', oid]);
      } catch {
        /* the dump program fails on purpose */
      }
      const gitPayload = readFileSync(join(dir, 'payload.out'));
      expect(parseCommit(git(['cat-file', 'commit', oid])).payload.equals(gitPayload)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects duplicate signature headers instead of picking one', () => {
    expect(code(() => parseCommit(Buffer.from(TREE + WHO + folded('gpgsig', SIG) + folded('gpgsig', SIG) + '\nm\n')))).toBe('BAD_GIT_OBJECT');
    expect(code(() => parseCommit(Buffer.from(TREE + WHO + folded('gpgsig-sha256', SIG) + folded('gpgsig-sha256', SIG) + '\nm\n')))).toBe('BAD_GIT_OBJECT');
    expect(code(() => parseCommit(Buffer.from(TREE + WHO + folded('gpgsig-sha256', SIG) + folded('gpgsig-sha256', SIG) + '\nm\n'), 'sha256'))).toBe('BAD_GIT_OBJECT');
  });

  it('reports an unsigned commit as such, payload = object', () => {
    const raw = Buffer.from(TREE + WHO + '\nm\n');
    const o = parseCommit(raw);
    expect(o.signature).toBeUndefined();
    expect(o.payload.equals(raw)).toBe(true);
  });

  it('rejects CRLF headers, missing headers, and oversize input with clear errors', () => {
    const crlf = Buffer.from((TREE + WHO).replace(/\n/g, '\r\n') + '\r\nm\r\n');
    expect(code(() => parseCommit(crlf))).toBe('BAD_GIT_OBJECT');
    expect(() => parseCommit(crlf)).toThrow(/CRLF/);
    expect(() => parseCommit(Buffer.from(WHO + '\nm\n'))).toThrow(/does not start with a "tree" header/);
    expect(() => parseCommit(Buffer.from(TREE + 'author a <b> 1 +0000\n\nm\n'))).toThrow(/no "committer" header/);
    expect(() => parseCommit(Buffer.from(' ' + TREE))).toThrow(/continuation/);
    const big = Buffer.from(TREE + WHO + 'x ' + 'y'.repeat(2000) + '\n\nm\n');
    expect(code(() => parseCommit(big, 'sha1', { ...DEFAULT_LIMITS, maxHeaderBytes: 1000 }))).toBe('BAD_GIT_OBJECT');
    expect(code(() => parseCommit(big, 'sha1', { ...DEFAULT_LIMITS, maxObjectBytes: 1000 }))).toBe('INPUT_TOO_LARGE');
    expect(code(() => parseCommit(Buffer.from(TREE + WHO + folded('gpgsig', SIG) + '\nm\n'), 'sha1', { ...DEFAULT_LIMITS, maxSignatureBytes: 10 }))).toBe('INPUT_TOO_LARGE');
    // CRLF inside the message is data, not an error.
    expect(parseCommit(Buffer.from(TREE + WHO + '\nm\r\n')).payload.toString()).toBe(TREE + WHO + '\nm\r\n');
  });

  it('extracts e-mails like git (first "<", first ">" after it)', () => {
    expect(identEmail('A <a@b.c> 1 +0000')).toBe('a@b.c');
    expect(identEmail('A <a@b.c> <x@y> 1 +0000')).toBe('a@b.c');
    expect(identEmail('no mail 1 +0000')).toBeUndefined();
    expect(identEmail('A <a@b.c 1 +0000')).toBeUndefined();
  });
});

describe('tag parsing rules', () => {
  const HEAD = 'object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag v1\ntagger T <t@example.com> 1700000000 +0000\n\n';
  it('splits at the last known armour line', () => {
    const body = 'msg\n-----BEGIN PGP SIGNATURE-----\nquoted, not the signature\n';
    const o = parseTag(Buffer.from(HEAD + body + SIG));
    expect(o.payload.toString()).toBe(HEAD + body);
    expect(o.signature!.toString()).toBe(SIG);
    expect(o.email).toBe('t@example.com');
  });
  it('ignores unknown armour types and reports unsigned tags', () => {
    const raw = Buffer.from(HEAD + 'msg\n-----BEGIN FOO SIGNATURE-----\nx\n');
    const o = parseTag(raw);
    expect(o.signature).toBeUndefined();
    expect(o.payload.equals(raw)).toBe(true);
  });
  it('recognises all four signature types', () => {
    for (const t of ['PGP SIGNATURE', 'PGP MESSAGE', 'SIGNED MESSAGE', 'SSH SIGNATURE']) {
      const sig = `-----BEGIN ${t}-----\nx\n-----END ${t}-----\n`;
      expect(parseTag(Buffer.from(HEAD + 'm\n' + sig)).signature!.toString()).toBe(sig);
    }
  });
  it('requires object/type/tag headers', () => {
    expect(() => parseTag(Buffer.from('type commit\ntag v1\n\nm\n'))).toThrow(/"object"/);
    expect(() => parseTag(Buffer.from('object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntag v1\n\nm\n'))).toThrow(/"type"/);
  });
  it('refuses to parse other object types', () => {
    expect(code(() => parseSignedObject('blob', Buffer.from('x')))).toBe('BAD_GIT_OBJECT');
  });
});

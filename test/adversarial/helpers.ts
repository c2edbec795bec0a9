/**
 * Shared set-up for the adversarial tests: a forged Sigstore world the test owns (its trusted
 * root written to a file, so the real binary can be pointed at it), git objects signed inside
 * it with certificates the attacker shaped, and repositories wired to the real bin/gitseal
 * (the private snapshot of test/reliability/helpers.ts).
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { der, tlv } from '../../src/util/der.js';
import { encodePem } from '../../src/util/pem.js';
import { encodeTle } from '../../src/rekor/tle.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { createHash, sign } from 'node:crypto';
import {
  assembleCms,
  ecKey,
  EXT,
  ext,
  logEntry,
  makeLeaf,
  makeWorld,
  sctExtension,
  signedAttributes,
  signTbs,
  tbsOf,
  type CertSpec,
  type KeyPair,
  type LeafOpts,
  type World,
} from '../verify/helpers/forge.js';
import { GITSEAL } from '../reliability/helpers.js';

export { ensureBuilt, gitseal, isolatedEnv, removeSnapshot, tempDir, GITSEAL } from '../reliability/helpers.js';

export interface ForgedWorld extends World {
  /** The world's trusted_root.json on disk. */
  trustFile: string;
}

export function forgedWorld(dir: string): ForgedWorld {
  const w = makeWorld();
  const trustFile = join(dir, 'forged-trusted-root.json');
  writeFileSync(trustFile, w.trustJson);
  return { ...w, trustFile };
}

export type Leaf = { key: KeyPair; der: Buffer };

/** A leaf whose SAN is an otherName (Fulcio's username SAN, UTF8String): real Unicode in the identity. */
export function otherNameLeaf(w: World, value: string, issuer = 'https://accounts.example.com'): Leaf {
  const key = ecKey();
  const nb = new Date('2025-06-01T12:00:00Z');
  const spec: CertSpec = {
    issuer: w.interName,
    subject: der.seq(),
    spki: key.spki,
    notBefore: nb,
    notAfter: new Date(nb.getTime() + 10 * 60_000),
    extensions: [],
    signer: w.inter.privateKey,
    sha384: true,
  };
  // otherName [0] { type-id, [0] EXPLICIT UTF8String } with Fulcio's OID 1.3.6.1.4.1.57264.1.7
  const san = ext('2.5.29.17', true, der.seq(tlv(0xa0, der.oid('1.3.6.1.4.1.57264.1.7'), der.explicit(0, der.utf8(value)))));
  const exts = [EXT.leafKeyUsage(), EXT.codeSigning(), EXT.ski(key.spki), EXT.aki(w.inter.spki), san, EXT.issuerV1(issuer), EXT.issuerV2(issuer)];
  const serial = BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000));
  const sct = sctExtension(tbsOf(spec, serial, exts), w.inter.spki, w.ct, w.ctLogId, BigInt(nb.getTime() + 1000));
  return { key, der: signTbs(tbsOf(spec, serial, [...exts, sct]), w.inter.privateKey, true) };
}

export function leaf(w: World, o: LeafOpts): Leaf {
  return makeLeaf(w, o);
}

/** A gitsign-layout signature (embedded Rekor v1 entry) over `payload`, as PEM. */
export function signWith(w: World, l: Leaf, payload: Buffer): string {
  const signedAttrsSet = signedAttributes(payload, new Date('2025-06-01T12:00:30Z'));
  const signature = sign('sha256', signedAttrsSet, l.key.privateKey);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(signedAttrsSet).digest(), signature, l.der));
  const cms = assembleCms({ signedAttrsSet, signature, leaf: l.der, tle: encodeTle(logEntry(w, body)) });
  return encodePem('SIGNED MESSAGE', cms);
}

function git(repo: string, args: string[], input?: string): string {
  return execFileSync('git', ['-C', repo, ...args], { input, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: repo, GIT_CONFIG_NOSYSTEM: '1' } });
}

/** A bare-bones repository wired to the snapshot's bin/gitseal (not signing by itself). */
export function gitsealRepo(dir: string, extra: Array<[string, string]> = []): string {
  execFileSync('git', ['-c', 'init.defaultBranch=main', 'init', '-q', dir]);
  for (const [k, v] of [['gpg.format', 'x509'], ['gpg.x509.program', GITSEAL], ['user.name', 'Tester'], ['user.email', 'tester@example.com'], ...extra]) {
    git(dir, ['config', k, v]);
  }
  return dir;
}

export interface CommitOpts {
  committer?: string;
  author?: string;
  message?: string;
  parent?: string;
  /** Update this branch to the new commit (default main). */
  branch?: string | null;
}

/** Write a commit signed by `l` into `repo`; returns its id. */
export function signedCommit(repo: string, w: World, l: Leaf, o: CommitOpts = {}): string {
  const tree = git(repo, ['mktree'], '').trim();
  const committer = o.committer ?? 'Alice <alice@example.com>';
  const headers = [`tree ${tree}`, ...(o.parent ? [`parent ${o.parent}`] : []), `author ${o.author ?? committer} 1748779200 +0000`, `committer ${committer} 1748779200 +0000`];
  const message = o.message ?? 'a commit signed in a forged world\n';
  const payload = Buffer.from(`${headers.join('\n')}\n\n${message}`);
  const pem = signWith(w, l, payload);
  const armour = pem.trimEnd().split('\n').join('\n ');
  const obj = `${headers.join('\n')}\ngpgsig ${armour}\n\n${message}`;
  const oid = git(repo, ['hash-object', '-t', 'commit', '-w', '--stdin'], obj).trim();
  const branch = o.branch === undefined ? 'main' : o.branch;
  if (branch) git(repo, ['update-ref', `refs/heads/${branch}`, oid]);
  return oid;
}

/** Write an annotated tag named `name` for `target`, signed by `l`; returns its id. */
export function signedTag(repo: string, w: World, l: Leaf, target: string, name: string, tagger = 'Alice <alice@example.com>'): string {
  const payload = Buffer.from(`object ${target}\ntype commit\ntag ${name}\ntagger ${tagger} 1748779200 +0000\n\nrelease ${name}\n`);
  const pem = signWith(w, l, payload);
  const oid = git(repo, ['hash-object', '-t', 'tag', '-w', '--stdin'], payload.toString() + pem).trim();
  git(repo, ['update-ref', `refs/tags/${name}`, oid]);
  return oid;
}

/** Run the real git with `env`. */
export function runGit(repo: string, args: string[], env: NodeJS.ProcessEnv, input?: string): SpawnSyncReturns<string> {
  return spawnSync('git', ['-C', repo, ...args], { env, input, encoding: 'utf8', timeout: 120_000 });
}

/** Run the snapshot's bin/gitseal in `cwd`. */
export function runGitseal(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GITSEAL, ...args], { cwd, env, input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Code points a terminal acts on, or that reorder or hide text (what src/util/terminal-text.ts escapes). */
export const TERMINAL_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The first unsafe code point in `s` other than the line breaks between lines, with its context. */
export function firstUnsafe(s: string): string | undefined {
  for (const line of s.split('\n')) {
    const m = TERMINAL_UNSAFE.exec(line);
    if (m) return `U+${m[0].codePointAt(0)!.toString(16).padStart(4, '0')} in ${JSON.stringify(line)}`;
  }
  return undefined;
}

/**
 * One object read through isomorphic-git, for the library's `onVerify`: repositories that have no
 * git binary beside them (serverless functions, containers without git, any `fs` isomorphic-git
 * accepts). isomorphic-git is an optional peer dependency, loaded here on first use and never on
 * git's paths.
 *
 * Only isomorphic-git's raw reading is used (`readObject` in the "content" format, `resolveRef`).
 * Its parsed views cannot be: `readCommit().payload` cuts the signature out by looking for
 * "-----END PGP SIGNATURE-----", so for gitsign's and gitseal's "SIGNED MESSAGE" it returns the
 * wrong bytes, and its tag parser knows only the PGP armour. The bytes go to src/git/object.ts,
 * the parser git's own path (`--verify`, `gitseal verify`, the pre-receive hook) uses, so all of
 * them see the same payload and signature. And the bytes are checked against the object id
 * before anything else: isomorphic-git hashes loose objects but returns packed ones unchecked,
 * and a verdict must be about the object the id names.
 */
import { createHash } from 'node:crypto';
import { GitsealError } from '../errors.js';
import type { RawObject } from './reader.js';

/** The two functions of isomorphic-git's API this module calls (its default export has them). */
export interface IsomorphicGitApi {
  readObject(args: { fs: unknown; dir?: string; gitdir?: string; oid: string; format: 'content'; cache?: object }): Promise<{ oid: string; type: string; object: unknown }>;
  resolveRef(args: { fs: unknown; dir?: string; gitdir?: string; ref: string; depth?: number }): Promise<string>;
}

/** Where isomorphic-git finds the repository: the same fields its own calls take. */
export interface IsomorphicRepository {
  /** The `fs` given to isomorphic-git (node:fs, or any implementation it accepts). */
  fs: unknown;
  /** Working tree; `gitdir` defaults to `<dir>/.git` as in isomorphic-git. */
  dir?: string;
  gitdir?: string;
  /** isomorphic-git's cache object, shared across calls to keep packfile indexes parsed. */
  cache?: object;
  /** isomorphic-git itself (`import git from 'isomorphic-git'`); default: imported on first use. */
  git?: IsomorphicGitApi;
}

let imported: Promise<IsomorphicGitApi> | undefined;

/** isomorphic-git's default export, or a one-line error saying how to get it. */
export function loadIsomorphicGit(): Promise<IsomorphicGitApi> {
  imported ??= import('isomorphic-git').then(
    (m) => ((m as { default?: unknown }).default ?? m) as IsomorphicGitApi,
    () => {
      imported = undefined;
      throw new GitsealError('USAGE', 'onVerify reads objects with isomorphic-git, which is not installed: npm install isomorphic-git (or pass it as the `git` option)');
    },
  );
  return imported;
}

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** An object that is not what its id names: a corrupt or doctored repository. */
export class ObjectIdMismatch extends GitsealError {
  constructor(
    readonly oid: string,
    detail: string,
  ) {
    super('BAD_GIT_OBJECT', `object ${oid} does not match its id (${detail}): the repository is corrupt or was tampered with`);
  }
}

function errorCode(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}

/**
 * Read `rev` (a full object id, or a ref isomorphic-git resolves: HEAD, main, refs/tags/v1 …)
 * as raw bytes. Throws USAGE for a revision that does not exist, ObjectIdMismatch when the bytes
 * do not hash to the id, GIT for any other failure of isomorphic-git.
 */
export async function readObjectIsomorphic(repo: IsomorphicRepository, rev: string): Promise<RawObject> {
  if (typeof rev !== 'string' || rev.length === 0 || /[\0\n]/.test(rev)) throw new GitsealError('USAGE', 'a revision is an object id or a ref name');
  const git = repo.git ?? (await loadIsomorphicGit());
  const where = { fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir ?? (repo.dir !== undefined ? `${repo.dir}/.git` : undefined) };
  let oid: string;
  try {
    oid = OID.test(rev) ? rev : await git.resolveRef({ ...where, ref: rev });
  } catch (e) {
    if (errorCode(e) === 'NotFoundError') throw new GitsealError('USAGE', `no such revision: "${rev.slice(0, 200)}"`);
    throw new GitsealError('GIT', `isomorphic-git cannot resolve "${rev.slice(0, 200)}": ${firstLine(e)}`, e);
  }
  if (!OID.test(oid)) throw new GitsealError('GIT', `isomorphic-git resolved "${rev.slice(0, 200)}" to "${String(oid).slice(0, 80)}", not an object id`);
  let r: { type: string; object: unknown };
  try {
    r = await git.readObject({ ...where, oid, format: 'content', cache: repo.cache });
  } catch (e) {
    if (errorCode(e) === 'NotFoundError') throw new GitsealError('USAGE', `no such revision: "${rev.slice(0, 200)}"`);
    // isomorphic-git's own hash check of loose objects
    if (/SHA check failed/i.test(firstLine(e))) throw new ObjectIdMismatch(oid, 'isomorphic-git: ' + firstLine(e));
    throw new GitsealError('GIT', `isomorphic-git cannot read ${oid}: ${firstLine(e)}`, e);
  }
  if (!(r.object instanceof Uint8Array) || typeof r.type !== 'string') throw new GitsealError('GIT', `isomorphic-git returned no raw content for ${oid}`);
  const data = Buffer.from(r.object.buffer, r.object.byteOffset, r.object.byteLength);
  // git's object id: the hash of "<type> <size>\0<content>" (gitformat-loose(5)).
  const actual = createHash(oid.length === 64 ? 'sha256' : 'sha1')
    .update(`${r.type} ${data.length}\0`)
    .update(data)
    .digest('hex');
  if (actual !== oid) throw new ObjectIdMismatch(oid, `its ${r.type} content hashes to ${actual}`);
  return { oid, type: r.type, data };
}

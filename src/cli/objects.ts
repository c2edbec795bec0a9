/** Reading one named object for `show` and `verify-tag` (bulk reading is src/git/reader.ts). */
import { execFileSync } from 'node:child_process';
import { GitsealError } from '../errors.js';
import { repositoryTrust } from '../config/git-config-read.js';
import { dubiousOwnershipMessage } from '../config/safe-directory.js';
import { parseSignedObject, type SignedObject } from '../git/object.js';
import { checkRevs, hashAlgoOf, isMissing, readObjects } from '../git/reader.js';

export interface NamedObject {
  oid: string;
  type: 'commit' | 'tag';
  raw: Buffer;
  parsed: SignedObject;
}

export async function readNamedObject(repoDir: string, rev: string, want?: 'commit' | 'tag'): Promise<NamedObject> {
  checkRevs([rev]);
  let got: { oid: string; type: string; data: Buffer } | undefined;
  for await (const o of readObjects(repoDir, [rev])) {
    if (isMissing(o)) throw new GitsealError('USAGE', `no such ${want ?? 'revision'}: "${rev}"`);
    got = o;
  }
  if (!got) throw new GitsealError('USAGE', `no such ${want ?? 'revision'}: "${rev}"`);
  if (want && got.type !== want) {
    throw new GitsealError('USAGE', want === 'tag' ? `"${rev}" is a lightweight tag (a ${got.type}); only annotated tags carry signatures` : `"${rev}" is a ${got.type}, not a ${want}`);
  }
  if (got.type !== 'commit' && got.type !== 'tag') throw new GitsealError('USAGE', `"${rev}" is a ${got.type}; only commits and tags are signed`);
  return { oid: got.oid, type: got.type, raw: got.data, parsed: parseSignedObject(got.type, got.data, hashAlgoOf(got.oid)) };
}

/**
 * The URL of a remote as gitsign names its in-toto subject: go-git's first `remote.<name>.url`
 * of the repository's own config, as written (no insteadOf rewriting); "" when there is none.
 */
export function remoteUrl(repoDir: string, remote: string): string {
  try {
    const all = execFileSync('git', ['config', '--local', '--get-all', `remote.${remote}.url`], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return all.split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

/**
 * Fail early with a clear message outside a repository, and refuse a repository git would
 * refuse (owned by someone else and not allowed by safe.directory), as git does.
 */
export function requireRepo(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const trust = repositoryTrust({ cwd, env });
  if (trust && !trust.trusted) throw new GitsealError('USAGE', dubiousOwnershipMessage(trust));
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || cwd;
  } catch {
    try {
      // bare repositories have no top level
      execFileSync('git', ['rev-parse', '--git-dir'], { cwd, stdio: 'ignore' });
      return cwd;
    } catch {
      throw new GitsealError('USAGE', 'not inside a git repository');
    }
  }
}

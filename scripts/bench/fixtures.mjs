// Fixture repositories for the benchmarks and the range tests: a linear
// history of N commits written straight into .git/objects (zlib loose
// objects, the format git itself writes), optionally signed by a callback
// that receives the exact payload git would hand a signing program.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export function git(dir, args, input) {
  return execFileSync('git', args, { cwd: dir, input, maxBuffer: 1 << 30, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
}

/** Write one loose object; returns its SHA-1 id. */
export function writeLoose(dir, type, body) {
  const head = Buffer.from(`${type} ${body.length}\0`);
  const oid = createHash('sha1').update(head).update(body).digest('hex');
  const sub = join(dir, '.git', 'objects', oid.slice(0, 2));
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, oid.slice(2)), deflateSync(Buffer.concat([head, body]), { level: 1 }));
  return oid;
}

/** Insert a gpgsig header at the end of the header block, as git's add_header_signature does. */
export function addSignatureHeader(payload, signature, header = 'gpgsig') {
  const text = payload.toString('latin1');
  const eoh = text.indexOf('\n\n');
  const at = eoh < 0 ? text.length : eoh + 1;
  const sig = signature.toString('latin1');
  const folded = header + ' ' + sig.replace(/\n(?!$)/g, '\n ') + (sig.endsWith('\n') ? '' : '\n');
  return Buffer.from(text.slice(0, at) + folded + text.slice(at), 'latin1');
}

/**
 * A fresh repository at `dir` with `count` commits reachable from refs/heads/main.
 * `sign(payload, i)` returns a signature (PEM bytes) or undefined.
 * `chains` > 1: that many independent linear chains built concurrently (each
 * signature needs its parent's id, so a chain is sequential), joined by one
 * unsigned octopus merge, which is not counted and not in `oids`.
 * `pack`: repack into one pack afterwards, like a cloned repository.
 */
export async function makeHistory({ dir, count, sign, pack = true, startTime = 1_700_000_000, chains = 1 }) {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  writeLoose(dir, 'tree', Buffer.alloc(0));
  const perChain = Math.ceil(count / chains);
  const build = async (c) => {
    let parent;
    const oids = [];
    for (let i = c * perChain; i < Math.min(count, (c + 1) * perChain); i++) {
      const t = startTime + i;
      const payload = Buffer.from(
        `tree ${EMPTY_TREE}\n` +
          (parent ? `parent ${parent}\n` : '') +
          `author Bench Author <author@example.com> ${t} +0000\n` +
          `committer Bench Committer <committer@example.com> ${t} +0000\n` +
          `\ncommit ${i}\n`,
      );
      const sig = sign ? await sign(payload, i) : undefined;
      parent = writeLoose(dir, 'commit', sig ? addSignatureHeader(payload, sig) : payload);
      oids.push(parent);
    }
    return oids;
  };
  const lists = await Promise.all(Array.from({ length: chains }, (_, c) => build(c)));
  const oids = lists.flat();
  let head = lists[0][lists[0].length - 1];
  if (chains > 1) {
    const t = startTime + count;
    head = writeLoose(
      dir,
      'commit',
      Buffer.from(
        `tree ${EMPTY_TREE}\n` +
          lists.map((l) => `parent ${l[l.length - 1]}\n`).join('') +
          `author Bench Author <author@example.com> ${t} +0000\ncommitter Bench Committer <committer@example.com> ${t} +0000\n\nmerge\n`,
      ),
    );
  }
  git(dir, ['update-ref', 'refs/heads/main', head]);
  if (pack) git(dir, ['repack', '-adq']);
  return { dir, head, oids };
}

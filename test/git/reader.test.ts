import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchParser, checkRevs, hashAlgoOf, isMissing, readObjects, readRange, revList, type RawObject } from '../../src/git/reader.js';
import { parseCommit } from '../../src/git/object.js';
import { GitsealError } from '../../src/errors.js';
import { makeHistory } from '../../scripts/bench/fixtures.mjs';

const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');
const SIG = readFileSync(join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b/signature.pem'), { flag: 'r' });

let dir: string;
let oids: string[];

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-reader-'));
  // Every third commit unsigned, so the reader sees both shapes.
  const h = await makeHistory({ dir, count: 120, sign: (_p: Buffer, i: number) => (i % 3 ? SIG : undefined) });
  oids = h.oids;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readRange', () => {
  it('yields every commit of the range, in rev-list order, byte-identical to git cat-file', async () => {
    const got = (await all(readRange(dir, ['main']))) as RawObject[];
    expect(got.map((o) => o.oid)).toEqual([...oids].reverse());
    for (const o of [got[0], got[1], got[60], got[119]]) {
      expect(o.type).toBe('commit');
      expect(o.data.equals(execFileSync('git', ['cat-file', 'commit', o.oid], { cwd: dir }))).toBe(true);
    }
    const signed = got.filter((o) => parseCommit(o.data).signature);
    expect(signed.length).toBe(80);
    expect(signed.every((o) => parseCommit(o.data).signature!.equals(SIG))).toBe(true);
  });

  it('understands range syntax', async () => {
    const got = await all(readRange(dir, [`${oids[99]}..main`]));
    expect(got.map((o) => o.oid)).toEqual(oids.slice(100).reverse());
    expect(await revList(dir, [`${oids[9]}..${oids[19]}`])).toEqual(oids.slice(10, 20).reverse());
  });

  it('reports a bad revision as a usage error naming it', async () => {
    await expect(all(readRange(dir, ['no-such-branch']))).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/no such revision: "no-such-branch"/) });
    await expect(revList(dir, ['no-such-branch'])).rejects.toThrow(/no-such-branch/);
  });

  it('stops its git processes when the consumer stops early', async () => {
    let n = 0;
    for await (const _ of readRange(dir, ['main'])) if (++n === 5) break;
    expect(n).toBe(5);
  });
});

describe('readObjects', () => {
  it('reads named objects in order and reports missing ones', async () => {
    const names = [oids[5], '0'.repeat(40), oids[0]];
    const got = await all(readObjects(dir, names));
    expect(got.length).toBe(3);
    expect((got[0] as RawObject).oid).toBe(oids[5]);
    expect(isMissing(got[1])).toBe(true);
    expect((got[2] as RawObject).oid).toBe(oids[0]);
  });
});

describe('BatchParser', () => {
  it('reassembles objects split at every possible chunk boundary', () => {
    const a = Buffer.from('hello\nworld');
    const b = Buffer.alloc(0);
    const stream = Buffer.concat([
      Buffer.from(`${'a'.repeat(40)} commit ${a.length}\n`), a, Buffer.from('\n'),
      Buffer.from(`${'b'.repeat(40)} missing\n`),
      Buffer.from(`${'c'.repeat(40)} blob 0\n`), b, Buffer.from('\n'),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new BatchParser();
      const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))];
      expect(got.length).toBe(3);
      expect((got[0] as RawObject).data.equals(a)).toBe(true);
      expect(isMissing(got[1])).toBe(true);
      expect((got[2] as RawObject).data.length).toBe(0);
      expect(p.idle).toBe(true);
    }
  });
  it('rejects output that lost its framing', () => {
    expect(() => new BatchParser().push(Buffer.from(`${'a'.repeat(40)} commit 2\nabc\n`))).toThrow(GitsealError);
    expect(() => new BatchParser().push(Buffer.from('garbage line\n'))).toThrow(/unexpected line/);
  });
});

describe('argument hygiene', () => {
  it('refuses revisions git would read as options', () => {
    expect(() => checkRevs(['--output=/tmp/x'])).toThrow(/unsupported revision option/);
    expect(() => checkRevs(['main\n--all'])).toThrow(GitsealError);
    expect(() => checkRevs(['--all', 'main', '^v1', '--max-count=10'])).not.toThrow();
  });
  it('tells SHA-1 from SHA-256 ids', () => {
    expect(hashAlgoOf('a'.repeat(40))).toBe('sha1');
    expect(hashAlgoOf('b'.repeat(64))).toBe('sha256');
    expect(() => hashAlgoOf('xyz')).toThrow(GitsealError);
  });
});

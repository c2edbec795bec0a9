/**
 * The pre-receive hook against what a hostile pusher can put in a pack: the hook must
 * verify every new annotated tag and every new commit, fail closed, and stay bounded.
 */
import { describe, expect, test, vi } from 'vitest';
import { BatchParser } from '../../src/git/reader.js';
import {
  commitPayload,
  makeLeaf,
  sameKeyCas,
  signedCommit,
  signedTag,
  signPayload,
  tagPayload,
} from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const forged = useForgedWorld();

const T = '1748779200 +0000';
const who = `Alice <alice@example.com> ${T}`;

/** A commit signed in the forged world; `parent` chains it. */
function commit(msg: string, parent?: string, o: { bomb?: boolean; unsigned?: boolean } = {}): string {
  const payload = commitPayload([...(parent ? [`parent ${parent}`] : []), `author ${who}`, `committer ${who}`], msg);
  if (o.unsigned) return forged.paths.store(payload);
  let pem: string;
  if (o.bomb) {
    const bag = sameKeyCas(9);
    const leaf = makeLeaf(forged.w, { caKey: bag.key, caName: bag.name });
    pem = signPayload(forged.w, leaf, payload, { certs: [leaf.der, ...bag.certs] }).pem;
  } else pem = signPayload(forged.w, makeLeaf(forged.w), payload).pem;
  return forged.paths.store(signedCommit(payload, pem));
}

function tag(object: string, name: string, type = 'commit', signed = true): string {
  const payload = tagPayload(object, name, who, type);
  return forged.paths.store(signed ? signedTag(payload, signPayload(forged.w, makeLeaf(forged.w), payload).pem) : payload, 'tag');
}

describe('pre-receive hook: objects in a pushed pack', () => {
  test('control: a signed tag on a signed commit is accepted', () => {
    const c = commit('one\n');
    const r = forged.paths.hook(tag(c, 'v1'), undefined, 'tag');
    expect(r.accepted, r.stderr).toBe(true);
  });

  test('a signed tag whose target is an unsigned tag (a new annotated tag without a signature) is refused', () => {
    const c = commit('two\n');
    const inner = tag(c, 'inner', 'commit', false);
    const outer = tag(inner, 'v2', 'tag');
    const r = forged.paths.hook(outer, undefined, 'tag');
    expect(r.accepted).toBe(false);
    expect(r.stderr).toContain(inner.slice(0, 12));
    expect(r.stderr).toMatch(/not signed/);
  });

  test('a signed tag on an unsigned commit is refused', () => {
    const r = forged.paths.hook(tag(commit('three\n', undefined, { unsigned: true }), 'v3'), undefined, 'tag');
    expect(r.accepted).toBe(false);
    expect(r.stderr).toMatch(/not signed/);
  });

  test('three new commits, the middle one carrying the certificate bag that used to stall path building: refused, naming it', () => {
    const a = commit('a\n');
    const b = commit('b\n', a, { bomb: true });
    const c = commit('c\n', b);
    const r = forged.paths.hook(c);
    expect(r.accepted).toBe(false);
    expect(r.stderr).toContain(b.slice(0, 12));
    expect(r.stderr).toMatch(/at most 4/);
  });

  test('a commit over 32 MiB: refused with one clear reason', () => {
    const big = commit('x'.repeat(33 * 1024 * 1024) + '\n', undefined, { unsigned: true });
    const r = forged.paths.hook(big);
    expect(r.accepted).toBe(false);
    expect(r.stderr).toMatch(/larger than 33554432 bytes/);
  });
});

describe("reading a pushed object stays linear (src/git/reader.ts BatchParser, what the hook's gitseal verify reads with)", () => {
  test('a 32 MiB object fed in 64 KiB chunks is joined once, not once per chunk', () => {
    const size = 32 * 1024 * 1024;
    const stream = Buffer.concat([Buffer.from(`${'a'.repeat(40)} commit ${size}\n`), Buffer.alloc(size, 'x'), Buffer.from('\n')]);
    const p = new BatchParser();
    let bytesJoined = 0;
    const realConcat = Buffer.concat;
    const concat = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
      bytesJoined += total ?? list.reduce((n, b) => n + b.length, 0);
      return realConcat.call(Buffer, list, total);
    });
    const got = [];
    try {
      for (let i = 0; i < stream.length; i += 64 * 1024) got.push(...p.push(stream.subarray(i, i + 64 * 1024)));
    } finally {
      concat.mockRestore();
    }
    expect(got).toHaveLength(1);
    expect((got[0] as { data: Buffer }).data.length).toBe(size);
    // one join of the whole object (it was ~512 joins, 8 GiB copied)
    expect(bytesJoined).toBeLessThan(3 * stream.length);
  });
});

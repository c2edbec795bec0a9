/**
 * The harness is sound: a correctly forged-world signature is good on every path, and the
 * same object with one byte of its message changed is bad on every path.
 */
import { describe, expect, test } from 'vitest';
import { commitPayload, makeLeaf, signedCommit, signPayload } from '../verify/helpers/forge.js';
import { useForgedWorld } from './helpers/paths.js';

const forged = useForgedWorld();

const alice = ['author Alice <alice@example.com> 1748779200 +0000', 'committer Alice <alice@example.com> 1748779200 +0000'];

describe('baseline through git, gitseal verify, the library and the pre-receive hook', () => {
  test('a well-made signature is good everywhere (no policy: U)', async () => {
    const payload = commitPayload(alice);
    const raw = signedCommit(payload, signPayload(forged.w, makeLeaf(forged.w), payload).pem);
    const v = await forged.paths.all(raw);
    expect(v.git.letter, v.git.stderr).toBe('U');
    expect(v.git.status).toBe(0);
    expect(v.cli.letter, v.cli.stdout + v.cli.stderr).toBe('U');
    expect(v.lib.letter).toBe('U');
    expect(v.hook.accepted, v.hook.stderr).toBe(true);
  });

  test('the same signature on a changed message is bad everywhere', async () => {
    const payload = commitPayload(alice);
    const sig = signPayload(forged.w, makeLeaf(forged.w), payload).pem;
    const raw = signedCommit(commitPayload(alice, 'forged, but changed\n'), sig);
    const v = await forged.paths.all(raw);
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['B', 'B', 'B']);
    expect(v.git.status).toBe(1);
    expect(v.hook.accepted).toBe(false);
  });
});

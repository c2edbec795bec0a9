/**
 * Issue 14 item 9: a signature that holds anything but exactly one "SIGNED MESSAGE" PEM block
 * is an error, on git's path as in `gitseal verify`. Git concatenates repeated gpgsig headers
 * into one signature file, so a PGP block in a second header reached the --verify call next to
 * a valid x509 block; the PEM reader skipped it (GOODSIG) while `gitseal verify` refused the
 * object. Also: the PEM scan is linear (it was a regular expression that rescanned to the end
 * at every BEGIN line without an END).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { decodePemAll, decodeSinglePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { commitPayload, makeLeaf, makeWorld, PAYLOAD, signedCommit, signPayload, type World } from '../verify/helpers/forge.js';
import { useAllPaths } from './helpers/paths.js';

let w: World;
beforeAll(() => {
  w = makeWorld();
});

const PGP = '-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n';

async function verdict(signature: string) {
  return verifySignature({ signature, payload: PAYLOAD, trust: w.trust, offline: true });
}

describe('exactly one SIGNED MESSAGE block (verifySignature, which every path calls)', () => {
  test('the block alone, with surrounding whitespace, verifies', async () => {
    const pem = signPayload(w, makeLeaf(w), PAYLOAD).pem;
    expect(await verdict(pem)).toMatchObject({ ok: true });
    expect(await verdict(`\n  ${pem}\n\n`)).toMatchObject({ ok: true });
  });

  test.each([
    ['a PGP block after it (two gpgsig headers, concatenated by git)', (pem: string) => pem + PGP],
    ['a PGP block before it', (pem: string) => PGP + pem],
    ['a second copy of itself', (pem: string) => pem + pem],
    ['text after it', (pem: string) => pem + 'trailing words\n'],
    ['text before it', (pem: string) => 'hello\n' + pem],
  ])('refused: %s', async (_name, mutate) => {
    const pem = signPayload(w, makeLeaf(w), PAYLOAD).pem;
    const r = await verdict(mutate(pem));
    expect(r).toMatchObject({ ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_PEM' });
  });

  test('a block with another label is refused, naming it', () => {
    expect(() => decodeSinglePem(PGP, 'SIGNED MESSAGE')).toThrow(/"PGP SIGNATURE" PEM block, not "SIGNED MESSAGE"/);
  });
});

describe('the PEM scan is linear', () => {
  test('a BEGIN line without END is an error at the first such line, not a rescan from each', () => {
    const line = '-----BEGIN SIGNED MESSAGE-----\n';
    const text = line.repeat(Math.ceil((128 * 1024) / line.length));
    expect(() => decodeSinglePem(text, 'SIGNED MESSAGE')).toThrow(/SIGNED MESSAGE PEM block has no END line/);
    expect(() => decodePemAll(text)).toThrow(/no END line/);
  });

  test('BEGIN-looking text that is not a BEGIN line is passed over once', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const junk = '-----BEGIN lowercase-----\n'.repeat(4000);
    expect(decodePemAll(junk + pem)).toEqual([{ label: 'CERTIFICATE', der: Buffer.from([0, 0, 0]) }]);
  });
});

describe('every path: a commit with the x509 signature plus a PGP block in a second gpgsig header', () => {
  const sandbox = useAllPaths(() => w.trustJson);

  const idents = ['author Alice <alice@example.com> 1748779200 +0000', 'committer Alice <alice@example.com> 1748779200 +0000'];

  test('not verified anywhere (git used to show G/U here)', async () => {
    const payload = commitPayload(idents);
    const pem = signPayload(w, makeLeaf(w), payload).pem;
    const one = signedCommit(payload, pem);
    // The second header goes right after the first, as git would keep it.
    const text = one.toString('latin1');
    const at = text.indexOf('\n\n');
    const second = PGP.replace(/\n$/, '').split('\n').map((l, i) => (i === 0 ? `gpgsig ${l}` : ` ${l}`)).join('\n') + '\n';
    const raw = Buffer.from(text.slice(0, at + 1) + second + text.slice(at + 1), 'latin1');
    const v = await sandbox.paths.all(raw);
    expect(v.git.letter, v.git.statusLines).toBe('E');
    expect(v.git.stderr).toMatch(/PEM blocks/);
    expect(v.cli.letter).toBe('E');
    expect(v.lib.letter).toBe('E');
    expect(v.hook.accepted).toBe(false);
  });

  test('stray text after the block inside the gpgsig header: not verified anywhere', async () => {
    const payload = commitPayload(idents);
    const pem = signPayload(w, makeLeaf(w), payload).pem + 'more words\n';
    const v = await sandbox.paths.all(signedCommit(payload, pem));
    expect([v.git.letter, v.cli.letter, v.lib.letter]).toEqual(['E', 'E', 'E']);
    expect(v.hook.accepted).toBe(false);
  });
});
